"""The contract between the build, the engines that store builds, and the read side.

The build (indexing/) reads the corpus and embeds; an engine stores what it produced and
scores queries against it. Search and answer talk to `querying.index.Index`, never to an engine.
"""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any, Protocol

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ..errors import IndexMissing
from ..records import Document, Passage

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

    from ..text.bm25 import Lexical
    from ..text.tokens import Analyzer

FOLLOWUP_VERSION = 3  # of the follow-up evidence's layout: another version is recomputed
CANDIDATES = 200  # nearest passages an approximate dense search returns, whose sentences are scored (both engines)


class BuiltDocument(BaseModel):
    """One document of a build as meta.json (or the generation's meta) lists it: the document and its passage count."""

    model_config = ConfigDict(extra="allow", strict=True)

    doc: str
    title: str
    year: int | None
    kind: str | None
    path: str
    sha256: str
    passages: int = Field(ge=0)

    @classmethod
    def of(cls, document: Document, passages: int) -> BuiltDocument:
        return cls(**asdict(document), passages=passages)

    def document(self) -> Document:
        return Document(**{name: getattr(self, name) for name in Document.__dataclass_fields__})


class BuildMeta(BaseModel):
    """What a build records about itself (meta.json; the meta column of a PostgreSQL generation).
    Further keys pass, and the fields are written in this order, as builds always wrote them."""

    model_config = ConfigDict(extra="allow", strict=True)

    format: int
    params: dict[str, Any]  # what decides how documents are cut and linked (indexing.build.build_params)
    model: str
    dim: int = Field(gt=0)
    built_at: str
    documents: list[BuiltDocument]
    unreadable: dict[str, str] = {}  # file name -> content hash of each file that could not be read
    warnings: list[str] = []
    build: str = ""  # its name, given by the engine that stores it

    def state(self) -> dict[str, str]:
        """File name -> content hash of every document file the build read (or found unreadable)."""
        return {d.path: d.sha256 for d in self.documents} | self.unreadable

    def stored(self) -> str:
        """The text of meta.json: in field order, indented by one, non-ASCII kept."""
        return json.dumps(self.model_dump(), ensure_ascii=False, indent=1)


class Target(BaseModel):
    """A proposal's evidence in one other document (indexing/followup_evidence.py)."""

    sha: str  # the target document's content hash when it was computed
    moments: list[float] = Field(min_length=5, max_length=5)  # passages, and sum and sum of squares of each signal
    candidates: list[tuple[str, float, float]]  # [passage_id, dense, lexical] of the passages that lead on either


class ProposalEvidence(BaseModel):
    """One proposal's evidence: per other document, the passages that may take it up."""

    doc: str
    proposal: int
    headline: str
    sha: str  # the proposal's document's content hash when it was computed
    targets: dict[str, Target]


class FollowupEvidence(BaseModel):
    """A build's follow-up evidence (followups.json; the followups column of a generation)."""

    version: int
    proposals: list[ProposalEvidence]

    @classmethod
    def read(cls, data: object, build: str) -> FollowupEvidence:
        """The evidence stored as `data`; IndexMissing, saying how to get it, when it is of another
        version or not evidence at all."""
        if isinstance(data, dict) and "version" in data and data["version"] != FOLLOWUP_VERSION:
            raise IndexMissing(
                f"the follow-up links of index build {build} are of another version; "
                "update the index with `rapportsok index`"
            )
        try:
            return cls.model_validate(data)
        except ValidationError as exc:
            error = exc.errors(include_input=False)[0]
            raise IndexMissing(
                f"the follow-up links of index build {build} cannot be read "
                f"({'.'.join(map(str, error['loc'])) or 'content'}: {error['msg']}); "
                "rebuild with `rapportsok index --full`"
            ) from exc

    def stored(self) -> str:
        """The text of followups.json: compact, non-ASCII kept."""
        return json.dumps(self.model_dump(), ensure_ascii=False, separators=(",", ":"))


