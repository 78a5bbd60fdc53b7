"""Engine-neutral incremental builds: read what changed, embed through the cache, link follow-ups,
and hand the result to the engine (engines/) that stores it."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import cache as cache_result
from functools import lru_cache
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..documents.files import (
    METADATA_FILE,
    MOSTLY_UNREADABLE,
    NO_TEXT_LAYER,
    SOME_UNREADABLE,
    file_key,
    list_documents,
    load_metadata,
    metadata_for,
    sha256_of,
)
from ..documents.ocr import Ocr
from ..embedding import Embedder, load_embedder
from ..engines import engine_for
from ..engines.base import (
    FOLLOWUP_VERSION,
    BuildMeta,
    Built,
    BuiltDocument,
    FollowupEvidence,
    Vectors,
    document_runs,
    passages_at,
)
from ..errors import CorpusError, DatabaseUnavailable
from ..records import Document, Passage
from ..settings import Settings
from ..text.bm25 import Lexical
from ..text.sentences import quotable
from .cache import EmbeddingCache, text_key
from .followup_evidence import compute
from .hashes import content_hashes
from .joined import Joined
from .reading import Read, read_many, reader_warnings

# 3: sentence vectors, 4: follow-up links, 5: memory-mapped sentence vectors and term counts,
# 6: sentences embedded without their passage's heading
FORMAT = 6
EMBED_BATCH = 8
PASSAGE_WORDS = 260  # target passage size: dev MRR .68 at 200, .73 at 260, .71 at 330 words (bench/quality)
# a vector is made of at most this much of a text (the corpus' longest passage has 2,451 characters):
# embedding time stays bounded when a "word" of a megabyte makes one huge passage
EMBED_CHARS = 8000
# a change re-reads every document (vectors still come from the cache where a text is unchanged):
# every module of these packages and files under the package, hashed in sorted order
INGESTION_CODE = ("documents", "passages", "text/sentences.py", "text/tokens.py")

DATABASE_WAITS = (1.0, 2.0, 4.0, 8.0, 15.0)  # a build tries again after these while the database is away (30 s)
EMBEDDING = "Beregner passasjer"


class Progress(Protocol):
    """Told how far a build is: (done so far, to do) of the task named (embedding passages, reading scanned pages)."""

    def __call__(self, done: int, total: int, task: str) -> None: ...


@dataclass
class BuildReport:
    """What a build did: document counts, total passages, and passages and sentences embedded in this run."""

    added: int = 0
    changed: int = 0
    removed: int = 0
    unchanged: int = 0
    passages: int = 0
    embedded: int = 0
    sentences: int = 0  # sentences embedded in this run
    ocr_pages: int = 0  # scanned pages recognised in this run (not from the OCR cache)
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int | float]:
        data = asdict(self)
        del data["warnings"]
        return data

    def summary(self) -> str:
        """One line for a person, in Norwegian like the rest of the command line."""
        return (
            f"{_count(self.passages, 'passasje', 'passasjer')}: {_count(self.added, 'dokument', 'dokumenter')} "
            f"lagt til, {self.changed} endret, {self.removed} fjernet, {self.unchanged} uendret; "
            f"{_count(self.embedded, 'passasje', 'passasjer')} og {_count(self.sentences, 'setning', 'setninger')} "
            f"beregnet på {self.seconds:.1f} s"
            + (f"; {_count(self.ocr_pages, 'skannet side', 'skannede sider')} lest med OCR" if self.ocr_pages else "")
        )


def _count(n: int, one: str, many: str) -> str:
    """A counted noun: 1 passasje, 2 passasjer."""
    return f"{n} {one if n == 1 else many}"


def corpus_state(settings: Settings, listing: tuple[list[Path], list[str]] | None = None) -> dict[str, str]:
    """Document file name -> content hash, for every document file in the corpus folder (a file whose
    stat is unchanged since it was last hashed is not read: indexing/hashes.py); `listing`: the
    folder's corpus_listing, when the caller has it."""
    paths = {file_key(path): path for path in (listing or corpus_listing(settings))[0]}
    return content_hashes(paths, settings.index / "cache")


