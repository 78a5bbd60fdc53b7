"""The on-disk index: incremental, atomic builds and the loaded index that search reads."""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
import uuid
import zipfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from functools import cached_property, lru_cache
from pathlib import Path

import faiss
import numpy as np

from .embed import Embedder, load_embedder
from .errors import BuildLocked, CorpusError, IndexMissing, ModelMismatch, NotFound, WriteFailed
from .ingest import METADATA_FILE, list_documents, load_metadata, sha256_of
from .lexical import Lexical
from .passages import read_document
from .records import Document, Passage, Proposal, proposals_of
from .sentences import quotable
from .settings import Settings
from .store import EmbeddingCache, text_key

FORMAT = 4  # 3: sentence vectors, 4: follow-up links
CURRENT = "CURRENT"  # names the build folder in use; replaced atomically
BUILDS = "builds"
LEXICAL = "lexical"  # folder of the saved BM25 index inside a build
SENTENCES = "sentences.npz"  # sentence vectors and where each sentence stands
FOLLOWUPS = "followups.json"  # evidence for the follow-up links of each proposal (followup.py)
EMBED_BATCH = 8
APPROXIMATE_FROM = 50_000  # passages; below this exact search is faster than building a graph
QUERY_CACHE = 256  # query embeddings kept per loaded index
PASSAGE_WORDS = 260  # target passage size: dev MRR .68 at 200, .73 at 260, .71 at 330 words (bench/quality)
PASSAGE_SHARE = 0.5  # a passage's dense score: this much its own cosine, the rest its best sentence's
# a change re-reads every document (vectors still come from the cache where a text is unchanged)
INGESTION_CODE = ("ingest.py", "clean.py", "structure.py", "passages.py", "sentences.py")

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
            f"{self.passages} passages: {self.added} documents added, {self.changed} changed, "
            f"{self.removed} removed, {self.unchanged} unchanged; {self.embedded} passages and "
            f"{self.sentences} sentences embedded in {self.seconds:.1f} s"
        )


def current_build(index_dir: Path) -> Path | None:
    """The build folder CURRENT points at, or None when there is no complete build."""
    try:
        name = (index_dir / CURRENT).read_text().strip()
    except OSError:
        return None
    folder = index_dir / BUILDS / name
    return folder if (folder / "meta.json").is_file() else None


# what a truncated or edited file raises
DAMAGE = (OSError, ValueError, KeyError, TypeError, RuntimeError, EOFError, zipfile.BadZipFile)


def _read_meta(build: Path | None) -> dict | None:
    if build is None:
        return None
    try:
        return json.loads((build / "meta.json").read_text(encoding="utf-8"))
    except DAMAGE as exc:
        raise IndexDamaged(build, exc) from exc


def _read_sentences(build: Path) -> tuple[np.ndarray, np.ndarray]:
    """Sentence vectors and their (passage row, start, end) table."""
    try:
        with np.load(build / SENTENCES) as data:
            vectors, table = data["vectors"], data["table"]
        if len(vectors) != len(table):
            raise ValueError("sentence vectors and table differ in length")
        return vectors, table
    except DAMAGE as exc:
        raise IndexDamaged(build, exc) from exc


def _read_passages(build: Path) -> list[Passage]:
    try:
        with (build / "passages.jsonl").open(encoding="utf-8") as handle:
            return [Passage(**json.loads(line)) for line in handle]
    except DAMAGE as exc:
        raise IndexDamaged(build, exc) from exc


class IndexDamaged(IndexMissing):
    """A build whose files cannot be read; `rapportsok index` replaces it."""

    def __init__(self, build: Path, cause: Exception) -> None:
        reason = str(cause).splitlines()[0] if str(cause) else type(cause).__name__
        super().__init__(f"index build {build} is damaged ({reason}); rebuild it with `rapportsok index`")