@dataclass(frozen=True)
class Vectors:
    """The vectors of some of a build's passages (the rows asked for): one per passage, and one per
    sentence of theirs with its (passage, start, end), the passage numbered among those rows."""

    passages: np.ndarray
    sentences: np.ndarray  # one vector per row of table
    table: np.ndarray  # passage by passage

    def take(self, rows: np.ndarray) -> Vectors:
        """Those of the given rows (ascending, numbered as here); all of them without a copy."""
        if len(rows) == len(self.passages):
            return self
        chosen = np.flatnonzero(np.isin(self.table[:, 0], rows))
        table = self.table[chosen]
        table[:, 0] = np.searchsorted(rows, table[:, 0])
        return Vectors(self.passages[rows], self.sentences[chosen], table)


@dataclass(frozen=True)
class Built:
    """What a build hands to an engine to store and make current."""

    meta: BuildMeta
    passages: Sequence[Passage]  # document by document (a change: stored ones read where asked, indexing/joined.py)
    # the vectors of the given rows of passages (ascending), asked only for the rows an engine writes: a change
    # stored as a part looks up (or embeds) its own documents' texts, never every passage's
    vectors: Callable[[np.ndarray], Vectors]
    # BM25 over the passages (stored by the local engine when it writes a build whole; PostgreSQL ranks words
    # itself), counted only when asked: a change stored as a part, without new follow-up evidence, never counts it
    lexical: Callable[[], Lexical]
    links: FollowupEvidence
    whole: bool = False  # write every file anew, extending nothing (`index --rewrite`, `--full`)


@dataclass(frozen=True)
class Columns:
    """What the read side needs of every passage of a build, as arrays in row order, so that a store may
    give it without making a Passage object per passage (a million of them took most of a load)."""

    ids: np.ndarray  # passage_id, UTF-8 (bytes: a quarter of str's size, joined and filtered in milliseconds)
    doc_names: list[str]  # each document once
    doc_codes: np.ndarray  # per passage, its document's place in doc_names
    footnote: np.ndarray  # kind == "footnote"
    proposal: np.ndarray  # its proposal number, -1 without one
    line_start: np.ndarray  # 0 without one
    sheet: np.ndarray  # 0 without one
    paged: np.ndarray  # its first character has a page label
    reports: dict[str, str]  # doc -> report() of its first passage

    @classmethod
    def of(cls, passages: Sequence[Passage]) -> Columns:
        """Those of passages at hand."""
        names: dict[str, int] = {}
        reports: dict[str, str] = {}
        for p in passages:
            if p.doc not in names:
                names[p.doc], reports[p.doc] = len(names), p.report()
        return cls(
            ids=np.array([p.passage_id.encode() for p in passages], dtype=bytes),
            doc_names=list(names),
            doc_codes=np.array([names[p.doc] for p in passages], dtype=np.int32),
            footnote=np.array([p.kind == "footnote" for p in passages], dtype=bool),
            proposal=np.array([-1 if p.proposal is None else p.proposal for p in passages], dtype=np.int32),
            line_start=np.array([p.line_start or 0 for p in passages], dtype=np.int64),
            sheet=np.array([p.sheet or 0 for p in passages], dtype=np.int64),
            paged=np.array([p.page_at(0).label is not None for p in passages], dtype=bool),
            reports=reports,
        )

    @classmethod
    def joined(cls, parts: list[Columns], rows: np.ndarray | None) -> Columns:
        """Several parts' columns one after the other, only `rows` of them (None: all)."""
        names: dict[str, int] = {}
        codes, reports = [], {}
        for part in parts:
            recode = np.array([names.setdefault(doc, len(names)) for doc in part.doc_names], dtype=np.int32)
            codes.append(recode[part.doc_codes] if len(part.doc_codes) else part.doc_codes)
            reports = part.reports | reports  # a document's first passage comes first
        fields = {name: np.concatenate([getattr(part, name) for part in parts])
                  for name in ("ids", "footnote", "proposal", "line_start", "sheet", "paged")}
        fields["doc_codes"] = np.concatenate(codes)
        if rows is not None:
            fields = {name: values[rows] for name, values in fields.items()}
        used = np.flatnonzero(np.bincount(fields["doc_codes"], minlength=len(names)))
        docs = list(names)
        return cls(doc_names=docs, reports={docs[i]: reports[docs[i]] for i in used.tolist()}, **fields)


