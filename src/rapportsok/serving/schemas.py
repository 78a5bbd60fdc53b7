"""The JSON the API answers with, declared once: every field the library's `as_dict` gives, in its order.

The models forbid fields they do not declare, so a field added to an `as_dict` without being
declared here fails the response (and the tests) instead of passing through undocumented; the
order of the fields is the order of the keys, which the API keeps equal to `--json`'s."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..records import Proposal


class Declared(BaseModel):
    """A response object whose every field is listed in /openapi.json."""

    model_config = ConfigDict(extra="forbid")


class Ranked(Declared):
    rank: int = Field(description="1-based")
    score: float = Field(description="higher is better")


class Passage(Declared):
    passage_id: str = Field(description="stable across rebuilds while the passage's text is unchanged")
    doc: str = Field(description="document id: the corpus file's name without extension")
    title: str
    section: str | None = Field(description='e.g. "4.3 Ny handlingsplan mot overdoser"')
    page: int | None = Field(description="printed page number where the passage starts, where the source has pages")
    proposal: int | None = Field(description="the proposal number when the passage belongs to one")
    text: str = Field(description="the whole passage text as indexed")
    source: str = Field(description="a human-readable reference to cite")
    line_start: int | None = Field(description="1-based first line in a text source")
    line_end: int | None = Field(description="1-based last line in a text source")
    kind: str = Field(description='"text", or "footnote" for a footnote of the page')
    page_end: int | None = Field(description="printed page number where the passage ends")
    page_label: str | None = Field(description='printed label of the first page ("iii", "59")')
    page_end_label: str | None = Field(description="printed label of the last page")
    sheet: int | None = Field(description="1-based page of the PDF file where the passage starts")
    link: str | None = Field(
        description='where the passage\'s section is on the web: its url in metadata.json with "#kap4-2", '
        'or "page.html#kap4-2" for a web page without one',
    )


class Hit(Passage, Ranked):  # rank and score first, as the CLI prints them
    weak: bool = Field(description="above the relevance floor, but without most of the query's words")
    snippet: str = Field(description="the passage's sentences that match best, on one line")


class SearchResponse(Declared):
    query: str
    mode: str
    took_ms: float
    hits: list[Hit]
    suggestion: str | None = Field(description="«Mente du …?»: the query with unknown words replaced by corpus words")
    corrections: dict[str, str] = Field(description="each query word the index lacks and the corpus word searched for")
    proposals: list[int] = Field(description="proposal numbers the query names; their passages lead")
    empty: str | None = Field(description='why there are no hits: "filter" (the chosen documents) or "nothing"')


class Citation(Declared):
    n: int
    passage_id: str
    doc: str
    title: str
    section: str | None
    page: int | None = Field(description="printed page number of the quote")
    proposal: int | None
    quote: str = Field(description="verbatim text of the passage")
    source: str = Field(description="a human-readable reference to the quote")
    page_label: str | None = Field(description="printed label of the quote's first page")
    page_end_label: str | None = Field(description="printed label of the quote's last page")
    sheet: int | None = Field(description="1-based page of the PDF file where the quote starts")
    link: str | None = Field(description="where the quote's section is on the web (as a hit's link)")


class AnswerResponse(Declared):
    question: str
    answer: str = Field(description="marks its claims with [n]")
    citations: list[Citation]
    hits: list[Hit]
    found: bool = Field(description="false when the passages do not answer the question")
    method: str = Field(description='"extractive" or "llm:<model>"')
    took_ms: float


class DocumentSummary(Declared):
    doc: str
    title: str
    year: int | None
    kind: str | None
    passages: int


class Section(Declared):
    section: str | None = Field(description="null for text before the first heading")
    page: int | None = Field(description="page where the section starts")
    passage_id: str = Field(description="the section's first passage")
    passages: int


class DocumentDetail(DocumentSummary):
    sections: list[Section]
    proposals: list[Proposal]


class PassageDetail(Passage):
    before: str | None = Field(description="id of the previous passage in the same document")
    after: str | None = Field(description="id of the next passage in the same document")


class FollowupLink(Hit):
    year: int | None = Field(description="the linked document's year")
    shared: list[str] = Field(description="words the passage shares with the proposal")


class FollowupResponse(Declared):
    doc: str = Field(description="the proposal's document")
    proposal: int
    headline: str
    links: list[FollowupLink] = Field(description="passages of other documents that take the proposal up, best first")


class CompareColumn(Declared):
    doc: str
    title: str
    year: int | None
    headline: str = Field(description="the sentence of this document's passages closest to the question")
    hits: list[Hit]


class CompareResponse(Declared):
    query: str
    took_ms: float
    documents: list[CompareColumn] = Field(description="the documents that address the question, by year")


class Health(Declared):
    status: Literal["ok"]
    passages: int
    model: str
    built_at: str
    build: str = Field(description="id of the build being served")


class ErrorDetail(BaseModel):
    detail: str = Field(description="what is wrong, in one line")


class ValidationDetail(BaseModel):
    detail: str | list[dict[str, Any]] = Field(description="what is wrong: one line, or FastAPI's list of bad fields")


ERRORS: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorDetail, "description": "unknown document or passage"},
    409: {"model": ErrorDetail, "description": "the index was built by another embedding model"},
    422: {"model": ValidationDetail, "description": "bad parameters"},
    503: {"model": ErrorDetail, "description": "no usable index (none yet, or damaged)"},
}
