"""The loaded index that search reads, whichever engine stores the build (engines/)."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable
from functools import cached_property, lru_cache

import numpy as np

from ..embedding import Embedder, load_embedder
from ..engines import engine_for
from ..engines.base import BuildMeta, FollowupEvidence, Loaded, Terms
from ..errors import ModelMismatch, NotFound
from ..records import Document, Passage, Proposal, citation_of, proposals_of
from ..settings import Settings

QUERY_CACHE = 256  # query embeddings kept per loaded index
PASSAGE_SHARE = 0.5  # a passage's dense score: this much its own cosine, the rest its best sentence's


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
        self.passages = _paged_throughout(store.passages)
        self.sentence_table = store.sentence_table
        # sentences are stored passage by passage: the first sentence of each passage that has any
        self._sentence_owners, self._sentence_starts = np.unique(self.sentence_table[:, 0], return_index=True)
        bounds = [*self._sentence_starts.tolist(), len(self.sentence_table)]
        self._sentence_rows = {
            int(owner): range(bounds[i], bounds[i + 1]) for i, owner in enumerate(self._sentence_owners)
        }
        self.documents = [d.document() for d in self.meta.documents]
        # each report's one name (its citation, with the year), for headers that show a document
        self.names = {d.doc: citation_of({}, d.title, d.year) for d in self.documents}
        self.names |= {p.doc: p.report() for p in reversed(self.passages)}
        self._position = {p.passage_id: i for i, p in enumerate(self.passages)}
        # per-passage arrays for vectorised filtering and boosting in search
        self.doc_ids = np.array([p.doc for p in self.passages], dtype=object)
        # footnotes are shown in context but not ranked: as hits they are mostly references (bench/quality)
        self.searchable = np.array([p.kind != "footnote" for p in self.passages], dtype=bool)
        # ... but their words count for the passage they stand under, which a reader sees them with:
        # a name given only in a note («Subutex») finds its text
        self._notes, self._note_parents = _note_parents(self.passages)
        self.proposal_numbers = np.array([-1 if p.proposal is None else p.proposal for p in self.passages])
        openings = {proposal.passage_id for proposal in proposals_of(self.passages)}
        self.proposal_starts = np.array([p.passage_id in openings for p in self.passages])

    def with_notes(self, values: np.ndarray) -> np.ndarray:
        """Per-passage lexical values with each footnote's counted for the passage it stands under."""
        lifted = values.copy()
        np.maximum.at(lifted, self._note_parents, values[self._notes])
        return lifted

    @classmethod
    def load(cls, settings: Settings, embedder: Embedder | None = None) -> Index:
        """The current build as it is (`rapportsok.open_index` first brings it up to date when that is quick)."""
        return cls(settings, engine_for(settings).load(), embedder)

    @property
    def build_id(self) -> str:
        return self.meta.build

    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            self._embedder = load_embedder(self.settings.model)
        return self._embedder

    @property
    def lexical(self) -> Terms:
        return self.store.lexical

    def query_vector(self, query: str) -> np.ndarray:
        """The query's embedding; the last few are kept, as search and answer both need it."""
        return self._query_vectors(query)

    @cached_property
    def _query_vectors(self) -> Callable[[str], np.ndarray]:
        return lru_cache(maxsize=QUERY_CACHE)(lambda query: self.embedder.embed_queries([query])[0])

    def followups(self) -> FollowupEvidence:
        """The build's follow-up evidence (indexing/followup_evidence.py); IndexMissing when it has none
        of this version."""
        return self.store.followups()

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

    def passage_counts(self) -> dict[str, int]:
        """Passages per document, in document order (the `docs` listing of the CLI and the API)."""
        docs, counts = np.unique(self.doc_ids.astype(str), return_counts=True)
        found = dict(zip(docs.tolist(), counts.tolist(), strict=True))
        return {d.doc: found.get(d.doc, 0) for d in self.documents}

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


def _paged_throughout(passages: list[Passage]) -> list[Passage]:
    """The passages, those of documents that have pages only in part without any: a reader
    cannot find a page that only some of the passages name (a text file with a few page
    markers), so such a document is cited by chapter throughout."""
    partly = {p.doc for p in passages if p.page_at(0).label is None} & {p.doc for p in passages if p.page_at(0).label}
    if not partly:
        return passages
    return [p.without_pages() if p.doc in partly else p for p in passages]


def _check_model(settings: Settings, meta: BuildMeta) -> None:
    """An index answers only queries embedded by the model that built it."""
    if meta.model != settings.model:
        raise ModelMismatch(
            f"index {engine_for(settings).where} was built with model {meta.model!r}, not {settings.model!r}; "
            f"rebuild it with `rapportsok index --full --model ...` or search with --model {meta.model}"
        )


def _note_parents(passages: list[Passage]) -> tuple[np.ndarray, np.ndarray]:
    """The rows of footnote passages, and of the passage each stands under: the last one of its
    document that starts at or before the note (by line in a text file, by sheet in a PDF)."""

    def place(passage: Passage) -> int:
        return passage.line_start or passage.sheet or 0

    starts: dict[str, list[tuple[int, int]]] = {}
    for row, passage in enumerate(passages):
        if passage.kind != "footnote":
            starts.setdefault(passage.doc, []).append((place(passage), row))
    notes, parents = [], []
    for row, passage in enumerate(passages):
        before = starts.get(passage.doc, []) if passage.kind == "footnote" else []
        at = bisect_right(before, (place(passage), len(passages))) - 1
        if at >= 0:
            notes.append(row)
            parents.append(before[at][1])
    return np.array(notes, dtype=np.int64), np.array(parents, dtype=np.int64)
