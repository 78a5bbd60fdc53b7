"""A PDF's own title (its document information's /Title), where the first line is no title.

The first line of a PDF is sometimes furniture or a generic word («Dokumentdetaljer», «FORORD»,
«Rundskriv R», «Table of contents») while the producer stored the real title; but the field as
often holds a file name («Microsoft Word - rapport_v3.docx»), a placeholder («Untitled
Document») or a template's leftover («Proceedings Template - WORD», a section title of the
template), so it is used only where the first line is generic, and only when it looks like a
title itself."""

from __future__ import annotations

import re

from pypdf import PdfReader

from .runs import UNREADABLE, Reading, page_runs

PROGRAM_PREFIX = re.compile(r"^(?:Microsoft (?:Word|PowerPoint|Excel)|Word|PowerPoint)\s*-\s*", re.I)
FILE_NAME = re.compile(r"\.(?:docx?|pdf|odt|rtf|indd|tex|dvi|ps|xlsx?|pptx?|html?|txt|qxp|fm)$|^\S*[\\/_]\S*$", re.I)
GENERIC = {
    "untitled", "unknown", "title", "titel", "tittel", "document", "dokument", "presentation",
    "powerpoint presentation", "rapport", "report", "notat", "forord", "innhold", "sammendrag",
    "dokumentdetaljer", "rundskriv", "slide 1", "none", "no title",
    # what opens a document's first sheet without naming it: contents, abstract, preface, description
    "innholdsfortegnelse", "inhaltsverzeichnis", "inhalt", "contents", "table of contents", "abstract",
    "preface", "summary", "vorwort", "beskrivelse", "forside",
}
LEFTOVER = re.compile(r"template|untitled|microsoft|^document\s*\d|^dokument\s*\d", re.I)
MIN_LETTERS = 6
GENERIC_WORDS = 2  # a first line of at most this many words is no title («Rundskriv R»)
MAX_CHARS = 300


def title_of(reader: PdfReader) -> str | None:
    """The document information's /Title where the first sheet's top line is generic and the
    field holds a real title; else None (the first lines give the title)."""
    title = info_title(reader)
    if title is None or not reader.pages:
        return None
    from . import _rows  # the package's rows (imported here: the package imports this module's siblings)

    rows = _rows(page_runs(reader.pages[0], Reading(reader)).runs)
    first = " ".join(rows[0].text.split()) if rows else ""
    generic = len(first.split()) <= GENERIC_WORDS or first.lower().strip(" .:") in GENERIC
    return title if generic else None


def info_title(reader: PdfReader) -> str | None:
    """The document information's /Title, cleaned, or None when it is no real title."""
    try:
        info = reader.metadata
        raw = info.title if info else None
    except Exception:  # noqa: BLE001 (a damaged information dictionary: no title)
        return None
    if not isinstance(raw, str):
        return None
    title = " ".join(UNREADABLE.sub(" ", raw).split())
    title = PROGRAM_PREFIX.sub("", title).strip()
    if (
        len(title) > MAX_CHARS
        or sum(c.isalpha() for c in title) < MIN_LETTERS
        or title.lower().strip(" .:") in GENERIC
        or FILE_NAME.search(title)
        or LEFTOVER.search(title)
    ):
        return None
    return title
