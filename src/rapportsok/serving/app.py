"""The HTTP API and web page: FastAPI over the library the CLI uses, serving whichever build is current on disk."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib.metadata import PackageNotFoundError, version
from typing import Annotated, Any, Literal

from fastapi import FastAPI, Query, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException

from ..documents.files import original_pdf
from ..errors import RapportsokError
from ..facade import open_index
from ..querying.answer import answer
from ..querying.compare import MAX_PER_DOC, compare
from ..querying.followup import followup
from ..querying.index import Index
from ..querying.search import MAX_K, MAX_QUERY_CHARS, MODES, search
from ..records import Proposal
from ..settings import Settings
from .limits import Limits

log = logging.getLogger("rapportsok.api")

REFRESH_SECONDS = 1.0  # how often the server looks for a newer build on disk
Mode = Literal["hybrid", "dense", "lexical"]
assert set(MODES) == set(Mode.__args__)  # keep the schema's enum in step with the library


# ---------------------------------------------------------------- response models (interface.md)


class Open(BaseModel):
    """Fields the library adds beyond interface.md pass through, so HTTP answers the same object as the CLI."""

    model_config = ConfigDict(extra="allow")


class Passage(Open):
    passage_id: str = Field(description="stable across rebuilds while the passage's text is unchanged")
    doc: str = Field(description="document id: the corpus file's name without extension")
    title: str
    section: str | None = Field(description='e.g. "4.3 Ny handlingsplan mot overdoser"')
    page: int | None = Field(description="page in the source, where the source has pages")
    proposal: int | None = Field(description="the proposal number when the passage belongs to one")
    text: str = Field(description="the whole passage text as indexed")
    source: str = Field(description="a human-readable reference to cite")
    line_start: int | None = None
    line_end: int | None = None
    kind: str = "text"


class Ranked(Open):
    rank: int = Field(description="1-based")
    score: float = Field(description="higher is better")


class Hit(Passage, Ranked):  # rank and score first, as the CLI prints them
    pass


class SearchResponse(Open):
    query: str
    mode: str
    took_ms: float
    hits: list[Hit]


class Citation(Open):
    n: int
    passage_id: str
    doc: str
    title: str
    section: str | None
    page: int | None
    proposal: int | None
    quote: str = Field(description="verbatim text of the passage")


class AnswerResponse(Open):
    question: str
    answer: str = Field(description="marks its claims with [n]")
    citations: list[Citation]
    hits: list[Hit]


class DocumentSummary(BaseModel):
    doc: str
    title: str
    year: int | None
    kind: str | None = None
    passages: int


class Section(BaseModel):
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


class FollowupResponse(Open):
    doc: str = Field(description="the proposal's document")
    proposal: int
    headline: str
    links: list[FollowupLink] = Field(description="passages of other documents that take the proposal up, best first")


class CompareColumn(Open):
    doc: str
    title: str
    year: int | None
    headline: str = Field(description="the sentence of this document's passages closest to the question")
    hits: list[Hit]


class CompareResponse(Open):
    query: str
    took_ms: float
    documents: list[CompareColumn] = Field(description="the documents that address the question, by year")


class Health(BaseModel):
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
    422: {"model": ValidationDetail, "description": "bad parameters"},
}


# ---------------------------------------------------------------- the live index


class LiveIndex:
    """The index being served; a newer build on disk is loaded beside it and then swapped in.

    Requests read `current` once and use that object to the end, so a swap never disturbs a
    request in flight, and there is always a loaded index to answer with. The new build reuses
    the loaded embedding model, so a swap costs reading the build's files and nothing more.
    """

    def __init__(self, index: Index, interval: float = REFRESH_SECONDS) -> None:
        warm(index)
        self.current = index
        self.interval = interval
        self.swaps = 0
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def refresh(self) -> bool:
        """Swaps in the build CURRENT names on disk if it is not the one served; True if it did."""
        with self._lock:
            old = self.current
            if old.is_current():
                return False
            fresh = Index.load(old.settings, embedder=old.embedder)
            warm(fresh)
            self.current = fresh  # one reference assignment: atomic for every reader
            self.swaps += 1
            log.info("serving build %s (%d passages)", fresh.build_id, len(fresh.passages))
            return True

    def _run(self) -> None:
        failed = ""
        while not self._stop.wait(self.interval):
            try:
                self.refresh()
                failed = ""
            except Exception as exc:  # a half-removed build, a changed model: keep serving the old one and retry
                if str(exc) != failed:  # say it once, not every second
                    log.warning("cannot load the index on disk (%s); still serving build %s", exc, self.current.build_id)
                failed = str(exc)

    def start(self) -> None:
        if self._thread is None:
            self._stop.clear()
            self._thread = threading.Thread(target=self._run, name="rapportsok-index-refresh", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None


def warm(index: Index) -> None:
    """Loads what the first query would otherwise pay for: the model and the lexical index."""
    _ = index.embedder, index.lexical


# ---------------------------------------------------------------- the app


def create_app(settings: Settings, index: Index | None = None, refresh_seconds: float = REFRESH_SECONDS) -> FastAPI:
    """The API and web page over one index, loaded now (model included) and kept current while serving."""
    from .web import render, years

    index = index or open_index(settings)
    if index.behind:
        log.warning("%s", index.behind)
    live = LiveIndex(index, refresh_seconds)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        live.start()
        try:
            yield
        finally:
            live.stop()

    app = FastAPI(
        title="rapportsok",
        version=_version(),
        description="Søk i norske rusmiddelpolitiske rapporter / search Norwegian drug-policy reports.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; these machines are offline: see /docs below
        redoc_url=None,
    )
    app.add_middleware(Limits)  # HEAD on GET routes; heavy requests bounded, queued, else 503
    app.state.live = live
    app.state.settings = settings

    @app.exception_handler(RapportsokError)
    async def user_error(request: Request, exc: RapportsokError) -> Response:
        if wants_html(request):
            return HTMLResponse(render.error_page(exc.status, render.message(exc)), exc.status, headers=render.HEADERS)
        return JSONResponse({"detail": str(exc)}, exc.status)

    @app.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        if wants_html(request):
            text = {404: "Denne siden finnes ikke.", 405: "Denne adressen kan bare leses."}.get(
                exc.status_code, "Noe gikk galt."
            )
            return HTMLResponse(render.error_page(exc.status_code, text), exc.status_code, headers=render.HEADERS)
        return await http_exception_handler(request, exc)

    @app.exception_handler(RequestValidationError)
    async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
        if wants_html(request):
            text = "Søket har ugyldige verdier (tom tekst, for langt, eller antall treff utenfor 1–100)."
            return HTMLResponse(render.error_page(422, text), 422, headers=render.HEADERS)
        return await request_validation_exception_handler(request, exc)

    @app.get("/search", response_model=SearchResponse, responses=ERRORS, tags=["search"])
    def search_route(
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="the query")],
        k: Annotated[int, Query(ge=1, le=MAX_K, description="number of passages")] = 10,
        doc: Annotated[list[str] | None, Query(description="only these document ids (repeatable)")] = None,
        mode: Annotated[Mode, Query(description="ranking")] = "hybrid",
    ) -> dict[str, Any]:
        """Ranked passages for a query: the same object as `rapportsok search --json`."""
        return search(live.current, q, k=k, docs=doc, mode=mode).as_dict()

    @app.get("/ask", response_model=AnswerResponse, responses=ERRORS, tags=["search"])
    def ask_route(
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="the question")],
        k: Annotated[int, Query(ge=1, le=MAX_K, description="passages to answer from")] = 5,
        doc: Annotated[list[str] | None, Query(description="answer only from these document ids (repeatable)")] = None,
    ) -> dict[str, Any]:
        """An answer with numbered citations: the same object as `rapportsok ask --json`."""
        return answer(live.current, q, k=k, docs=doc).as_dict()

    @app.get("/documents", response_model=list[DocumentSummary], tags=["corpus"])
    def documents_route() -> list[dict[str, Any]]:
        """The indexed documents."""
        index = live.current
        return [_document_summary(index, d.doc) for d in index.documents]

    @app.get("/documents/{doc}", response_model=DocumentDetail, responses=ERRORS, tags=["corpus"])
    def document_route(doc: str) -> dict[str, Any]:
        """One document with its sections and proposals."""
        index = live.current
        summary = _document_summary(index, doc)
        return summary | {
            "sections": _sections(index, doc),
            "proposals": [p.as_dict() for p in index.proposals(doc)],
        }

    @app.get("/passages/{passage_id}", response_model=PassageDetail, responses=ERRORS, tags=["corpus"])
    def passage_route(passage_id: str) -> dict[str, Any]:
        """One passage with its neighbours' ids."""
        index = live.current
        passage = index.passage(passage_id)
        before, after = index.neighbours(passage.passage_id)
        return passage.as_dict() | {"before": before, "after": after}

    @app.get("/proposals", response_model=list[Proposal], responses=ERRORS, tags=["corpus"])
    def proposals_route(
        doc: Annotated[str | None, Query(description="only this document id")] = None,
    ) -> list[dict[str, Any]]:
        """The numbered proposals ("Forslag N") found in the corpus."""
        return [p.as_dict() for p in live.current.proposals(doc)]

    @app.get("/files/{doc}.pdf", response_class=FileResponse, responses=ERRORS, tags=["corpus"])
    def file_route(doc: str) -> FileResponse:
        """The original PDF of a document in the corpus, read-only (open it at a page with #page=N)."""
        path = original_pdf(settings.corpus, live.current.documents, doc)
        return FileResponse(path, media_type="application/pdf", content_disposition_type="inline")

    @app.get(
        "/proposals/{doc}/{n}/followup", response_model=FollowupResponse, responses=ERRORS, tags=["over the years"]
    )
    def followup_route(
        doc: str, n: int, k: Annotated[int, Query(ge=1, le=MAX_K, description="number of links")] = 5
    ) -> dict[str, Any]:
        """What became of a proposal: the same object as `rapportsok followup --json --doc DOC N`."""
        return followup(live.current, doc, n, k).as_dict()

    @app.get("/compare", response_model=CompareResponse, responses=ERRORS, tags=["over the years"])
    def compare_route(
        q: Annotated[str, Query(min_length=1, max_length=MAX_QUERY_CHARS, description="the question")],
        k: Annotated[int, Query(ge=1, le=MAX_PER_DOC, description="passages per document, at most")] = 3,
    ) -> dict[str, Any]:
        """One question over the years: the same object as `rapportsok compare --json`."""
        return compare(live.current, q, per_doc=k).as_dict()

    @app.get("/health", response_model=Health, tags=["service"])
    def health_route() -> dict[str, Any]:
        """Which build is served."""
        index = live.current
        return {
            "status": "ok",
            "passages": len(index.passages),
            "model": index.meta["model"],
            "built_at": index.meta["built_at"],
            "build": index.build_id,
        }

    # The web page: server-rendered HTML, no script, everything escaped.

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    def page_route(request: Request) -> HTMLResponse:
        status, body = render.search_page(live.current, render.State.from_params(request.query_params))
        return HTMLResponse(body, status, headers=render.HEADERS)

    @app.get("/passasje/{passage_id}", response_class=HTMLResponse, include_in_schema=False)
    def context_route(passage_id: str, request: Request) -> HTMLResponse:
        params = request.query_params
        state = render.State.from_params(params)
        status, body = render.context_page(live.current, passage_id, state, params.get("sitat", ""))
        return HTMLResponse(body, status, headers=render.HEADERS)

    @app.get("/forslag", response_class=HTMLResponse, include_in_schema=False)
    def proposals_page_route() -> HTMLResponse:
        status, body = years.proposals_page(live.current)
        return HTMLResponse(body, status, headers=render.HEADERS)

    @app.get("/forslag/{doc}/{n}", response_class=HTMLResponse, include_in_schema=False)
    def proposal_page_route(doc: str, n: int) -> HTMLResponse:
        status, body = years.proposal_page(live.current, doc, n)
        return HTMLResponse(body, status, headers=render.HEADERS)

    @app.get("/per-rapport", response_class=HTMLResponse, include_in_schema=False)
    def compare_page_route(request: Request) -> HTMLResponse:
        params = request.query_params
        status, body = years.compare_page(live.current, params.get("q", ""), params.get("k", "3"))
        return HTMLResponse(body, status, headers=render.HEADERS)

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    def docs_route() -> HTMLResponse:
        return HTMLResponse(render.api_docs_page(app.openapi()), headers=render.HEADERS)

    @app.get("/static/style.css", include_in_schema=False)
    def style_route() -> Response:
        return Response(render.STYLE, media_type="text/css", headers={"Cache-Control": "max-age=3600"})

    @app.get("/static/copy.js", include_in_schema=False)
    def script_route() -> Response:
        return Response(render.COPY_SCRIPT, media_type="text/javascript", headers={"Cache-Control": "max-age=3600"})

    return app


