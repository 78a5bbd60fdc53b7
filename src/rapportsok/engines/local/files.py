"""Reading a build's files and checking that they agree with each other: damage of any kind is
IndexDamaged (which `rapportsok index` repairs), never a traceback from deep inside a loader."""

from __future__ import annotations

import json
import os
import re
import tokenize
import zipfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import faiss
import numpy as np
import orjson
from pydantic import TypeAdapter, ValidationError

from ...errors import IndexDamaged
from ...records import Passage
from ...text.bm25 import Lexical
from ..base import BuildMeta, Columns, document_runs

SENTENCES = "sentences.npy"  # sentence vectors (float16), memory-mapped when loaded
SENTENCE_TABLE = "sentence_table.npy"  # (passage row, start, end) of each sentence
LEXICAL = "lexical"  # folder of the saved BM25 index inside a build
DELTAS = "deltas.json"  # the parts later changes added (folders under deltas/), in order; absent: none
VECTORS_CHECKED = "vectors-checked.json"  # per part: the stamp of its vector files when their values were found sound
PASSAGES_CHECKED = "passages-checked.json"  # per part: the stamp of passages.jsonl when every line was found sound
VECTOR_FILES = ("dense.faiss", "sentences.npy")
LIVE = "live.npy"  # which rows of the parts are in use, one flag a row; absent: all of them
PART_NAME = re.compile(r"[0-9a-f]{12}")
PART_DOCUMENTS = "documents.json"  # [doc, first row, passages] of each document of a part, for changes
OFFSETS = "passage-offsets.npy"  # where each line of passages.jsonl starts, and the file's end: a row read alone
COLUMNS = "columns.npz"  # what search needs of every passage of a part, as arrays (base.Columns)
BUILD_CHECKED = "build-checked.json"  # the stamp of every file of a build when all were found sound together
BUILD_NAME = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")  # what CURRENT may name
# what a truncated, edited or foreign file raises from json, numpy, faiss or pydantic
# (numpy parses a .npy header as a Python literal: a damaged one raises SyntaxError or TokenError)
DAMAGE = (
    OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RuntimeError, EOFError,
    RecursionError, SyntaxError, tokenize.TokenError, zipfile.BadZipFile, ValidationError,
)
UNIT = 0.01  # every stored vector is L2-normalised: a norm further than this from 1 is damage (float16: 6e-5)
CHECK_ROWS = 65_536  # vectors checked at a time, so checking a large part never holds it all in memory
READ_ROWS = 20_000  # passages parsed at a time when stored passages are read in order
RECENT_ROWS = 1024  # passages read one at a time kept (a Passage is immutable)


_PASSAGE = TypeAdapter(Passage)


@dataclass(frozen=True)
class Part:
    """The files of one part of a build: the whole build's, or those of the passages a change added."""

    passages: Sequence[Passage]  # every row, in use or not
    dense: faiss.Index
    sentence_vectors: np.ndarray  # memory-mapped
    sentence_table: np.ndarray  # (row in the part, start, end) of each sentence


@dataclass(frozen=True)
class Build:
    """Everything one build holds, read and checked."""

    meta: BuildMeta
    parts: list[Part]
    live: np.ndarray | None  # which rows of the parts, numbered one after the other, are in use (None: all)
    passages: Sequence[Passage]  # the rows in use, in order
    lexical: Lexical
    columns: Columns  # of the rows in use


def build_name(pointer: bytes) -> str | None:
    """The build a CURRENT file names, or None when its content is not a build name."""
    name = pointer.decode("ascii", "replace").strip()
    return name if BUILD_NAME.fullmatch(name) else None


def read_meta(build: Path) -> BuildMeta:
    """meta.json, checked: the keys and types a build writes, a document entry per document."""
    try:
        meta = BuildMeta.model_validate_json((build / "meta.json").read_bytes())
        if meta.build != build.name:
            raise ValueError(f"meta.json names build {meta.build!r}")
    except DAMAGE as exc:
        raise IndexDamaged(build, _reason("meta.json", exc)) from exc
    return meta


