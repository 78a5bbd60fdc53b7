"""What an answer is: its text with [n] markers and the numbered, verbatim citations behind them.

Shared by the extractive answerer (answer.py) and the generated one (generate.py), so that neither
imports the other's module."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..records import Hit, Passage

NOT_FOUND = "Fant ikke noe svar på dette i rapportene."


@dataclass(frozen=True)
class Citation:
    """One numbered source of an answer: a verbatim quote from a passage."""

    n: int
    passage: Passage
    quote: str

    def span(self) -> tuple[int, int]:
        """Where the quote stands in its passage's text."""
        start = max(0, self.passage.text.find(self.quote))
        return start, start + len(self.quote)

    def source(self) -> str:
        """The reference to cite for the quote: its own pages, not the whole passage's."""
        return self.passage.source(*self.span())

    def as_dict(self) -> dict[str, Any]:
        """The interface's citation, its page the quote's own (a passage may run over pages)."""
        p = self.passage
        start, end = self.span()
        first, last = p.page_at(start), p.page_at(max(start, end - 1))
        return {
            "n": self.n,
            "passage_id": p.passage_id,
            "doc": p.doc,
            "title": p.title,
            "section": p.section,
            "page": first.page,
            "proposal": p.proposal,
            "quote": self.quote,
            "source": self.source(),
            "page_label": first.label,
            "page_end_label": last.label,
            "sheet": first.sheet,
            "link": p.link,
        }


@dataclass(frozen=True)
class Answer:
    """The answer text with [n] markers, its citations and the passages it was drawn from."""

    question: str
    text: str
    citations: list[Citation]
    hits: list[Hit]
    found: bool = True
    method: str = "extractive"  # or "llm:<model>"
    took_ms: float = 0.0
    notes: list[str] = field(default_factory=list)  # e.g. why a generated answer was not used

    def as_dict(self) -> dict[str, Any]:
        return {
            "question": self.question,
            "answer": self.text,
            "citations": [c.as_dict() for c in self.citations],
            "hits": [h.as_dict() for h in self.hits],
            "found": self.found,
            "method": self.method,
            "took_ms": self.took_ms,
        }