def corpus_listing(settings: Settings) -> tuple[list[Path], list[str]]:
    """The corpus folder's document files and notes on the files it ignores (documents/files.py's
    list_documents, which looks at every file: listed once per build)."""
    corpus = settings.corpus
    if not corpus.is_dir():
        raise CorpusError(f"corpus folder {corpus} " + ("is not a folder" if corpus.exists() else "does not exist"))
    return list_documents(corpus, settings.max_file_bytes)


def compatible(meta: BuildMeta | None, settings: Settings) -> bool:
    """Whether a build's passages and vectors may be reused for this corpus and model: the same rules
    for cutting and linking (build_params) and the same model. The one rule of builds and freshness."""
    return meta is not None and meta.params == build_params(settings.corpus) and meta.model == settings.model


def build_params(corpus: Path) -> dict[str, int | str]:
    """What, besides the documents themselves, decides how they are cut and linked: a change
    re-reads them all (nothing unchanged is embedded again)."""
    code = hashlib.sha256()
    for path in _ingestion_files():
        code.update(path.read_bytes())
    metadata = corpus / METADATA_FILE
    return {
        "format": FORMAT,
        "passage_words": PASSAGE_WORDS,
        "ingestion": code.hexdigest()[:16],
        "metadata": _metadata_hash(metadata),
        "followups": FOLLOWUP_VERSION,
    }


@lru_cache(maxsize=1)
def _ingestion_files() -> tuple[Path, ...]:
    """The source files whose change re-reads every document."""
    package = Path(__file__).resolve().parent.parent
    found: list[Path] = []
    for name in INGESTION_CODE:
        path = package / name
        found += sorted(path.rglob("*.py")) if path.is_dir() else [path]
    return tuple(found)


def _metadata_hash(path: Path) -> str:
    """The metadata file's hash; empty when there is none or it may not be read (a link out of the corpus)."""
    try:
        return sha256_of(path)[:16] if path.is_file() else ""
    except CorpusError:
        return ""


def build(
    settings: Settings,
    full: bool = False,
    progress: Progress | None = None,
    embedder: Embedder | None = None,
    rewrite: bool = False,
) -> BuildReport:
    """Brings the index up to date with the corpus, re-embedding only passages whose text is new
    (`full`: every passage; `rewrite`: none, but every document is read and the build written whole).

    The engine stores the new build beside the current one and makes it current in one atomic
    step, so a reader never sees half a build and a killed build leaves the old one in use.
    """
    started = time.perf_counter()
    listing = corpus_listing(settings)
    state = corpus_state(settings, listing)
    engine = engine_for(settings)
    with engine.lock():
        pointer_warning = engine.repair()
        old_meta, old_passages = engine.readable()  # a damaged build is rebuilt
        reuse = not (full or rewrite) and compatible(old_meta, settings)
        if reuse and old_meta.state() == state:
            return BuildReport(
                unchanged=len(old_meta.documents),
                passages=sum(d.passages for d in old_meta.documents),
                seconds=round(time.perf_counter() - started, 3),
                warnings=old_meta.warnings,  # still true of the unchanged files
            )
        report = BuildReport()
        ocr = Ocr(settings.index / "cache", settings.ocr_langs, progress)
        documents, passages, unreadable, reused = _read_changes(
            settings, listing, state, old_meta, old_passages if reuse else None, report, ocr
        )
        if not passages:
            raise CorpusError(
                f"no readable text in {settings.corpus}"
                + (f" ({'; '.join(report.warnings)})" if report.warnings else "")
                + "; the previous index is kept"
            )
        embedder = embedder or load_embedder(settings.model)
        cache = EmbeddingCache(settings.index / "cache", embedder.name)
        report.warnings += cache.warnings
        try:
            vectors = _Vectors(passages, embedder, cache, full, progress)
            runs = document_runs(passages)
            # what was read anew is embedded now (the rest is the cache's, looked up when an engine writes it)
            vectors(np.array([i for doc, start, end in runs if doc not in reused for i in range(start, end)],
                             dtype=np.int64))
            report.warnings += pointer_warning
            passage_count: Counter[str] = Counter()
            for doc, start, end in runs:
                passage_count[doc] += end - start
            meta = BuildMeta(
                format=FORMAT,
                params=build_params(settings.corpus),
                model=embedder.name,
                dim=embedder.dim,
                built_at=datetime.now(UTC).isoformat(timespec="seconds"),
                documents=[BuiltDocument.of(d, passage_count[d.doc]) for d in documents],
                unreadable=unreadable,
                warnings=report.warnings,
            )
            lexical = cache_result(lambda: Lexical.build(p.context() for p in passages))
            previous = engine.current_followups() if reuse else None
            links = _followups(passages, vectors.dense, lexical, meta, previous, reused)
            # read before the write: the old build's passages are read lazily, and a whole write prunes it
            retired = _retired(old_meta, old_passages, documents) if reuse else old_passages
            retired_keys = {text_key(t) for t in embedded_texts(retired)[0]}
            engine.write(Built(meta, passages, vectors, lexical, links, whole=full or rewrite))
            if reuse:  # a change: only the retired documents' texts may have left the cache's use
                # a passage is embedded under its heading, which begins with its document's title; a
                # sentence (embedded alone) shared with a document of another title may lose its cached
                # vector: embedded again if ever needed, never wrong, and the cache stays proportional
                headings, titles = {p.heading() for p in retired}, {p.title for p in retired}
                alike = [p for doc, p in _of_documents(passages, {d.doc for d in documents if d.title in titles})
                         if doc in reused and p.heading() in headings]
                in_use = {text_key(t) for t in embedded_texts(alike)[0]} | set(vectors.known)
                cache.drop(retired_keys, in_use)
            else:  # every passage was read anew, and looked up
                cache.keep_only(retired_keys | set(vectors.known))
        finally:
            cache.close()
        report.embedded, report.sentences = vectors.embedded, vectors.sentences
        report.seconds = round(time.perf_counter() - started, 3)
        return report