def read_build(build: Path, check_vectors: bool = False, lazy: bool = False) -> Build:
    """Every file of a build, checked against meta.json and against each other; with `check_vectors`
    (a builder about to reuse the build) every vector too, which a server loading it skips: random
    bytes or NaN in a vector file keep their shape, and only the values show the damage. With `lazy`
    (a server) a build stamped sound whole (open_build) is not parsed: its passages are read where
    asked, and what search needs of each comes from the parts' columns."""
    meta = read_meta(build)
    opened = open_build(build) if lazy else None
    try:
        folders = part_folders(build)
        if opened is None:
            parts = [_read_part(folder, meta) for folder in folders]
        else:
            stored = zip(folders, opened[2].parts(), strict=True)
            parts = [_read_part(folder, meta, rows) for folder, rows in stored]
        if check_vectors:
            for folder, part in zip(folders, parts, strict=True):
                _check_vectors_once(folder, part)
        rows = [len(part.passages) for part in parts]
        live = _read_live(build, sum(rows))
        if opened is None:
            passages = [p for part in parts for p in part.passages]
            if live is not None:
                passages = [p for p, used in zip(passages, live.tolist(), strict=True) if used]
            _check_passages(passages, meta)
            columns = Columns.of(passages)
        else:
            passages = opened[1]
            in_use = None if live is None else np.flatnonzero(live)
            columns = Columns.joined([read_columns(f, n) for f, n in zip(folders, rows, strict=True)], in_use)
        lexical = Lexical.load([folder / LEXICAL for folder in folders], live)
        lexical.check(rows)
    except DAMAGE as exc:
        if opened is not None:  # the stamp did not see it: parsed and checked whole, which names any damage
            return read_build(build, check_vectors)
        raise IndexDamaged(build, _reason("", exc)) from exc
    return Build(meta, parts, live, passages, lexical, columns)


def write_columns(folder: Path, passages: Sequence[Passage], unless_sound: bool = False) -> None:
    """COLUMNS of a part (written as a new file); `unless_sound`: only when missing or not fitting."""
    if unless_sound:
        try:
            read_columns(folder, len(passages))
            return
        except DAMAGE:
            pass
    columns = Columns.of(passages)
    written = folder / f".{COLUMNS}.tmp"
    with written.open("wb") as handle:
        np.savez(
            handle, ids=columns.ids, doc_names=np.array(columns.doc_names, dtype=str), doc_codes=columns.doc_codes,
            footnote=columns.footnote, proposal=columns.proposal, line_start=columns.line_start, sheet=columns.sheet,
            paged=columns.paged, report_docs=np.array(list(columns.reports), dtype=str),
            reports=np.array(list(columns.reports.values()), dtype=str),
        )
    os.replace(written, folder / COLUMNS)


def read_columns(folder: Path, rows: int) -> Columns:
    """A part's COLUMNS, checked against its rows; ValueError (or another of DAMAGE) when they do not fit."""
    with np.load(folder / COLUMNS) as data:
        arrays = {name: data[name] for name in data.files}
    per_row = ("ids", "doc_codes", "footnote", "proposal", "line_start", "sheet", "paged")
    names = arrays["doc_names"].tolist()
    if any(len(arrays[name]) != rows for name in per_row) or (rows and int(arrays["doc_codes"].max()) >= len(names)) \
            or arrays["ids"].dtype.kind != "S":
        raise ValueError(f"{COLUMNS} does not fit the part's {rows} passages")
    reports = dict(zip(arrays["report_docs"].tolist(), arrays["reports"].tolist(), strict=True))
    return Columns(doc_names=names, reports=reports, **{name: arrays[name] for name in per_row})


