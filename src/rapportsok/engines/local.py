"""The local engine: each build a folder of files (FAISS, sentence vectors, BM25), named by CURRENT."""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import asdict, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from ..errors import BuildLocked, IndexMissing, WriteFailed
from ..records import Passage
from ..validate import LEXICAL, SENTENCE_TABLE, SENTENCES, IndexDamaged, build_name, read_build, read_meta
from . import Built, scattered

CURRENT = "CURRENT"  # names the build folder in use; replaced atomically
BUILDS = "builds"
FOLLOWUPS = "followups.json"  # evidence for the follow-up links of each proposal (followup.py)
APPROXIMATE_FROM = 50_000  # passages; below this exact search is faster than building a graph
EVERY_SENTENCE_UP_TO = 1000  # passages; past this only the sentences of the nearest CANDIDATES passages are scored
CANDIDATES = 200  # nearest passages whose sentences are scored, and what HNSW returns (as the PostgreSQL engine)

def current_build(index_dir: Path) -> Path | None:
    """The build folder CURRENT points at, or None when there is no complete build (or CURRENT
    is not a file naming one)."""
    try:
        name = build_name((index_dir / CURRENT).read_bytes()[:200])
    except OSError:
        return None
    folder = index_dir / BUILDS / name if name else None
    return folder if folder and (folder / "meta.json").is_file() else None


def _readable_build(index_dir: Path) -> tuple[Path | None, dict | None, list[Passage]]:
    """The current build, its meta and passages, or nothing when they are missing or damaged."""
    build_dir = current_build(index_dir)
    if build_dir is None:
        return None, None, []
    try:
        checked = read_build(build_dir)
    except IndexDamaged:
        return None, None, []
    return build_dir, checked.meta, checked.passages


def _set_aside_bad_pointer(index_dir: Path) -> list[str]:
    """A CURRENT that is not a file (a folder, say) would refuse every new build: it is renamed
    aside first, with a warning, so that no build is written only to be orphaned."""
    pointer = index_dir / CURRENT
    if not pointer.exists() or pointer.is_file() and not pointer.is_symlink():
        return []
    aside = index_dir / f"{CURRENT}.damaged-{datetime.now(timezone.utc):%Y%m%dT%H%M%S}"
    try:
        pointer.rename(aside)
    except OSError as exc:
        raise WriteFailed(f"{pointer} is not a file and cannot be moved aside: {exc.strerror or exc}") from exc
    return [f"{pointer} was not a file; moved to {aside.name}"]


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


def _dense_index(vectors: np.ndarray) -> faiss.Index:
    """Exact inner product (cosine on normalised vectors); HNSW once exact search gets slow."""
    dim = vectors.shape[1]
    index = faiss.IndexFlatIP(dim) if len(vectors) < APPROXIMATE_FROM else faiss.IndexHNSWFlat(
        dim, 32, faiss.METRIC_INNER_PRODUCT
    )
    if len(vectors):
        index.add(vectors)
    return index


def _write_build(index_dir: Path, built: Built) -> str:
    builds = index_dir / BUILDS
    name = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%S") + "-" + uuid.uuid4().hex[:6]
    tmp = builds / f".{name}.tmp"
    try:
        _write_files(tmp, replace(built, meta=built.meta | {"build": name}))
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
    _remove_old_builds(builds, keep={name})
    return name


def _write_files(tmp: Path, built: Built) -> None:
    tmp.mkdir(parents=True)
    with (tmp / "passages.jsonl").open("w", encoding="utf-8") as handle:
        for passage in built.passages:
            handle.write(json.dumps(asdict(passage), ensure_ascii=False) + "\n")
    faiss.write_index(_dense_index(built.vectors), str(tmp / "dense.faiss"))
    # float16 halves the largest file; dev ranking is unchanged (README, bench/scale); .npy files are
    # memory-mapped when loaded, so a server holds only the sentences it has scored
    np.save(tmp / SENTENCES, built.sentences.astype(np.float16, copy=False))
    np.save(tmp / SENTENCE_TABLE, built.table)
    built.lexical.save(tmp / LEXICAL)
    (tmp / FOLLOWUPS).write_text(json.dumps(built.links, ensure_ascii=False, separators=(",", ":")), encoding="utf-8")
    (tmp / "meta.json").write_text(json.dumps(built.meta, ensure_ascii=False, indent=1), encoding="utf-8")
    for path in tmp.rglob("*"):
        if path.is_file():
            _fsync(path)


