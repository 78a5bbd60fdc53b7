"""Reading a build's files and checking that they agree with each other: damage of any kind is
IndexDamaged (which `rapportsok index` repairs), never a traceback from deep inside a loader."""

from __future__ import annotations

import json
import re
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from .errors import IndexMissing
from .lexical import Lexical
from .records import Document, Passage

SENTENCES = "sentences.npy"  # sentence vectors (float16), memory-mapped when loaded
SENTENCE_TABLE = "sentence_table.npy"  # (passage row, start, end) of each sentence
LEXICAL = "lexical"  # folder of the saved BM25 index inside a build
BUILD_NAME = re.compile(r"[0-9]{8}T[0-9]{6}-[0-9a-f]{6}")  # what CURRENT may name
# what a truncated, edited or foreign file raises from json, numpy, faiss or pydantic
DAMAGE = (
    OSError, ValueError, KeyError, TypeError, IndexError, AttributeError, RuntimeError, EOFError,
    RecursionError, zipfile.BadZipFile, ValidationError,
)


class IndexDamaged(IndexMissing):
    """A build whose files cannot be read or do not agree; `rapportsok index` replaces it."""

    def __init__(self, build: Path, cause: Exception | str) -> None:
        reason = (str(cause).splitlines() or [""])[0] or type(cause).__name__
        super().__init__(f"index build {build} is damaged ({reason}); rebuild it with `rapportsok index`")


class Meta(BaseModel):
    """meta.json as a build writes it (index.build); further keys pass."""

    model_config = ConfigDict(extra="allow", strict=True)

    format: int
    params: dict[str, Any]
    model: str
    dim: int = Field(gt=0)
    built_at: str
    build: str
    documents: list[dict[str, Any]]
    unreadable: dict[str, str] = {}
    warnings: list[str] = []


_DOCUMENT = TypeAdapter(Document)
_PASSAGE = TypeAdapter(Passage)
_COUNT = TypeAdapter(int)


@dataclass(frozen=True)
class Build:
    """Everything one build holds, read and checked."""

    meta: dict[str, Any]
    passages: list[Passage]
    dense: faiss.Index
    sentence_vectors: np.ndarray
    sentence_table: np.ndarray
    lexical: Lexical


def build_name(pointer: bytes) -> str | None:
    """The build a CURRENT file names, or None when its content is not a build name."""
    name = pointer.decode("ascii", "replace").strip()
    return name if BUILD_NAME.fullmatch(name) else None


def read_meta(build: Path) -> dict[str, Any]:
    """meta.json, checked: the keys and types a build writes, a document entry per document."""
    try:
        meta = Meta.model_validate(json.loads((build / "meta.json").read_text(encoding="utf-8"))).model_dump()
        for document in meta["documents"]:
            _DOCUMENT.validate_python({k: document.get(k) for k in Document.__dataclass_fields__})
            if _COUNT.validate_python(document.get("passages"), strict=True) < 0:
                raise ValueError(f"document {document['doc']!r} has a negative passage count")
        if meta["build"] != build.name:
            raise ValueError(f"meta.json names build {meta['build']!r}")
    except DAMAGE as exc:
        raise IndexDamaged(build, _reason("meta.json", exc)) from exc
    return meta


def read_build(build: Path) -> Build:
    """Every file of a build, checked against meta.json and against each other."""
    meta = read_meta(build)
    try:
        passages = _read_passages(build, meta)
        dense = faiss.read_index(str(build / "dense.faiss"))
        if (dense.ntotal, dense.d) != (len(passages), meta["dim"]):
            raise ValueError(
                f"dense.faiss holds {dense.ntotal} vectors of {dense.d}, not {len(passages)} of {meta['dim']}"
            )
        if meta["format"] >= 3:
            vectors, table = _read_sentences(build, len(passages), meta["dim"])
        else:  # a build from before sentence vectors
            vectors, table = np.zeros((0, meta["dim"]), np.float32), np.zeros((0, 3), np.int32)
        lexical = Lexical.load(build / LEXICAL)
        lexical.check(len(passages))
    except DAMAGE as exc:
        raise IndexDamaged(build, _reason("", exc)) from exc
    return Build(meta, passages, dense, vectors, table, lexical)


def _read_passages(build: Path, meta: dict[str, Any]) -> list[Passage]:
    """passages.jsonl: one valid passage a line, as many per document as meta.json counts, ids unique."""
    with (build / "passages.jsonl").open(encoding="utf-8") as handle:
        passages = [_PASSAGE.validate_json(line) for line in handle]
    counts: dict[str, int] = {}
    for passage in passages:
        counts[passage.doc] = counts.get(passage.doc, 0) + 1
    expected = {d["doc"]: d["passages"] for d in meta["documents"] if d["passages"]}
    if counts != expected:
        raise ValueError(f"passages.jsonl holds {len(passages)} passages, meta.json counts {sum(expected.values())}")
    if len({p.passage_id for p in passages}) != len(passages):
        raise ValueError("passages.jsonl repeats a passage id")
    return passages


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
