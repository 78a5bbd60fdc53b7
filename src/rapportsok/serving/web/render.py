"""HTML for the search page, the passage in context and error pages; every value from the corpus or user is escaped.

One function per block (form, answer, hit, hit list, context), so that further blocks slot in
beside them. Every link from a result carries the page's State (query, documents, mode, k,
search or ask), so following it and coming back restores the page."""

from __future__ import annotations

import re
from dataclasses import dataclass
from html import escape
from pathlib import Path
from string import Template
from typing import TYPE_CHECKING
from urllib.parse import quote, urlencode

from ...errors import QueryError, RapportsokError
from ...querying.answer import answer
from ...querying.search import MAX_K, MODES, search
from ...records import Hit, Passage
from ...text.tokens import WORD

if TYPE_CHECKING:
    from collections.abc import Mapping

    from ...querying.citations import Answer
    from ...querying.index import Index

HERE = Path(__file__).parent
PAGE = Template((HERE / "page.html").read_text(encoding="utf-8"))
STYLE = (HERE / "style.css").read_text(encoding="utf-8")
COPY_SCRIPT = (HERE / "copy.js").read_text(encoding="utf-8")  # «Kopier kilde»
CONTEXT = 2  # passages shown on either side of the chosen one
DEFAULT_K = "10"
MODE_LABELS = {"hybrid": "Kombinert", "dense": "Semantisk", "lexical": "Ordsøk"}
MARKER = re.compile(r"\[(\d+)\]")
HEADERS = {
    # Styles, forms and the one copy script only from this server, never framed.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}
STATUS_TITLES = {404: "Finnes ikke", 405: "Ikke tillatt", 422: "Ugyldig søk", 429: "For mange forespørsler"}


@dataclass(frozen=True)
class State:
    """What a results page shows; every link from it carries this."""

    query: str = ""
    docs: tuple[str, ...] = ()
    mode: str = "hybrid"
    k: str = DEFAULT_K  # as typed: the page says when it is not a number
    ask: bool = False

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> State:
        """From a request's query parameters (a Starlette QueryParams: getlist for repeated doc)."""
        return cls(
            params.get("q", ""),
            tuple(d for d in params.getlist("doc") if d),  # type: ignore[attr-defined]
            params.get("mode", "hybrid"),
            params.get("k", DEFAULT_K),
            bool(params.get("svar")),
        )

    def params(self) -> list[tuple[str, str]]:
        """The query string's pairs, defaults left out."""
        pairs = [("q", self.query)] + [("doc", d) for d in self.docs]
        pairs += [("mode", self.mode)] if self.mode != "hybrid" else []
        pairs += [("k", self.k)] if self.k != DEFAULT_K else []
        return pairs + ([("svar", "1")] if self.ask else [])

    def search_url(self) -> str:
        return "/?" + urlencode(self.params()) if self.query.strip() else "/"


def page(title: str, main: str) -> str:
    return PAGE.substitute(title=escape(title), main=main)


def error_page(status: int, message: str) -> str:
    """A Norwegian error page for a person's browser (API clients get JSON)."""
    title = STATUS_TITLES.get(status, "Feil")
    return page(
        f"{title} – Rapportsøk",
        f'<h1>{escape(title)}</h1><p class="error" role="alert">{escape(message)}</p>'
        '<p><a href="/">Til søket</a></p>',
    )


def message(error: RapportsokError) -> str:
    """What to tell a person: the Norwegian wording where the error has one."""
    return error.norwegian or "Noe gikk galt. Prøv et annet søk."


def highlighted(text: str, marked: set[str]) -> str:
    """The text escaped, with the words in marked (lower case) wrapped in <mark>."""
    out: list[str] = []
    at = 0
    for match in WORD.finditer(text):
        if match.group().lower() in marked:
            out.append(escape(text[at : match.start()]))
            out.append(f"<mark>{escape(match.group())}</mark>")
            at = match.end()
    out.append(escape(text[at:]))
    return "".join(out)


def where(passage: Passage) -> str:
    """Section, page and proposal as one line (the title is shown on its own)."""
    parts = passage.location() + (["fotnote"] if passage.kind == "footnote" else [])
    return escape(" · ".join(parts))


def cite_tools(passage: Passage, start: int = 0, end: int | None = None) -> str:
    """A «Kopier kilde» button for the reference (to the quote at text[start:end]), and for a
    PDF source a link that opens the original file at that page."""
    source = passage.source(start, end)
    out = f'<span class="cite"><button type="button" class="copy" data-source="{escape(source)}">Kopier kilde</button>'
    sheet = passage.page_at(start).sheet
    if sheet is not None:
        link = f"/files/{quote(passage.doc, safe='')}.pdf#page={sheet}"
        out += f' <a class="pdf" href="{escape(link)}">Åpne PDF-en på s. {escape(passage.page_at(start).label or "")}</a>'
    return out + "</span>"


def context_link(passage_id: str, state: State, quoted: tuple[int, int] | None = None) -> str:
    """The passage in context, keeping the state; with a quote's span, that sentence is marked."""
    pairs = state.params() if state.query.strip() else []
    pairs += [("sitat", f"{quoted[0]}-{quoted[1]}")] if quoted else []
    link = "/passasje/" + quote(passage_id, safe="")
    return link + ("?" + urlencode(pairs) if pairs else "") + ("#sitat" if quoted else "#valgt")


def quote_span(passage: Passage, quote_text: str) -> tuple[int, int] | None:
    at = passage.text.find(quote_text)
    return (at, at + len(quote_text)) if at >= 0 and quote_text else None


def search_form(index: Index, state: State, k: int) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="doc" value="{escape(d.doc)}"{" checked" if d.doc in state.docs else ""}> '
        f"{escape(d.title)}{f' ({d.year})' if d.year else ''}</label>"
        for d in index.documents
    )
    shown_mode = state.mode if state.mode in MODES else "hybrid"
    modes = "".join(
        f'<option value="{m}"{" selected" if m == shown_mode else ""}>{MODE_LABELS[m]}</option>' for m in MODES
    )
    return f"""<form class="search" method="get" action="/" role="search">
<label for="q">Søk i rapportene</label>
<div class="row">
<input type="search" id="q" name="q" value="{escape(state.query)}" maxlength="2000" autofocus accesskey="s"
 placeholder="f.eks. nalokson, sprøyterom, forslag 14">
<span class="buttons"><button type="submit">Søk</button>
<button type="submit" name="svar" value="1">Spør</button></span>
</div>
<p class="hint">«Søk» viser passasjene; «Spør» svarer med sitater og nummererte kilder.</p>
<details class="filters"{" open" if state.docs or shown_mode != "hybrid" or k != int(DEFAULT_K) else ""}>
<summary>Dokumenter og valg{f" ({len(state.docs)} valgt)" if state.docs else ""}</summary>
<fieldset><legend>Dokumenter (ingen valgt = alle)</legend>{boxes}</fieldset>
<div class="options">
<label for="mode">Søkemåte</label> <select id="mode" name="mode">{modes}</select>
<label for="k">Antall treff</label> <input type="number" id="k" name="k" value="{k}" min="1" max="{MAX_K}">
</div>
</details>
</form>"""


