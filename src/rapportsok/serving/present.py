"""What the terminal and the web page show of a passage, without markup: which words are marked,
where the ellipses go, how a long text is clipped. The CLI wraps these in rich Text, the web in HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..records import Passage, Proposal
from ..text.tokens import WORD

CLIP_WORDS = 60  # words of a passage shown in lists of many
NON_BLANK = re.compile(r"\S+")  # a word as str.split sees it


def marked_spans(text: str, marked: set[str]) -> Iterator[tuple[int, int]]:
    """Where the words in marked (lower case) stand in the text, in order."""
    for match in WORD.finditer(text):
        if match.group().lower() in marked:
            yield match.start(), match.end()


def excerpt(text: str, start: int, end: int) -> str:
    """text[start:end] on one line, with "… " before and " …" after where text is left out."""
    before = "… " if text[:start].strip() else ""
    after = " …" if text[end:].strip() else ""
    return before + " ".join(text[start:end].split()) + after


def is_whole(text: str, start: int, end: int) -> bool:
    """Whether text[start:end] leaves nothing but blanks out, so an excerpt of it is the whole text."""
    return not text[:start].strip() and not text[end:].strip()


def clipped(text: str, words: int = CLIP_WORDS) -> str:
    """The start of a passage on one line, for lists that show many."""
    parts = text.split()
    return " ".join(parts[:words]) + (" …" if len(parts) > words else "")


def clip_end(text: str, words: int = CLIP_WORDS) -> int:
    """Where the start that `clipped` shows ends in the text, so that it can be quoted and cited."""
    ends = [found.end() for found in NON_BLANK.finditer(text)]
    return ends[min(words, len(ends)) - 1] if ends else 0


def where(passage: Passage) -> str:
    """Section, proposal, pages (else lines), and "fotnote": a hit's place in its document, on one line."""
    return " · ".join(passage.location() + (["fotnote"] if passage.kind == "footnote" else []))


def named_proposals(
    proposals: list[Proposal], numbers: list[int], docs: list[str] | tuple[str, ...] = ()
) -> list[Proposal]:
    """The proposals a query names (search's `proposals`: «forslag 15»), of the documents searched,
    to lead to their pages."""
    return [p for p in proposals if p.proposal in numbers and (not docs or p.doc in docs)] if numbers else []
