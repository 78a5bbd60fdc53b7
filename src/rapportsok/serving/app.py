"""The HTTP API and web page: FastAPI over the library the CLI uses, serving whichever build is current on disk.

The JSON routes are in api.py (their shapes in schemas.py), the HTML pages in web/pages.py; this
module makes the app: the live index, the server limits, and errors as JSON or as a Norwegian page."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exception_handlers import http_exception_handler, request_validation_exception_handler
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException

from ..errors import RapportsokError
from ..facade import open_index
from ..querying.index import Index
from ..settings import Settings
from . import api, package_version
from .connections import ACCEPT_BATCH, limit_log_repeats, protocol_with_cap, raise_open_file_limit
from .limits import RETRY_AFTER_S, Limits
from .live import REFRESH_SECONDS, LiveIndex, log
from .web import pages
from .web.render import error_page, message

HTTP_ERRORS = {404: "Denne siden finnes ikke.", 405: "Denne adressen kan bare leses."}
BAD_PARAMETERS = "Søket har ugyldige verdier (tom tekst, for langt, eller antall treff utenfor 1–100)."


def create_app(settings: Settings, index: Index | None = None, refresh_seconds: float = REFRESH_SECONDS) -> FastAPI:
    """The API and web page over one index, loaded now (model included) and kept current while serving."""
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
        version=package_version(),
        description="Søk i norske rusmiddelpolitiske rapporter / search Norwegian drug-policy reports.",
        lifespan=lifespan,
        docs_url=None,  # Swagger UI and ReDoc load from a CDN; these machines are offline: /docs is web/pages.py's
        redoc_url=None,
    )
    app.add_middleware(Limits)  # HEAD on GET routes; heavy requests bounded, queued, else 503
    app.state.live = live
    app.state.settings = settings
    app.add_exception_handler(RapportsokError, user_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(RequestValidationError, bad_parameters)
    app.include_router(api.router)
    app.include_router(pages.router)
    return app


async def user_error(request: Request, exc: RapportsokError) -> Response:
    headers = {"Retry-After": str(RETRY_AFTER_S)} if exc.status == 503 else None  # it is worth asking again
    if wants_html(request):
        return error_page(request, exc.status, message(exc), headers=headers)
    return JSONResponse({"detail": without_paths(str(exc), request.app.state.settings)}, exc.status, headers=headers)


def without_paths(text: str, settings: Settings) -> str:
    """An error for a client without the server's folders in it (the operator sees them in the log)."""
    for folder, name in ((settings.index, "indeksmappen"), (settings.corpus, "korpusmappen")):
        for shown in {str(folder.resolve()), str(folder)}:
            if "/" in shown:  # a bare relative name ("index") is a word, not a path
                text = text.replace(shown, name)
    return text


async def http_error(request: Request, exc: HTTPException) -> Response:
    if wants_html(request):
        return error_page(request, exc.status_code, HTTP_ERRORS.get(exc.status_code, "Noe gikk galt."))
    return await http_exception_handler(request, exc)


async def bad_parameters(request: Request, exc: RequestValidationError) -> Response:
    if wants_html(request):
        return error_page(request, 422, BAD_PARAMETERS)
    return await request_validation_exception_handler(request, exc)


def wants_html(request: Request) -> bool:
    """A person's browser asks for HTML first; API clients (curl, httpx, fetch) do not."""
    return "text/html" in request.headers.get("accept", "")


def serve(settings: Settings, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Loads model and index once, then serves until interrupted (requests run in uvicorn's thread pool)."""
    import uvicorn

    if not log.handlers:  # uvicorn configures only its own loggers
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s:     %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
    cap = raise_open_file_limit()
    limit_log_repeats(log, logging.getLogger("asyncio"), logging.getLogger("uvicorn.error"))
    app = create_app(settings)
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info",
                http=protocol_with_cap(cap), backlog=ACCEPT_BATCH)
