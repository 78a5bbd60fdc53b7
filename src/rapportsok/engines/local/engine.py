"""The local engine: each build a folder of files (FAISS, sentence vectors, BM25), named by CURRENT.

A build is one part (its own files) or, after small changes, that part hard-linked from the
previous build plus a part per change under deltas/ and the flags of the rows still in use."""

from __future__ import annotations

import errno
import fcntl
import json
import os
import re
import shutil
import uuid
from bisect import bisect_left
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import faiss
import numpy as np

from ...errors import BuildLocked, IndexDamaged, IndexMissing, WriteFailed
from ...records import Passage
from ...text.bm25 import (
    COMPOUNDS_FILE,
    WORDS_FILE,
    Lexical,
    Postings,
    compound_splitter,
    count_words,
    save_counts,
    span_rows,
)
from ...text.tokens import STOPWORDS, Decompounder, stem_words, words
from ..base import CANDIDATES, BuildMeta, Built, FollowupEvidence, Vectors, document_runs, passages_at, scattered
from .files import (
    BUILD_CHECKED,
    BUILD_NAME,
    DAMAGE,
    DELTAS,
    LEXICAL,
    LIVE,
    PART_DOCUMENTS,
    SENTENCE_TABLE,
    SENTENCES,
    build_name,
    open_build,
    part_documents,
    part_folders,
    read_build,
    read_dense,
    read_meta,
    stamp_build,
    stamp_written,
    write_columns,
    write_offsets,
)

CURRENT = "CURRENT"  # names the build folder in use; replaced atomically
BUILDS = "builds"
BUILD_IN_MAKING = re.compile(rf"\.{BUILD_NAME.pattern}\.tmp")  # a build being written (or left by a killed one)
FOLLOWUPS = "followups.json"  # evidence for the follow-up links of each proposal (followup.py)
APPROXIMATE_FROM = 50_000  # passages; below this exact search is faster than building a graph
EVERY_SENTENCE_UP_TO = 1000  # passages; past this only the sentences of the nearest CANDIDATES passages are scored
# a change is stored as a part of its own (the previous build's files hard-linked, the changed
# documents' old rows retired) while the rows added or retired since the last whole write stay
# under this share of the rows in use, and there are at most MAX_DELTAS parts; past that the
# build is written whole again (which also drops the retired rows). Small corpora, where one
# document is more than this share, are always written whole.
DELTA_SHARE = 0.05
MAX_DELTAS = 8

def current_build(index_dir: Path) -> Path | None:
    """The build folder CURRENT points at, or None when there is no complete build (or CURRENT
    is not a file naming one)."""
    try:
        name = build_name((index_dir / CURRENT).read_bytes()[:200])
    except OSError:
        return None
    folder = index_dir / BUILDS / name if name else None
    return folder if folder and (folder / "meta.json").is_file() else None


def _readable_build(index_dir: Path) -> tuple[Path | None, BuildMeta | None, Sequence[Passage], Sequence[Passage]]:
    """The current build, its meta, its passages in use and every row of its parts (retired ones
    too), or nothing when they are missing or damaged. A build found sound before and not written
    since is trusted and its passages read only where asked (files.open_build); any other is read and
    checked whole, vectors too (reused vectors must be sound, not just well shaped), and stamped."""
    build_dir = current_build(index_dir)
    if build_dir is None:
        return None, None, [], []
    try:
        opened = open_build(build_dir)
        if opened is None:
            checked = read_build(build_dir, check_vectors=True)
            for folder, part in zip(part_folders(build_dir), checked.parts, strict=True):
                write_offsets(folder, unless_sound=True)  # a build from before they were written
                write_columns(folder, part.passages, unless_sound=True)
            stamp_build(build_dir)
            opened = open_build(build_dir)
            if opened is None:  # a stamp that cannot be written (a read-only index): what was read
                return build_dir, checked.meta, checked.passages, [p for part in checked.parts for p in part.passages]
    except (IndexDamaged, *DAMAGE):
        return None, None, [], []
    return build_dir, *opened


