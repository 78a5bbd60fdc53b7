"""Connections a server can afford: idle sockets closed, a cap below the open-file limit, and logs
that a flood cannot grow without bound.

uvicorn times out a keep-alive connection between requests, but not one that never sends a whole
request head: a thousand idle sockets then use up the process's open files, and every accept that
fails logs a line. The protocol here closes such connections, and at the cap closes the oldest idle
one to make room, so a new client (a health check among them) is always let in."""

from __future__ import annotations

import logging
import resource
import time
from typing import Any

from uvicorn.protocols.http.h11_impl import H11Protocol

HEAD_TIMEOUT_S = 10.0  # a connection must send a whole request head within this long (after its last response)
FILES_RESERVED = 256  # open files kept for the index, the model, the database and the log
MIN_CONNECTIONS = 64
# connections asyncio accepts in one turn of the loop (it takes up to the listen backlog at once, before
# any is set up): the cap leaves room for a few batches, so accepting a burst never runs out of files
# before the cap has closed idle connections to make room
ACCEPT_BATCH = 16
ACCEPTS_IN_FLIGHT = 16 * ACCEPT_BATCH  # accepted, not yet set up (a connection is set up a few turns later)
MAX_OPEN_FILES = 65_536  # the soft limit is raised to the hard one, but no further than this
LOG_REPEATS = 5  # the same log message this many times per LOG_WINDOW_S, then one summary line
LOG_WINDOW_S = 60.0


def raise_open_file_limit() -> int:
    """Raises the soft limit on open files to the hard one (the common soft 1,024 is low for a server)
    and returns the number of connections the server may hold."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = MAX_OPEN_FILES if hard == resource.RLIM_INFINITY else min(hard, MAX_OPEN_FILES)
    if wanted > soft:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
            soft = wanted
        except (ValueError, OSError):
            pass
    return max(MIN_CONNECTIONS, soft - FILES_RESERVED - ACCEPTS_IN_FLIGHT)


class GuardedProtocol(H11Protocol):
    """uvicorn's h11 protocol with a deadline for each request head and a cap on open connections."""

    cap: int = 1_000  # set by protocol_with_cap

    def connection_made(self, transport: Any) -> None:  # noqa: ANN401  (asyncio's transport)
        super().connection_made(transport)
        self.opened = time.monotonic()
        self.head_deadline = self.loop.call_later(HEAD_TIMEOUT_S, self.head_too_slow)
        if len(self.connections) > self.cap:
            self.close_oldest_idle()

    def data_received(self, data: bytes) -> None:
        cycle = self.cycle
        super().data_received(data)
        if self.cycle is not cycle:  # a whole request head arrived
            self.head_deadline.cancel()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        self.head_deadline.cancel()
        if not self.transport.is_closing():
            self.head_deadline = self.loop.call_later(HEAD_TIMEOUT_S, self.head_too_slow)

    def connection_lost(self, exc: Exception | None) -> None:
        self.head_deadline.cancel()
        super().connection_lost(exc)

    def idle(self) -> bool:
        return self.cycle is None or self.cycle.response_complete

    def head_too_slow(self) -> None:
        if self.idle() and not self.transport.is_closing():
            self.transport.close()

    def close_oldest_idle(self) -> None:
        idle = [c for c in self.connections if c is not self and isinstance(c, GuardedProtocol) and c.idle()]
        if idle:
            min(idle, key=lambda c: c.opened).transport.close()


def protocol_with_cap(cap: int) -> type[GuardedProtocol]:
    """The protocol class for uvicorn's `http` setting, holding at most `cap` connections."""
    return type("CappedProtocol", (GuardedProtocol,), {"cap": cap})


class RepeatFilter(logging.Filter):
    """Lets a message through LOG_REPEATS times per LOG_WINDOW_S, then counts it and says how many
    were left out when the window turns: a flood of failed accepts costs lines, not hundreds of MB."""

    def __init__(self) -> None:
        super().__init__()
        self.windows: dict[str, tuple[float, int]] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        now = time.monotonic()
        key = f"{record.name}:{record.msg}"
        start, count = self.windows.get(key, (now, 0))
        if now - start > LOG_WINDOW_S:
            if count > LOG_REPEATS:
                record.msg = f"{record.msg} (og {count - LOG_REPEATS} like meldinger de siste {LOG_WINDOW_S:.0f} s)"
            start, count = now, 0
        self.windows[key] = (start, count + 1)
        if len(self.windows) > 1_000:  # many distinct messages: forget the oldest windows
            for old in sorted(self.windows, key=lambda k: self.windows[k][0])[:500]:
                del self.windows[old]
        return count < LOG_REPEATS


def limit_log_repeats(*loggers: logging.Logger) -> None:
    repeat = RepeatFilter()
    for logger in loggers:
        logger.addFilter(repeat)
