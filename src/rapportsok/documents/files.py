"""Reading corpus files (.txt, .pdf, .docx, .odt, .html, .md) into numbered source lines, plus their metadata."""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
import stat
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from ..errors import CorpusError
from ..records import SourceLine
from ..settings import DEFAULT_MAX_FILE_MB, MAX_FILE_MB_ENV, MB
from .controls import CONTROL, escaped, plain
from .formats.outline import Source
from .metadata import read_metadata

if TYPE_CHECKING:
    from .ocr import Ocr

TEXT_SUFFIXES = {".txt"}
PDF_SUFFIXES = {".pdf"}
WORD_SUFFIXES = {".docx"}
OPENDOCUMENT_SUFFIXES = {".odt"}
WEB_SUFFIXES = {".html", ".htm"}
MARKDOWN_SUFFIXES = {".md", ".markdown"}
# Read as paragraphs in order, without lines or pages to cite: chapter, section and proposal are the location.
ORDERED_SUFFIXES = WORD_SUFFIXES | OPENDOCUMENT_SUFFIXES | WEB_SUFFIXES
# Formats whose reader marks headings and footnotes itself (no guessing from the text's look).
LAID_OUT_SUFFIXES = PDF_SUFFIXES | ORDERED_SUFFIXES | MARKDOWN_SUFFIXES
DOCUMENT_SUFFIXES = TEXT_SUFFIXES | LAID_OUT_SUFFIXES
KINDS = "a .txt, .pdf, .docx, .odt, .html or .md file"
METADATA_FILE = "metadata.json"
NO_TEXT_LAYER = "PDF has no text layer (scanned?)"  # said of a scanned PDF read without OCR
MOSTLY_UNREADABLE = "PDF mostly unreadable"  # and of one whose text is mostly not readable
SOME_UNREADABLE = "no readable text on"  # and of one with some such sheets (a warning, the rest is read)
OFFICE_LOCK = "~$"  # "~$rapport.docx": Word's owner file while the document is open, not a document
DEFAULT_MAX_BYTES = int(DEFAULT_MAX_FILE_MB * MB)  # of text per file; Settings.max_file_bytes sets it
UNSAFE_ID = re.compile(r"[^\w.-]+")  # \w is Unicode: "æøå" stay, "/", "?", "#", "%", spaces go
MAX_ID_CHARS = 120

YEAR_IN_NAME = re.compile(r"(?<!\d)(19\d\d|20\d\d)(?!\d)")
# a text with a NUL, or more control characters (not counting line and page breaks) than this share, is binary
BINARY_CHARS = re.compile(r"[\x00-\x08\x0e-\x1f\x7f-\x9f]")
BINARY_SHARE = 0.1

logging.getLogger("pypdf").setLevel(logging.ERROR)  # pypdf warns on every slightly odd PDF
log = logging.getLogger(__name__)


def is_document(path: Path) -> bool:
    """Documents are files of the formats read (DOCUMENT_SUFFIXES) that are not the metadata file or a README."""
    return (
        path.is_file()
        and path.suffix.lower() in DOCUMENT_SUFFIXES
        and not path.name.upper().startswith("README")
        and not path.name.startswith(OFFICE_LOCK)
    )


def shown(path: Path) -> str:
    """The path for messages and the manifest: bytes that are not UTF-8, and control characters,
    shown escaped (\\xe6, \\x1b)."""
    return escaped(os.fsencode(path).decode("utf-8", "backslashreplace"))


def file_key(path: Path) -> str:
    """The file's name as a build's manifest records it (see `shown`)."""
    return shown(Path(path.name))


def readable_name(path: Path) -> str:
    """The file name as text: as on disk when UTF-8, else its bytes read as Windows-1252 (names
    copied from old Windows shares are mostly that)."""
    raw = os.fsencode(path.name)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("cp1252", "replace")


def doc_id(path: Path) -> str:
    """The document id: the file name without extension, reduced to letters, digits, ".", "-" and
    "_", so that it is safe in every path and URL; stable, as it depends on the name alone."""
    safe = UNSAFE_ID.sub("-", Path(readable_name(path)).stem).strip(".-")[:MAX_ID_CHARS].strip(".-")
    return safe or "dokument-" + hashlib.sha1(os.fsencode(path.name)).hexdigest()[:8]


def outside_problem(path: Path) -> str | None:
    """Why a corpus entry must not be read: a link leading out of its folder (or nowhere), or a
    device, FIFO or socket; None when it is safe to read."""
    try:
        real = path.resolve(strict=True)
        mode = real.stat().st_mode
    except (OSError, RuntimeError):  # a dangling link, a loop, no permission
        return "a broken link or unreadable entry"
    if not real.is_relative_to(path.parent.resolve()):
        return "a link to outside the corpus folder"
    if not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
        return "not a regular file (device, FIFO or socket)"
    return None