def _set_aside_bad_pointer(index_dir: Path) -> list[str]:
    """A CURRENT that is not a file (a folder, say) would refuse every new build: it is renamed
    aside first, with a warning, so that no build is written only to be orphaned."""
    pointer = index_dir / CURRENT
    if not pointer.exists() or pointer.is_file() and not pointer.is_symlink():
        return []
    aside = index_dir / f"{CURRENT}.damaged-{datetime.now(UTC):%Y%m%dT%H%M%S}"
    try:
        pointer.rename(aside)
    except OSError as exc:
        raise WriteFailed(f"{pointer} is not a file and cannot be moved aside: {exc.strerror or exc}") from exc
    return [f"{pointer} was not a file; moved to {aside.name}"]


@contextmanager
def build_lock(index_dir: Path) -> Iterator[None]:
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


def _dense_index(vectors: np.ndarray) -> faiss.Index:
    """Exact inner product (cosine on normalised vectors); HNSW once exact search gets slow."""
    dim = vectors.shape[1]
    index = faiss.IndexFlatIP(dim) if len(vectors) < APPROXIMATE_FROM else faiss.IndexHNSWFlat(
        dim, 32, faiss.METRIC_INNER_PRODUCT
    )
    if len(vectors):
        index.add(vectors)
    return index


def _write_build(index_dir: Path, built: Built, trusted: Path | None, trusted_rows: Sequence[Passage]) -> str:
    """Writes the build and makes it current; as a part added to the previous build when that one
    is `trusted` (found sound, or written, by this engine, whose rows over all its parts are
    `trusted_rows`) and the change is small. Returns its name. A build whose written vectors are
    sound is stamped as such (files.stamp_build): the next change need not read it whole."""
    builds = index_dir / BUILDS
    name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = builds / f".{name}.tmp"
    built = replace(built, meta=built.meta.model_copy(update={"build": name}))
    try:
        previous = current_build(index_dir)
        extend = previous and previous == trusted and not built.whole
        delta = _delta(previous, built, trusted_rows) if extend else None
        if delta is None:
            tmp.mkdir(parents=True)
            sound = _write_part(tmp, built.passages, built.vectors(np.arange(len(built.passages))), built.lexical())
        else:
            sound = _write_delta(tmp, previous, built, delta)
        (tmp / FOLLOWUPS).write_text(built.links.stored(), encoding="utf-8")
        (tmp / "meta.json").write_text(built.meta.stored(), encoding="utf-8")
        if sound:
            stamp_build(tmp)
        for path in tmp.rglob("*"):
            if path.is_file():
                _fsync(path)
    except BaseException as exc:
        shutil.rmtree(tmp, ignore_errors=True)
        if isinstance(exc, OSError):
            raise WriteFailed(f"cannot write the index in {index_dir}: {exc.strerror or exc}") from exc
        raise
    tmp.rename(builds / name)
    pointer = index_dir / f".{CURRENT}.tmp"
    try:
        pointer.write_text(name + "\n")
        _fsync(pointer)
        os.replace(pointer, index_dir / CURRENT)
    except OSError as exc:  # the build would be an orphan nothing names
        shutil.rmtree(builds / name, ignore_errors=True)
        raise WriteFailed(f"cannot write {index_dir / CURRENT}: {exc.strerror or exc}") from exc
    _remove_old_builds(builds, keep={name} | ({previous.name} if previous else set()))
    return name


def _write_part(
    folder: Path, passages: Sequence[Passage], vectors: Vectors, lexical: Lexical, compounds: bool = True
) -> bool:
    """One part's files: passages (and their line offsets), dense index, sentence vectors and table,
    postings, and where each document is; True when its vectors are sound."""
    folder.mkdir(parents=True, exist_ok=True)
    with (folder / "passages.jsonl").open("w", encoding="utf-8") as handle:
        for passage in passages:
            handle.write(json.dumps(asdict(passage), ensure_ascii=False) + "\n")
    write_offsets(folder)
    write_columns(folder, passages)
    (folder / PART_DOCUMENTS).write_text(json.dumps(part_documents(passages), ensure_ascii=False), encoding="utf-8")
    faiss.write_index(_dense_index(vectors.passages), str(folder / "dense.faiss"))
    # float16 halves the largest file; dev ranking is unchanged (README, bench/scale); .npy files are
    # memory-mapped when loaded, so a server holds only the sentences it has scored
    np.save(folder / SENTENCES, vectors.sentences.astype(np.float16, copy=False))
    np.save(folder / SENTENCE_TABLE, vectors.table)
    lexical.save(folder / LEXICAL, compounds)
    return stamp_written(folder, vectors.passages, vectors.sentences)


