"""What a structured document's reader hands on: its lines in reading order, and its properties."""

from __future__ import annotations

import io
import re
import zipfile
from dataclasses import dataclass, field

from ...errors import CorpusError
from ...records import SourceLine

SPACES = re.compile(r"\s+")
BULLET = "•"  # passages/structure.py's BULLET opens a paragraph at it
ZIP_INFLATION = 20  # a Word or OpenDocument file's XML may hold this many times its text, not more
# Titles that programs put in a file's properties by themselves: not the document's title.
PLACEHOLDER_TITLE = re.compile(
    r"^(?:word document|microsoft word - .*|document ?\d*|dokument ?\d*|untitled.*|uten tittel.*|title|tittel)$",
    re.IGNORECASE,
)
MAX_LEVEL = 10


@dataclass(frozen=True)
class Source:
    """A file as read: its lines, and the title and year its properties give (when they do)."""

    lines: list[SourceLine]
    title: str | None = None
    year: int | None = None


@dataclass
class Outline:
    """Lines in reading order: a paragraph per line with a blank line after it, headings as lines
    of their own, and each footnote right after the paragraph that refers to it, so that it lands
    in that paragraph's section.

    Line numbers count the lines in reading order (footnotes find their section by them); a
    reader that knows its file's own line numbers (Markdown) gives them instead."""

    lines: list[SourceLine] = field(default_factory=list)
    anchor: str | None = None  # the id of the section being read (web pages)
    notes: int = 0  # footnotes and endnotes numbered in order of reference, as Word and LibreOffice show them
    pending: list[tuple[int, str]] = field(default_factory=list)

    def heading(self, text: str, anchor: str | None = None, lineno: int | None = None) -> None:
        self.anchor = anchor or self.anchor
        self.paragraph(text, "heading", lineno)

    def paragraph(self, text: str, role: str = "body", lineno: int | None = None) -> None:
        """A paragraph (or heading, list item, table row) and the notes it referred to; given its
        first line's number, each of its lines keeps its own."""
        rows = [SPACES.sub(" ", row).strip() for row in (text.splitlines() if lineno is not None else [text])]
        for k, row in enumerate(rows):
            if row:
                self._add(row, None if lineno is None else lineno + k, role)
        if any(rows):
            self._add("", None)
        for number, note in self.pending:
            self._add(note, None, "note", number)  # the footnote's block puts its number before it
        self.pending.clear()

    def note(self, text: str) -> int:
        """A footnote referred to in the paragraph being read; its number, to leave out of the text."""
        self.notes += 1
        text = SPACES.sub(" ", text).strip()
        if text:
            self.pending.append((self.notes, text))
        return self.notes

    def _add(self, text: str, lineno: int | None, role: str = "body", note: int | None = None) -> None:
        number = lineno if lineno is not None else (self.lines[-1].lineno or 0) + 1 if self.lines else 1
        self.lines.append(SourceLine(text, number, None, role=role, note=note, anchor=self.anchor))


@dataclass
class Numbers:
    """Heading numbers counted by level ("4", "4.1", "4.2", "5"), for headings that a format numbers
    when it shows them without writing the number (a numbered list around them)."""

    counters: list[int] = field(default_factory=lambda: [0] * (MAX_LEVEL + 1))

    def next(self, level: int, value: int | None = None, shown: int = MAX_LEVEL) -> str:
        """The number of the next heading at `level` (or of one whose count is `value`), showing
        the last `shown` levels."""
        level = min(max(level, 1), MAX_LEVEL)
        self.counters[level] = value if value is not None else self.counters[level] + 1
        self.counters[level + 1 :] = [0] * (MAX_LEVEL - level)
        return ".".join(str(n) for n in self.counters[max(1, level - shown + 1) : level + 1] if n)


def title_of(value: str | None) -> str | None:
    """A title from a file's properties, unless it is empty or a program's placeholder."""
    title = SPACES.sub(" ", value or "").strip()
    return title if title and not PLACEHOLDER_TITLE.match(title) else None


def open_zip(data: bytes, name: str, max_bytes: int) -> zipfile.ZipFile:
    """A Word or OpenDocument file as the zip it is, refused when it is not one or would unpack to
    far more than `max_bytes` of text (a zip bomb)."""
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile as exc:
        raise CorpusError(f"{name}: corrupt file (not a zip archive)") from exc
    if sum(info.file_size for info in archive.infolist()) > ZIP_INFLATION * max_bytes:
        raise CorpusError(f"{name}: unpacks to over {ZIP_INFLATION} times the limit of text per file, skipped")
    return archive


def year_of(value: object) -> int | None:
    """The year of a date property ("2024-03-01T10:00:00Z", a datetime), when it has a plausible one."""
    match = re.match(r"\s*(\d{4})", str(getattr(value, "year", value) or ""))
    return int(match.group(1)) if match and 1000 <= int(match.group(1)) <= 9999 else None
