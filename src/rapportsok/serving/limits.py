"""Server limits as ASGI middleware: HEAD answered on every GET route, and a bound on concurrent
heavy requests, so that light ones (/health, a short search) keep answering under a flood of long ones."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qs

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[Scope, Receive, Send], Awaitable[None]]

HEAVY_SLOTS = 2  # heavy requests computed at once: one per core of the development machine
HEAVY_QUEUE = 32  # heavy requests waiting for a slot; one more is refused at once
HEAVY_WAIT_S = 15.0  # a heavy request waits this long for a slot, then is refused
RETRY_AFTER_S = 2
LIGHT_K = 20  # a search of at most this many hits ...
LIGHT_QUERY_CHARS = 200  # ... with a query this short is light; /ask and the page's «Spør» are heavy
ALWAYS_HEAVY = ("/ask", "/compare", "/per-rapport")  # an answer; one search per report


def is_heavy(scope: Scope) -> bool:
    """An answer, a comparison over the years, or a search for many hits or with a long query: the
    requests that take CPU for long. Every value of a repeated parameter counts (a route reads the
    last, so the first alone would let a long query through as light)."""
    path = scope["path"]
    if path in ALWAYS_HEAVY:
        return True
    if path not in ("/search", "/"):
        return False
    params = parse_qs(scope.get("query_string", b"").decode("latin-1"))
    queries = params.get("q", [])
    if path == "/" and any(queries) and params.get("svar"):
        return True
    many = any(k.strip().isdigit() and int(k) > LIGHT_K for k in params.get("k", []))
    return many or any(len(q) > LIGHT_QUERY_CHARS for q in queries)


class Limits:
    """HEAD as GET without the body; heavy requests through HEAVY_SLOTS slots, a bounded queue, and
    503 with Retry-After beyond it. Waiting happens here, before a worker thread is taken, so that
    queued heavy requests never hold the threads that light ones need."""

    def __init__(
        self, app: App, slots: int = HEAVY_SLOTS, queue: int = HEAVY_QUEUE, wait: float = HEAVY_WAIT_S
    ) -> None:
        self.app = app
        self.queue = queue
        self.wait = wait
        self.waiting = 0
        self._slots = asyncio.Semaphore(slots)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if scope["method"] == "HEAD":
            scope, send = {**scope, "method": "GET"}, _without_body(send)
        if not is_heavy(scope):
            await self.app(scope, receive, send)
            return
        if self.waiting >= self.queue:
            await _busy(send)
            return
        self.waiting += 1
        try:
            await asyncio.wait_for(self._slots.acquire(), self.wait)
        except TimeoutError:
            await _busy(send)
            return
        finally:
            self.waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            self._slots.release()


def _without_body(send: Send) -> Send:
    """The GET response's status and headers (its Content-Length included), not its body."""

    async def send_head(message: Message) -> None:
        if message["type"] == "http.response.body":
            message = {**message, "body": b""}
        await send(message)

    return send_head


async def _busy(send: Send) -> None:
    body = json.dumps(
        {"detail": f"the server is busy with other long requests; try again in {RETRY_AFTER_S} s"}
    ).encode()
    await send(
        {
            "type": "http.response.start",
            "status": 503,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                (b"retry-after", str(RETRY_AFTER_S).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
