"""Keeps the index current while corpus files change: debounced incremental rebuilds with watchfiles."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Protocol

from watchfiles import Change
from watchfiles import watch as watch_changes
from watchfiles._rust_notify import WatchfilesRustInternalError

from ..documents.files import OFFICE_LOCK
from ..embedding import Embedder, load_embedder
from ..errors import BuildLocked, DatabaseUnavailable, RapportsokError
from ..settings import Settings
from .build import BuildReport, build

DEBOUNCE_MS = 800  # changes closer together than this are one rebuild (an editor's save is several events)
LOCKED_RETRY_S = 1.0  # another process is building: try again after this long
DATABASE_RETRY_S = 5.0  # the database is away: try again after this long, until it is back
FOLDER_RETRY_S = 1.0  # the corpus folder is gone (being replaced): look for it again after this long
TEMP_SUFFIXES = ("~", ".swp", ".swx", ".tmp", ".part", ".crdownload")


class StopFlag(Protocol):
    def is_set(self) -> bool: ...


def relevant(change: Change, path: str) -> bool:
    """Corpus files, not editors' swap and backup files, hidden files or Word's lock files ("~$x.docx")."""
    name = Path(path).name
    return not name.startswith((".", "#", OFFICE_LOCK)) and not name.endswith(TEMP_SUFFIXES)


def rebuild(
    settings: Settings,
    embedder: Embedder | None = None,
    stop: StopFlag | None = None,
    on_error: Callable[[RapportsokError], None] | None = None,
) -> BuildReport | None:
    """One incremental build; waits while another process holds the build lock or the database is
    away (saying so once); None if it failed."""
    said = ""
    while True:
        try:
            return build(settings, embedder=embedder)
        except (BuildLocked, DatabaseUnavailable) as exc:
            if stop is not None and stop.is_set():
                return None
            if isinstance(exc, DatabaseUnavailable) and str(exc) != said and on_error:
                on_error(exc)
                said = str(exc)
            time.sleep(LOCKED_RETRY_S if isinstance(exc, BuildLocked) else DATABASE_RETRY_S)
        except RapportsokError as exc:  # e.g. the corpus folder vanished: say so and keep watching
            if on_error:
                on_error(exc)
            return None


def watch(
    settings: Settings,
    on_build: Callable[[BuildReport], None] | None = None,
    on_error: Callable[[RapportsokError], None] | None = None,
    stop: StopFlag | None = None,
    debounce_ms: int = DEBOUNCE_MS,
    embedder: Embedder | None = None,
) -> None:
    """Brings the index up to date, then rebuilds it after every burst of changes in the corpus, until stopped.

    The model is loaded once; each rebuild embeds only passages whose text is new, and a server
    reading the same index folder picks the new build up on its own (see api.LiveIndex).
    """
    if not settings.corpus.is_dir():
        raise RapportsokError(f"corpus folder {settings.corpus} does not exist")
    embedder = embedder or load_embedder(settings.model)
    while True:
        if not _wait_for_folder(settings.corpus, stop):
            return  # stopped
        folder = _identity(settings.corpus)
        report = rebuild(settings, embedder, stop, on_error)
        if report and on_build:
            on_build(report)
        try:
            for changes in watch_changes(
                settings.corpus,
                watch_filter=relevant,
                debounce=debounce_ms,
                step=100,
                stop_event=stop,
                recursive=False,
                rust_timeout=1000,
                yield_on_timeout=True,  # an empty set every second: time to see whether the folder was replaced
            ):
                if _identity(settings.corpus) != folder:
                    break  # removed, or replaced by another folder: the watch would stay on the old one, deaf
                if changes:
                    report = rebuild(settings, embedder, stop, on_error)
                    if report and on_build:
                        on_build(report)
            else:
                return  # stopped
        except WatchfilesRustInternalError as exc:
            # the watcher cannot name a file whose name is not UTF-8 and stops: something changed,
            # so rebuild (the build reads such files) and watch again
            if "decode" not in str(exc):
                raise
            time.sleep(debounce_ms / 1000)
        except FileNotFoundError:  # the folder went between the check and the watch: wait for it again
            pass


def _identity(folder: Path) -> tuple[int, int] | None:
    """Which folder stands at the path (device and inode), None when none does."""
    try:
        stat = folder.stat()
    except OSError:
        return None
    return (stat.st_dev, stat.st_ino) if folder.is_dir() else None


def _wait_for_folder(folder: Path, stop: StopFlag | None) -> bool:
    """Until the corpus folder exists (it may be being replaced); False when stopped meanwhile."""
    while not folder.is_dir():
        if stop is not None and stop.is_set():
            return False
        time.sleep(FOLDER_RETRY_S)
    return True
