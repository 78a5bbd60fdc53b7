"""Reading documents within a budget: in worker processes that can really be stopped, so that no
file (a crafted PDF, a reader bug, a decompression bomb) can hang, exhaust or crash a build,
`watch` or a search that brings the index up to date.

A document gets `Settings.read_seconds` per MB of file (at least that many) and its worker
`Settings.read_memory_mb` of address space; over either, or any failure of the reader, is one
warning naming the file and the build goes on with the rest. A worker over time is killed (with
anything it started) and replaced. Workers are fresh interpreters (`python -c`), not forks: the
parent may run threads (the model's, the server's), and no user script is imported again."""

from __future__ import annotations

import logging
import os
import pickle
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import NamedTuple

from ..documents.files import shown
from ..errors import CorpusError, RapportsokError
from ..records import Document, Passage
from ..settings import MB, READ_MEMORY_MB_ENV, READ_SECONDS_ENV, Settings


class Read(NamedTuple):
    """A document read: its passages, and the warnings its reader gave (sheets it could not read)."""

    document: Document
    passages: list[Passage]
    warnings: tuple[str, ...] = ()


Job = tuple[Path, dict | None]
WORKERS = max(1, min(4, os.cpu_count() or 1))  # documents read at once
STARTUP_SECONDS = 60.0  # a worker loads Python, pypdf and the reading code (about a second)
PACKAGE_ROOT = str(Path(__file__).resolve().parents[2])  # the worker imports this very copy of rapportsok


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
    jobs: Iterable[Job], settings: Settings, words: int, cap: float | None = None, workers: int = WORKERS
) -> Iterator[tuple[Path, Read | CorpusError]]:
    """Each (path, metadata entry) read by a worker, up to `workers` at a time, as they finish: its
    document and passages, or the CorpusError that says why not (OverBudget when its time ran out;
    `cap` shortens every budget to at most that many seconds)."""
    pending = list(jobs)[::-1]
    memory = int(settings.read_memory_mb * MB)
    idle: list[_Worker] = []
    busy: dict[Connection, _Worker] = {}
    try:
        while pending or busy:
            while pending and len(busy) < workers:
                worker = idle.pop() if idle else _Worker.start(memory)
                path, meta = pending.pop()
                worker.give(path, meta, words, settings.max_file_bytes, seconds_for(path, settings, cap))
                busy[worker.results] = worker
            deadline = min(w.deadline for w in busy.values())
            for results in wait(list(busy), timeout=max(0.0, deadline - time.monotonic())):
                worker = busy.pop(results)
                outcome = worker.outcome()
                if worker.alive() and not worker.spent:
                    idle.append(worker)
                else:
                    worker.stop()
                yield worker.path, outcome
            now = time.monotonic()
            for results in [r for r, w in busy.items() if w.deadline <= now]:
                worker = busy.pop(results)
                worker.stop()
                yield worker.path, OverBudget(
                    f"{shown(worker.path)}: reading took over {worker.seconds:g} s, skipped "
                    f"({READ_SECONDS_ENV} per MB of file)"
                )
    finally:  # done, or the caller stopped early (an error, Ctrl-C): no worker outlives the build
        for worker in [*idle, *busy.values()]:
            worker.stop()


