"""The index: engine-neutral incremental builds (read changes, embed through the cache) and the
loaded index that search reads, whichever engine stores it (engines/)."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cached_property, lru_cache
from pathlib import Path

import numpy as np

from .embed import Embedder, load_embedder
from .engines import Built, Loaded, Terms, engine_for
from .engines.local import FOLLOWUPS, _build_lock, current_build  # noqa: F401  (public names)
from .errors import CorpusError, ModelMismatch, NotFound
from .ingest import METADATA_FILE, file_key, list_documents, load_metadata, metadata_for, sha256_of
from .lexical import Lexical
from .records import Document, Passage, Proposal, proposals_of
from .sentences import quotable
from .settings import Settings
from .store import EmbeddingCache, text_key
from .validate import SENTENCES, IndexDamaged  # noqa: F401  (public names)

FORMAT = 5  # 3: sentence vectors, 4: follow-up links, 5: memory-mapped sentence vectors and term counts
EMBED_BATCH = 8
QUERY_CACHE = 256  # query embeddings kept per loaded index
PASSAGE_WORDS = 260  # target passage size: dev MRR .68 at 200, .73 at 260, .71 at 330 words (bench/quality)
PASSAGE_SHARE = 0.5  # a passage's dense score: this much its own cosine, the rest its best sentence's
# a change re-reads every document (vectors still come from the cache where a text is unchanged)
INGESTION_CODE = ("ingest.py", "pdflayout.py", "clean.py", "structure.py", "passages.py", "sentences.py")

Progress = Callable[[int, int], None]  # (embedded so far, to embed)


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
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, int | float]:
        data = asdict(self)
        del data["warnings"]
        return data

    def summary(self) -> str:
        return (
            f"{_count(self.passages, 'passage')}: {_count(self.added, 'document')} added, {self.changed} changed, "
            f"{self.removed} removed, {self.unchanged} unchanged; {_count(self.embedded, 'passage')} and "
            f"{_count(self.sentences, 'sentence')} embedded in {self.seconds:.1f} s"
        )


def _count(n: int, noun: str) -> str:
    """A counted noun: 1 passage, 2 passages."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


def corpus_state(corpus: Path) -> dict[str, str]:
    """Document file name -> content hash, for every document file in the corpus folder."""
    if not corpus.is_dir():
        raise CorpusError(f"corpus folder {corpus} " + ("is not a folder" if corpus.exists() else "does not exist"))
    return {file_key(path): sha256_of(path) for path in list_documents(corpus)[0]}


def is_stale(settings: Settings) -> bool:
    """True when there is no (readable) index, or the corpus differs from what the index was built from."""
    try:
        meta = engine_for(settings).current_meta()
        if meta is None:
            return True
        return _built_state(meta) != corpus_state(settings.corpus) or meta["params"] != _params(settings.corpus)
    except (IndexDamaged, KeyError, TypeError):
        return True


def _built_state(meta: dict) -> dict[str, str]:
    """File name -> content hash of every document file a build read (or found unreadable)."""
    return {d["path"]: d["sha256"] for d in meta["documents"]} | meta.get("unreadable", {})


def _params(corpus: Path) -> dict[str, int | str]:
    """What, besides the documents themselves, decides how they are cut and linked: a change
    re-reads them all (nothing unchanged is embedded again)."""
    from .followup import VERSION  # it builds on this module

    code = hashlib.sha256()
    for name in INGESTION_CODE:
        code.update((Path(__file__).parent / name).read_bytes())
    metadata = corpus / METADATA_FILE
    return {
        "format": FORMAT,
        "passage_words": PASSAGE_WORDS,
        "ingestion": code.hexdigest()[:16],
        "metadata": _metadata_hash(metadata),
        "followups": VERSION,
    }


def _metadata_hash(path: Path) -> str:
    """The metadata file's hash; empty when there is none or it may not be read (a link out of the corpus)."""
    try:
        return sha256_of(path)[:16] if path.is_file() else ""
    except CorpusError:
        return ""