class Terms(Protocol):
    """Lexical scoring of one build: text.bm25.Lexical (local engine), PostgresTerms (PostgreSQL)."""

    analyzer: Analyzer  # how the build's words are stemmed and split

    def scores(self, query: str) -> np.ndarray: ...  # BM25 of every passage, in row order
    def coverage(self, query: str) -> float: ...  # share of the query's words the build knows
    def holding(self, tokens: list[str]) -> list[np.ndarray]: ...  # per analyzer token, the rows holding it, ascending
    def matching_words(self, query: str, text: str) -> set[str]: ...  # for highlighting


class Loaded(Protocol):
    """One build, loaded for searching: its meta, passages (in row order) and sentence table."""

    meta: BuildMeta
    passages: Sequence[Passage]  # the local engine's are read where asked, its `columns` (base.Columns) say the rest
    sentence_table: np.ndarray  # (passage row, start, end) of every sentence with a vector, passage by passage

    @property
    def lexical(self) -> Terms: ...
    def passage_scores(self, query_vector: np.ndarray) -> np.ndarray: ...
    def sentence_scores(self, query_vector: np.ndarray) -> np.ndarray: ...
    # the passages whose sentences the query scored when only those were (an approximate search's
    # candidates; every other sentence holds the lowest score found), None when every one was
    def scored_passages(self, query_vector: np.ndarray) -> np.ndarray | None: ...
    def is_current(self) -> bool: ...
    def followups(self) -> FollowupEvidence: ...  # IndexMissing when absent, unreadable or of another version


class Engine(Protocol):
    """Stores builds and makes one current atomically; one builder at a time."""

    where: str  # for messages: the index folder or the database

    def lock(self) -> AbstractContextManager[None]: ...
    def current_meta(self) -> BuildMeta | None: ...
    def readable(self) -> tuple[BuildMeta | None, Sequence[Passage]]: ...
    def repair(self) -> list[str]: ...  # clears what would stop a new build being made current
    def current_followups(self) -> FollowupEvidence | None: ...  # None when absent, unreadable or of another version
    def write(self, built: Built) -> str: ...
    def load(self) -> Loaded: ...


def document_runs(passages: Sequence[Passage]) -> list[tuple[str, int, int]]:
    """(doc, first row, end row) of each run of one document's passages, in order; a sequence that
    knows them without reading its passages (stored passages read lazily) says them itself."""
    known = getattr(passages, "document_runs", None)
    if known is not None:
        return known()
    runs: list[tuple[str, int, int]] = []
    for row, passage in enumerate(passages):
        if runs and runs[-1][0] == passage.doc:
            runs[-1] = (passage.doc, runs[-1][1], row + 1)
        else:
            runs.append((passage.doc, row, row + 1))
    return runs


def passages_at(passages: Sequence[Passage], rows: np.ndarray | list[int]) -> list[Passage]:
    """The passages at rows (ascending), consecutive ones taken as one slice: stored passages that are read
    lazily are read a run of lines at a time, not one by one."""
    rows = np.asarray(rows, dtype=np.int64)
    bounds = [0, *(np.flatnonzero(np.diff(rows) != 1) + 1).tolist(), len(rows)] if len(rows) else [0]
    return [p for start, end in zip(bounds, bounds[1:], strict=False)
            for p in passages[int(rows[start]) : int(rows[end - 1]) + 1]]


def scattered(total: int, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Scores of the nearest rows an approximate search found; every other row gets the lowest
    score found, so it ranks below them without stretching the min-max blend (−1 with none found)."""
    scores = np.full(total, values.min() if len(values) else -1.0, dtype=np.float32)
    scores[rows] = values
    return scores