def _check_vectors_once(folder: Path, part: Part) -> None:
    """Checks a part's vector values unless they were found sound before and their files have not been
    written since: a stamp (size, modification time and inode of each file) records the check, so a
    builder reusing a build reads only the vectors of the parts that are new or were touched."""
    stamp = _stamp(folder, VECTOR_FILES)
    if _stamped(folder / VECTORS_CHECKED, stamp):
        return
    _check_unit(folder / "dense.faiss", part.dense.reconstruct_n(0, part.dense.ntotal))
    _check_unit(folder / SENTENCES, part.sentence_vectors)
    _record_stamp(folder / VECTORS_CHECKED, stamp)


def stamp_written(folder: Path, passages: np.ndarray, sentences: np.ndarray) -> bool:
    """Records a part this engine has just written as sound: its passages, and its vectors (`passages`,
    `sentences`) when they are of unit length (then True), so that neither is checked again until written anew."""
    _record_stamp(folder / PASSAGES_CHECKED, _stamp(folder, ("passages.jsonl",)))
    try:
        _check_unit(folder / "dense.faiss", passages)
        _check_unit(folder / SENTENCES, sentences)
    except ValueError:  # found, and named, when a builder reuses them
        return False
    _record_stamp(folder / VECTORS_CHECKED, _stamp(folder, VECTOR_FILES))
    return True


def _stamped(path: Path, stamp: list[list[int]]) -> bool:
    try:
        return json.loads(path.read_text(encoding="utf-8")) == stamp
    except (OSError, ValueError):
        return False


def _record_stamp(path: Path, stamp: list[list[int]]) -> None:
    """Written as a new file, not in place: a hard link to the old one may belong to an older build."""
    written = path.with_name(f".{path.name}.tmp")
    try:
        written.write_text(json.dumps(stamp), encoding="utf-8")
        os.replace(written, path)
    except OSError:  # a read-only index: checked again next time
        written.unlink(missing_ok=True)


def _stamp(folder: Path, names: tuple[str, ...]) -> list[list[int]]:
    """(size, modification time, inode) of a part's files: writing a file, even in place, changes it."""
    stats = [(folder / name).stat() for name in names]
    return [[s.st_size, s.st_mtime_ns, s.st_ino] for s in stats]


def _check_unit(path: Path, vectors: np.ndarray) -> None:
    for start in range(0, len(vectors), CHECK_ROWS):
        norms = np.linalg.norm(np.asarray(vectors[start : start + CHECK_ROWS], dtype=np.float32), axis=1)
        if not np.all(np.abs(norms - 1) <= UNIT):  # NaN fails this too
            raise ValueError(f"{path.name} holds vectors that are not unit length (damaged)")


def part_folders(build: Path) -> list[Path]:
    """The folders of a build's parts: the build folder, then each part a change added."""
    if not (build / DELTAS).exists():
        return [build]
    names = json.loads((build / DELTAS).read_text(encoding="utf-8"))
    if not isinstance(names, list) or not all(isinstance(n, str) and PART_NAME.fullmatch(n) for n in names):
        raise ValueError(f"{DELTAS} is not a list of part names")
    return [build] + [build / "deltas" / name for name in names]


def _read_live(build: Path, rows: int) -> np.ndarray | None:
    if not (build / LIVE).exists():
        return None
    live = np.load(build / LIVE)
    if live.dtype != np.bool_ or live.shape != (rows,):
        raise ValueError(f"{LIVE} flags {live.shape} rows of {live.dtype}, not {rows}")
    return live


def _read_part(folder: Path, meta: BuildMeta, stored: StoredPassages | None = None) -> Part:
    """A part's files; its passages parsed and checked against documents.json, or `stored` (read where asked)."""
    passages = _read_passages(folder) if stored is None else stored
    dense = read_dense(folder)
    if (dense.ntotal, dense.d) != (len(passages), meta.dim):
        raise ValueError(f"dense.faiss holds {dense.ntotal} vectors of {dense.d}, not {len(passages)} of {meta.dim}")
    if meta.format >= 3:
        vectors, table = _read_sentences(folder, len(passages), meta.dim)
    else:  # a build from before sentence vectors
        vectors, table = np.zeros((0, meta.dim), np.float32), np.zeros((0, 3), np.int32)
    if stored is None and json.loads((folder / PART_DOCUMENTS).read_text(encoding="utf-8")) != part_documents(passages):
        raise ValueError(f"{PART_DOCUMENTS} does not list the passages' documents")
    return Part(passages, dense, vectors, table)