def _readable_build(index_dir: Path) -> tuple[Path | None, dict | None, list[Passage]]:
    """The current build, its meta and passages, or nothing when they are missing or damaged."""
    build_dir = current_build(index_dir)
    try:
        meta = _read_meta(build_dir)
        passages = _read_passages(build_dir) if build_dir else []
        if build_dir:
            faiss.read_index(str(build_dir / "dense.faiss"))
            _read_sentences(build_dir)
    except (IndexDamaged, RuntimeError):
        return None, None, []
    return build_dir, meta, passages


@contextmanager
def _build_lock(index_dir: Path) -> Iterator[None]:
    """One builder at a time per index folder; the OS releases the lock if the builder dies."""
    try:
        index_dir.mkdir(parents=True, exist_ok=True)
        handle = (index_dir / ".lock").open("w")
    except OSError as exc:
        raise WriteFailed(f"cannot write the index folder {index_dir}: {exc.strerror or exc}") from exc
    with handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise BuildLocked(f"another build of {index_dir} is running; try again when it has finished") from None
        yield


def corpus_state(corpus: Path) -> dict[str, str]:
    """Document file name -> content hash, for every document file in the corpus folder."""
    if not corpus.is_dir():
        raise CorpusError(f"corpus folder {corpus} " + ("is not a folder" if corpus.exists() else "does not exist"))
    return {path.name: sha256_of(path) for path in list_documents(corpus)[0]}


def is_stale(settings: Settings) -> bool:
    """True when there is no (readable) index, or the corpus differs from what the index was built from."""
    try:
        meta = _read_meta(current_build(settings.index))
        if meta is None:
            return True
        return _built_state(meta) != corpus_state(settings.corpus) or meta["params"] != _params(settings.corpus)
    except (IndexDamaged, KeyError, TypeError):
        return True


def _built_state(meta: dict) -> dict[str, str]:
    """File name -> content hash of every document file a build read (or found unreadable)."""
    return {d["path"]: d["sha256"] for d in meta["documents"]} | meta.get("unreadable", {})


def _params(corpus: Path) -> dict[str, int | str]:
    """What, besides the documents themselves, decides how they are cut: a change re-reads them all."""
    code = hashlib.sha256()
    for name in INGESTION_CODE:
        code.update((Path(__file__).parent / name).read_bytes())
    metadata = corpus / METADATA_FILE
    return {
        "format": FORMAT,
        "passage_words": PASSAGE_WORDS,
        "ingestion": code.hexdigest()[:16],
        "metadata": sha256_of(metadata)[:16] if metadata.is_file() else "",
    }


def build(
    settings: Settings, full: bool = False, progress: Progress | None = None, embedder: Embedder | None = None
) -> BuildReport:
    """Brings the index up to date with the corpus, re-embedding only passages whose text is new.

    The new build is written to a folder of its own and then named in CURRENT by an atomic
    rename, so a reader never sees half a build and a killed build leaves the old one in use.
    """
    started = time.perf_counter()
    state = corpus_state(settings.corpus)
    with _build_lock(settings.index):
        old_build, old_meta, old_passages = _readable_build(settings.index)  # a damaged build is rebuilt
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
        texts, table = _embedded_texts(passages)
        try:
            vectors, fresh = _embed(texts, embedder, cache, full, progress)
            cache.keep_only({text_key(t) for t in _embedded_texts(old_passages)[0] + texts})
        finally:
            cache.close()
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
        lexical = Lexical.build([p.context() for p in passages])
        links = _followups(passages, vectors, table, lexical, meta, old_build if reuse else None)
        n = len(passages)
        _write_build(settings.index, meta, passages, vectors[:n], vectors[n:], table, lexical, links)
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
    old_docs = {d["path"]: d for d in old_meta["documents"]} if old_meta else {}
    by_doc = _passages_by_doc(reusable or [])
    metadata, report.warnings = load_metadata(settings.corpus)
    report.warnings += list_documents(settings.corpus)[1]
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
        path = settings.corpus / name
        try:
            document, doc_passages = read_document(path, metadata.get(path.stem), PASSAGE_WORDS)
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
    passages: list[Passage], vectors: np.ndarray, table: np.ndarray, lexical: Lexical, meta: dict, previous: Path | None
) -> dict:
    """The follow-up evidence of the new build, carried over from `previous` where documents are unchanged."""
    from .followup import compute

    shas = {d["doc"]: d["sha256"] for d in meta["documents"]}
    return compute(passages, vectors[: len(passages)], vectors[len(passages) :], table, lexical, shas, previous)


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


