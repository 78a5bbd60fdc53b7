"""How far a build is behind the corpus, and whether catching up is quick: what a search may wait
for (`rapportsok.open_index`) without waiting minutes for a rebuild."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..documents.files import PDF_SUFFIXES, file_key, load_metadata, metadata_for
from ..engines import engine_for
from ..engines.base import BuildMeta
from ..errors import CorpusError, IndexDamaged
from ..settings import Settings
from .build import PASSAGE_WORDS, compatible, corpus_listing, corpus_state, embedded_texts
from .cache import count_known, text_key
from .reading import OverBudget, read_many

QUICK_TEXTS = 20  # texts to embed (~0.3 s each on two cores) that a search still waits for
QUICK_TEXT_BYTES = 2_000_000  # .txt files re-read to count them: well under a second
QUICK_PDF_BYTES = 300_000  # PDFs re-read to count them: text extraction is far slower
QUICK_READ_SECONDS = 5.0  # a file that takes longer to read is not quick to catch up with
# a file the build does not know yet has all its texts to embed: past this size, more than QUICK_TEXTS
NEW_FILE_BYTES = 20_000


@dataclass(frozen=True)
class Changes:
    """How the corpus differs from a build: the files an update would read anew, and files gone."""

    reread: list[Path]
    new: set[Path]  # of reread: not in the build at all
    removed: int
    stale: bool


def changes(settings: Settings, meta: BuildMeta | None) -> Changes:
    """What an update of the build with this meta (None: no readable build) would have to do."""
    listing = corpus_listing(settings)
    state = corpus_state(settings, listing)
    files = {file_key(path): path for path in listing[0]}
    same = compatible(meta, settings)
    built = {d.path: d.sha256 for d in meta.documents} if same else {}
    unreadable = meta.unreadable if same else {}
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
    metadata, _ = load_metadata(settings.corpus)
    missing = 0
    jobs = ((p, metadata_for(metadata, p)) for p in reread)
    for _, result in read_many(jobs, settings, PASSAGE_WORDS, cap=QUICK_READ_SECONDS):
        if isinstance(result, OverBudget):
            return None
        if isinstance(result, CorpusError):
            continue  # an update will only warn about it
        keys = {text_key(text) for text in embedded_texts(result[1])[0]}
        missing += len(keys) - count_known(settings.index / "cache", settings.model, keys)
        if missing > limit:
            break
    return missing


def is_stale(settings: Settings) -> bool:
    """True when there is no (readable) index, or an update would change it."""
    try:
        return changes(settings, engine_for(settings).current_meta()).stale
    except IndexDamaged:
        return True
