"""The plain records that cross stage boundaries: source lines, documents, passages, proposals, hits."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from typing import Any, NamedTuple


@dataclass(frozen=True)
class SourceLine:
    """One line of extracted text with where it came from, so passages can cite it."""

    text: str
    lineno: int | None  # 1-based line in a text file; None for PDFs
    page: int | None  # printed page number when known (an arabic one)
    label: str | None = None  # the printed page label ("iii", "59") of a PDF page
    sheet: int | None = None  # 1-based page of the PDF file, for links that open it there
    role: str = "body"  # "body", "heading" or "note" where the PDF's layout tells
    anchor: str | None = None  # the id of the web page's section the line stands in ("kap4-2")


@dataclass(frozen=True)
class Document:
    """One corpus file as read: identity, metadata and a content hash for rebuilds."""

    doc: str  # file name without extension
    title: str
    year: int | None
    kind: str | None
    path: str  # file name inside the corpus folder
    sha256: str  # of the file's bytes


class PageMark(NamedTuple):
    """From `offset` on, a passage's text stands on this page."""

    offset: int
    page: int | None  # printed arabic number
    label: str | None  # printed label
    sheet: int | None  # 1-based page of the PDF file


@dataclass(frozen=True)
class Passage:
    """A citable piece of one document, cut along the document's own structure."""

    passage_id: str  # stable while (doc, text) is unchanged
    doc: str
    title: str
    section: str | None
    page: int | None
    proposal: int | None
    text: str
    line_start: int | None = None  # 1-based line range in a text source
    line_end: int | None = None
    headline: str | None = None  # the proposal's one-line headline, when proposal is set
    kind: str = "text"  # "text" or "footnote"
    page_end: int | None = None  # printed page number where the passage ends
    page_label: str | None = None  # printed labels of the start and end pages ("iii", "59")
    page_end_label: str | None = None
    sheet: int | None = None  # 1-based page of the PDF file where the passage starts (for links)
    pages: tuple[PageMark, ...] = ()  # where in the text each further page starts (PDF sources)
    cite: str | None = None  # the document as cited: short title and year
    link: str | None = None  # where the passage's section is on the web ("https://…/page#kap4-2", "page.html#kap4-2")

    def __post_init__(self) -> None:
        object.__setattr__(self, "pages", tuple(PageMark(*m) for m in self.pages))  # lists from JSON

    def page_at(self, offset: int) -> PageMark:
        """The page that the character at `offset` of the text stands on."""
        label = self.page_label or (str(self.page) if self.page is not None else None)
        here = PageMark(0, self.page, label, self.sheet)
        for mark in self.pages:
            if mark.offset > offset:
                break
            here = mark
        return here

    def heading(self) -> str:
        """Document, section and proposal: what a reader needs to place the text."""
        head = self.title if not self.section else f"{self.title} — {self.section}"
        return head if self.proposal is None else f"{head} — Forslag {self.proposal}"

    def context(self) -> str:
        """What is embedded and indexed: the passage under its heading."""
        return f"{self.heading()}: {self.text}"

    def span(self, start: int, end: int) -> str:
        """text[start:end] on one line: a sentence as it is embedded, shown and quoted."""
        return " ".join(self.text[start:end].split())

    def location(self, start: int = 0, end: int | None = None) -> list[str]:
        """Where in its document the passage (or its text[start:end]) stands, as a reader of the
        report finds it: chapter, proposal and pages where it has them. Never the lines of our
        file, which no reader has (a document without pages is cited by chapter, as Norwegian
        documents are)."""
        parts = [_chapter(self.section)] if self.section else []
        if self.proposal is not None:
            parts.append(f"forslag {self.proposal}")
        first = self.page_at(start).label
        last = self.page_at(max(start, (len(self.text) if end is None else end) - 1)).label
        if first is not None:
            parts.append(f"s. {first}" if last in (None, first) else f"s. {first}–{last}")
        return parts

    def without_pages(self) -> Passage:
        """The passage with no page fields: for a document whose pages are known only in part,
        so that its sources never mix pages with chapters alone."""
        return replace(self, page=None, page_end=None, page_label=None, page_end_label=None, sheet=None, pages=())

    def report(self) -> str:
        """The report's one name, with its year, wherever it is shown or cited (metadata's citation)."""
        return self.cite or self.title

    def source(self, start: int = 0, end: int | None = None) -> str:
        """A reference to cite: "Meld. St. 5 (2024–2025), kap. 4.2 Oppfølging ..., s. 59–60" (and the
        section's web address, for a web page)."""
        return ", ".join([self.report(), *self.location(start, end), *([self.link] if self.link else [])])

    def as_dict(self) -> dict[str, Any]:
        """The interface's hit fields without rank and score."""
        return {
            "passage_id": self.passage_id,
            "doc": self.doc,
            "title": self.title,
            "section": self.section,
            "page": self.page,
            "proposal": self.proposal,
            "text": self.text,
            "source": self.source(),
            "line_start": self.line_start,
            "line_end": self.line_end,
            "kind": self.kind,
            "page_end": self.page_end,
            "page_label": self.page_label,
            "page_end_label": self.page_end_label,
            "sheet": self.sheet,
            "link": self.link,
        }


def _chapter(section: str) -> str:
    """ "4.2 Oppfølging" -> "kap. 4.2 Oppfølging"; an unnumbered section as it is."""
    return f"kap. {section}" if section[:1].isdigit() else section


def citation_of(meta: dict, title: str, year: int | None) -> str:
    """How a document is cited: metadata's `citation`, else its title with the year."""
    given = meta.get("citation")
    if isinstance(given, str) and given.strip():
        return given.strip()
    return title if year is None or str(year) in title else f"{title} ({year})"


@dataclass(frozen=True)
class Proposal:
    """A numbered proposal ("Forslag N") with its headline and where it starts."""

    doc: str
    proposal: int
    headline: str
    section: str | None
    page: int | None
    passage_id: str

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Hit:
    rank: int
    score: float
    passage: Passage
    weak: bool = False  # above the relevance floor, but without most of the query's words or a close dense match
    snippet: tuple[int, int] | None = None  # (start, end) in passage.text of the sentences to show
    marked: frozenset[str] = frozenset()  # the passage's words that match the query (lower case), to highlight

    def snippet_text(self) -> str:
        """The snippet on one line (the whole passage when there is none)."""
        return self.passage.span(*(self.snippet or (0, len(self.passage.text))))

    def as_dict(self) -> dict[str, Any]:
        return (
            {"rank": self.rank, "score": round(self.score, 6)}
            | self.passage.as_dict()
            | {"weak": self.weak, "snippet": self.snippet_text()}
        )


def proposals_of(passages: list[Passage], doc: str | None = None) -> list[Proposal]:
    """The first passage of each numbered proposal, in document order."""
    seen: set[tuple[str, int]] = set()
    found: list[Proposal] = []
    for p in passages:
        if p.proposal is None or (doc and p.doc != doc) or (p.doc, p.proposal) in seen:
            continue
        seen.add((p.doc, p.proposal))
        found.append(Proposal(p.doc, p.proposal, p.headline or "", p.section, p.page, p.passage_id))
    return found
