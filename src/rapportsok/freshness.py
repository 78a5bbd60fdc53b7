"""Opening the index for a search: brought up to date first only when that is quick, else served as
it is with a note that it is behind; a search never waits minutes for a rebuild, and never creates
an index (only `rapportsok index` and `watch` do)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from .embed import Embedder, load_embedder
from .errors import BuildLocked, CorpusError, IndexMissing, WriteFailed
from .index import PASSAGE_WORDS, Index, Progress, _embedded_texts, _params, build, corpus_state
from .ingest import PDF_SUFFIXES, file_key, list_documents, load_metadata, metadata_for
from .settings import Settings
from .store import count_known, text_key

QUICK_TEXTS = 20  # texts to embed (~0.3 s each on two cores) that a search still waits for
QUICK_TEXT_BYTES = 2_000_000  # .txt files re-read to count them: well under a second
QUICK_PDF_BYTES = 300_000  # PDFs re-read to count them: text extraction is far slower
# a file the build does not know yet has all its texts to embed: past this size, more than QUICK_TEXTS
NEW_FILE_BYTES = 20_000


@dataclass(frozen=True)
class Changes:
    """How the corpus differs from a build: the files an update would read anew, and files gone."""

    reread: list[Path]
    new: set[Path]  # of reread: not in the build at all
    removed: int
    stale: bool


def changes(settings: Settings, meta: dict | None) -> Changes:
    """What an update of the build with this meta (None: no readable build) would have to do."""
    state = corpus_state(settings.corpus)
    files = {file_key(path): path for path in list_documents(settings.corpus)[0]}
    same = meta is not None and meta["params"] == _params(settings.corpus) and meta["model"] == settings.model
    built = {d["path"]: d["sha256"] for d in meta["documents"]} if same else {}
    unreadable = meta.get("unreadable", {}) if same else {}
    reread = [files[n] for n, sha in state.items() if n in files and sha not in (built.get(n), unreadable.get(n))]
    removed = sum(name not in state for name in built | unreadable)
    new = {path for path in reread if file_key(path) not in built}
    return Changes(reread, new, removed, stale=not same or bool(reread) or removed > 0)


def texts_to_embed(settings: Settings, found: Changes, limit: int = QUICK_TEXTS) -> int | None:
    """How many texts an update would embed (counted until past `limit`), from what the embedding
    cache lacks, without embedding anything; None when that is clearly many, or even counting
    would be slow."""
    reread = found.reread
    pdf = sum(p.stat().st_size for p in reread if p.suffix.lower() in PDF_SUFFIXES)
    text = sum(p.stat().st_size for p in reread) - pdf
    if text > QUICK_TEXT_BYTES or pdf > QUICK_PDF_BYTES or any(p.stat().st_size > NEW_FILE_BYTES for p in found.new):
        return None
    from .passages import read_document  # the ingestion code: only when there are files to count

    metadata, _ = load_metadata(settings.corpus)
    missing = 0
    for path in reread:
        try:
            _, passages = read_document(path, metadata_for(metadata, path), PASSAGE_WORDS)
        except CorpusError:
            continue  # an update will only warn about it
        keys = {text_key(text) for text in _embedded_texts(passages)[0]}
        missing += len(keys) - count_known(settings.index / "cache", settings.model, keys)
        if missing > limit:
            break
    return missing


def open_current(settings: Settings, progress: Progress | None = None, embedder: Embedder | None = None) -> Index:
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
        index: Index | None = Index.open(settings, update=False, embedder=embedder)
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
            return Index.open(settings, update=False, embedder=embedder)
        except (BuildLocked, WriteFailed, CorpusError):  # someone else is building, read-only, nothing readable
            if index is None:
                raise
    if index is None:
        assert problem is not None
        raise problem
    index.behind = (
        f"the index is behind the corpus ({len(found.reread)} files new or changed, {found.removed} removed) and "
        f"answers from build {index.build_id}; update it with `rapportsok index` (or keep `rapportsok watch` running)"
    )
    return index
