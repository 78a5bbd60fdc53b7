"""Reading documents within a budget: each in a worker process of its own that can really be
stopped, so that no file (a crafted PDF, a reader bug, a decompression bomb) can hang, exhaust or
crash a build, `watch` or a search that brings the index up to date.

A worker gets `Settings.read_seconds` per MB of file (at least that many) and
`Settings.read_memory_mb` of address space; over either, or any failure of the reader, is one
warning naming the file and the build goes on with the rest. Workers come from a fork server that
has the reading code loaded already, so a worker starts in milliseconds (and forks no threads)."""

from __future__ import annotations

import multiprocessing
import os
import resource
import signal
import time
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection, wait
from pathlib import Path

from ..documents.files import shown
from ..errors import CorpusError
from ..records import Document, Passage
from ..settings import MB, READ_MEMORY_MB_ENV, READ_SECONDS_ENV, Settings

Read = tuple[Document, list[Passage]]
WORKERS = max(1, min(4, os.cpu_count() or 1))  # documents read at once
PRELOAD = ["rapportsok.passages", "rapportsok.documents.pdf", "pypdf"]  # loaded once, in the fork server

_context = multiprocessing.get_context("forkserver")
_context.set_forkserver_preload(PRELOAD)


class OverBudget(CorpusError):
    """A document took longer to read than its budget allows."""


def seconds_for(path: Path, settings: Settings, cap: float | None = None) -> float:
    """A file's time budget: `read_seconds` per MB of file and at least `read_seconds`; at most `cap`."""
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    budget = settings.read_seconds * max(1.0, size / MB)
    return min(budget, cap) if cap else budget


def read_many(
    jobs: Iterable[tuple[Path, dict | None]],
    settings: Settings,
    words: int,
    cap: float | None = None,
    workers: int = WORKERS,
) -> Iterator[tuple[Path, Read | CorpusError]]:
    """Each (path, metadata entry) read in a worker of its own, up to `workers` at a time, as they
    finish: its document and passages, or the CorpusError that says why not (OverBudget when its
    time ran out; `cap` shortens every budget to at most that many seconds)."""
    pending = list(jobs)[::-1]
    running: dict[Connection, tuple[multiprocessing.process.BaseProcess, Path, float]] = {}
    try:
        while pending or running:
            while pending and len(running) < workers:
                path, meta = pending.pop()
                receive, send = _context.Pipe(duplex=False)
                worker = _context.Process(
                    target=_work,
                    args=(send, path, meta, words, settings.max_file_bytes, int(settings.read_memory_mb * MB)),
                    daemon=True,
                )
                worker.start()
                send.close()  # the worker's end: EOF here when it dies without a word
                running[receive] = (worker, path, time.monotonic() + seconds_for(path, settings, cap))
            now = time.monotonic()
            ready = wait(list(running), timeout=max(0.0, min(deadline for _, _, deadline in running.values()) - now))
            for receive in ready:
                worker, path, _ = running.pop(receive)
                yield path, _outcome(receive, worker, path)
            now = time.monotonic()
            for receive in [r for r, (_, _, deadline) in running.items() if deadline <= now]:
                worker, path, _ = running.pop(receive)
                _stop(worker, receive)
                yield path, OverBudget(
                    f"{shown(path)}: reading took over {seconds_for(path, settings, cap):g} s, skipped "
                    f"({READ_SECONDS_ENV} per MB of file)"
                )
    finally:  # the caller stopped early (an error, Ctrl-C): no worker outlives the build
        for receive, (worker, _, _) in running.items():
            _stop(worker, receive)


def _outcome(receive: Connection, worker: multiprocessing.process.BaseProcess, path: Path) -> Read | CorpusError:
    """What a finished worker sent: its result, the error it reported, or why it died."""
    try:
        kind, value = receive.recv()
    except (EOFError, OSError):  # died without a word: killed (out of memory) or crashed
        worker.join()
        code = worker.exitcode
        how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
        return CorpusError(f"{shown(path)}: the reader stopped ({how}), skipped")
    finally:
        receive.close()
    worker.join()
    return value if kind == "ok" else CorpusError(value)


def _stop(worker: multiprocessing.process.BaseProcess, receive: Connection) -> None:
    """Kills a worker and anything it started (it leads a process group of its own)."""
    try:
        os.killpg(worker.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError, TypeError):  # not yet a group leader, or gone
        worker.kill()
    worker.join()
    receive.close()


def _work(send: Connection, path: Path, meta: dict | None, words: int, max_bytes: int, memory: int) -> None:
    """In the worker: read one document and send ("ok", (document, passages)) or ("error", reason)."""
    os.setsid()  # its own process group: stopping it stops whatever it started
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    from ..passages import read_document

    try:
        message = ("ok", read_document(path, meta, words, max_bytes))
    except CorpusError as exc:
        message = ("error", str(exc))
    except MemoryError:
        message = ("error", f"{shown(path)}: reading needs over {memory / MB:g} MB of memory, skipped "
                            f"({READ_MEMORY_MB_ENV})")
    except RecursionError:
        message = ("error", f"{shown(path)}: nested too deeply to read, skipped")
    except Exception as exc:  # noqa: BLE001 - any reader bug is one warning for this file, not a failed build
        reason = (str(exc).splitlines() or [""])[0][:200]
        message = ("error", f"{shown(path)}: unreadable ({type(exc).__name__}: {reason}), skipped")
    try:
        send.send(message)
    except MemoryError:
        send.send(("error", f"{shown(path)}: too large to pass on within {memory / MB:g} MB, skipped"))
    send.close()