def list_documents(corpus_dir: Path, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[list[Path], list[str]]:
    """The document files of a corpus folder by name, and a note for every other file it ignores.

    Nothing outside the folder is ever listed: links leading out of it are skipped, as are
    devices and FIFOs, and text files over `max_bytes` are skipped before they are read."""
    paths: list[Path] = []
    notes: list[str] = []
    ids: dict[str, Path] = {}
    for path in sorted(corpus_dir.iterdir(), key=lambda p: os.fsencode(p.name)):
        if path.name == METADATA_FILE or path.name.upper().startswith("README") or path.name.startswith(OFFICE_LOCK):
            continue
        problem = outside_problem(path)
        if problem:
            notes.append(f"{shown(path)}: {problem}, skipped")
        elif is_document(path):
            if path.suffix.lower() in TEXT_SUFFIXES | MARKDOWN_SUFFIXES and path.stat().st_size > max_bytes:
                notes.append(_too_big(path, path.stat().st_size, max_bytes))
                continue
            doc = doc_id(path)
            if doc in ids:  # "x.txt" and "x.pdf" would be one document id
                notes.append(f"{shown(path)}: same document id as {shown(ids[doc])}, ignored")
                continue
            ids[doc] = path
            paths.append(path)
        else:
            kind = "a folder" if path.is_dir() else f"not {KINDS}"
            notes.append(f"{shown(path)}: {kind}, ignored")
    return paths, notes


def _too_big(path: Path, size: int, limit: int) -> str:
    return (
        f"{shown(path)}: {size / 1e6:.1f} MB of text, over the limit of {limit / 1e6:g} MB per file "
        f"({MAX_FILE_MB_ENV}), skipped"
    )


def read_lines(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, ocr: Ocr | None = None) -> list[SourceLine]:
    """The raw lines of one file (see `read_source`)."""
    return read_source(path, max_bytes, ocr).lines


def read_source(path: Path, max_bytes: int = DEFAULT_MAX_BYTES, ocr: Ocr | None = None) -> Source:
    """One file's lines (control characters removed: the one place for every format), and the title
    and year its properties give; raises CorpusError with the reason when it cannot be read or holds
    more than `max_bytes` of text (known only once read, but for plain text). Scanned PDF pages are
    read by `ocr` when given."""
    suffix = path.suffix.lower()
    if suffix in TEXT_SUFFIXES:
        source = Source(read_text_lines(path))
    elif suffix in PDF_SUFFIXES:
        source = Source(read_pdf_lines(path, ocr))
    elif suffix in LAID_OUT_SUFFIXES:
        source = read_structured(path, max_bytes)
    else:
        raise CorpusError(f"{shown(path)}: unsupported file type {suffix or '(none)'}")
    size = sum(len(line.text) + 1 for line in source.lines)
    if size > max_bytes:
        raise CorpusError(_too_big(path, size, max_bytes))
    lines = [replace(line, text=plain(line.text)) if CONTROL.search(line.text) else line for line in source.lines]
    return replace(source, lines=lines, title=source.title and plain(source.title))


def read_structured(path: Path, max_bytes: int) -> Source:
    """A Word, OpenDocument, web or Markdown file through its reader in documents/formats/ (each
    library is loaded only when a file of its kind is read)."""
    suffix = path.suffix.lower()
    data = _read_bytes(path)
    if not data.strip():
        raise CorpusError(f"{shown(path)}: empty file")
    try:
        if suffix in MARKDOWN_SUFFIXES:
            from .formats.markdown_text import read_markdown

            source = read_markdown(_decoded(path, data))
        elif suffix in WEB_SUFFIXES:
            from .formats.web import read_web

            source = read_web(data, shown(path))
        elif suffix in WORD_SUFFIXES:
            from .formats.word import read_word

            source = read_word(data, shown(path), max_bytes)
        else:
            from .formats.opendocument import read_opendocument

            source = read_opendocument(data, shown(path), max_bytes)
    except CorpusError:
        raise
    except Exception as exc:  # a damaged file of any kind (zip, XML, odd structure): one clear message, not a crash
        raise CorpusError(f"{shown(path)}: corrupt {suffix[1:]} file ({type(exc).__name__}: {exc})") from exc
    if not any(line.text.strip() for line in source.lines):
        raise CorpusError(f"{shown(path)}: no text found")
    return source


def read_text_lines(path: Path) -> list[SourceLine]:
    """A UTF-8 text file, refusing binary or otherwise encoded content rather than guessing."""
    data = _read_bytes(path)
    if not data.strip():
        raise CorpusError(f"{shown(path)}: empty file")
    text = _decoded(path, data)
    return [SourceLine(line, i, None) for i, line in enumerate(text.splitlines(), start=1)]


def _decoded(path: Path, data: bytes) -> str:
    """UTF-8 text, refusing binary or otherwise encoded content rather than guessing."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        if b"\x00" in data:
            raise CorpusError(f"{shown(path)}: binary file, not text") from exc
        raise CorpusError(f"{shown(path)}: not UTF-8 text (byte {exc.start})") from exc
    if "\x00" in text or len(BINARY_CHARS.findall(text)) > BINARY_SHARE * len(text):
        raise CorpusError(f"{shown(path)}: binary file, not text")
    return text


def read_pdf_lines(path: Path, ocr: Ocr | None = None) -> list[SourceLine]:
    """The text layer of a PDF read by its layout (documents/pdf), pages numbered as printed;
    sheets without readable text read by `ocr` (documents/ocr.py) when given.

    Sheets left without readable text are named in one warning; a PDF that is mostly such
    sheets is refused, as it would be searched by its few readable lines only."""
    from .ocr import scanned_hint
    from .pdf import read_pdf  # pypdf is loaded only when a PDF is read

    text = _with_pdf(
        path, lambda reader, data: read_pdf(reader, ocr.for_pdf(reader, data, shown(path)) if ocr else None)
    )
    if not any(line.text.strip() for line in text.lines):
        raise CorpusError(f"{shown(path)}: {NO_TEXT_LAYER}, skipped" + scanned_hint(ocr))
    if text.mostly_unreadable:
        raise CorpusError(
            f"{shown(path)}: {MOSTLY_UNREADABLE} ({_sheets(text.unreadable)} of {text.sheets} have no readable "
            "text: scanned, or fonts without a Unicode map), skipped" + scanned_hint(ocr)
        )
    if text.unreadable:
        hint = scanned_hint(ocr)
        log.warning("%s: %s %s (scanned pages?)%s", shown(path), SOME_UNREADABLE, _sheets(text.unreadable), hint)
    return text.lines


def pdf_title(path: Path) -> str | None:
    """The title a PDF's document information gives, when it is a title and not a file name,
    a program's placeholder or a template's leftover."""
    from .pdf.title import title_of

    try:
        return _with_pdf(path, lambda reader, _: title_of(reader))
    except CorpusError:
        return None


def _with_pdf(path: Path, read):  # noqa: ANN001, ANN202 (any reader of a PdfReader and its bytes)
    """`read(reader, data)` on the PDF at path; any damage it meets is a CorpusError naming the file."""
    from pypdf import PdfReader
    from pypdf.errors import PdfReadError, PyPdfError

    data = _read_bytes(path)
    if not data.strip():
        raise CorpusError(f"{shown(path)}: empty file")
    try:
        reader = PdfReader(io.BytesIO(data))  # the bytes already read: the path is not opened twice
        if reader.is_encrypted and not reader.decrypt(""):
            raise CorpusError(f"{shown(path)}: encrypted PDF with a password, skipped")
        return read(reader, data)
    except CorpusError:
        raise
    except (PdfReadError, PyPdfError, ValueError, KeyError, TypeError, OSError, ZeroDivisionError) as exc:
        raise CorpusError(f"{shown(path)}: corrupt PDF ({type(exc).__name__}: {exc})") from exc


def _sheets(numbers: list[int]) -> str:
    """Sheet numbers as ranges: «sheets 1–3, 7»."""
    spans: list[list[int]] = []
    for n in numbers:
        if spans and n == spans[-1][1] + 1:
            spans[-1][1] = n
        else:
            spans.append([n, n])
    text = ", ".join(f"{a}–{b}" if b > a else str(a) for a, b in spans)
    return ("sheet " if len(numbers) == 1 else "sheets ") + text


def _read_bytes(path: Path) -> bytes:
    """The file's bytes, refusing what lies outside its folder or is not a regular file (a FIFO
    would block the reader)."""
    problem = outside_problem(path)
    if problem:
        raise CorpusError(f"{shown(path)}: {problem}, skipped")
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                raise CorpusError(f"{shown(path)}: not a regular file, skipped")
            return handle.read()
    except OSError as exc:
        raise CorpusError(f"{shown(path)}: unreadable ({exc.strerror or exc})") from exc


def sha256_of(path: Path) -> str:
    return hashlib.sha256(_read_bytes(path)).hexdigest()


def load_metadata(corpus_dir: Path) -> tuple[dict[str, dict], list[str]]:
    """corpus/metadata.json keyed by doc id; a broken file or value is a warning, not a failure."""
    path = corpus_dir / METADATA_FILE
    if not path.is_file():
        return {}, []
    problem = outside_problem(path)
    if problem:
        return {}, [f"{shown(path)}: {problem}, ignored"]
    return read_metadata(path)


def metadata_for(metadata: dict[str, dict], path: Path) -> dict | None:
    """A file's metadata entry: under its document id, else under its plain file stem; a PDF
    without a title there gets the one its document information gives (see `pdf_title`)."""
    entry = metadata.get(doc_id(path)) or metadata.get(path.stem)
    if (entry or {}).get("title") or path.suffix.lower() not in PDF_SUFFIXES:
        return entry
    title = pdf_title(path)
    return {**(entry or {}), "title": title} if title else entry


def year_from_name(stem: str) -> int | None:
    match = YEAR_IN_NAME.search(stem)
    return int(match.group(1)) if match else None