def build_when_reachable(
    settings: Settings,
    on_wait: Callable[[DatabaseUnavailable, float], None] | None = None,
    waits: tuple[float, ...] = DATABASE_WAITS,
    **options: Any,  # noqa: ANN401  (build's)
) -> BuildReport:
    """`build`, tried again while the database does not answer (a restart, a failover), after each
    of `waits` seconds; the last failure is raised. A failed try leaves the current build as it was."""
    for wait in waits:
        try:
            return build(settings, **options)
        except DatabaseUnavailable as exc:
            if on_wait:
                on_wait(exc, wait)
            time.sleep(wait)
    return build(settings, **options)


def _read_changes(
    settings: Settings,
    listing: tuple[list[Path], list[str]],
    state: dict[str, str],
    old_meta: BuildMeta | None,
    reusable: Sequence[Passage] | None,
    report: BuildReport,
    ocr: Ocr,
) -> tuple[list[Document], Joined, dict[str, str], set[str]]:
    """Documents and passages for the new build: reused where a file is unchanged, else read anew,
    each within its budget (indexing/reading.py); and the ids of the documents reused.

    With `reusable` None (another model, passage size or ingestion code) every file is read
    again. Counts added, changed, removed and unchanged documents into the report, and a warning
    for every file that could not be read (and for scanned pages `ocr` could not read)."""
    old_docs = {d.path: d for d in old_meta.documents} if old_meta else {}
    stored: dict[str, list[range]] = {}  # the rows of each document in the current build (none read)
    for doc, start, end in document_runs(reusable or []):
        stored.setdefault(doc, []).append(range(start, end))
    metadata, report.warnings = _metadata(settings.corpus, old_meta)
    paths, notes = listing
    report.warnings += notes
    files = {file_key(path): path for path in paths}
    reused = {
        name for name, sha in state.items()
        if reusable is not None and name in old_docs and old_docs[name].sha256 == sha
    }
    # a file missing from the listing was removed meanwhile: reading it says so
    to_read = [files.get(name, settings.corpus / name) for name in state if name not in reused]
    read = {
        file_key(path): result
        for path, result in read_many(((p, metadata_for(metadata, p)) for p in to_read), settings, PASSAGE_WORDS)
    }
    _recognise_scans(read, files, metadata, settings, ocr)
    documents: list[Document] = []
    pieces: list[range | list[Passage]] = []  # rows of the current build (consecutive ones as one), or passages read
    unreadable: dict[str, str] = {}
    for name, sha in state.items():  # in corpus order, however the reads finished
        previous = old_docs.get(name)
        if name in reused:
            report.unchanged += 1
            documents.append(previous.document())
            for rows in stored.get(previous.doc, []):
                if pieces and isinstance(pieces[-1], range) and pieces[-1].stop == rows.start:
                    pieces[-1] = range(pieces[-1].start, rows.stop)
                else:
                    pieces.append(rows)
            continue
        result = read[name]
        if isinstance(result, CorpusError):
            report.warnings.append(str(result))
            unreadable[name] = sha
            continue
        if previous is None:
            report.added += 1
        elif previous.sha256 != sha:
            report.changed += 1
        else:
            report.unchanged += 1
        document, doc_passages, said = result
        report.warnings += said
        documents.append(document)
        pieces.append(doc_passages)
    report.warnings += ocr.warnings
    report.ocr_pages = ocr.recognised
    report.removed = sum(1 for name in old_docs if name not in state)
    passages = Joined([reusable[p.start : p.stop] if isinstance(p, range) else p for p in pieces])  # type: ignore[index]
    report.passages = len(passages)
    return documents, passages, unreadable, {old_docs[name].doc for name in reused}


