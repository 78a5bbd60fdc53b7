"""The corpus files' content hashes, kept with each file's stat (size, modification and change times,
inode) as git keeps them in its index: a file whose stat is unchanged is not read again to learn
whether it changed (hashing every file was 10 s of a one-file change at 10k files). A file written
within RACY_NS of its hashing may have been written again within the same timestamp: it is hashed
again next time, as is any file whose stat differs in any way."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from ..documents.files import sha256_of

HASHES_FILE = "file-hashes.json"  # in the index's cache folder: name -> [stat, sha256, when hashed (ns)]
RACY_NS = 2_000_000_000


def content_hashes(paths: dict[str, Path], folder: Path) -> dict[str, str]:
    """Name -> SHA-256 of each file's content; what is known is kept in `folder` (the index's cache)."""
    known = _known(folder / HASHES_FILE)
    hashes: dict[str, str] = {}
    kept: dict[str, list] = {}
    for name, path in paths.items():
        try:
            stat = path.stat()
            key = [stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino]
        except OSError:  # gone meanwhile: hashing says so as it always did
            key = None
        entry = known.get(name)
        if key and isinstance(entry, list) and len(entry) == 3 and entry[0] == key \
                and isinstance(entry[1], str) and entry[2] - max(key[1], key[2]) > RACY_NS:
            hashes[name] = entry[1]
        else:
            hashed_at = time.time_ns()
            hashes[name] = sha256_of(path)
            entry = [key, hashes[name], hashed_at]
        if key:
            kept[name] = entry
    if kept != known:
        _save(folder / HASHES_FILE, kept)
    return hashes


def _known(path: Path) -> dict:
    try:
        known = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):  # none yet, or damaged: every file is hashed again
        return {}
    return known if isinstance(known, dict) else {}


def _save(path: Path, kept: dict[str, list]) -> None:
    """Written whole as a new file (two processes may hash at once); a read-only index, or one not made yet
    (a search never makes an index folder), keeps nothing."""
    written = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        written.write_text(json.dumps(kept, ensure_ascii=False), encoding="utf-8")
        os.replace(written, path)
    except OSError:
        written.unlink(missing_ok=True)