def _dense_index(vectors: np.ndarray) -> faiss.Index:
    """Exact inner product (cosine on normalised vectors); HNSW once exact search gets slow."""
    dim = vectors.shape[1]
    index = faiss.IndexFlatIP(dim) if len(vectors) < APPROXIMATE_FROM else faiss.IndexHNSWFlat(
        dim, 32, faiss.METRIC_INNER_PRODUCT
    )
    if len(vectors):
        index.add(vectors)
    return index


def _write_build(
    index_dir: Path,
    meta: dict,
    passages: list[Passage],
    vectors: np.ndarray,
    sentences: np.ndarray,
    table: np.ndarray,
    lexical: Lexical,
    links: dict,
) -> None:
    builds = index_dir / BUILDS
    name = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = builds / f".{name}.tmp"
    try:
        _write_files(tmp, meta | {"build": name}, passages, vectors, sentences, table, lexical, links)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise WriteFailed(f"cannot write the index in {index_dir}: {exc.strerror or exc}") from exc
        raise
    tmp.rename(builds / name)
    pointer = index_dir / f".{CURRENT}.tmp"
    pointer.write_text(name + "\n")
    _fsync(pointer)
    os.replace(pointer, index_dir / CURRENT)
    _remove_old_builds(builds, keep={name})


