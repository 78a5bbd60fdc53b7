"""The index being served, kept current: a newer build on disk is loaded beside it and swapped in."""

from __future__ import annotations

import logging
import threading

from ..querying.index import Index

log = logging.getLogger("rapportsok.api")

REFRESH_SECONDS = 1.0  # how often the server looks for a newer build on disk


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
                    log.warning(
                        "cannot load the index on disk (%s); still serving build %s", exc, self.current.build_id
                    )
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