def read_dense(folder: Path) -> faiss.Index:
    """A part's dense.faiss with its vectors memory-mapped, not copied (faiss checks the sizes it reads):
    loading an HNSW index of 1M passages took seconds, and a change reads a few of its vectors."""
    return faiss.read_index(str(folder / "dense.faiss"), faiss.IO_FLAG_MMAP_IFC)


def _read_passages(folder: Path) -> list[Passage]:
    """passages.jsonl: checked line by line (a damaged line is named) unless its stamp says it was
    found sound, or written by this engine, and has not been written since; then only parsed (twice
    as fast: loading a large build is mostly this)."""
    path = folder / "passages.jsonl"
    stamp = _stamp(folder, ("passages.jsonl",))
    if _stamped(folder / PASSAGES_CHECKED, stamp):
        try:
            with path.open("rb") as handle:
                return [Passage(**orjson.loads(line)) for line in handle]
        except DAMAGE:  # damage the stamp did not see: read again line by line, saying where
            pass
    with path.open(encoding="utf-8") as handle:
        passages = [_PASSAGE.validate_json(line) for line in handle]
    _record_stamp(folder / PASSAGES_CHECKED, stamp)
    return passages


def part_documents(passages: list[Passage]) -> list[list]:
    """[doc, first row, passages] of each run of one document's passages (documents.json)."""
    return [[doc, start, end - start] for doc, start, end in document_runs(passages)]


def _check_passages(passages: list[Passage], meta: BuildMeta) -> None:
    """As many passages per document as meta.json counts, ids unique."""
    counts: dict[str, int] = {}
    for passage in passages:
        counts[passage.doc] = counts.get(passage.doc, 0) + 1
    expected = {d.doc: d.passages for d in meta.documents if d.passages}
    if counts != expected:
        raise ValueError(f"passages.jsonl holds {len(passages)} passages, meta.json counts {sum(expected.values())}")
    if len({p.passage_id for p in passages}) != len(passages):
        raise ValueError("passages.jsonl repeats a passage id")


def _read_sentences(build: Path, passages: int, dim: int) -> tuple[np.ndarray, np.ndarray]:
    """Sentence vectors and their (passage row, start, end) table, stored passage by passage."""
    vectors, table = np.load(build / SENTENCES, mmap_mode="r"), np.load(build / SENTENCE_TABLE)
    if (
        vectors.dtype not in (np.float32, np.float16) or vectors.ndim != 2 or vectors.shape[1:] != (dim,)
        or table.shape != (len(vectors), 3)
    ):
        raise ValueError(f"{SENTENCES} has vectors {vectors.shape} and table {table.shape}")
    rows = table[:, 0]
    ordered = not np.any(np.diff(rows) < 0) and not np.any(table[:, 1] >= table[:, 2])
    if len(table) and (rows.min() < 0 or rows.max() >= passages or not ordered):
        raise ValueError(f"{SENTENCES} has a table that does not fit the passages")
    return vectors, table.astype(np.int32, copy=False)


def _reason(name: str, exc: BaseException) -> str:
    """One line: which file, and what is wrong with it."""
    if isinstance(exc, ValidationError):
        error = exc.errors(include_input=False)[0]
        text = f"{'.'.join(map(str, error['loc'])) or 'content'}: {error['msg']}"
    else:
        text = (str(exc).splitlines() or [""])[0] or type(exc).__name__
    return f"{name}: {text}" if name else text