@dataclass(frozen=True)
class Delta:
    """How a build extends the previous one: the rows it adds as a new part, the rows it retires."""

    rows: np.ndarray  # rows of the build's passages that go into the new part (changed and added documents,
    # and the passages of others holding a word that the changed corpus splits otherwise)
    live: np.ndarray  # the previous build's row flags, the rows of changed and removed documents cleared
    parts: list[str]  # the parts the previous build had added
    splitter: Decompounder  # the compound splitter of the changed corpus (a whole build's)
    word_counts: dict[str, int]  # and its word counts
    again: np.ndarray  # rows of the build's passages added again to be split anew (a subset of rows)
    copied: Vectors  # their vectors, copied from the previous build's files (in the order of again)


def _delta(previous: Path, built: Built, old_rows: Sequence[Passage]) -> Delta | None:
    """The previous build's rows to keep and the new rows, or None when the build is to be written
    whole (another model or ingestion, too many changes since the last whole write, or damage).

    A whole build of the changed corpus may split some compound otherwise (the splitter goes by word
    counts): the kept passages holding such a word are added again in the new part, split anew, and
    their old rows retired, so that every row in use is split as a whole build splits it."""
    try:
        old_meta = read_meta(previous)
        if any(getattr(old_meta, key) != getattr(built.meta, key) for key in ("format", "model", "dim", "params")):
            return None
        folders = part_folders(previous)
        located: dict[str, list[tuple[int, int]]] = {}  # doc -> (first row, passages) in each part holding it
        sizes = []
        for folder in folders:
            documents = json.loads((folder / PART_DOCUMENTS).read_text(encoding="utf-8"))
            for doc, first, count in documents:
                located.setdefault(doc, []).append((sum(sizes) + first, count))
            sizes.append(sum(count for _, _, count in documents))
        total = sum(sizes)
        live = np.load(previous / LIVE) if (previous / LIVE).exists() else np.ones(total, dtype=bool)
        spans = _spans(built.passages)
        if live.shape != (total,) or spans is None or len(old_rows) != total:
            return None
    except (*DAMAGE, IndexDamaged):
        return None
    before = {d.doc: (d.sha256, d.passages) for d in old_meta.documents}
    kept = {
        d.doc for d in built.meta.documents
        if d.passages and before.get(d.doc) == (d.sha256, d.passages)
        and sum(int(live[first : first + count].sum()) for first, count in located.get(d.doc, ())) == d.passages
    }
    was = live.copy()
    for doc, where in located.items():
        if doc not in kept:
            for first, count in where:
                live[first : first + count] = False
    added = [np.arange(*span) for doc, span in spans.items() if doc not in kept]
    rows = np.concatenate(added) if added else np.zeros(0, dtype=np.int64)
    if len(folders) > MAX_DELTAS or not _small(total, sizes[0], live, rows):
        return None
    retired = passages_at(old_rows, np.flatnonzero(was & ~live).tolist())
    splitting = _splitting(previous, retired, passages_at(built.passages, rows))
    if splitting is None:
        return None
    splitter, after, resplit = splitting
    parts = list(zip(folders, sizes, strict=True))
    try:
        moved, again = _to_split_again(parts, live, old_rows, resplit, built.passages, spans, located)
        live[moved] = False
        rows = np.union1d(rows, again).astype(np.int64)
        if not _small(total, sizes[0], live, rows):
            return None
        copied = _copied(parts, moved)
    except (*DAMAGE, IndexDamaged):  # files that cannot be read, a kept passage the new build lacks
        return None
    return Delta(rows, live, [f.name for f in folders[1:]], splitter, after, again, copied)