@dataclass
class _Worker:
    """One worker process and the pipes to it; reads one document at a time."""

    process: subprocess.Popen
    jobs: Connection
    results: Connection
    path: Path = field(default_factory=Path)
    seconds: float = 0.0
    deadline: float = 0.0
    spent: bool = False  # ran out of memory: its heap is not to be trusted with another document

    @classmethod
    def start(cls, memory: int) -> _Worker:
        job_read, job_write = os.pipe()
        result_read, result_write = os.pipe()
        path = os.pathsep.join(filter(None, [PACKAGE_ROOT, os.environ.get("PYTHONPATH")]))
        code = f"from rapportsok.indexing.reading import serve; serve({job_read}, {result_write}, {memory})"
        process = subprocess.Popen(
            [sys.executable, "-c", code],
            pass_fds=(job_read, result_write),
            # a dying reader prints nothing: its file gets one warning
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
            start_new_session=True,  # a group of its own: stopping it stops whatever it started
            env={**os.environ, "PYTHONPATH": path},
        )
        os.close(job_read)
        os.close(result_write)
        worker = cls(process, Connection(job_write, readable=False), Connection(result_read, writable=False))
        try:  # loaded before any budget runs: a document's time is its own
            ready = worker.results.poll(STARTUP_SECONDS) and worker.results.recv() == "ready"
        except (EOFError, OSError):
            ready = False
        if not ready:
            worker.stop()
            raise RapportsokError(f"the document reader did not start within {STARTUP_SECONDS:g} s")
        return worker

    def give(self, path: Path, meta: dict | None, words: int, max_bytes: int, seconds: float) -> None:
        self.path, self.seconds, self.deadline = path, seconds, time.monotonic() + seconds
        try:
            self.jobs.send((path, meta, words, max_bytes))
        except OSError:  # it died since its last document: its results pipe is at EOF, outcome() says so
            pass

    def outcome(self) -> Read | CorpusError:
        """What the worker sent for its document: its result, the error it reported, or why it died."""
        try:
            kind, value = self.results.recv()
        except (EOFError, OSError, pickle.UnpicklingError):  # died without a word: out of memory, crashed
            self.stop()
            code = self.process.returncode
            how = f"signal {-code}" if code is not None and code < 0 else f"exit code {code}"
            return CorpusError(f"{shown(self.path)}: the reader stopped ({how}), skipped")
        self.spent = kind == "memory"
        return value if kind == "ok" else CorpusError(value)

    def alive(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> None:
        """Kills the worker and anything it started, and closes its pipes."""
        if self.process.returncode is None:  # not reaped yet: its pid is still its own
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):  # gone already
                pass
            self.process.wait()
        self.jobs.close()
        self.results.close()


def serve(jobs_fd: int, results_fd: int, memory: int) -> None:
    """The worker: reads documents as they come, sending ("ok", (document, passages)) or ("error",
    reason) for each, until its jobs pipe closes; ("memory", reason) when it ran out of memory,
    after which it is not given another document."""
    resource.setrlimit(resource.RLIMIT_AS, (memory, memory))
    jobs, results = Connection(jobs_fd, writable=False), Connection(results_fd, readable=False)
    from ..documents import pdf  # noqa: F401 - loaded now, not in the first document's time
    from ..passages import read_document  # noqa: F401

    results.send("ready")
    while True:
        try:
            path, meta, words, max_bytes = jobs.recv()
        except EOFError:
            return
        message = _read(path, meta, words, max_bytes, memory)
        try:
            results.send(message)
        except MemoryError:
            results.send(("memory", f"{shown(path)}: too large to pass on within {memory / MB:g} MB, skipped"))


@contextmanager
def reader_warnings() -> Iterator[list[str]]:
    """The warnings the document readers log while the block runs (one per document read), collected
    instead of printed: a build passes them on with the document's other warnings."""
    said: list[str] = []
    handler = logging.Handler(logging.WARNING)
    handler.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
    logger = logging.getLogger("rapportsok.documents")
    logger.addHandler(handler)
    propagate, logger.propagate = logger.propagate, False
    try:
        yield said
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def _read(path: Path, meta: dict | None, words: int, max_bytes: int, memory: int) -> tuple[str, object]:
    from ..passages import read_document

    try:
        with reader_warnings() as said:
            document, passages = read_document(path, meta, words, max_bytes)
        return "ok", Read(document, passages, tuple(said))
    except CorpusError as exc:
        return "error", str(exc)
    except MemoryError:
        return "memory", f"{shown(path)}: reading needs over {memory / MB:g} MB of memory, skipped " \
            f"({READ_MEMORY_MB_ENV})"
    except RecursionError:
        return "error", f"{shown(path)}: nested too deeply to read, skipped"
    except Exception as exc:  # noqa: BLE001 - any reader bug is one warning for this file, not a failed build
        reason = (str(exc).splitlines() or [""])[0][:200]
        return "error", f"{shown(path)}: unreadable ({type(exc).__name__}: {reason}), skipped"
