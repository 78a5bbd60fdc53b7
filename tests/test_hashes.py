"""The corpus files' hashes kept with their stat (indexing/hashes.py): a file is read again whenever its
stat differs in any way, or was taken too close to its hashing to be trusted."""

from __future__ import annotations

import hashlib
import json
import os
import time
from pathlib import Path

from rapportsok.indexing.hashes import HASHES_FILE, RACY_NS, content_hashes


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def test_an_unchanged_file_is_not_read_again_and_any_change_of_its_stat_reads_it(tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    report = tmp_path / "rapport.txt"
    report.write_text("Forste utgave.\n", encoding="utf-8")
    files = {"rapport.txt": report}
    assert content_hashes(files, cache) == {"rapport.txt": sha("Forste utgave.\n")}
    # written within RACY_NS of its hashing: not trusted, so it is read (and recorded) again
    kept = json.loads((cache / HASHES_FILE).read_text(encoding="utf-8"))
    assert kept["rapport.txt"][2] - kept["rapport.txt"][0][1] <= RACY_NS

    # an old entry whose stat is the file's: its hash is taken without reading the file (here a marker)
    stat, _, _ = kept["rapport.txt"]
    old = time.time_ns() + RACY_NS * 2
    (cache / HASHES_FILE).write_text(json.dumps({"rapport.txt": [stat, "kjent", old]}), encoding="utf-8")
    assert content_hashes(files, cache) == {"rapport.txt": "kjent"}

    # the same size and modification time put back: the change time differs, so it is read
    before = report.stat()
    report.write_text("Andre  utgave.\n", encoding="utf-8")
    os.utime(report, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert report.stat().st_size == before.st_size and report.stat().st_mtime_ns == before.st_mtime_ns
    assert content_hashes(files, cache) == {"rapport.txt": sha("Andre  utgave.\n")}


def test_a_search_never_makes_the_index_folder(tmp_path: Path) -> None:
    report = tmp_path / "rapport.txt"
    report.write_text("Tekst.\n", encoding="utf-8")
    assert content_hashes({"rapport.txt": report}, tmp_path / "index" / "cache") == {"rapport.txt": sha("Tekst.\n")}
    assert not (tmp_path / "index").exists()