def _copied(parts: list[tuple[Path, int]], rows: np.ndarray) -> Vectors:
    """The stored vectors of the previous build's rows (numbered across its `parts`, each a folder and
    its rows; ascending) and of their sentences: passages added again are not embedded again."""
    passages: list[np.ndarray] = []
    sentences: list[np.ndarray] = []
    tables: list[np.ndarray] = []
    offset = done = 0
    for folder, size in parts:
        local = rows[(rows >= offset) & (rows < offset + size)] - offset
        offset += size
        if not len(local):
            continue
        dense = read_dense(folder)
        passages.append(np.vstack([dense.reconstruct(row) for row in local.tolist()]))
        table = np.load(folder / SENTENCE_TABLE)
        chosen = np.flatnonzero(np.isin(table[:, 0], local))
        table = table[chosen]
        table[:, 0] = np.searchsorted(local, table[:, 0]) + done
        tables.append(table)
        sentences.append(np.asarray(np.load(folder / SENTENCES, mmap_mode="r")[chosen]))
        done += len(local)
    if not passages:
        return Vectors(np.zeros((0, 0), np.float32), np.zeros((0, 0), np.float16), np.zeros((0, 3), np.int32))
    return Vectors(np.concatenate(passages), np.concatenate(sentences), np.concatenate(tables))


def _small(total: int, first_part: int, live: np.ndarray, rows: np.ndarray) -> bool:
    """Whether the rows added or retired since the last whole write stay under DELTA_SHARE of the rows in use."""
    after, in_use = total + len(rows), int(live.sum()) + len(rows)
    return (after - in_use) + (after - first_part) <= DELTA_SHARE * in_use


def _splitting(
    previous: Path, retired: list[Passage], added: list[Passage]
) -> tuple[Decompounder, dict[str, int], set[str]] | None:
    """The compound splitter and word counts a whole build of the changed corpus would have, and the
    words it splits otherwise than the previous build's splitter (new counts can make another split the
    best: a new word that is the head of a known compound); None when the previous build has no word
    counts (made before they were stored)."""
    try:
        before = json.loads((previous / LEXICAL / WORDS_FILE).read_text(encoding="utf-8"))
        old = Decompounder(json.loads((previous / LEXICAL / COMPOUNDS_FILE).read_text(encoding="utf-8")))
    except (OSError, ValueError):
        return None
    if not isinstance(before, dict):
        return None
    gone, new = (count_words(p.context() for p in rows) for rows in (retired, added))
    counts = Counter(before)
    counts.subtract(gone)
    counts.update(new)
    after = {word: n for word, n in counts.items() if n > 0}
    splitter = compound_splitter(after)
    changed = {w for w in gone.keys() | new.keys() if old.counts.get(w) != splitter.counts.get(w)}
    resplit = {w for w in _holding(after, changed) if w not in STOPWORDS and old.parts(w) != splitter.parts(w)}
    return splitter, after, resplit