def build(
    settings: Settings, full: bool = False, progress: Progress | None = None, embedder: Embedder | None = None
) -> BuildReport:
    """Brings the index up to date with the corpus, re-embedding only passages whose text is new.

    The engine stores the new build beside the current one and makes it current in one atomic
    step, so a reader never sees half a build and a killed build leaves the old one in use.
    """
    started = time.perf_counter()
    state = corpus_state(settings.corpus)
    engine = engine_for(settings)
    with engine.lock():
        pointer_warning = engine.repair()
        old_meta, old_passages = engine.readable()  # a damaged build is rebuilt
        reuse = (
            old_meta is not None
            and not full
            and old_meta["params"] == _params(settings.corpus)
            and old_meta["model"] == settings.model
        )
        if reuse and _built_state(old_meta) == state:
            return BuildReport(
                unchanged=len(old_meta["documents"]),
                passages=sum(d["passages"] for d in old_meta["documents"]),
                seconds=round(time.perf_counter() - started, 3),
                warnings=old_meta["warnings"],  # still true of the unchanged files
            )
        report = BuildReport()
        documents, passages, unreadable = _read_changes(settings, state, old_meta, old_passages if reuse else None, report)
        if not passages:
            raise CorpusError(
                f"no readable text in {settings.corpus}" + (f" ({'; '.join(report.warnings)})" if report.warnings else "")
                + "; the previous index is kept"
            )
        embedder = embedder or load_embedder(settings.model)
        cache = EmbeddingCache(settings.index / "cache", embedder.name)
        report.warnings += cache.warnings
        texts, table = _embedded_texts(passages)
        try:
            vectors, fresh = _embed(texts, embedder, cache, full, progress)
            cache.keep_only({text_key(t) for t in _embedded_texts(old_passages)[0] + texts})
        finally:
            cache.close()
        report.warnings += pointer_warning
        report.embedded = sum(row < len(passages) for row in fresh)
        report.sentences = len(fresh) - report.embedded
        meta = {
            "format": FORMAT,
            "params": _params(settings.corpus),
            "model": embedder.name,
            "dim": embedder.dim,
            "built_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "documents": [asdict(d) | {"passages": sum(p.doc == d.doc for p in passages)} for d in documents],
            "unreadable": unreadable,
            "warnings": report.warnings,
        }
        lexical = Lexical.build(p.context() for p in passages)
        links = _followups(passages, vectors, lexical, meta, engine.current_followups() if reuse else None)
        n = len(passages)
        engine.write(Built(meta, passages, vectors[:n], vectors[n:], table, lexical, links))
        report.seconds = round(time.perf_counter() - started, 3)
        return report


def _read_changes(
    settings: Settings,
    state: dict[str, str],
    old_meta: dict | None,
    reusable: list[Passage] | None,
    report: BuildReport,
) -> tuple[list[Document], list[Passage], dict[str, str]]:
    """Documents and passages for the new build: reused where a file is unchanged, else read anew.

    With `reusable` None (another model, passage size or ingestion code) every file is read
    again. Counts added, changed, removed and unchanged documents into the report, and a warning
    for every file that could not be read."""
    from .passages import read_document  # the ingestion code: only a build that reads files needs it

    old_docs = {d["path"]: d for d in old_meta["documents"]} if old_meta else {}
    by_doc = _passages_by_doc(reusable or [])
    metadata, report.warnings = load_metadata(settings.corpus)
    paths, notes = list_documents(settings.corpus)
    report.warnings += notes
    files = {file_key(path): path for path in paths}
    documents: list[Document] = []
    passages: list[Passage] = []
    unreadable: dict[str, str] = {}
    for name, sha in state.items():
        previous = old_docs.get(name)
        if reusable is not None and previous and previous["sha256"] == sha:
            report.unchanged += 1
            documents.append(Document(**{k: previous[k] for k in Document.__dataclass_fields__}))
            passages.extend(by_doc.get(previous["doc"], []))
            continue
        path = files.get(name, settings.corpus / name)  # the file is gone if it was removed meanwhile
        try:
            document, doc_passages = read_document(path, metadata_for(metadata, path), PASSAGE_WORDS)
        except CorpusError as exc:
            report.warnings.append(str(exc))
            unreadable[name] = sha
            continue
        if previous is None:
            report.added += 1
        elif previous["sha256"] != sha:
            report.changed += 1
        else:
            report.unchanged += 1
        documents.append(document)
        passages.extend(doc_passages)
    report.removed = sum(1 for name in old_docs if name not in state)
    report.passages = len(passages)
    return documents, passages, unreadable


def _followups(
    passages: list[Passage], vectors: np.ndarray, lexical: Lexical, meta: dict, previous: dict | None
) -> dict:
    """The follow-up evidence of the new build, carried over from the `previous` build's where documents are unchanged."""
    from .followup import compute

    shas = {d["doc"]: d["sha256"] for d in meta["documents"]}
    return compute(passages, vectors[: len(passages)], lexical, shas, previous)