def _recognise_scans(
    read: dict[str, Read | CorpusError], files: dict[str, Path], metadata: dict[str, dict], settings: Settings, ocr: Ocr
) -> None:
    """Scanned PDFs and PDFs with scanned sheets, which the budgeted workers read without OCR, read
    again here through `ocr` (its page cache and progress bar live in this process; tesseract is a
    program of its own, bounded by pytesseract), when this machine can: their passages replace the
    worker's refusal or its passages without those sheets."""
    scans = [
        name for name, result in read.items()
        if (isinstance(result, CorpusError) and any(said in str(result) for said in (NO_TEXT_LAYER, MOSTLY_UNREADABLE)))
        or (isinstance(result, Read) and any(SOME_UNREADABLE in said for said in result.warnings))
    ]
    if not scans or ocr.problem():
        return
    from ..passages import read_document  # the ingestion code: only a build that reads files needs it

    for name in scans:
        path = files.get(name, settings.corpus / name)
        try:
            with reader_warnings() as said:
                document, passages = read_document(
                    path, metadata_for(metadata, path), PASSAGE_WORDS, settings.max_file_bytes, ocr
                )
            read[name] = Read(document, passages, tuple(said))
        except CorpusError as exc:
            read[name] = exc


def _metadata(corpus: Path, old_meta: BuildMeta | None) -> tuple[dict[str, dict], list[str]]:
    """corpus/metadata.json; when it cannot be read at all (a typo while editing it), the titles, years
    and kinds the current build has, so that the documents keep their names and nothing is embedded
    again (a title is part of every embedded text), with the warning saying so."""
    metadata, warnings = load_metadata(corpus)
    if metadata or not warnings or old_meta is None or not (corpus / METADATA_FILE).is_file():
        return metadata, warnings
    kept = {d.doc: {"title": d.title, "year": d.year, "kind": d.kind} for d in old_meta.documents}
    return kept, [
        f"{METADATA_FILE} cannot be used, so the titles, years and kinds of the current index are kept "
        f"until it is fixed ({warnings[0]})"
    ]


def _followups(
    passages: Sequence[Passage],
    dense: Callable[[], np.ndarray],
    lexical: Callable[[], Lexical],
    meta: BuildMeta,
    previous: FollowupEvidence | None,
    reused: set[str],
) -> FollowupEvidence:
    """The follow-up evidence of the new build, carried over from the `previous` build's where documents are
    unchanged (`dense`: every passage's vector, asked only when some evidence is computed anew). A change
    where no document has a proposal (none in the previous evidence of the `reused` documents, none in
    those read anew) has none, found without reading the reused documents' passages."""
    if previous is not None and not any(e.doc in reused for e in previous.proposals) and not any(
        p.proposal is not None for _, p in _of_documents(passages, {d.doc for d in meta.documents} - reused)
    ):
        return FollowupEvidence(version=FOLLOWUP_VERSION, proposals=[])
    shas = {d.doc: d.sha256 for d in meta.documents}
    return compute(passages, cache_result(dense), lexical, shas, previous)


def _retired(old_meta: BuildMeta, old_passages: Sequence[Passage], documents: list[Document]) -> list[Passage]:
    """The current build's passages of documents that changed or were removed."""
    now = {d.doc: d.sha256 for d in documents}
    gone = {d.doc for d in old_meta.documents if now.get(d.doc) != d.sha256}
    return [p for _, p in _of_documents(old_passages, gone)]