def search_page(index: Index, state: State) -> tuple[int, str]:
    """(HTTP status, page): the form, then the answer (when asked) and the hits, or what is wrong."""
    try:
        k = int(state.k)
    except ValueError:
        k = 10
        norwegian = f"Antall treff må være et tall mellom 1 og {MAX_K}."
        error: RapportsokError | None = QueryError("k is not a number", norwegian)
    else:
        error = None
    form = search_form(index, state, k if 1 <= k <= MAX_K else 10)
    if error is None and not state.query.strip():
        return 200, page("Rapportsøk", form)
    answered = ""
    if error is None:
        try:
            result = search(index, state.query, k=k, docs=list(state.docs) or None, mode=state.mode)
            if state.ask:
                answered = answer_section(answer(index, state.query, docs=list(state.docs) or None), state)
        except RapportsokError as exc:
            error = exc
    if error is not None:
        alert = f'<p class="error" role="alert">{escape(message(error))}</p>'
        return error.status, page("Feil – Rapportsøk", form + alert)
    body = form + answered + hits_section(result.query, result.hits, result.took_ms, state)
    return 200, page(f"{result.query} – Rapportsøk", body)


def hits_section(query: str, hits: list[Hit], took_ms: float, state: State) -> str:
    """The count, the hits that deserve it, and the weaker ones folded away under «Svakere treff»."""
    if not hits:
        return f'<p class="summary" role="status">Ingen treff for «{escape(query)}».</p>'
    strong = [h for h in hits if not h.weak]
    weak = [h for h in hits if h.weak]
    count = f"{len(hits)} treff" + (f", {len(weak)} av dem svakere" if weak else "")
    html = [f'<p class="summary" role="status">{count} for «{escape(query)}» ({took_ms:.0f} ms)</p>']
    if strong:
        html.append(f'<ol class="hits">{"".join(hit_item(h, state) for h in strong)}</ol>')
    if weak:
        items = "".join(hit_item(h, state) for h in weak)
        html.append(
            f'<details class="weaker"{"" if strong else " open"}><summary>Svakere treff ({len(weak)}): '
            f'uten de fleste søkeordene</summary><ol class="hits">{items}</ol></details>'
        )
    return "".join(html)


