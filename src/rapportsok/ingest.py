"""Reading corpus files (.txt, .pdf) into numbered source lines, plus their metadata."""

from __future__ import annotations

import hashlib
import json
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .errors import CorpusError

if TYPE_CHECKING:  # pypdf is imported where a PDF is read: a search that needs no rebuild never pays for it
    from pypdf import PdfReader

TEXT_SUFFIXES = {".txt"}
PDF_SUFFIXES = {".pdf"}
DOCUMENT_SUFFIXES = TEXT_SUFFIXES | PDF_SUFFIXES
METADATA_FILE = "metadata.json"

YEAR_IN_NAME = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
# Control characters other than tab/newline/carriage return/form feed mark a binary file.
BINARY_CHARS = re.compile(r"[\x00-\x08\x0b\x0e-\x1f]")

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns on every slightly odd PDF


@dataclass(frozen=True)
class SourceLine:
    """One line of extracted text with where it came from, so passages can cite it."""

    text: str
    lineno: int | None  # 1-based line in a text file; None for PDFs
    page: int | None  # printed page number when known


def is_document(path: Path) -> bool:
    """Documents are .txt/.pdf files that are not the metadata file or a README."""
    return (
        path.is_file()
        and path.suffix.lower() in DOCUMENT_SUFFIXES
        and not path.name.upper().startswith("README")
    )


def list_documents(corpus_dir: Path) -> tuple[list[Path], list[str]]:
    """The document files of a corpus folder by name, and a note for every other file it ignores."""
    paths: list[Path] = []
    notes: list[str] = []
    ids: dict[str, Path] = {}
    for path in sorted(corpus_dir.iterdir(), key=lambda p: p.name):
        if is_document(path):
            if path.stem in ids:  # "x.txt" and "x.pdf" would be one document id
                notes.append(f"{path}: same document id as {ids[path.stem].name}, ignored")
                continue
            ids[path.stem] = path
            paths.append(path)
        elif path.name != METADATA_FILE and not path.name.upper().startswith("README"):
            kind = "a folder" if path.is_dir() else "not a .txt or .pdf file" if path.is_file() else "unreadable"
            notes.append(f"{path}: {kind}, ignored")
    return paths, notes


def read_lines(path: Path) -> list[SourceLine]:
    """The raw lines of one file; raises CorpusError with the reason when it cannot be read."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        return read_text_lines(path)
    if suffix in PDF_SUFFIXES:
        return read_pdf_lines(path)
    raise CorpusError(f"{path}: unsupported file type {suffix or '(none)'}")


def read_text_lines(path: Path) -> list[SourceLine]:
    """A UTF-8 text file, refusing binary or otherwise encoded content rather than guessing."""
    data = _read_bytes(path)
    if not data.strip():
        raise CorpusError(f"{path}: empty file")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if b"\x00" in data:
            raise CorpusError(f"{path}: binary file, not text") from exc
        raise CorpusError(f"{path}: not UTF-8 text (byte {exc.start})") from exc
    if BINARY_CHARS.search(text):
        raise CorpusError(f"{path}: binary file, not text")
    return [SourceLine(line, i, None) for i, line in enumerate(text.splitlines(), start=1)]


def read_pdf_lines(path: Path) -> list[SourceLine]:
    """The text layer of a PDF page by page, numbered by the PDF's page labels when it has them."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    data = _read_bytes(path)
    if not data.strip():
        raise CorpusError(f"{path}: empty file")
    try:
        reader = PdfReader(path)
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorpusError(f"{path}: encrypted PDF, skipped")
        pages = [page.extract_text() or "" for page in reader.pages]
        labels = _page_numbers(reader)
    except CorpusError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError) as exc:
        raise CorpusError(f"{path}: corrupt PDF ({type(exc).__name__}: {exc})") from exc
    if not any(text.strip() for text in pages):
        raise CorpusError(f"{path}: PDF has no text layer (scanned?), skipped")
    return [
        SourceLine(line, None, number)
        for text, number in zip(pages, labels)
        for line in text.splitlines() + [""]  # a blank line keeps pages apart
    ]


def _page_numbers(reader: PdfReader) -> list[int]:
    """Printed page labels where they are plain integers, else the 1-based page index."""
    from pypdf.errors import PyPdfError

    try:
        labels = list(reader.page_labels)
    except (PyPdfError, ValueError, KeyError, TypeError, IndexError):
        labels = []
    numbers = []
    for index in range(len(reader.pages)):
        label = labels[index] if index < len(labels) else ""
        numbers.append(int(label) if label.isdigit() else index + 1)
    return numbers


def _read_bytes(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise CorpusError(f"{path}: unreadable ({exc.strerror or exc})") from exc


def sha256_of(path: Path) -> str:
    return hashlib.sha256(_read_bytes(path)).hexdigest()


def load_metadata(corpus_dir: Path) -> tuple[dict[str, dict], list[str]]:
    """corpus/metadata.json keyed by doc id; a broken file is a warning, not a failure."""
    path = corpus_dir / METADATA_FILE
    if not path.is_file():
        return {}, []
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        return {}, [f"{path}: unreadable metadata ({exc}), titles taken from the files"]
    if not isinstance(data, dict):
        return {}, [f"{path}: metadata is not an object keyed by document, ignored"]
    return {k: v for k, v in data.items() if isinstance(v, dict)}, []


def year_from_name(stem: str) -> int | None:
    match = YEAR_IN_NAME.search(stem)
    return int(match.group(1)) if match else None
