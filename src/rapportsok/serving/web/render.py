"""The web page's rendering: the Jinja2 templates (autoescaped: every value from the corpus or user is
escaped), the page's State that every link carries, and the few helpers that build markup from
escaped pieces (marked words, linked [n] markers)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import quote, urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from ...errors import RapportsokError
from ...querying.search import MAX_K, MODES
from ...records import Passage
from .. import present
from . import apidocs

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


def highlighted(text: str, marked: set[str]) -> Markup:
    """The text escaped, with the words in marked (lower case) wrapped in <mark>."""
    out = Markup()
    at = 0
    for start, end in present.marked_spans(text, marked):
        out += escape(text[at:start]) + Markup("<mark>%s</mark>") % text[start:end]
        at = end
    return out + escape(text[at:])


def linked_markers(text: str, links: dict[int, str]) -> Markup:
    """The answer's text escaped, each [n] that has a source linked to it."""

    def link(found: re.Match[str]) -> str:
        n = int(found.group(1))
        return Markup('<a class="ref" href="%s">[%d]</a>') % (links[n], n) if n in links else found.group(0)

    return Markup(MARKER.sub(link, str(escape(text))))


def context_link(passage_id: str, state: State, quoted: tuple[int, int] | None = None) -> str:
    """The passage in context, keeping the state; with a quote's span, that sentence is marked."""
    pairs = state.params() if state.query.strip() else []
    pairs += [("sitat", f"{quoted[0]}-{quoted[1]}")] if quoted else []
    link = "/passasje/" + quote(passage_id, safe="")
    return link + ("?" + urlencode(pairs) if pairs else "") + ("#sitat" if quoted else "#valgt")


def pdf_link(passage: Passage, start: int = 0) -> str | None:
    """The original PDF opened at the page of text[start], when the source is a PDF."""
    sheet = passage.page_at(start).sheet
    return None if sheet is None else f"/files/{quote(passage.doc, safe='')}.pdf#page={sheet}"


def web_link(passage: Passage) -> str | None:
    """The passage's section on the original web page, when the source is one with a web address."""
    return passage.link if passage.link and passage.link.startswith(("https://", "http://")) else None


def proposal_link(doc: str, proposal: int) -> str:
    return f"/forslag/{quote(doc, safe='')}/{proposal}"


def message(error: RapportsokError) -> str:
    """What to tell a person: the Norwegian wording where the error has one."""
    return error.norwegian or "Noe gikk galt. Prøv et annet søk."


templates = Jinja2Templates(
    env=Environment(
        loader=PackageLoader("rapportsok", "serving/web/templates"),
        autoescape=select_autoescape(),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
)
templates.env.globals |= {
    "MAX_K": MAX_K,
    "MODES": MODES,
    "MODE_LABELS": MODE_LABELS,
    "DEFAULT_K": int(DEFAULT_K),
    "State": State,
    "highlighted": highlighted,
    "linked_markers": linked_markers,
    "context_link": context_link,
    "pdf_link": pdf_link,
    "web_link": web_link,
    "proposal_link": proposal_link,
    "where": present.where,
    "excerpt": present.excerpt,
    "is_whole": present.is_whole,
    "schema_type": apidocs.schema_type,
    "limits": apidocs.limits,
    "markdown": apidocs.markdown,
}


def render(request: Request, template: str, status: int = 200, **context: object) -> HTMLResponse:
    """A page from its template, with the page's security headers."""
    return templates.TemplateResponse(request, template, context, status_code=status, headers=HEADERS)


def error_page(request: Request, status: int, text: str, headers: dict[str, str] | None = None) -> HTMLResponse:
    """A Norwegian error page for a person's browser (API clients get JSON)."""
    page = render(request, "error.html", status, title=STATUS_TITLES.get(status, "Feil"), text=text)
    page.headers.update(headers or {})
    return page
