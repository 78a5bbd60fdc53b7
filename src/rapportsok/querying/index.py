"""The loaded index that search reads, whichever engine stores the build (engines/)."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from functools import cached_property, lru_cache
from typing import overload

import numpy as np

from ..embedding import Embedder, load_embedder
from ..engines import engine_for
from ..engines.base import BuildMeta, Columns, FollowupEvidence, Loaded, Terms, passages_at
from ..errors import ModelMismatch, NotFound
from ..records import Document, Passage, Proposal, citation_of, proposals_of
from ..settings import Settings
from ..text.bm25 import span_rows

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
        # what search needs of every passage, as arrays: a store that keeps them (local) spares reading every passage
        columns = getattr(store, "columns", None) or Columns.of(store.passages)
        self.doc_ids = np.array(columns.doc_names, dtype=object)[columns.doc_codes]
        partly = _partly_paged(columns)
        self.passages = _Unpaged(store.passages, set(np.array(columns.doc_names)[partly].tolist())) \
            if len(partly) else store.passages
        self._ids = columns.ids
        self.sentence_table = store.sentence_table
        # sentences are stored passage by passage: the first sentence of each passage that has any
        owners = self.sentence_table[:, 0]
        self._sentence_starts = np.flatnonzero(np.r_[True, owners[1:] != owners[:-1]]) if len(owners) else owners
        # (no sort: 8M sentences at 1M passages); int64, so that looking a row up never converts the array
        self._sentence_owners = owners[self._sentence_starts].astype(np.int64)
        self._sentence_ends = np.append(self._sentence_starts[1:], len(owners)) if len(owners) else owners
        self._has_sentences = np.zeros(len(columns.ids), dtype=bool)
        self._has_sentences[self._sentence_owners] = True
        self.documents = [d.document() for d in self.meta.documents]
        # each report's one name (its citation, with the year), for headers that show a document
        self.names = {d.doc: citation_of({}, d.title, d.year) for d in self.documents}
        self.names |= columns.reports
        # footnotes are shown in context but not ranked: as hits they are mostly references (bench/quality)
        self.searchable = ~columns.footnote
        # ... but their words count for the passage they stand under, which a reader sees them with:
        # a name given only in a note («Subutex») finds its text
        self._notes, self._note_parents = _note_parents(columns, np.isin(columns.doc_codes, partly))
        self.proposal_numbers = columns.proposal.astype(np.int64)
        self.proposal_starts = _proposal_starts(columns)

    @cached_property
    def _position(self) -> dict[str, int]:
        """Each passage's row by its id (made when first asked: a million ids take a moment)."""
        return {passage_id.decode(): row for row, passage_id in enumerate(self._ids.tolist())}

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
        sentences = self.sentence_scores(query_vector)
        scored = self.store.scored_passages(query_vector)
        best = self.best_per_passage(sentences, scores) if scored is None else self._best_of(scored, sentences, scores)
        return np.where(scores > -1, PASSAGE_SHARE * scores + (1 - PASSAGE_SHARE) * best, -1)

    def best_per_passage(self, sentence_values: np.ndarray, floor: np.ndarray) -> np.ndarray:
        """The highest value among each passage's sentences; `floor` for passages without any."""
        return best_per_passage(sentence_values, self._sentence_owners, self._sentence_starts, floor)

    def _best_of(self, rows: np.ndarray, sentence_scores: np.ndarray, floor: np.ndarray) -> np.ndarray:
        """best_per_passage of sentence scores in which only the sentences of the passages `rows` were
        scored and every other sentence holds the lowest score found: those passages' sentences are
        read, not 8M sentences at a million passages (bench/scale)."""
        at = np.searchsorted(self._sentence_owners, rows)
        found = at < len(self._sentence_owners)
        found[found] = self._sentence_owners[at[found]] == rows[found]
        rows, at = rows[found], at[found]
        if not len(rows):
            return self.best_per_passage(sentence_scores, floor)
        starts = self._sentence_starts[at]
        lengths = self._sentence_ends[at] - starts
        values = sentence_scores[span_rows(starts, lengths)]
        best = np.where(self._has_sentences, values.min(), floor)
        best[rows] = np.maximum.reduceat(values, np.cumsum(lengths) - lengths)
        return best

    def sentences(self, passage_id: str) -> list[tuple[int, int, int]]:
        """(row in sentence_table, start, end) of each indexed sentence of a passage."""
        row = self._position[passage_id]
        at = int(np.searchsorted(self._sentence_owners, row))
        if at == len(self._sentence_owners) or self._sentence_owners[at] != row:
            return []
        rows = range(int(self._sentence_starts[at]), int(self._sentence_ends[at]))
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
        if doc is None:
            return list(self.passages)
        self.document(doc)
        return passages_at(self.passages, np.flatnonzero(self.doc_ids == doc))

    def proposals(self, doc: str | None = None) -> list[Proposal]:
        """The numbered proposals (of one document), reading only their passages."""
        chosen = self.proposal_numbers >= 0
        if doc is not None:
            self.document(doc)
            chosen &= self.doc_ids == doc
        return proposals_of(passages_at(self.passages, np.flatnonzero(chosen)))

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


