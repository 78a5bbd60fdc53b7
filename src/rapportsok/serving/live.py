"""The index being served, kept current: a newer build on disk is loaded beside it and swapped in."""

from __future__ import annotations

import logging
import threading

from ..errors import DatabaseError, IndexMissing, RapportsokError
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
        self.problem: RapportsokError | None = None  # why the index cannot be served now; None when it can
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

    def served(self) -> Index:
        """The index to answer with; raises (503) while the database is away or while the build that
        is current cannot be loaded: the served one's data may be gone, and score-0 hits from removed
        passages would be worse than saying so."""
        if self.problem is not None:
            raise self.problem
        return self.current

    def check(self) -> None:
        """One look at the index on disk or in the database: swaps in a newer build, or records why the
        index cannot be served (cleared as soon as it can again)."""
        try:
            self.refresh()
            self.problem = None
        except DatabaseError as exc:
            self.problem = exc
        except Exception as exc:  # a changed model, a damaged build: the served build is no longer the current one
            self.problem = IndexMissing(
                f"serveren kan ikke laste gjeldende indeks ({exc}); den svarer igjen når indeksen er bygget på nytt"
            )

    def _run(self) -> None:
        said = ""
        while not self._stop.wait(self.interval):
            self.check()
            if self.problem is not None and str(self.problem) != said:  # say it once, not every second
                log.warning("%s", self.problem)
            elif self.problem is None and said:
                log.info("serving build %s again", self.current.build_id)
            said = str(self.problem) if self.problem is not None else ""

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