def _write_files(
    tmp: Path,
    meta: dict,
    passages: list[Passage],
    vectors: np.ndarray,
    sentences: np.ndarray,
    table: np.ndarray,
    lexical: Lexical,
    links: dict,
) -> None:
    tmp.mkdir(parents=True)
    with (tmp / "passages.jsonl").open("w", encoding="utf-8") as handle:
        for passage in passages:
            handle.write(json.dumps(asdict(passage), ensure_ascii=False) + "\n")
    faiss.write_index(_dense_index(vectors), str(tmp / "dense.faiss"))
    np.savez(tmp / SENTENCES, vectors=sentences, table=table)
    lexical.save(tmp / LEXICAL)
    (tmp / FOLLOWUPS).write_text(json.dumps(links, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    (tmp / "meta.json").write_text(json.dumps(meta, ensure_ascii=False, indent=1), encoding="utf-8")
    for path in tmp.rglob("*"):
        if path.is_file():
            _fsync(path)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _remove_old_builds(builds: Path, keep: set[str]) -> None:
    """Drops earlier builds and leftovers of killed ones, keeping the newest previous build for readers still on it."""
    finished = sorted((p for p in builds.iterdir() if not p.name.startswith(".")), key=lambda p: p.name)
    keep = keep | {p.name for p in [p for p in finished if p.name not in keep][-1:]}
    for path in builds.iterdir():
        if path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


class Index:
    """One loaded build: passages, documents, the dense and lexical indexes, and its embedder."""

    def __init__(self, settings: Settings, build_dir: Path, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.build_dir = build_dir
        self.meta = _read_meta(build_dir)
        _check_model(settings, self.meta)
        self._embedder = embedder
        self.passages = _read_passages(build_dir)
        try:
            self.dense = faiss.read_index(str(build_dir / "dense.faiss"))
        except RuntimeError as exc:
            raise IndexDamaged(build_dir, exc) from exc
        if self.meta["format"] >= 3:
            vectors, self.sentence_table = _read_sentences(build_dir)
        else:  # a build from before sentence vectors, still served while a newer one cannot be built
            vectors, self.sentence_table = np.zeros((0, self.dense.d), np.float32), np.zeros((0, 3), np.int32)
        # searched by faiss, not numpy: a BLAS product leaves OpenBLAS threads spinning, which
        # triples the time of the next query embedding on two cores
        self._sentence_index = faiss.IndexFlatIP(vectors.shape[1]) if len(vectors) else None
        if self._sentence_index is not None:
            self._sentence_index.add(vectors)
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
        """The current build; with update, first brought up to date with the corpus (built if missing,
        rebuilt from the embedding cache if damaged).

        When another process is building, or the index folder is read-only, the current build
        answers as it is."""
        if update and is_stale(settings):
            embedder = _update(settings, progress, embedder)
        try:
            return cls(settings, _require(settings), embedder)
        except IndexDamaged:
            if not update:
                raise
            embedder = _update(settings, progress, embedder)
            return cls(settings, _require(settings), embedder)

    @property
    def build_id(self) -> str:
        return self.meta["build"]

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model)
        return self._embedder

    @cached_property
    def lexical(self) -> Lexical:
        return Lexical.load(self.build_dir / LEXICAL)

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the last few are kept, as search and answer both need it."""
        return self._query_vectors(query)

    @cached_property
    def _query_vectors(self) -> Callable[[str], np.ndarray]:
        return lru_cache(maxsize=QUERY_CACHE)(lambda query: self.embedder.embed_queries([query])[0])

    def is_current(self) -> bool:
        """False once another build has been swapped in on disk."""
        return current_build(self.settings.index) == self.build_dir

    def dense_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Per passage, its cosine to the query blended with its best sentence's: a passage about
        something else that states the answer in one sentence still ranks (−1 for passages an
        approximate index skipped)."""
        scores = _all_scores(self.dense, query_vector)
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
        return _all_scores(self._sentence_index, query_vector)

    def document(self, doc: str) -> Document:
        for document in self.documents:
            if document.doc == doc:
                return document
        raise NotFound(f"unknown document {doc!r}; known: {', '.join(d.doc for d in self.documents)}")

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
            raise NotFound(f"unknown passage {passage_id!r}") from None

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
    has sentences (`owners`, whose first sentence rows are `starts`); `floor` for the others."""
    best = floor.copy()
    if len(owners):
        best[owners] = np.maximum.reduceat(values, starts)
    return best


def _all_scores(index: faiss.Index | None, query_vector: np.ndarray) -> np.ndarray:
    """The query's inner product with every vector of a faiss index (−1 where an approximate
    index left a vector out)."""
    total = index.ntotal if index is not None else 0
    scores = np.full(total, -1.0, dtype=np.float32)
    if total:
        found, ids = index.search(query_vector.reshape(1, -1), total)
        keep = ids[0] >= 0
        scores[ids[0][keep]] = found[0][keep]
    return scores


def _update(settings: Settings, progress: Progress | None, embedder: Embedder | None) -> Embedder:
    """Builds, unless someone else is or the folder is read-only while a build exists; returns the model."""
    _check_model(settings, _readable_build(settings.index)[1])
    embedder = embedder or load_embedder(settings.model)
    try:
        build(settings, progress=progress, embedder=embedder)
    except (BuildLocked, WriteFailed):
        if current_build(settings.index) is None:
            raise
    return embedder


def _require(settings: Settings) -> Path:
    build_dir = current_build(settings.index)
    if build_dir is None:
        raise IndexMissing(f"no index in {settings.index}; build one with `rapportsok index`")
    return build_dir


def _check_model(settings: Settings, meta: dict | None) -> None:
    """An index answers only queries embedded by the model that built it."""
    if meta is not None and meta["model"] != settings.model:
        raise ModelMismatch(
            f"index {settings.index} was built with model {meta['model']!r}, not {settings.model!r}; "
            f"rebuild it with `rapportsok index --full --model ...` or search with --model {meta['model']}"
        )
