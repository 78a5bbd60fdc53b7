"""The web pages, server-rendered: each route runs its query, its template (templates/) only renders.

Every link from a result carries the page's State (query, documents, mode, k, search or ask), so
following it and coming back restores the page."""

from __future__ import annotations

import re
from functools import lru_cache, reduce
from pathlib import Path
from urllib.parse import urlencode

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from ...errors import QueryError, RapportsokError
from ...querying.answer import answer
from ...querying.citations import Answer
from ...querying.compare import MAX_PER_DOC, PER_DOC, compare
from ...querying.followup import Link, followup
from ...querying.index import Index
from ...querying.search import MAX_K, search
from ...records import Proposal
from .. import present
from ..api import Current
from .render import DEFAULT_K, State, context_link, error_page, message, proposal_link, render

STATIC = Path(__file__).parent / "static"
STYLE = (STATIC / "style.css").read_text(encoding="utf-8")
COPY_SCRIPT = (STATIC / "copy.js").read_text(encoding="utf-8")  # «Kopier kilde»
CACHED = {"Cache-Control": "max-age=3600"}
CONTEXT = 2  # passages shown on either side of the chosen one
FOLLOWUP_LINKS = 8  # linked passages shown under a proposal
SHORT_WORDS = 70  # words of a passage shown in the columns of «Per rapport»
EXAMPLE_TOPICS = 2  # questions on the start page
# headings that say where in a report, not what about: never an example topic
GENERIC = {"innledning", "bakgrunn", "mandat", "sammendrag", "oppsummering", "utfordringene", "utfordringer",
           "målgruppe", "forord", "vedlegg", "litteratur", "referanser", "konklusjon", "avgrensing", "avgrensning"}

router = APIRouter(include_in_schema=False)


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request, index: Current) -> HTMLResponse:
    """The form, then the answer (when asked) and the hits, or what is wrong."""
    state = State.from_params(request.query_params)
    result = answered = error = None
    try:
        k = int(state.k)
    except ValueError:
        k = int(DEFAULT_K)
        error = QueryError("k is not a number", f"Antall treff må være et tall mellom 1 og {MAX_K}.")
    if error is None and state.query.strip():
        try:
            result = search(index, state.query, k=k, docs=list(state.docs) or None, mode=state.mode)
            if state.ask:
                answered = answer(index, state.query, llm=index.settings.llm, docs=list(state.docs) or None)
        except RapportsokError as exc:
            error = exc
    return render(
        request,
        "search.html",
        200 if error is None else error.status,
        documents=index.documents,
        reports=sorted(index.documents, key=lambda d: (d.year is None, -(d.year or 0), d.title)),
        examples=[] if state.query.strip() else examples(index),
        names=index.names,
        proposals=present.named_proposals(index.proposals(), result.proposals, state.docs) if result else [],
        state=state,
        k=k if 1 <= k <= MAX_K else int(DEFAULT_K),
        error=message(error) if error else None,
        result=result,
        answered=answered,
        links=citation_links(answered, state) if answered else {},
    )


@lru_cache(maxsize=2)
def examples(index: Index) -> list[tuple[str, str]]:
    """A few things to try on the start page, from this corpus: questions on the topics that most
    reports take up (one-word headings, other than the headings every report has, whose word most
    documents use, the more specific first), one of them per report, and what became of a proposal."""
    analyzer = index.lexical.analyzer
    headings = {re.sub(r"^[\d.]+\s+", "", (p.section or "").split(" — ")[-1]).strip() for p in index.passages}
    spread = {}
    for heading in headings:
        stems = analyzer.split(heading)[0] if len(heading.split()) == 1 and heading.lower() not in GENERIC else []
        if stems:
            found = reduce(np.intersect1d, index.lexical.holding(stems))
            spread[heading] = (-len(set(index.doc_ids[found])), len(found), heading)
    topics = sorted(spread, key=spread.__getitem__)[:EXAMPLE_TOPICS]
    asked = [f"Hva sier rapportene om {t if t[1:2].isupper() else t.lower()}?" for t in topics]
    found = [(question, State(question, ask=True).search_url()) for question in asked]
    found += [(f"{topics[0]} per rapport, år for år", "/per-rapport?" + urlencode({"q": topics[0]}))] if topics else []
    first = next(iter(index.proposals()), None)
    if first is not None:
        found.append((f"Hva ble det av forslag {first.proposal}?", proposal_link(first.doc, first.proposal)))
    return found


def citation_links(result: Answer, state: State) -> dict[int, str]:
    """Each citation's link to its passage in context, its quoted sentence marked."""
    return {c.n: context_link(c.passage.passage_id, state, c.span()) for c in result.citations}