def _partly_paged(columns: Columns) -> np.ndarray:
    """The codes of documents that have pages only in part: a reader cannot find a page that only some
    of the passages name (a text file with a few page markers), so such a document is cited by chapter
    throughout."""
    found = np.zeros((len(columns.doc_names), 2), dtype=bool)
    found[columns.doc_codes, columns.paged.astype(np.int64)] = True
    return np.flatnonzero(found.all(axis=1))


class _Unpaged(Sequence[Passage]):
    """The passages, those of the documents named without any page (see _partly_paged)."""

    def __init__(self, passages: Sequence[Passage], docs: set[str]) -> None:
        self._passages, self._docs = passages, docs

    def __len__(self) -> int:
        return len(self._passages)

    @overload
    def __getitem__(self, index: int) -> Passage: ...
    @overload
    def __getitem__(self, index: slice) -> list[Passage]: ...
    def __getitem__(self, index: int | slice) -> Passage | list[Passage]:
        if isinstance(index, slice):
            return [self._unpaged(p) for p in self._passages[index]]
        return self._unpaged(self._passages[index])

    def __iter__(self) -> Iterator[Passage]:
        return (self._unpaged(p) for p in self._passages)

    def _unpaged(self, passage: Passage) -> Passage:
        return passage.without_pages() if passage.doc in self._docs else passage


def _proposal_starts(columns: Columns) -> np.ndarray:
    """Per passage, whether it is the first of its document's numbered proposal (records.proposals_of)."""
    rows = np.flatnonzero(columns.proposal >= 0)
    key = columns.doc_codes[rows].astype(np.int64) * (int(columns.proposal.max(initial=0)) + 1) + columns.proposal[rows]
    starts = np.zeros(len(columns.proposal), dtype=bool)
    starts[rows[np.unique(key, return_index=True)[1]]] = True
    return starts


def _check_model(settings: Settings, meta: BuildMeta) -> None:
    """An index answers only queries embedded by the model that built it."""
    if meta.model != settings.model:
        raise ModelMismatch(
            f"index {engine_for(settings).where} was built with model {meta.model!r}, not {settings.model!r}; "
            f"rebuild it with `rapportsok index --full --model ...` or search with --model {meta.model}"
        )


def _note_parents(columns: Columns, unpaged: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The rows of footnote passages, and of the passage each stands under: the last one of its
    document that starts at or before the note (by line in a text file, by sheet in a PDF; `unpaged`:
    the passages cited without pages, whose sheet does not count)."""
    place = np.where(columns.line_start > 0, columns.line_start, np.where(unpaged, 0, columns.sheet))
    codes = columns.doc_codes.astype(np.int64)
    key = codes * (int(place.max(initial=0)) + 1) + place  # by document, then place
    texts, notes = np.flatnonzero(~columns.footnote), np.flatnonzero(columns.footnote)
    order = texts[np.lexsort((texts, key[texts]))]  # of equal places, the later row last
    at = np.searchsorted(key[order], key[notes], side="right") - 1
    found = (at >= 0) & (codes[order[np.maximum(at, 0)]] == codes[notes]) if len(order) else np.zeros(len(notes), bool)
    return notes[found].astype(np.int64), order[at[found]].astype(np.int64)