def hit_item(hit: Hit, state: State) -> str:
    """One hit: title, where, the snippet with the query's words marked, the whole passage behind an expander."""
    p, marked = hit.passage, set(hit.marked)
    start, end = hit.snippet or (0, len(p.text))
    before = "… " if p.text[:start].strip() else ""
    after = " …" if p.text[end:].strip() else ""
    whole = (
        '<details class="full"><summary>Hele passasjen</summary>'
        f'<p class="text">{highlighted(p.text, marked)}</p></details>'
        if before or after
        else ""
    )
    link = (
        f'<a href="{escape(context_link(p.passage_id, state))}">Vis i sammenheng'
        f'<span class="visually-hidden"> ({hit.rank})</span></a>'
    )
    return f"""<li class="hit{" weak" if hit.weak else ""}" id="treff-{hit.rank}"><article>
<h2>{hit.rank}. {escape(p.title)}</h2>
<p class="where">{where(p)}{" · " if where(p) else ""}{link} {cite_tools(p)}</p>
<p class="snippet">{escape(before)}{highlighted(hit.snippet_text(), marked)}{escape(after)}</p>
{whole}
</article></li>"""


def answer_section(result: Answer, state: State) -> str:
    """The answer with each [n] linked to its source, then each numbered source with its verbatim quote."""
    links = {c.n: context_link(c.passage.passage_id, state, quote_span(c.passage, c.quote)) for c in result.citations}
    sources = "".join(
        f"""<li value="{c.n}" id="kilde-{c.n}"><a href="{escape(links[c.n])}">{escape(c.source())}</a>
<blockquote>{escape(c.quote)}</blockquote><p>{cite_tools(c.passage, *c.span())}</p></li>"""
        for c in result.citations
    )
    text = MARKER.sub(
        lambda m: f'<a class="ref" href="{escape(links[int(m.group(1))])}">[{m.group(1)}]</a>'
        if int(m.group(1)) in links
        else m.group(0),
        escape(result.text),
    )
    return f"""<section class="answer" aria-labelledby="svar">
<h2 id="svar">Svar</h2>
<p class="text">{text}</p>
{f'<h3>Kilder</h3><ol class="sources">{sources}</ol>' if sources else ""}
</section>"""


def context_page(index: Index, passage_id: str, state: State, quoted: str = "") -> tuple[int, str]:
    """(HTTP status, page): the passage with its neighbours in the same document, query words marked
    and, from a citation, the quoted sentence marked."""
    try:
        chosen = index.passage(passage_id)
    except RapportsokError as exc:
        return exc.status, error_page(exc.status, message(exc))
    around = index.doc_passages(chosen.doc)
    at = next(i for i, p in enumerate(around) if p.passage_id == chosen.passage_id)
    span = _span(quoted, len(chosen.text))
    blocks = [
        context_block(index, p, state.query, current=p.passage_id == chosen.passage_id, span=span)
        for p in around[max(0, at - CONTEXT) : at + CONTEXT + 1]
    ]
    before, after = index.neighbours(chosen.passage_id)
    nav = ['<nav class="pager" aria-label="Bla i dokumentet">']
    for neighbour, rel, label in ((before, "prev", "← Forrige"), (after, "next", "Neste →")):
        link = escape(context_link(neighbour, state)) if neighbour else ""
        nav.append(f'<a href="{link}" rel="{rel}">{label}</a>' if neighbour else "<span></span>")
    nav.append("</nav>")
    body = (
        f'<p><a href="{escape(state.search_url())}" class="back">← Tilbake til søket</a></p>'
        f'<div class="context"><h1>{escape(chosen.title)}</h1>{"".join(blocks)}</div>{"".join(nav)}'
    )
    return 200, page(f"{chosen.title} – Rapportsøk", body)


def _span(quoted: str, length: int) -> tuple[int, int] | None:
    """A "start-end" parameter as a span inside a text of that length, else None."""
    found = re.fullmatch(r"(\d{1,6})-(\d{1,6})", quoted)
    if not found:
        return None
    start, end = int(found.group(1)), int(found.group(2))
    return (start, end) if 0 <= start < end <= length else None