@router.get("/passasje/{passage_id}", response_class=HTMLResponse)
def context_page(request: Request, index: Current, passage_id: str) -> HTMLResponse:
    """The passage with its neighbours in the same document, query words marked and, from a
    citation, the quoted sentence marked."""
    state = State.from_params(request.query_params)
    try:
        chosen = index.passage(passage_id)
    except RapportsokError as exc:
        return error_page(request, exc.status, message(exc))
    document = index.doc_passages(chosen.doc)
    at = next(i for i, p in enumerate(document) if p.passage_id == chosen.passage_id)
    around = [
        (p, index.lexical.matching_words(state.query, p.text) if state.query.strip() else set())
        for p in document[max(0, at - CONTEXT) : at + CONTEXT + 1]
    ]
    before, after = index.neighbours(chosen.passage_id)
    span = _span(request.query_params.get("sitat", ""), len(chosen.text))
    return render(
        request, "context.html", chosen=chosen, around=around, span=span, state=state, before=before, after=after
    )


def _span(quoted: str, length: int) -> tuple[int, int] | None:
    """A "start-end" parameter as a span inside a text of that length, else None."""
    found = re.fullmatch(r"(\d{1,6})-(\d{1,6})", quoted)
    if not found:
        return None
    start, end = int(found.group(1)), int(found.group(2))
    return (start, end) if 0 <= start < end <= length else None


@router.get("/forslag", response_class=HTMLResponse)
def proposals_page(request: Request, index: Current) -> HTMLResponse:
    """Every numbered proposal, by document, each linked to what became of it."""
    by_doc: dict[str, list[Proposal]] = {}
    for p in index.proposals():
        by_doc.setdefault(p.doc, []).append(p)
    groups = [(index.names[doc], proposals) for doc, proposals in by_doc.items()]
    return render(request, "proposals.html", groups=groups)


@router.get("/forslag/{doc}/{n}", response_class=HTMLResponse)
def proposal_page(request: Request, index: Current, doc: str, n: int) -> HTMLResponse:
    """The proposal's text, then «Fulgt opp i»: the links from reports of its year or later, by
    report, the report that says what became of it first, then by year; then, apart, «Omtalt før
    forslaget»: the earlier reports that take up the same measure."""
    try:
        result = followup(index, doc, n, FOLLOWUP_LINKS)
    except RapportsokError as exc:
        return render(request, "proposal.html", exc.status, error=message(exc))
    text = [p for p in index.doc_passages(doc) if p.proposal == n and p.kind != "footnote"]
    return render(
        request,
        "proposal.html",
        number=n,
        result=result,
        document=index.document(doc),
        name=index.names[doc],
        text=text,
        after=_by_report(result.after()),
        before=_by_report(result.before()),
    )


def _by_report(links: list[Link]) -> list[list[Link]]:
    """The links by report: a report whose link says what became of the proposal first, then by
    year (those without one last); within a report in the order given."""
    groups: dict[str, list[Link]] = {}
    for link in links:
        groups.setdefault(link.hit.passage.doc, []).append(link)
    return sorted(
        groups.values(),
        key=lambda group: (not any(link.outcome for link in group), group[0].year is None, group[0].year or 0),
    )


@router.get("/per-rapport", response_class=HTMLResponse)
def compare_page(request: Request, index: Current) -> HTMLResponse:
    """The form, then one column per document that addresses the question, by year."""
    query, k_raw = request.query_params.get("q", ""), request.query_params.get("k", str(PER_DOC))
    try:
        k = int(k_raw)
    except ValueError:
        error = QueryError(f"antall passasjer må være et tall mellom 1 og {MAX_PER_DOC}")
        return render(request, "compare.html", error.status, query=query, k=PER_DOC, error=str(error))
    shown_k = k if 1 <= k <= MAX_PER_DOC else PER_DOC
    if not query.strip():
        return render(request, "compare.html", query=query, k=shown_k)
    try:
        result = compare(index, query, per_doc=k)
    except RapportsokError as exc:
        return render(request, "compare.html", exc.status, query=query, k=shown_k, error=message(exc))
    columns = [
        (
            column,
            [
                (
                    hit,
                    present.clipped(p.text, SHORT_WORDS),
                    index.lexical.matching_words(result.query, p.text),
                    present.clip_end(p.text, SHORT_WORDS),
                )
                for hit in column.hits
                for p in [hit.passage]
            ],
        )
        for column in result.documents
    ]
    return render(
        request,
        "compare.html",
        query=query,
        k=shown_k,
        result=result,
        columns=columns,
        total=len(index.documents),
        names=index.names,
    )


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    """The API documentation, from the app's own OpenAPI spec, offline."""
    return render(request, "apidocs.html", spec=request.app.openapi())


@router.get("/static/style.css")
def style_file() -> Response:
    return Response(STYLE, media_type="text/css", headers=CACHED)


@router.get("/static/copy.js")
def script_file() -> Response:
    return Response(COPY_SCRIPT, media_type="text/javascript", headers=CACHED)
