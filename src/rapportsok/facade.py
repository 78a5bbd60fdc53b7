"""Opening the index for a search: the one place that sees both the build and the read side.

The current build is brought up to date first only when that is quick, else served as it is with a
note that it is behind; a search never waits minutes for a rebuild, and never creates an index
(only `rapportsok index` and `watch` do)."""

from __future__ import annotations

from .embedding import Embedder, load_embedder
from .errors import BuildLocked, CorpusError, IndexMissing, WriteFailed
from .indexing.build import Progress, build
from .indexing.freshness import QUICK_TEXTS, changes, texts_to_embed
from .querying.index import Index
from .settings import Settings


def open_index(settings: Settings, progress: Progress | None = None, embedder: Embedder | None = None) -> Index:
    """The current build, first brought up to date (or repaired) when that embeds at most QUICK_TEXTS
    texts; otherwise as it is, with `behind` saying so. No index at all is an error naming the
    folder and `rapportsok index`."""
    if not settings.database and not settings.index.is_dir():  # a database holds its builds itself
        state = "is not a folder" if settings.index.exists() else "does not exist"
        raise IndexMissing(
            f"index folder {settings.index} {state}; build the index with `rapportsok index`"
            + ("" if str(settings.index) == "index" else f" --index {settings.index}")
        )
    try:
        index: Index | None = Index.load(settings, embedder)
        problem: IndexMissing | None = None
    except IndexMissing as exc:  # no build, or a damaged one
        index, problem = None, exc
    found = changes(settings, index.meta if index else None)
    if index is not None and not found.stale:
        return index
    todo = texts_to_embed(settings, found)
    if todo is not None and todo <= QUICK_TEXTS:
        embedder = embedder or (index.embedder if index else load_embedder(settings.model))
        try:
            build(settings, progress=progress, embedder=embedder)
            return Index.load(settings, embedder)
        except (BuildLocked, WriteFailed, CorpusError):  # someone else is building, read-only, nothing readable
            if index is None:
                raise
    if index is None:
        assert problem is not None
        raise problem
    index.behind = (  # a note for a person, in Norwegian like the rest of the command line
        f"indeksen er eldre enn rapportmappen ({len(found.reread)} filer nye eller endret, {found.removed} fjernet) "
        f"og svarer fra bygg {index.build_id}; oppdater den med `rapportsok index` (eller la `rapportsok watch` gå)"
    )
    return index
