"""The embedding cache: vectors keyed by model and embedded text, kept across builds in SQLite."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def cache_path(folder: Path, model: str) -> Path:
    """One SQLite file per model in the cache folder."""
    slug = re.sub(r"[^A-Za-z0-9]+", "-", model)[-40:].strip("-")
    return folder / f"{slug}-{hashlib.sha1(model.encode()).hexdigest()[:8]}.sqlite"


def count_known(folder: Path, model: str, keys: set[str]) -> int:
    """How many of the keys the cache holds, read-only: a missing or unreadable cache holds none."""
    path = cache_path(folder, model)
    if not keys or not path.is_file():
        return 0
    known = 0
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True, timeout=5)) as db:
            ordered = sorted(keys)
            for start in range(0, len(ordered), 500):  # stay below SQLite's parameter limit
                chunk = ordered[start : start + 500]
                query = f"SELECT COUNT(*) FROM vectors WHERE key IN ({','.join('?' * len(chunk))})"
                known += db.execute(query, chunk).fetchone()[0]
    except sqlite3.Error:
        return 0
    return known


class EmbeddingCache:
    """One model's vectors by text; survives killed builds, as every batch is committed at once."""

    def __init__(self, folder: Path, model: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.path = cache_path(folder, model)
        self.warnings: list[str] = []
        try:
            self._db = _open(self.path)
        except sqlite3.OperationalError:  # locked or unwritable: not damage
            raise
        except sqlite3.DatabaseError as exc:  # garbage or truncated: keep it for inspection, start afresh
            aside = self.path.with_name(f"{self.path.name}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%S}")
            self.path.rename(aside)
            self.warnings.append(f"embedding cache {self.path} was unreadable ({exc}); moved to {aside.name}, rebuilt")
            self._db = _open(self.path)

    def get(self, keys: list[str], dim: int) -> dict[str, np.ndarray]:
        found: dict[str, np.ndarray] = {}
        for start in range(0, len(keys), 500):  # stay below SQLite's parameter limit
            chunk = keys[start : start + 500]
            rows = self._db.execute(
                f"SELECT key, vector FROM vectors WHERE key IN ({','.join('?' * len(chunk))})", chunk
            )
            for key, blob in rows:
                vector = np.frombuffer(blob, dtype=np.float32)
                if vector.size == dim:
                    found[key] = vector
        return found

    def put(self, items: dict[str, np.ndarray]) -> None:
        with self._db:
            self._db.executemany(
                "INSERT OR REPLACE INTO vectors VALUES (?, ?)",
                [(k, np.asarray(v, dtype=np.float32).tobytes()) for k, v in items.items()],
            )

    def drop(self, keys: set[str], keep: set[str]) -> None:
        """Drops the vectors of keys (a change's retired texts) that are not in keep (the texts in use)."""
        with self._db:
            self._db.executemany("DELETE FROM vectors WHERE key = ?", [(k,) for k in keys - keep])

    def keep_only(self, keys: set[str]) -> None:
        """Drops vectors no build uses any more, so the cache does not grow without end."""
        stored = [k for (k,) in self._db.execute("SELECT key FROM vectors")]
        stale = [(k,) for k in stored if k not in keys]
        with self._db:
            self._db.executemany("DELETE FROM vectors WHERE key = ?", stale)
        if stale:
            self._db.execute("VACUUM")

    def close(self) -> None:
        self._db.close()


def _open(path: Path) -> sqlite3.Connection:
    """The cache database, checked page by page (a few ms for a corpus' worth), table created if new."""
    db = sqlite3.connect(path, timeout=30)
    try:
        problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise sqlite3.DatabaseError("; ".join(problems[:2]))
        db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")
        db.execute("SELECT key, vector FROM vectors LIMIT 1").fetchall()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db