def _passages_by_doc(passages: list[Passage]) -> dict[str, list[Passage]]:
    grouped: dict[str, list[Passage]] = {}
    for passage in passages:
        grouped.setdefault(passage.doc, []).append(passage)
    return grouped


def _embedded_texts(passages: list[Passage]) -> tuple[list[str], np.ndarray]:
    """What gets embedded: every passage, then every quotable sentence of the passages that are
    ranked (not footnotes), under the passage's heading; with the (passage row, start, end) of
    each sentence."""
    table = [
        (row, start, end)
        for row, passage in enumerate(passages)
        if passage.kind != "footnote"
        for start, end in quotable(passage.text)
    ]
    texts = [p.context() for p in passages] + [passages[row].context(start, end) for row, start, end in table]
    return texts, np.array(table, dtype=np.int32).reshape(-1, 3)


def _embed(
    texts: list[str], embedder: Embedder, cache: EmbeddingCache, full: bool, progress: Progress | None
) -> tuple[np.ndarray, list[int]]:
    """A vector for every text, from the cache where the text is known, else computed; and the
    rows that were computed (one per distinct new text)."""
    keys = [text_key(text) for text in texts]
    known = {} if full else cache.get(keys, embedder.dim)
    todo: dict[str, int] = {}  # one embedding per distinct text, at its first row (a passage before a sentence)
    for row, key in enumerate(keys):
        if key not in known:
            todo.setdefault(key, row)
    order = list(todo.items())
    if progress:
        progress(0, len(order))
    for start in range(0, len(order), EMBED_BATCH):
        batch = order[start : start + EMBED_BATCH]
        vectors = embedder.embed_passages([texts[row] for _, row in batch])
        fresh = {key: vector for (key, _), vector in zip(batch, vectors)}
        cache.put(fresh)
        known.update(fresh)
        if progress:
            progress(min(start + EMBED_BATCH, len(order)), len(order))
    matrix = np.zeros((len(texts), embedder.dim), dtype=np.float32)
    for row, key in enumerate(keys):
        matrix[row] = known[key]
    return matrix, [row for _, row in order]


