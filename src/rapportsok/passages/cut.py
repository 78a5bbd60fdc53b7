"""Cutting a document into citable passages along its structure; `read_document` is the entry point."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, replace
from itertools import groupby
from pathlib import Path

from ..documents.files import (
    DEFAULT_MAX_BYTES,
    DOCUMENT_SUFFIXES,
    KINDS,
    LAID_OUT_SUFFIXES,
    ORDERED_SUFFIXES,
    PDF_SUFFIXES,
    doc_id,
    file_key,
    read_source,
    readable_name,
    sha256_of,
    shown,
    year_from_name,
)
from ..documents.ocr import Ocr
from ..errors import CorpusError
from ..records import Document, PageMark, Passage, SourceLine, citation_of
from ..text.sentences import PASSAGE_BREAK
from .clean import drop_spaced_note_refs, lift_boxes, lift_layout_notes, remove_running_heads, split_footnotes
from .structure import Block, build_blocks, numbered_heading_lines

TINY_FRACTION = 4  # a piece under max_words / 4 words is merged with a neighbour
OVERFLOW = 1.5  # merging a tiny piece may stretch a passage to this many times max_words
MEANINGFUL = re.compile(r"[A-Za-zÆØÅæøå]{3,}")
TITLE_SHEETS = 3  # a PDF's title is printed on its first sheets (after a cover, at most)
TITLE_WORDS = 25  # a first line longer than this is running text, no title


@dataclass
class Piece:
    """Text on its way into a passage, with the source span it covers."""

    text: str
    line_start: int | None
    line_end: int | None
    pages: tuple[PageMark, ...]  # the page at offset 0 and where each further page starts

    @property
    def words(self) -> int:
        return len(self.text.split())

    def part(self, start: int, end: int) -> Piece:
        """text[start:end] with the pages it stands on."""
        inside = [m for m in self.pages if m.offset <= start][-1:] + [m for m in self.pages if start < m.offset < end]
        return Piece(
            self.text[start:end], self.line_start, self.line_end,
            tuple(m._replace(offset=max(0, m.offset - start)) for m in inside),
        )

    def __add__(self, other: Piece) -> Piece:
        return _joined([self, other], "\n\n")


def read_document(
    path: Path, meta: dict | None, max_words: int = 200, max_bytes: int = DEFAULT_MAX_BYTES, ocr: Ocr | None = None
) -> tuple[Document, list[Passage]]:
    """One file as a Document and its passages; raises CorpusError with the reason when unreadable.
    Scanned PDF pages are read by `ocr` when given."""
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in DOCUMENT_SUFFIXES:
        raise CorpusError(f"{shown(path)}: not {KINDS}")
    source = read_source(path, max_bytes, ocr)
    lines = source.lines
    if suffix in LAID_OUT_SUFFIXES:  # the reader told headings and footnotes apart already
        lines, notes = lift_layout_notes(lines)
        boxes = []
    else:
        lines, boxes = lift_boxes(remove_running_heads(lines))
        lines, notes = split_footnotes(lines, headings=numbered_heading_lines(lines))
        lines = drop_spaced_note_refs(lines, notes)
    blocks = build_blocks(lines, notes, boxes)
    if not blocks:
        raise CorpusError(f"{shown(path)}: no text found")
    meta = meta or {}
    stem = Path(readable_name(path)).stem
    document = Document(
        doc=doc_id(path),
        title=str(
            meta.get("title") or source.title or (_printed_title(lines) if suffix in PDF_SUFFIXES else None)
            or _first_meaningful(blocks) or stem
        ),
        # a file's creation date is often the day it was converted: a year in its name comes first
        year=_int_or_none(meta.get("year")) if "year" in meta else year_from_name(stem) or source.year,
        kind=meta.get("kind"),
        path=file_key(path),
        sha256=sha256_of(path),
    )
    cite = citation_of(meta, document.title, document.year)
    passages = make_passages(document, blocks, max_words, cite)
    if suffix in ORDERED_SUFFIXES:
        passages = located(passages, source.lines, document.path, meta.get("url"))
    return document, passages


def located(passages: list[Passage], lines: list[SourceLine], path: str, url: str | None) -> list[Passage]:
    """Passages of a file read in paragraph order: no line numbers to cite (they only ordered the
    paragraphs), and a link to their section of the web page ("url#id", or "page.html#id" without
    the metadata's url) where the source has ids, else to the original's address when known."""
    anchors = {line.lineno: line.anchor for line in lines}

    def link(p: Passage) -> str | None:
        anchor = anchors.get(p.line_start)
        return f"{url or path}#{anchor}" if anchor else url

    return [replace(p, line_start=None, line_end=None, link=link(p)) for p in passages]


def make_passages(document: Document, blocks: list[Block], max_words: int, cite: str | None = None) -> list[Passage]:
    """Pack each run of blocks sharing section and proposal into passages of ~max_words words."""
    passages: list[Passage] = []
    seen: dict[str, int] = {}
    units = groupby(blocks, key=lambda b: (b.section, b.proposal, b.headline, b.kind))
    for (section, proposal, headline, kind), run in units:
        for piece in pack(list(run), max_words):
            pid = _passage_id(document.doc, piece.text, seen)
            first, last = (piece.pages[0], piece.pages[-1]) if piece.pages else (None, None)
            passages.append(
                Passage(
                    passage_id=pid,
                    doc=document.doc,
                    title=document.title,
                    section=section,
                    page=first.page if first else None,
                    proposal=proposal,
                    text=piece.text,
                    line_start=piece.line_start,
                    line_end=piece.line_end,
                    headline=headline,
                    kind=kind,
                    page_end=last.page if last else None,
                    page_label=first.label if first else None,
                    page_end_label=last.label if last else None,
                    sheet=first.sheet if first else None,
                    pages=piece.pages[1:],
                    cite=cite,
                )
            )
    return passages


def pack(blocks: list[Block], max_words: int) -> list[Piece]:
    """Even runs of paragraphs; long paragraphs split at sentences; tiny rests merged."""
    pieces: list[Piece] = []
    lead: Piece | None = None
    for block in blocks:
        parts = split_long(Piece(block.text, block.line_start, block.line_end, block.pages), max_words)
        if lead is not None:  # a proposal's headline always opens its first body piece
            parts[0] = lead + parts[0]
            lead = None
        if block.lead:
            lead = parts[0]
            continue
        pieces.extend(parts)
    if lead is not None:
        pieces.append(lead)
    return merge_small([_joined(run, "\n\n") for run in _even_runs(pieces, max_words)], max_words)


def split_long(piece: Piece, max_words: int) -> list[Piece]:
    """A paragraph longer than max_words as runs of whole sentences (words, if it has none)."""
    if piece.words <= max_words:
        return [piece]
    cuts = [0, *(m.end() for m in PASSAGE_BREAK.finditer(piece.text))]
    if len(cuts) == 1:  # no sentence ends: cut after every max_words words
        words = [m.start() for m in re.finditer(r"\S+", piece.text)]
        cuts = words[::max_words]
    spans = zip(cuts, [*cuts[1:], len(piece.text)], strict=True)
    parts = [_trimmed(piece.part(a, b)) for a, b in spans if piece.text[a:b].strip()]
    return [_joined(run, " ") for run in _even_runs(parts, max_words)]


def _trimmed(piece: Piece) -> Piece:
    """Without trailing whitespace (a sentence cut keeps the spaces after it)."""
    return Piece(piece.text.rstrip(), piece.line_start, piece.line_end, piece.pages)


def _even_runs(pieces: list[Piece], max_words: int) -> list[list[Piece]]:
    """Consecutive runs of at most max_words words, aiming at equal sizes rather than full runs
    followed by a scrap: 300 words at max 250 become two runs of ~150, not 250 + 50."""
    total = sum(p.words for p in pieces)
    target = total / max(1, -(-total // max_words))
    runs: list[list[Piece]] = [[]]
    size = 0
    for piece in pieces:
        if runs[-1] and (size + piece.words > max_words or size >= target):
            runs.append([])
            size = 0
        runs[-1].append(piece)
        size += piece.words
    return runs


def _joined(run: list[Piece], sep: str) -> Piece:
    """One piece from consecutive ones: their texts, first start line, last end line, their pages."""
    starts = [p.line_start for p in run if p.line_start is not None]
    ends = [p.line_end for p in run if p.line_end is not None]
    marks: list[PageMark] = []
    offset = 0
    for p in run:
        for m in p.pages:
            if not marks or (m.label, m.sheet) != (marks[-1].label, marks[-1].sheet):
                marks.append(m._replace(offset=offset + m.offset if marks else 0))
        offset += len(p.text) + len(sep)
    return Piece(sep.join(p.text for p in run), starts[0] if starts else None, ends[-1] if ends else None, tuple(marks))


def merge_small(pieces: list[Piece], max_words: int) -> list[Piece]:
    """Fold pieces under max_words/TINY_FRACTION words into the neighbour that has room."""
    tiny = max_words // TINY_FRACTION
    limit = int(max_words * OVERFLOW)
    merged: list[Piece] = []
    for piece in pieces:
        if merged and (piece.words < tiny or merged[-1].words < tiny) and merged[-1].words + piece.words <= limit:
            merged[-1] = merged[-1] + piece
        else:
            merged.append(piece)
    return merged


def _passage_id(doc: str, text: str, seen: dict[str, int]) -> str:
    """doc:sha1(text)[:12], with -2, -3 ... for repeated text, so ids stay stable across rebuilds."""
    base = f"{doc}:{hashlib.sha1(text.encode('utf-8')).hexdigest()[:12]}"
    seen[base] = seen.get(base, 0) + 1
    return base if seen[base] == 1 else f"{base}-{seen[base]}"


def _printed_title(lines: list[SourceLine]) -> str | None:
    """A PDF's title as printed: its first heading line on its first sheets. A paper's title, authors
    and «ABSTRACT» are headings with no text between them, so the first block's section would be
    the last of them, not the title."""
    for line in lines:
        if line.sheet and line.sheet > TITLE_SHEETS:
            return None
        if line.role == "heading" and MEANINGFUL.search(line.text):
            return " ".join(line.text.split())[:120]
    return None


def _first_meaningful(blocks: list[Block]) -> str | None:
    """The first line with words, where it reads as a title: a file that opens with running text
    («Forord» run into its first paragraph) has none, and its file name names it better."""
    for block in blocks:
        candidate = block.section or block.text
        if MEANINGFUL.search(candidate):
            line = candidate.split("\n")[0]
            return line[:120].strip() if len(line.split()) <= TITLE_WORDS else None
    return None


def _int_or_none(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None