def _to_split_again(
    parts: list[tuple[Path, int]], live: np.ndarray, old_rows: Sequence[Passage], resplit: set[str],
    passages: Sequence[Passage], spans: dict[str, tuple[int, int]], located: dict[str, list[tuple[int, int]]],
) -> tuple[np.ndarray, np.ndarray]:
    """The previous build's rows in use that hold a word of `resplit` (`parts`: each part's folder and
    rows; `located`: each document's first row and passages in each part), and the same passages' rows
    in the new build. The postings of each word's stem (every word
    is indexed whole too) name the rows that may hold it; the rows' own words decide."""
    if not resplit:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    stems = set(stem_words(sorted(resplit)))
    candidates = []
    offset = 0
    for folder, part_rows in parts:
        postings = Postings.load(folder / LEXICAL)
        for stem in stems:
            found = postings.postings(stem)
            if found is not None:
                candidates.append(np.asarray(found[0], dtype=np.int64) + offset)
        offset += part_rows
    rows = np.unique(np.concatenate(candidates)) if candidates else np.zeros(0, dtype=np.int64)
    rows = rows[live[rows]].tolist()
    held = [(row, p) for row, p in zip(rows, passages_at(old_rows, rows), strict=True)
            if resplit.intersection(words(p.context()))]
    # a kept document's passages are its rows in use, in order, in both builds: a row's place among them
    # is its place in the new build's span of the document (checked below by the passages' ids)
    in_use: dict[str, np.ndarray] = {}
    again = []
    for row, passage in held:
        if passage.doc not in in_use:
            doc_rows = np.concatenate([np.arange(first, first + count) for first, count in located[passage.doc]])
            in_use[passage.doc] = np.sort(doc_rows[live[doc_rows]])
        again.append(spans[passage.doc][0] + int(np.searchsorted(in_use[passage.doc], row)))
    order = np.argsort(again, kind="stable")
    new_ids = [p.passage_id for p in passages_at(passages, np.array(again, dtype=np.int64)[order])]
    if new_ids != [held[i][1].passage_id for i in order.tolist()]:
        raise ValueError("the new build holds a kept document's passages in another order")
    return np.array([row for row, _ in held], dtype=np.int64), np.array(again, dtype=np.int64)


def _holding(vocabulary: dict[str, int], changed: set[str]) -> set[str]:
    """The words that begin or end with a changed word (or are one): the only ones whose best
    split a change of that word's count can alter."""
    if not changed:
        return set()
    ahead = sorted(vocabulary)
    behind = sorted(word[::-1] for word in vocabulary)
    found: set[str] = set()
    for word in changed:
        for ordered, key, turn in ((ahead, word, False), (behind, word[::-1], True)):
            at = bisect_left(ordered, key)
            while at < len(ordered) and ordered[at].startswith(key):
                found.add(ordered[at][::-1] if turn else ordered[at])
                at += 1
    return found


def _spans(passages: list[Passage]) -> dict[str, tuple[int, int]] | None:
    """Each document's (first row, end row) in the build; None unless each document's passages are together."""
    runs = document_runs(passages)
    spans = {doc: (start, end) for doc, start, end in runs}
    return spans if len(spans) == len(runs) else None


def _write_delta(tmp: Path, previous: Path, built: Built, delta: Delta) -> bool:
    """The previous build's files hard-linked (never modified: older builds share them), the
    changed documents as a new part under deltas/, and which rows are in use; True when the new
    part's vectors are sound."""
    tmp.mkdir(parents=True)
    per_build = {"meta.json", FOLLOWUPS, LIVE, DELTAS, BUILD_CHECKED}
    counted = {Path(LEXICAL) / COMPOUNDS_FILE, Path(LEXICAL) / WORDS_FILE}  # the changed corpus' own, written below
    for path in sorted(previous.rglob("*")):
        relative = path.relative_to(previous)
        if relative.parts[0] in per_build or relative in counted:
            continue
        if path.is_dir():
            (tmp / relative).mkdir()
        else:
            _link_or_copy(path, tmp / relative)
    parts, rows = list(delta.parts), delta.rows
    sound = True
    if len(rows):
        passages = passages_at(built.passages, rows)
        # words split as the whole changed corpus splits them, which is how the kept parts split them too
        lexical = Lexical.build((p.context() for p in passages), delta.splitter)
        parts.append(uuid.uuid4().hex[:12])
        changed = np.setdiff1d(rows, delta.again)  # the changed and added documents' rows: the build's own vectors
        vectors = _joined(changed, built.vectors(changed), delta.again, delta.copied)
        sound = _write_part(tmp / "deltas" / parts[-1], passages, vectors, lexical, compounds=False)
    save_counts(tmp / LEXICAL, delta.splitter, delta.word_counts)
    np.save(tmp / LIVE, np.concatenate([delta.live, np.ones(len(rows), dtype=bool)]))
    (tmp / DELTAS).write_text(json.dumps(parts), encoding="utf-8")
    return sound