def _read_followups(build_dir: Path) -> dict[str, Any]:
    """A build's follow-up evidence as followup.compute wrote it."""
    data = json.loads((build_dir / FOLLOWUPS).read_text(encoding="utf-8"))
    if not isinstance(data, dict):
        raise ValueError(f"{FOLLOWUPS} is not an object")
    return data


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

    def lock(self) -> AbstractContextManager[None]:
        return _build_lock(self.index_dir)

    def has_build(self) -> bool:
        """True when a build is current, readable or not."""
        return current_build(self.index_dir) is not None

    def current_meta(self) -> dict | None:
        """The current build's meta (None without a build); IndexDamaged when it cannot be read."""
        build_dir = current_build(self.index_dir)
        return None if build_dir is None else read_meta(build_dir)

    def repair(self) -> list[str]:
        """Clears what would stop a new build being made current; a warning for each thing done."""
        return _set_aside_bad_pointer(self.index_dir)

    def current_followups(self) -> dict | None:
        """The current build's follow-up evidence, or None when there is none readable."""
        build_dir = current_build(self.index_dir)
        try:
            return _read_followups(build_dir) if build_dir else None
        except (OSError, ValueError):
            return None

    def readable(self) -> tuple[dict | None, list[Passage]]:
        """The current build's meta and passages, or nothing when they are missing or damaged."""
        _, meta, passages = _readable_build(self.index_dir)
        return meta, passages

    def write(self, built: Built) -> str:
        return _write_build(self.index_dir, built)

    def load(self) -> LocalBuild:
        build_dir = current_build(self.index_dir)
        if build_dir is None:
            raise IndexMissing(f"no usable index in {self.index_dir}; build one with `rapportsok index`")
        return LocalBuild(self.index_dir, build_dir)


class LocalBuild:
    """One build folder, loaded: exact (or HNSW) FAISS over passages, sentence vectors, BM25."""

    def __init__(self, index_dir: Path, build_dir: Path) -> None:
        self.index_dir = index_dir
        self.build_dir = build_dir
        checked = read_build(build_dir)  # a build from before sentence vectors has none, and is still served
        self.meta, self.passages, self.dense = checked.meta, checked.passages, checked.dense
        self.lexical = checked.lexical
        vectors, self.sentence_table = checked.sentence_vectors, checked.sentence_table
        self._followups: dict | None = None
        # few sentences: all scored by faiss, not numpy (a BLAS product leaves OpenBLAS threads
        # spinning, which triples the time of the next query embedding on two cores); many: kept
        # as float16 and only the candidate passages' sentences scored (bench/scale)
        self.every_sentence = len(self.passages) <= EVERY_SENTENCE_UP_TO
        self._sentence_vectors = vectors.astype(np.float16, copy=False)
        self._sentence_index = faiss.IndexFlatIP(vectors.shape[1]) if self.every_sentence and len(vectors) else None
        if self._sentence_index is not None:
            self._sentence_index.add(vectors.astype(np.float32))
        self.approximate = hasattr(self.dense, "hnsw")  # written as HNSW past APPROXIMATE_FROM
        self._sentence_bounds = np.searchsorted(self.sentence_table[:, 0], np.arange(len(self.passages) + 1))

    def followups(self) -> dict[str, Any]:
        """The build's follow-up evidence; IndexMissing when it has none or it cannot be read."""
        if self._followups is None:
            try:
                self._followups = _read_followups(self.build_dir)
            except FileNotFoundError:
                raise IndexMissing(
                    f"index build {self.build_dir} has no follow-up links; update it with `rapportsok index`"
                ) from None
            except (OSError, ValueError) as exc:
                raise IndexMissing(
                    f"the follow-up links of index build {self.build_dir} cannot be read ({exc}); "
                    "rebuild with `rapportsok index --full`"
                ) from exc
        return self._followups

    def passage_scores(self, query_vector: np.ndarray) -> np.ndarray:
        if self.approximate:
            return scattered(len(self.passages), *self._candidates(query_vector))
        return _all_scores(self.dense, query_vector)

    def sentence_scores(self, query_vector: np.ndarray) -> np.ndarray:
        """Every sentence's cosine; past EVERY_SENTENCE_UP_TO passages only the nearest passages'
        sentences are scored (all 8 of every passage cost 70 ms a query at 10k passages, seconds at 1M)."""
        if self.every_sentence:
            return _all_scores(self._sentence_index, query_vector)
        passages, _ = self._candidates(query_vector)
        starts = self._sentence_bounds[passages]
        lengths = self._sentence_bounds[passages + 1] - starts
        rows = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(lengths.sum())  # their spans
        values = np.einsum("ij,j->i", self._sentence_vectors[rows].astype(np.float32), query_vector)
        return scattered(len(self.sentence_table), rows, values)

    def _candidates(self, query_vector: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The CANDIDATES passages nearest the query, and their cosines."""
        if not self.approximate:
            scores = _all_scores(self.dense, query_vector)
            top = np.argpartition(-scores, min(CANDIDATES, len(scores) - 1))[:CANDIDATES]
            return top, scores[top]
        self.dense.hnsw.efSearch = CANDIDATES
        found, ids = self.dense.search(query_vector.reshape(1, -1), CANDIDATES)
        keep = ids[0] >= 0
        return ids[0][keep], found[0][keep]

    def is_current(self) -> bool:
        """False once another build has been swapped in on disk."""
        return current_build(self.index_dir) == self.build_dir