def wants_html(request: Request) -> bool:
    """A person's browser asks for HTML first; API clients (curl, httpx, fetch) do not."""
    return "text/html" in request.headers.get("accept", "")


def _version() -> str:
    try:
        return version("rapportsok")
    except PackageNotFoundError:
        return "0"


def _document_summary(index: Index, doc: str) -> dict[str, Any]:
    document = index.document(doc)
    return {
        "doc": document.doc,
        "title": document.title,
        "year": document.year,
        "kind": document.kind,
        "passages": sum(p.doc == doc for p in index.passages),
    }


def _sections(index: Index, doc: str) -> list[dict[str, Any]]:
    """The document's sections in order, each with where it starts and how many passages it has."""
    sections: list[dict[str, Any]] = []
    for passage in index.doc_passages(doc):
        if passage.kind == "footnote" and sections:
            sections[-1]["passages"] += 1
            continue
        if not sections or sections[-1]["section"] != passage.section:
            sections.append({"section": passage.section, "page": passage.page, "passage_id": passage.passage_id, "passages": 0})
        sections[-1]["passages"] += 1
    return sections


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Loads model and index once, then serves until interrupted (requests run in uvicorn's thread pool)."""
    import uvicorn

    if not log.handlers:  # uvicorn configures only its own loggers
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info")