def _joined(first_rows: np.ndarray, first: Vectors, second_rows: np.ndarray, second: Vectors) -> Vectors:
    """The vectors of two sets of rows as one, in the order of the rows."""
    if not len(second_rows):
        return first
    rows = np.concatenate([first_rows, second_rows])
    order = np.argsort(rows, kind="stable")
    position = np.empty_like(order)
    position[order] = np.arange(len(order))  # where each passage goes
    table = np.concatenate([first.table, second.table + [len(first_rows), 0, 0]]).astype(np.int32)
    table[:, 0] = position[table[:, 0]]
    by_passage = np.argsort(table[:, 0], kind="stable")  # each passage's sentences stay in their order
    dim = first.passages.shape[1] if len(first_rows) else second.passages.shape[1]
    passages = np.concatenate([first.passages.reshape(-1, dim), second.passages]).astype(np.float32)
    sentences = np.concatenate([first.sentences.reshape(-1, dim), second.sentences]).astype(np.float32)
    return Vectors(passages[order], sentences[by_passage], table[by_passage])


def _read_followups(build_dir: Path) -> FollowupEvidence:
    """A build's follow-up evidence; IndexMissing when it has none, it cannot be read or is of another version."""
    try:
        data = json.loads((build_dir / FOLLOWUPS).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise IndexMissing(
            f"index build {build_dir} has no follow-up links; update it with `rapportsok index`"
        ) from None
    except (OSError, ValueError) as exc:
        raise IndexMissing(
            f"the follow-up links of index build {build_dir} cannot be read ({exc}); "
            "rebuild with `rapportsok index --full`"
        ) from exc
    return FollowupEvidence.read(data, build_dir.name)


def _fsync(path: Path) -> None:
    with path.open("rb") as handle:
        os.fsync(handle.fileno())


def _remove_old_builds(builds: Path, keep: set[str]) -> None:
    """Drops earlier builds and leftovers of killed ones, keeping `keep`: the new build and the one
    current before it, for readers still on it (a server reads its passages lazily). By name, not by
    age: two builds in one second sort by their random suffix. Only what a build names as its own (a
    build name, or one in the making): anything else someone put there (a backup, a copy kept for
    comparison) is never ours to delete."""
    for path in builds.iterdir():
        ours = BUILD_NAME.fullmatch(path.name) or BUILD_IN_MAKING.fullmatch(path.name)
        if ours and path.name not in keep:
            shutil.rmtree(path, ignore_errors=True)


def _link_or_copy(source: Path, target: Path) -> None:
    """A hard link where the file system has them (a part is shared, never modified), else a copy."""
    try:
        os.link(source, target)
    except OSError as exc:
        if exc.errno not in (errno.EPERM, errno.EXDEV, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS):
            raise
        shutil.copy2(source, target)


def _all_scores(index: faiss.IndexFlat | None, query_vector: np.ndarray) -> np.ndarray:
    """The query's inner product with every vector of an exact faiss index; a range search over
    every vector returns them unsorted, 50x faster than asking for the top ntotal."""
    total = index.ntotal if index is not None else 0
    scores = np.full(total, -1.0, dtype=np.float32)
    if total:
        _, found, ids = index.range_search(query_vector.reshape(1, -1), -np.inf)
        scores[ids] = found
    return scores


class LocalEngine:
    """Builds as folders under the index folder; a file lock keeps builders apart."""

    def __init__(self, index_dir: Path) -> None:
        self.index_dir = index_dir
        self.where = str(index_dir)
        self._trusted: Path | None = None  # the build this engine last found sound or wrote: a change may extend it
        self._trusted_rows: Sequence[Passage] = []  # and every row of its parts, retired ones too

    def lock(self) -> AbstractContextManager[None]:
        return build_lock(self.index_dir)

    def current_meta(self) -> BuildMeta | None:
        """The current build's meta (None without a build); IndexDamaged when it cannot be read."""
        build_dir = current_build(self.index_dir)
        return None if build_dir is None else read_meta(build_dir)

    def repair(self) -> list[str]:
        """Clears what would stop a new build being made current; a warning for each thing done."""
        return _set_aside_bad_pointer(self.index_dir)

    def current_followups(self) -> FollowupEvidence | None:
        """The current build's follow-up evidence, or None when there is none readable of this version."""
        build_dir = current_build(self.index_dir)
        try:
            return _read_followups(build_dir) if build_dir else None
        except IndexMissing:
            return None

    def readable(self) -> tuple[BuildMeta | None, Sequence[Passage]]:
        """The current build's meta and passages (read where asked), or nothing when they are missing or damaged."""
        self._trusted, meta, passages, self._trusted_rows = _readable_build(self.index_dir)
        return meta, passages

    def write(self, built: Built) -> str:
        name = _write_build(self.index_dir, built, self._trusted, self._trusted_rows)
        build_dir = self.index_dir / BUILDS / name
        opened = open_build(build_dir)  # stamped as written: nothing is read
        self._trusted, self._trusted_rows = (build_dir, opened[2]) if opened else (None, [])
        return name

    def load(self) -> LocalBuild:
        build_dir = current_build(self.index_dir)
        if build_dir is None:
            raise IndexMissing(f"no usable index in {self.index_dir}; build one with `rapportsok index`")
        return LocalBuild(self.index_dir, build_dir)


class LocalBuild:
    """One build folder, loaded: exact (or HNSW) FAISS over passages, sentence vectors, BM25, over
    the rows in use of its parts (one, unless changes were added as parts of their own)."""

    def __init__(self, index_dir: Path, build_dir: Path) -> None:
        self.index_dir = index_dir
        self.build_dir = build_dir
        # a build found sound whole is not parsed: passages are read where asked (a hit, a document)
        checked = read_build(build_dir, lazy=True)  # a build from before sentence vectors has none, and is still served
        self.meta, self.passages, self.lexical = checked.meta, checked.passages, checked.lexical
        self.columns = checked.columns
        self._followups: FollowupEvidence | None = None
        parts = checked.parts
        self.dense_indexes = [part.dense for part in parts]  # one FAISS index per part, in row order
        self._row_offsets = np.cumsum([0] + [len(part.passages) for part in parts])
        live = checked.live if checked.live is not None else np.ones(self._row_offsets[-1], dtype=bool)
        self._live_rows = np.flatnonzero(live)  # the row of each passage in use among all parts' rows
        self._in_use = np.where(live, np.cumsum(live) - 1, -1)  # and back: a part row's passage, -1 if retired
        # sentences of the passages in use, passage by passage; their vectors stay in the parts' files
        self._vectors = [part.sentence_vectors for part in parts]
        self._sentence_offsets = np.cumsum([0] + [len(part.sentence_table) for part in parts])
        offsets = self._row_offsets[:-1]
        # kept int32 (8M sentences at 1M passages), each part's rows moved by its offset
        table = np.concatenate([part.sentence_table for part in parts]).astype(np.int32, copy=False)
        owner = np.concatenate([part.sentence_table[:, 0] + np.int32(at)
                                for part, at in zip(parts, offsets, strict=True)])
        if checked.live is None:  # every row in use: each row is its own passage
            self._sentence_rows = np.arange(len(table))
            table[:, 0] = owner
        else:
            self._sentence_rows = np.flatnonzero(live[owner])
            table = table[self._sentence_rows]
            table[:, 0] = self._in_use[owner[self._sentence_rows]]
        self.sentence_table = table
        # few sentences: all scored by faiss, not numpy (a BLAS product leaves OpenBLAS threads
        # spinning, which triples the time of the next query embedding on two cores); many: kept
        # as float16 on disk and only the candidate passages' sentences scored (bench/scale)
        self.every_sentence = len(self.passages) <= EVERY_SENTENCE_UP_TO
        self._sentence_index = None
        if self.every_sentence and len(self.sentence_table):
            self._sentence_index = faiss.IndexFlatIP(int(self.meta.dim))
            self._sentence_index.add(self._sentence_vectors_at(self._sentence_rows))
        # written as HNSW past APPROXIMATE_FROM
        self.approximate = any(hasattr(dense, "hnsw") for dense in self.dense_indexes)
        self._sentence_bounds = np.searchsorted(self.sentence_table[:, 0], np.arange(len(self.passages) + 1))
        self._last_candidates: tuple[bytes, tuple[np.ndarray, np.ndarray]] = (b"", (np.zeros(0, np.int64), np.zeros(0)))
        self._last_sentences: tuple[bytes, np.ndarray] = (b"", np.zeros(0, np.float32))

    def followups(self) -> FollowupEvidence:
        """The build's follow-up evidence; IndexMissing when it has none, it cannot be read or is of another version."""
        if self._followups is None:
            self._followups = _read_followups(self.build_dir)
        return self._followups

    def passage_scores(self, query_vector: np.ndarray) -> np.ndarray:
        if self.approximate:
            return scattered(len(self.passages), *self._candidates(query_vector))
        return np.concatenate([_all_scores(dense, query_vector) for dense in self.dense_indexes])[self._live_rows]

    def sentence_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Every sentence's cosine; past EVERY_SENTENCE_UP_TO passages only the nearest passages'
        sentences are scored (all 8 of every passage cost 70 ms a query at 10k passages, seconds at 1M)."""
        if self.every_sentence:
            return _all_scores(self._sentence_index, query_vector)
        key = query_vector.tobytes()
        if self._last_sentences[0] != key:  # a search asks twice (passages, snippets)
            self._last_sentences = (key, self._candidate_sentence_scores(query_vector))
        return self._last_sentences[1]

    def scored_passages(self, query_vector: np.ndarray) -> np.ndarray | None:
        return None if self.every_sentence else self._candidates(query_vector)[0]

    def _candidate_sentence_scores(self, query_vector: np.ndarray) -> np.ndarray:
        passages, _ = self._candidates(query_vector)
        starts = self._sentence_bounds[passages]
        lengths = self._sentence_bounds[passages + 1] - starts
        rows = span_rows(starts, lengths)
        values = np.einsum("ij,j->i", self._sentence_vectors_at(self._sentence_rows[rows]), query_vector)
        return scattered(len(self.sentence_table), rows, values)

    def _sentence_vectors_at(self, rows: np.ndarray) -> np.ndarray:
        """The vectors of sentences numbered across all parts, read from the parts' files, as float32."""
        vectors = np.empty((len(rows), int(self.meta.dim)), dtype=np.float32)
        part_of = np.searchsorted(self._sentence_offsets, rows, side="right") - 1
        for part in np.unique(part_of):
            chosen = part_of == part
            vectors[chosen] = self._vectors[part][rows[chosen] - self._sentence_offsets[part]]
        return vectors

    def _candidates(self, query_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The CANDIDATES passages in use nearest the query, and their cosines; the last query's are
        kept, as a search asks for them three times (passages, sentences, snippets)."""
        key = query_vector.tobytes()
        if self._last_candidates[0] != key:
            self._last_candidates = (key, self._nearest(query_vector))
        return self._last_candidates[1]

    def _nearest(self, query_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """HNSW's nearest in a part searched approximately, every row of a part searched exactly."""
        found_rows, found_values = [], []
        for dense, offset in zip(self.dense_indexes, self._row_offsets[:-1], strict=True):
            if hasattr(dense, "hnsw"):
                dense.hnsw.efSearch = CANDIDATES
                values, ids = dense.search(query_vector.reshape(1, -1), CANDIDATES)
                keep = ids[0] >= 0
                rows, values = ids[0][keep], values[0][keep]
            else:
                values = _all_scores(dense, query_vector)
                rows = np.arange(len(values))
            found_rows.append(rows + offset)
            found_values.append(values)
        rows = self._in_use[np.concatenate(found_rows)]
        values = np.concatenate(found_values)[rows >= 0]
        rows = rows[rows >= 0]
        if len(rows) > CANDIDATES:
            top = np.argpartition(-values, CANDIDATES - 1)[:CANDIDATES]
            rows, values = rows[top], values[top]
        return rows, values

    def is_current(self) -> bool:
        """False once another build has been swapped in on disk."""
        return current_build(self.index_dir) == self.build_dir
