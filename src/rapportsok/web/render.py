"""HTML for the search page and the passage-in-context page; every value from the corpus or the user is escaped."""

from __future__ import annotations

from html import escape
from pathlib import Path
from string import Template
from urllib.parse import quote, urlencode

from ..answer import Answer, answer
from ..errors import QueryError, RapportsokError
from ..index import Index
from ..lexical import WORD
from ..records import Passage
from ..search import MAX_K, MODES, search

HERE = Path(__file__).parent
PAGE = Template((HERE / "page.html").read_text(encoding="utf-8"))
STYLE = (HERE / "style.css").read_text(encoding="utf-8")
COPY_SCRIPT = (HERE / "copy.js").read_text(encoding="utf-8")  # «Kopier kilde»
CONTEXT = 2  # passages shown on either side of the chosen one
MODE_LABELS = {"hybrid": "Kombinert", "dense": "Semantisk", "lexical": "Ordsøk"}
HEADERS = {
    # Styles, forms and the one copy script only from this server, never framed.
    "Content-Security-Policy": (
        "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self'; form-action 'self'; "
        "base-uri 'none'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def page(title: str, main: str) -> str:
    return PAGE.substitute(title=escape(title), main=main)


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
    out = f'<p class="cite"><button type="button" class="copy" data-source="{escape(source)}">Kopier kilde</button>'
    sheet = passage.page_at(start).sheet
    if sheet is not None:
        link = f"/files/{quote(passage.doc, safe='')}.pdf#page={sheet}"
        out += f' <a class="pdf" href="{escape(link)}">Åpne PDF-en på s. {escape(passage.page_at(start).label or "")}</a>'
    return out + "</p>"


def context_link(passage_id: str, query: str) -> str:
    link = "/passasje/" + quote(passage_id, safe="")
    return link + ("?" + urlencode({"q": query}) if query else "") + "#valgt"


def search_form(index: Index, query: str, docs: list[str], mode: str, k: int) -> str:
    boxes = "".join(
        f'<label><input type="checkbox" name="doc" value="{escape(d.doc)}"{" checked" if d.doc in docs else ""}> '
        f"{escape(d.title)}{f' ({d.year})' if d.year else ''}</label>"
        for d in index.documents
    )
    modes = "".join(
        f'<option value="{m}"{" selected" if m == mode else ""}>{MODE_LABELS[m]}</option>' for m in MODES
    )
    return f"""<form class="search" method="get" action="/" role="search">
<label for="q">Søk i rapportene</label>
<div class="row">
<input type="search" id="q" name="q" value="{escape(query)}" maxlength="2000" autofocus accesskey="s"
 placeholder="f.eks. nalokson, sprøyterom, forslag 14">
<button type="submit">Søk</button>
<button type="submit" name="svar" value="1">Spør</button>
</div>
<p class="hint">«Søk» viser passasjene; «Spør» svarer med sitater og nummererte kilder.</p>
<fieldset><legend>Dokumenter (ingen valgt = alle)</legend>{boxes}</fieldset>
<div class="options">
<label for="mode">Søkemåte</label> <select id="mode" name="mode">{modes}</select>
<label for="k">Antall treff</label> <input type="number" id="k" name="k" value="{k}" min="1" max="{MAX_K}">
</div>
</form>"""


def search_page(
    index: Index, query: str, docs: list[str], mode: str, k_raw: str, ask: bool = False
) -> tuple[int, str]:
    """(HTTP status, page): the form, then the answer (when asked) and the hits, or what is wrong."""
    docs = [d for d in docs if d]
    try:
        k = int(k_raw)
    except ValueError:
        k = 10
        error: RapportsokError | None = QueryError(f"antall treff må være et tall mellom 1 og {MAX_K}")
    else:
        error = None
    shown_mode = mode if mode in MODES else "hybrid"
    form = search_form(index, query, docs, shown_mode, k if 1 <= k <= MAX_K else 10)
    if error is None and not query.strip():
        return 200, page("Rapportsøk", form)
    answered = ""
    if error is None:
        try:
            result = search(index, query, k=k, docs=docs or None, mode=mode)
            answered = answer_section(answer(index, query), result.query) if ask else ""
        except RapportsokError as exc:
            error = exc
    if error is not None:
        return error.status, page("Feil – Rapportsøk", form + f'<p class="error" role="alert">{escape(str(error))}</p>')
    hits = []
    for hit in result.hits:
        p = hit.passage
        marked = index.lexical.matching_words(result.query, p.text)
        hits.append(
            f"""<li class="hit"><article>
<h2>{hit.rank}. {escape(p.title)}</h2>
<p class="where">{where(p)}</p>
<p class="text">{highlighted(p.text, marked)}</p>
<p><a href="{escape(context_link(p.passage_id, result.query))}">Vis i sammenheng<span class="visually-hidden"> ({hit.rank})</span></a></p>
{cite_tools(p)}
</article></li>"""
        )
    count = len(result.hits)
    summary = f'<p class="summary" role="status">{count} treff for «{escape(result.query)}» ({result.took_ms:.0f} ms)</p>'
    body = form + answered + summary + (f'<ol class="hits">{"".join(hits)}</ol>' if hits else "<p>Ingen treff.</p>")
    return 200, page(f"{result.query} – Rapportsøk", body)


def answer_section(result: Answer, query: str) -> str:
    """The answer with its [n] markers, then each numbered source with its verbatim quote."""
    sources = "".join(
        f"""<li value="{c.n}"><a href="{escape(context_link(c.passage.passage_id, query))}">{escape(c.source())}</a>
<blockquote>{escape(c.quote)}</blockquote>{cite_tools(c.passage, *c.span())}</li>"""
        for c in result.citations
    )
    return f"""<section class="answer" aria-labelledby="svar">
<h2 id="svar">Svar</h2>
<p class="text">{escape(result.text)}</p>
{f'<h3>Kilder</h3><ol class="sources">{sources}</ol>' if sources else ""}
</section>"""


def context_page(index: Index, passage_id: str, query: str) -> tuple[int, str]:
    """(HTTP status, page): the passage with its neighbours in the same document, query words marked."""
    try:
        chosen = index.passage(passage_id)
    except RapportsokError as exc:
        return exc.status, page("Ukjent passasje – Rapportsøk", f'<p class="error" role="alert">{escape(str(exc))}</p>')
    around = index.doc_passages(chosen.doc)
    at = next(i for i, p in enumerate(around) if p.passage_id == chosen.passage_id)
    shown = around[max(0, at - CONTEXT) : at + CONTEXT + 1]
    blocks = []
    for p in shown:
        marked = index.lexical.matching_words(query, p.text) if query.strip() else set()
        current = p.passage_id == chosen.passage_id
        attrs = ' class="passage current" id="valgt" aria-current="true"' if current else ' class="passage"'
        blocks.append(
            f"""<section{attrs}>
<p class="where">{where(p) or "&nbsp;"}</p>
<p class="text">{highlighted(p.text, marked)}</p>
</section>"""
        )
    before, after = index.neighbours(chosen.passage_id)
    nav = ['<nav class="pager" aria-label="Bla i dokumentet">']
    nav.append(f'<a href="{escape(context_link(before, query))}" rel="prev">← Forrige</a>' if before else "<span></span>")
    nav.append(f'<a href="{escape(context_link(after, query))}" rel="next">Neste →</a>' if after else "<span></span>")
    nav.append("</nav>")
    back = "/?" + urlencode({"q": query}) if query.strip() else "/"
    body = (
        f'<p><a href="{escape(back)}">← Tilbake til søket</a></p>'
        f'<div class="context"><h1>{escape(chosen.title)}</h1>{"".join(blocks)}</div>{"".join(nav)}'
    )
    return 200, page(f"{chosen.title} – Rapportsøk", body)


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
        return "array of " + _type(schema.get("items", {}))
    if "const" in schema:
        return f"<code>{escape(str(schema['const']))}</code>"
    return escape(str(schema.get("type", "any")))


def _limits(schema: dict) -> str:
    names = {"minLength": "min length", "maxLength": "max length", "minimum": "min", "maximum": "max", "default": "default"}
    return ", ".join(f"{label} {escape(str(schema[key]))}" for key, label in names.items() if key in schema)


def api_docs_page(spec: dict) -> str:
    """The OpenAPI spec as one plain page (the usual Swagger UI would need a CDN, and these machines are offline)."""
    out = [f"<h1>{escape(spec['info']['title'])} {escape(spec['info']['version'])}: HTTP API</h1>"]
    out.append(f"<p>{escape(spec['info'].get('description', ''))} Spesifikasjonen: <a href=\"/openapi.json\">/openapi.json</a>.</p>")
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            out.append(f'<section class="op"><h2><code>{method.upper()} {escape(path)}</code></h2>')
            out.append(f"<p>{escape(op.get('description') or op.get('summary', ''))}</p>")
            params = op.get("parameters", [])
            if params:
                out.append("<table><caption>Parametre</caption><tr><th>navn</th><th>i</th><th>type</th><th>krav</th><th>beskrivelse</th></tr>")
                for p in params:
                    schema = p.get("schema", {})
                    out.append(
                        f"<tr><td><code>{escape(p['name'])}</code>{' (påkrevd)' if p.get('required') else ''}</td>"
                        f"<td>{escape(p['in'])}</td><td>{_type(schema)}</td><td>{_limits(schema)}</td>"
                        f"<td>{escape(p.get('description', ''))}</td></tr>"
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
                f"<td>{_type(sub)}</td><td>{escape(sub.get('description', ''))}</td></tr>"
            )
        out.append("</table></section>")
    return page("API – Rapportsøk", "".join(out))
