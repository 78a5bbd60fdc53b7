"""HTML for the views across the reports: the proposals, one proposal with «Fulgt opp i», and «Per rapport»."""

from __future__ import annotations

from html import escape
from urllib.parse import quote, urlencode

from ...errors import QueryError, RapportsokError
from ...querying.compare import MAX_PER_DOC, compare
from ...querying.followup import Link, followup
from ...querying.index import Index
from ...querying.snippets import snippet_span
from .render import State, context_link, highlighted, page, where

FOLLOWUP_LINKS = 8  # linked passages shown under a proposal
SHORT_WORDS = 70  # words of a passage shown in lists of many


def proposal_link(doc: str, proposal: int) -> str:
    return f"/forslag/{quote(doc, safe='')}/{proposal}"


def _short(text: str) -> str:
    words = text.split()
    return " ".join(words[:SHORT_WORDS]) + (" …" if len(words) > SHORT_WORDS else "")


def _excerpt(text: str, marked: set[str]) -> str:
    """The sentences of a linked passage that share most words with the proposal (as a hit's snippet)."""
    start, end = snippet_span(text, marked)
    before, after = ("… " if text[:start].strip() else ""), (" …" if text[end:].strip() else "")
    return before + " ".join(text[start:end].split()) + after


def _error(exc: RapportsokError, title: str, before: str = "") -> tuple[int, str]:
    return exc.status, page(f"{title} – Rapportsøk", before + f'<p class="error" role="alert">{escape(str(exc))}</p>')


def proposals_page(index: Index) -> tuple[int, str]:
    """(HTTP status, page): every numbered proposal, by document, each linked to what became of it."""
    by_doc: dict[str, list[str]] = {}
    for p in index.proposals():
        by_doc.setdefault(p.doc, []).append(
            f'<li><a href="{escape(proposal_link(p.doc, p.proposal))}">'
            f"Forslag {p.proposal}: {escape(p.headline)}</a></li>"
        )
    groups = "".join(
        f'<section><h2>{escape(index.document(doc).title)}</h2><ul class="proposals">{"".join(items)}</ul></section>'
        for doc, items in by_doc.items()
    )
    body = (
        "<h1>Forslag</h1><p>Hva ble det av forslagene? "
        "Velg et forslag for å se hvor de andre rapportene tar det opp.</p>"
        + (groups or "<p>Ingen nummererte forslag i rapportene.</p>")
    )
    return 200, page("Forslag – Rapportsøk", body)


def proposal_page(index: Index, doc: str, number: int) -> tuple[int, str]:
    """(HTTP status, page): the proposal's text, then «Fulgt opp i»: its links grouped by document, by year."""
    try:
        result = followup(index, doc, number, FOLLOWUP_LINKS)
    except RapportsokError as exc:
        return _error(exc, "Ukjent forslag", '<p><a href="/forslag">← Alle forslag</a></p>')
    document = index.document(doc)
    text = "".join(
        f'<p class="text">{escape(p.text)}</p>'
        for p in index.doc_passages(doc)
        if p.proposal == number and p.kind != "footnote"
    )
    groups: dict[str, list[Link]] = {}
    for link in result.links:
        groups.setdefault(link.hit.passage.doc, []).append(link)
    ordered = sorted(
        groups.values(), key=lambda links: (links[0].year is None, links[0].year or 0, links[0].hit.passage.doc)
    )
    sections = []
    for links in ordered:
        items = "".join(
            f"""<li class="link">
<p class="where"><span class="rank">nr. {link.hit.rank}</span> {where(link.hit.passage)}</p>
<p class="text">{highlighted(_excerpt(link.hit.passage.text, set(link.shared)), set(link.shared))}</p>
<p><a href="{escape(context_link(link.hit.passage.passage_id, State()))}">Vis i sammenheng</a></p></li>"""
            for link in links
        )
        sections.append(
            f'<section class="followed"><h3>{escape(links[0].hit.passage.title)} ({links[0].year or "uten år"})</h3>'
            f"<ul>{items}</ul></section>"
        )
    followed = "".join(sections) or "<p>Ingen av de andre rapportene tar opp dette forslaget.</p>"
    body = f"""<p><a href="/forslag">← Alle forslag</a></p>
<article class="proposal"><h1>Forslag {number}: {escape(result.headline)}</h1>
<p class="where">{escape(document.title)}{f" ({document.year})" if document.year else ""}</p>
<details><summary>Forslagets tekst</summary>{text}</details></article>
<section aria-labelledby="fulgt-opp"><h2 id="fulgt-opp">Fulgt opp i</h2>
<p class="hint">De {len(result.links)} passasjene i de andre rapportene som ligner mest på forslaget,
etter rapport og år; «nr.» er rangeringen blant dem. Ord de deler med forslaget er markert.</p>{followed}</section>"""
    return 200, page(f"Forslag {number} – Rapportsøk", body)


def _marked(index: Index, query: str, text: str) -> set[str]:
    return index.lexical.matching_words(query, text)


def compare_form(query: str, k: int) -> str:
    return f"""<form class="search" method="get" action="/per-rapport" role="search">
<label for="q">Ett spørsmål gjennom årene</label>
<div class="row">
<input type="search" id="q" name="q" value="{escape(query)}" maxlength="2000" autofocus
 placeholder="f.eks. nalokson, legemiddelassistert behandling">
<button type="submit">Vis per rapport</button>
</div>
<p class="hint">Viser de beste passasjene fra hver rapport som tar opp spørsmålet, ordnet etter år.</p>
<input type="hidden" name="k" value="{k}">
</form>"""


def compare_page(index: Index, query: str, k_raw: str) -> tuple[int, str]:
    """(HTTP status, page): the form, then one column per document that addresses the question, by year."""
    try:
        k = int(k_raw)
    except ValueError:
        return _error(
            QueryError(f"antall passasjer må være et tall mellom 1 og {MAX_PER_DOC}"), "Feil", compare_form(query, 3)
        )
    form = compare_form(query, k if 1 <= k <= MAX_PER_DOC else 3)
    if not query.strip():
        return 200, page("Per rapport – Rapportsøk", form)
    try:
        result = compare(index, query, per_doc=k)
    except RapportsokError as exc:
        return _error(exc, "Feil", form)
    columns = []
    for column in result.documents:
        d = column.document
        hits = "".join(
            f"""<li><p class="where">{where(hit.passage)}</p>
<p class="text">{highlighted(_short(hit.passage.text), _marked(index, result.query, hit.passage.text))}</p>
<p><a href="{escape(context_link(hit.passage.passage_id, State(result.query)))}">Vis i sammenheng</a></p></li>"""
            for hit in column.hits
        )
        columns.append(
            f"""<section class="column"><h2><span class="year">{d.year or "uten år"}</span> {escape(d.title)}</h2>
<p class="headline">«{escape(column.headline)}»</p><ol class="column-hits">{hits}</ol></section>"""
        )
    count = len(result.documents)
    summary = (
        f'<p class="summary" role="status">{count} av {len(index.documents)} rapporter '
        f"tar opp «{escape(result.query)}» "
        f'({result.took_ms:.0f} ms) · <a href="/?{escape(urlencode({"q": result.query}))}">vanlig søk</a></p>'
    )
    body = (
        form
        + summary
        + (f'<div class="columns">{"".join(columns)}</div>' if columns else "<p>Ingen av rapportene tar opp dette.</p>")
    )
    return 200, page(f"{result.query} per rapport – Rapportsøk", body)