class Index:
    """One loaded build: passages, documents, dense and lexical scoring, and its embedder.

    Scoring is the engine's (`store`); everything search and answer read is here, so they
    never know which engine holds the build."""

    def __init__(self, settings: Settings, store: Loaded, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.store = store
        self.meta = store.meta
        _check_model(settings, self.meta)
        self._embedder = embedder
        self.behind: str | None = None  # why the build is older than the corpus, when it is
        self.passages = store.passages
        self.sentence_table = store.sentence_table
        # sentences are stored passage by passage: the first sentence of each passage that has any
        self._sentence_owners, self._sentence_starts = np.unique(self.sentence_table[:, 0], return_index=True)
        bounds = [*self._sentence_starts.tolist(), len(self.sentence_table)]
        self._sentence_rows = {
            int(owner): range(bounds[i], bounds[i + 1]) for i, owner in enumerate(self._sentence_owners)
        }
        self.documents = [Document(**{k: d[k] for k in Document.__dataclass_fields__}) for d in self.meta["documents"]]
        self._position = {p.passage_id: i for i, p in enumerate(self.passages)}
        # per-passage arrays for vectorised filtering and boosting in search
        self.doc_ids = np.array([p.doc for p in self.passages], dtype=object)
        # footnotes are shown in context but not ranked: as hits they are mostly references (bench/quality)
        self.searchable = np.array([p.kind != "footnote" for p in self.passages], dtype=bool)
        self.proposal_numbers = np.array([-1 if p.proposal is None else p.proposal for p in self.passages])
        openings = {proposal.passage_id for proposal in proposals_of(self.passages)}
        self.proposal_starts = np.array([p.passage_id in openings for p in self.passages])

    @classmethod
    def open(
        cls, settings: Settings, update: bool = True, progress: Progress | None = None, embedder: Embedder | None = None
    ) -> "Index":
        """The current build; with update, first brought up to date with the corpus when that is
        quick, else with `behind` saying that it is not (see freshness.open_current)."""
        if update:
            from .freshness import open_current  # it builds on this module

            return open_current(settings, progress, embedder)
        return cls(settings, engine_for(settings).load(), embedder)

    @property
    def build_id(self) -> str:
        return self.meta["build"]

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model)
        return self._embedder

    @property
    def build_dir(self) -> Path | None:
        """The local engine's build folder (None for a database)."""
        return getattr(self.store, "build_dir", None)

    @property
    def lexical(self) -> Terms:
        return self.store.lexical

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the last few are kept, as search and answer both need it."""
        return self._query_vectors(query)

    @cached_property
    def _query_vectors(self) -> Callable[[str], np.ndarray]:
        return lru_cache(maxsize=QUERY_CACHE)(lambda query: self.embedder.embed_queries([query])[0])

    def is_current(self) -> bool:
        """False once another build has been made current (on disk or in the database)."""
        return self.store.is_current()

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Per passage, its cosine to the query blended with its best sentence's: a passage about
        something else that states the answer in one sentence still ranks (−1 for passages an
        approximate index skipped)."""
        scores = self.store.passage_scores(query_vector)
        best = self.best_per_passage(self.sentence_scores(query_vector), scores)
        return np.where(scores > -1, PASSAGE_SHARE * scores + (1 - PASSAGE_SHARE) * best, -1)

    def best_per_passage(self, sentence_values: np.ndarray, floor: np.ndarray) -> np.ndarray:
        """The highest value among each passage's sentences; `floor` for passages without any."""
        return best_per_passage(sentence_values, self._sentence_owners, self._sentence_starts, floor)

    def sentences(self, passage_id: str) -> list[tuple[int, int, int]]:
        """(row in sentence_table, start, end) of each indexed sentence of a passage."""
        rows = self._sentence_rows.get(self._position[passage_id], range(0))
        return [(row, int(self.sentence_table[row, 1]), int(self.sentence_table[row, 2])) for row in rows]

    def sentence_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Cosine of every indexed sentence to the query (rows of sentence_table)."""
        return self.store.sentence_scores(query_vector)

    def document(self, doc: str) -> Document:
        for document in self.documents:
            if document.doc == doc:
                return document
        raise NotFound(
            f"unknown document {doc!r}; known: {', '.join(d.doc for d in self.documents)}",
            f"Finner ikke dokumentet «{doc}».",
        )

    def doc_passages(self, doc: str | None = None) -> list[Passage]:
        if doc is not None:
            self.document(doc)
        return [p for p in self.passages if doc is None or p.doc == doc]

    def proposals(self, doc: str | None = None) -> list[Proposal]:
        return proposals_of(self.doc_passages(doc))

    def passage(self, passage_id: str) -> Passage:
        try:
            return self.passages[self._position[passage_id]]
        except KeyError:
            raise NotFound(f"unknown passage {passage_id!r}", "Finner ikke passasjen.") from None

    def neighbours(self, passage_id: str) -> tuple[str | None, str | None]:
        """The ids of the passages before and after this one in the same document."""
        at = self._position[self.passage(passage_id).passage_id]
        doc = self.passages[at].doc
        before = self.passages[at - 1].passage_id if at > 0 and self.passages[at - 1].doc == doc else None
        after = (
            self.passages[at + 1].passage_id
            if at + 1 < len(self.passages) and self.passages[at + 1].doc == doc
            else None
        )
        return before, after


def best_per_passage(values: np.ndarray, owners: np.ndarray, starts: np.ndarray, floor: np.ndarray) -> np.ndarray:
    """The highest of `values` (one per sentence, stored passage by passage) for each passage that
    has sentences (`owners`, whose first sentence rows are `starts`); `floor` for the others.

    When most sentences hold the lowest value (an approximate search scored only the candidates'
    sentences), only the others are visited: the same result, without a pass over every passage
    (36 ms at 8M sentences)."""
    best = floor.copy()
    if not len(owners):
        return best
    lowest = values.min()
    higher = np.flatnonzero(values > lowest)
    if len(higher) > len(values) // 8:
        best[owners] = np.maximum.reduceat(values, starts)
        return best
    best[owners] = lowest
    np.maximum.at(best, owners[np.searchsorted(starts, higher, side="right") - 1], values[higher])
    return best


def _check_model(settings: Settings, meta: dict | None) -> None:
    """An index answers only queries embedded by the model that built it."""
    if meta is not None and meta["model"] != settings.model:
        raise ModelMismatch(
            f"index {engine_for(settings).where} was built with model {meta['model']!r}, not {settings.model!r}; "
            f"rebuild it with `rapportsok index --full --model ...` or search with --model {meta['model']}"
        )