def write_offsets(folder: Path, unless_sound: bool = False) -> None:
    """OFFSETS of a part: where each line of its passages.jsonl starts, and where the file ends (written
    as a new file: the old one may be an older build's too); `unless_sound`: only when missing or not
    fitting the file."""
    path = folder / "passages.jsonl"
    if unless_sound:
        try:
            offsets = np.load(folder / OFFSETS)
            if offsets.dtype == np.int64 and offsets.ndim == 1 and len(offsets) and offsets[-1] == path.stat().st_size:
                return
        except DAMAGE:
            pass
    size = path.stat().st_size
    ends = [np.zeros(1, dtype=np.int64)]
    if size:
        text = np.memmap(path, dtype=np.uint8, mode="r")
        for start in range(0, size, 1 << 26):  # a chunk at a time: a comparison of the whole would be its size again
            ends.append(np.flatnonzero(text[start : start + (1 << 26)] == ord("\n")).astype(np.int64) + start + 1)
        del text
    offsets = np.concatenate(ends)
    if offsets[-1] != size:
        offsets = np.append(offsets, size)  # a last line without its newline
    written = folder / f".{OFFSETS}.tmp"
    with written.open("wb") as handle:
        np.save(handle, offsets)
    os.replace(written, folder / OFFSETS)


def build_files(build: Path) -> list[str]:
    """Every file of a build (its own and its parts'), by relative name, the check stamps aside."""
    return sorted(
        str(path.relative_to(build)) for path in build.rglob("*")
        if path.is_file() and not path.name.endswith(("-checked.json", ".tmp"))
    )


def stamp_build(build: Path) -> None:
    """Records every file of the build as sound together (BUILD_CHECKED): until one of them is written
    again (even in place) or a file comes or goes, a builder trusts the build without reading it whole."""
    names = build_files(build)
    _record_stamp(build / BUILD_CHECKED, [names, _stamp(build, tuple(names))])


def open_build(build: Path) -> tuple[BuildMeta, StoredPassages, StoredPassages] | None:
    """A build found sound whole before whose files have not been written since (BUILD_CHECKED): its
    meta, its passages in use and every row of its parts, parsed only where asked; None when it is not
    stamped so (read_build reads and checks it whole). What is cheap is still checked: the meta, each
    part's documents against its line offsets, and each document's passages in use against the meta."""
    names = build_files(build)
    try:
        if not _stamped(build / BUILD_CHECKED, [names, _stamp(build, tuple(names))]):
            return None
    except OSError:  # a file went away meanwhile
        return None
    meta = read_meta(build)
    try:
        folders = part_folders(build)
        entries = [json.loads((folder / PART_DOCUMENTS).read_text(encoding="utf-8")) for folder in folders]
        every = StoredPassages(build, folders, entries)
        live = _read_live(build, len(every))
        in_use = every if live is None else every.at(np.flatnonzero(live))
        counts: dict[str, int] = {}
        for doc, start, end in in_use.document_runs():
            counts[doc] = counts.get(doc, 0) + end - start
        if counts != {d.doc: d.passages for d in meta.documents if d.passages}:
            raise ValueError(f"the parts hold {len(in_use)} passages in use, meta.json counts another number")
    except DAMAGE as exc:
        raise IndexDamaged(build, _reason("", exc)) from exc
    return meta, in_use, every