def _of_documents(passages: Sequence[Passage], docs: set[str]) -> list[tuple[str, Passage]]:
    """(doc, passage) of the given documents' passages, reading no other (document_runs says where they are)."""
    return [(doc, p) for doc, start, end in document_runs(passages) if doc in docs for p in passages[start:end]]


def embedded_texts(passages: list[Passage]) -> tuple[list[str], np.ndarray]:
    """What gets embedded: every passage under its heading, then every quotable sentence of the
    passages that are ranked (not footnotes) on its own, each cut at EMBED_CHARS; with the
    (passage row, start, end) of each sentence. A sentence's vector picks the best sentence within
    its passage, whose own vector already carries the heading: repeating the heading before every
    sentence made a third of all embedded tokens and ranked no better (docs/ranking.md)."""
    table = [
        (row, start, end)
        for row, passage in enumerate(passages)
        if passage.kind != "footnote"
        for start, end in quotable(passage.text)
    ]
    texts = [p.context() for p in passages] + [passages[row].span(start, end) for row, start, end in table]
    return [text[:EMBED_CHARS] for text in texts], np.array(table, dtype=np.int32).reshape(-1, 3)


class _Vectors:
    """The vectors of a build's passages and sentences, for the rows asked: from the cache where a text is
    known, else embedded (every text with `full`). A build embeds what it read anew; an engine asks for
    the rows it writes, so a change stored as a part never looks up every passage of the corpus."""

    def __init__(
        self, passages: Sequence[Passage], embedder: Embedder, cache: EmbeddingCache, full: bool,
        progress: Progress | None,
    ) -> None:
        self.passages, self.embedder, self.cache, self.full, self.progress = passages, embedder, cache, full, progress
        self.known: dict[str, np.ndarray] = {}  # every text's vector this build looked up or embedded, by key
        self.embedded = self.sentences = 0  # passages and sentences embedded
        self._last: tuple[bytes, Vectors] | None = None

    def __call__(self, rows: np.ndarray) -> Vectors:
        """The vectors of the passages at rows (ascending) and of their sentences."""
        if self._last is not None and self._last[0] == rows.tobytes():  # a build's own rows, asked again to write
            return self._last[1]
        chosen = passages_at(self.passages, rows)
        texts, table = embedded_texts(chosen)
        matrix = self._lookup(texts, len(chosen))
        self._last = (rows.tobytes(), Vectors(matrix[: len(chosen)], matrix[len(chosen) :], table))
        return self._last[1]

    def dense(self) -> np.ndarray:
        """Every passage's vector (for the follow-up evidence)."""
        return self._lookup([text[:EMBED_CHARS] for text in (p.context() for p in self.passages)], len(self.passages))

    def _lookup(self, texts: list[str], passages: int) -> np.ndarray:
        """A vector for every text (the first `passages` of them passages' texts, the rest sentences')."""
        keys = [text_key(text) for text in texts]
        wanted = [key for key in dict.fromkeys(keys) if key not in self.known]
        if not self.full:
            self.known.update(self.cache.get(wanted, self.embedder.dim))
        todo: dict[str, int] = {}  # one embedding per distinct text, at its first row (a passage before a sentence)
        for row, key in enumerate(keys):
            if key not in self.known:
                todo.setdefault(key, row)
        order = list(todo.items())
        if self.progress:
            self.progress(0, len(order), EMBEDDING)
        for start in range(0, len(order), EMBED_BATCH):
            batch = order[start : start + EMBED_BATCH]
            vectors = self.embedder.embed_passages([texts[row] for _, row in batch])
            fresh = {key: vector for (key, _), vector in zip(batch, vectors, strict=False)}
            self.cache.put(fresh)
            self.known.update(fresh)
            if self.progress:
                self.progress(min(start + EMBED_BATCH, len(order)), len(order), EMBEDDING)
        self.embedded += sum(row < passages for _, row in order)
        self.sentences += sum(row >= passages for _, row in order)
        matrix = np.zeros((len(texts), self.embedder.dim), dtype=np.float32)
        for row, key in enumerate(keys):
            matrix[row] = self.known[key]
        return matrix
