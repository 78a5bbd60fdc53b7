"""One question over the years: the best passages of each document that really addresses it, documents in year order."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import QueryError
from ..records import Document, Hit
from .index import Index
from .relevance import DENSE_ADDRESSES
from .search import NO_COVERAGE, score, validate

PER_DOC = 3  # passages per document shown unless asked otherwise
MAX_PER_DOC = 20
# on search's blended scale (the best passage of the corpus is 1): a document whose best passage
# stays below this does not discuss the question, it merely resembles it (nalokson: the white
# paper 1.0, the other reports .15-.44; LAR: the three reports that discuss it .71-1.0)
FLOOR = 0.5
KEEP_RELATIVE = 0.8  # a passage joins its document's column when it scores this close to the column's best
# and in absolute terms: a passage addresses the question when it shares a word with it (a question
# mostly in words the corpus lacks shares only chance words, as in search) or resembles it this much
# on its own (as an answer sentence must, relevance.DENSE_ADDRESSES): the blended scale is
# relative, so a question no report discusses ("kvantefysikk i rommet") would otherwise fill columns


@dataclass(frozen=True)
class Column:
    """A document that addresses the question: its best sentence and best passages."""

    document: Document
    headline: str
    hits: list[Hit]

    def as_dict(self) -> dict[str, Any]:
        d = self.document
        return {
            "doc": d.doc,
            "title": d.title,
            "year": d.year,
            "headline": self.headline,
            "hits": [hit.as_dict() for hit in self.hits],
        }


@dataclass(frozen=True)
class Comparison:
    query: str
    took_ms: float
    documents: list[Column]

    def as_dict(self) -> dict[str, Any]:
        return {"query": self.query, "took_ms": self.took_ms, "documents": [c.as_dict() for c in self.documents]}


def compare(index: Index, query: str, per_doc: int = PER_DOC) -> Comparison:
    """Per document that addresses the query, up to per_doc passages that do, documents by year.

    Scores are search's (normalised over the whole corpus), so a document's column holds only
    passages that also clear the absolute bar above."""
    started = time.perf_counter()
    if not 1 <= per_doc <= MAX_PER_DOC:
        raise QueryError(
            f"the number of passages per document must be between 1 and {MAX_PER_DOC}, not {per_doc}",
            f"Antall passasjer per rapport må være mellom 1 og {MAX_PER_DOC}, ikke {per_doc}.",
        )
    query = validate(index, query, 1, None, "hybrid")
    mask = index.searchable
    query_vector = index.query_vector(query)
    addressed = index.dense_scores(query_vector) >= DENSE_ADDRESSES
    if index.lexical.coverage(query) > NO_COVERAGE:  # shared words count when the corpus knows most of the query's
        addressed |= index.lexical.scores(query) > 0
    fused, _ = score(index, query, "hybrid", mask)  # compare's own floor decides what is kept
    scores = np.where(mask & addressed, fused, -np.inf)
    sentence_scores = index.sentence_scores(query_vector)
    columns = []
    for document in sorted(index.documents, key=lambda d: (d.year is None, d.year or 0, d.doc)):
        rows = np.flatnonzero(mask & (index.doc_ids == document.doc))
        if not len(rows):
            continue
        rows = rows[np.argsort(-scores[rows], kind="stable")]
        best = scores[rows[0]]
        if best < FLOOR:
            continue
        kept = [i for i in rows[:per_doc] if scores[i] >= KEEP_RELATIVE * best]
        hits = [Hit(rank, float(scores[i]), index.passages[i]) for rank, i in enumerate(kept, start=1)]
        columns.append(Column(document, _best_sentence(index, hits, sentence_scores), hits))
    return Comparison(query, round((time.perf_counter() - started) * 1000, 2), columns)


def _best_sentence(index: Index, hits: list[Hit], sentence_scores: np.ndarray) -> str:
    """The sentence of the column's passages that is closest to the query."""
    sentences = [
        (sentence_scores[row], hit.passage.text[start:end])
        for hit in hits
        for row, start, end in index.sentences(hit.passage.passage_id)
    ]
    if not sentences:
        return hits[0].passage.text
    return " ".join(max(sentences, key=lambda s: s[0])[1].split())