class StoredPassages(Sequence[Passage]):
    """Some rows (numbered across a build's parts) of its stored passages, parsed from passages.jsonl
    only when asked, by its line offsets: a change reads the documents it touches, not the corpus.
    Damage found while reading is IndexDamaged, and the build's stamp is dropped, so that the next
    builder reads and checks it whole."""

    def __init__(self, build: Path, folders: list[Path], entries: list[list]) -> None:
        """Every row of the parts in `folders`, whose documents.json are `entries`."""
        self._build, self._folders, self._entries = build, folders, entries
        self._starts = np.cumsum([0, *(sum(count for _, _, count in part) for part in entries)])
        self._rows = np.arange(self._starts[-1])
        self._offsets: dict[int, np.ndarray] = {}  # each part's, loaded when first read
        self._codes: list[tuple[np.ndarray, list[str]]] = []  # each row's document, numbered; made once
        self._recent: dict[int, Passage] = {}  # rows read one at a time (a search's hits, each asked twice)

    def at(self, positions: np.ndarray | slice) -> StoredPassages:
        """These positions of the sequence, as a sequence of their own (nothing read; the rest shared)."""
        view = object.__new__(StoredPassages)
        view.__dict__.update(self.__dict__)
        view._rows = self._rows[positions]
        return view

    def __len__(self) -> int:
        return len(self._rows)

    @overload
    def __getitem__(self, index: int) -> Passage: ...
    @overload
    def __getitem__(self, index: slice) -> StoredPassages: ...
    def __getitem__(self, index: int | slice) -> Passage | StoredPassages:
        if isinstance(index, slice):
            return self.at(index)
        row = int(self._rows[index])  # numpy raises IndexError past the end
        if row not in self._recent:
            if len(self._recent) >= RECENT_ROWS:
                self._recent.clear()
            self._recent[row] = self._read(np.array([row]))[0]
        return self._recent[row]

    def __iter__(self) -> Iterator[Passage]:
        for start in range(0, len(self._rows), READ_ROWS):
            yield from self._read(self._rows[start : start + READ_ROWS])

    def parts(self) -> list[StoredPassages]:
        """Each part's rows (of a sequence of every row)."""
        return [self.at(np.arange(start, end)) for start, end in zip(self._starts[:-1], self._starts[1:], strict=True)]

    def document_runs(self) -> list[tuple[str, int, int]]:
        """(doc, first, end) of each run of one document's passages, from the parts' documents.json
        (nothing parsed): as base.document_runs finds them."""
        if not self._codes:
            names: dict[str, int] = {}
            every = np.concatenate([np.zeros(0, np.int64)] + [
                np.repeat([names.setdefault(doc, len(names)) for doc, _, _ in part], [count for _, _, count in part])
                for part in self._entries
            ])
            self._codes.append((every, list(names)))
        every, docs = self._codes[0]
        codes = every[self._rows]
        bounds = [0, *(np.flatnonzero(np.diff(codes)) + 1).tolist(), len(codes)] if len(codes) else [0]
        return [(docs[codes[start]], start, end) for start, end in zip(bounds, bounds[1:], strict=False)]

    def _read(self, rows: np.ndarray) -> list[Passage]:
        found: list[Passage | None] = [None] * len(rows)
        part_of = np.searchsorted(self._starts, rows, side="right") - 1
        try:
            for part in np.unique(part_of).tolist():
                chosen = np.flatnonzero(part_of == part)
                local = rows[chosen] - self._starts[part]
                order = np.argsort(local, kind="stable")
                chosen, local = chosen[order], local[order]
                offsets = self._part_offsets(part)
                with (self._folders[part] / "passages.jsonl").open("rb") as handle:
                    bounds = [0, *(np.flatnonzero(np.diff(local) != 1) + 1).tolist(), len(local)]
                    for start, end in zip(bounds, bounds[1:], strict=False):  # consecutive rows read at once
                        first, last = int(local[start]), int(local[end - 1])
                        handle.seek(int(offsets[first]))
                        lines = handle.read(int(offsets[last + 1] - offsets[first])).splitlines()
                        if len(lines) != end - start:
                            raise ValueError(f"passages.jsonl has no line {first + len(lines)}")
                        for at, line in zip(chosen[start:end].tolist(), lines, strict=True):
                            found[at] = Passage(**orjson.loads(line))
        except DAMAGE as exc:
            (self._build / BUILD_CHECKED).unlink(missing_ok=True)
            raise IndexDamaged(self._build, _reason("passages.jsonl", exc)) from exc
        return found  # type: ignore[return-value]

    def _part_offsets(self, part: int) -> np.ndarray:
        if part not in self._offsets:
            offsets = np.load(self._folders[part] / OFFSETS)
            rows = self._starts[part + 1] - self._starts[part]
            if offsets.shape != (rows + 1,) or offsets.dtype != np.int64:
                raise ValueError(f"{OFFSETS} has {offsets.shape} offsets, not {rows + 1}")
            self._offsets[part] = offsets
        return self._offsets[part]