def context_block(
    index: Index, passage: Passage, query: str, current: bool, span: tuple[int, int] | None
) -> str:
    """One passage of the context page; the chosen one is marked, with its quoted sentence if any."""
    marked = index.lexical.matching_words(query, passage.text) if query.strip() else set()
    text = passage.text
    if current and span:
        start, end = span
        body = (
            highlighted(text[:start], marked)
            + f'<mark class="sitat" id="sitat">{highlighted(text[start:end], marked)}</mark>'
            + highlighted(text[end:], marked)
        )
    else:
        body = highlighted(text, marked)
    attrs = ' class="passage current" id="valgt" aria-current="true"' if current else ' class="passage"'
    return f"""<section{attrs}>
<p class="where">{where(passage) or "&nbsp;"}</p>
<p class="text">{body}</p>
</section>"""


def _type(schema: dict) -> str:
    """A JSON schema as a short type expression: "string", "integer | null", "array of Hit"."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return f'<a href="#schema-{escape(name)}">{escape(name)}</a>'
    if "anyOf" in schema:
        return " | ".join(_type(s) for s in schema["anyOf"])
    if "enum" in schema:
        return " | ".join(f"<code>{escape(str(v))}</code>" for v in schema["enum"])
    if schema.get("type") == "array":
        return "liste av " + _type(schema.get("items", {}))
    if "const" in schema:
        return f"<code>{escape(str(schema['const']))}</code>"
    return escape(str(schema.get("type", "any")))


def _limits(schema: dict) -> str:
    names = {"minLength": "minst tegn", "maxLength": "høyst tegn", "minimum": "minst", "maximum": "høyst", "default": "standard"}
    return ", ".join(f"{label} {escape(str(schema[key]))}" for key, label in names.items() if key in schema)


def markdown(text: str, inline: bool = False) -> str:
    """The little Markdown that docstrings use: paragraphs, `code` and **bold**, escaped."""
    def spans(part: str) -> str:
        html = re.sub(r"`([^`]+)`", r"<code>\1</code>", escape(part))
        return re.sub(r"\*\*([^*]+)\*\*", r"<strong>\1</strong>", html)

    if inline:
        return spans(" ".join(text.split()))
    return "".join(f"<p>{spans(' '.join(part.split()))}</p>" for part in re.split(r"\n\s*\n", text) if part.strip())


def api_docs_page(spec: dict) -> str:
    """The OpenAPI spec as one plain page (the usual Swagger UI would need a CDN, and these machines are offline)."""
    out = [f"<h1>{escape(spec['info']['title'])} {escape(spec['info']['version'])}: HTTP-grensesnittet</h1>"]
    out.append(f"{markdown(spec['info'].get('description', ''))}<p>Spesifikasjonen: <a href=\"/openapi.json\">/openapi.json</a>.</p>")
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            out.append(f'<section class="op"><h2><code>{method.upper()} {escape(path)}</code></h2>')
            out.append(markdown(op.get("description") or op.get("summary", "")))
            params = op.get("parameters", [])
            if params:
                out.append("<table><caption>Parametre</caption><tr><th>navn</th><th>i</th><th>type</th><th>krav</th><th>beskrivelse</th></tr>")
                for p in params:
                    schema = p.get("schema", {})
                    out.append(
                        f"<tr><td><code>{escape(p['name'])}</code>{' (påkrevd)' if p.get('required') else ''}</td>"
                        f"<td>{escape(p['in'])}</td><td>{_type(schema)}</td><td>{_limits(schema)}</td>"
                        f"<td>{markdown(p.get('description', ''), inline=True)}</td></tr>"
                    )
                out.append("</table>")
            out.append("<ul>")
            for status, response in op.get("responses", {}).items():
                schema = response.get("content", {}).get("application/json", {}).get("schema")
                shown = f": {_type(schema)}" if schema else ""
                out.append(f"<li><code>{escape(status)}</code> {escape(response.get('description', ''))}{shown}</li>")
            out.append("</ul></section>")
    out.append("<h2>Objekter</h2>")
    for name, schema in spec.get("components", {}).get("schemas", {}).items():
        out.append(f'<section class="schema" id="schema-{escape(name)}"><h3>{escape(name)}</h3>')
        out.append("<table><tr><th>felt</th><th>type</th><th>beskrivelse</th></tr>")
        required = set(schema.get("required", []))
        for field, sub in schema.get("properties", {}).items():
            out.append(
                f"<tr><td><code>{escape(field)}</code>{'' if field in required else ' (valgfri)'}</td>"
                f"<td>{_type(sub)}</td><td>{markdown(sub.get('description', ''), inline=True)}</td></tr>"
            )
        out.append("</table></section>")
    return page("API – Rapportsøk", "".join(out))
