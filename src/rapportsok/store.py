"""The embedding cache: vectors keyed by model and embedded text, kept across builds in SQLite."""

from __future__ import annotations

import hashlib
import re
import sqlite3
from pathlib import Path

import numpy as np


def text_key(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class EmbeddingCache:
    """One model's vectors by text; survives killed builds, as every batch is committed at once."""

    def __init__(self, folder: Path, model: str) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        slug = re.sub(r"[^A-Za-z0-9]+", "-", model)[-40:].strip("-")
        path = folder / f"{slug}-{hashlib.sha1(model.encode()).hexdigest()[:8]}.sqlite"
        self._db = sqlite3.connect(path, timeout=30)
        self._db.execute("CREATE TABLE IF NOT EXISTS vectors (key TEXT PRIMARY KEY, vector BLOB NOT NULL)")

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
