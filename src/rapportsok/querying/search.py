"""Hybrid ranking: lexical and dense scores blended, proposal numbers understood, filters honoured,
and only the passages above the relevance floor returned, each with its snippet."""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

import numpy as np

from ..errors import QueryError
from ..records import Hit, Passage
from .index import Index
from .relevance import Floor, Reading, floor, read
from .snippets import snippet_span
from .spelling import respelled, sure

Mode = Literal["hybrid", "dense", "lexical"]  # the ranking modes, also the API's enum
MODES: tuple[str, ...] = get_args(Mode)
SURROGATES = re.compile("[\ud800-\udfff\ufffd]")  # lone surrogates (a command line), U+FFFD (HTTP)
MAX_QUERY_CHARS = 2000
MAX_K = 100
LEXICAL_WEIGHT = 0.3  # of min-max normalised scores; the rest is dense (tuned on the dev set, see bench/quality)
FULL_COVERAGE, NO_COVERAGE = 1.0, 0.5  # shares of query words the corpus knows: whole lexical weight .. none
PROPOSAL_BOOST = 1.0  # lifts the asked-for proposal's opening (headline) above everything that merely resembles it
PROPOSAL_BODY_BOOST = 0.5  # and the rest of its body above other passages
PROPOSAL_QUERY = re.compile(r"\b(?:forslag|proposal)\s*(?:nr\.?|nummer|number|no\.?)?\s*(\d{1,3})\b", re.IGNORECASE)


@dataclass(frozen=True)
class SearchResult:
    query: str
    mode: str
    took_ms: float
    hits: list[Hit]
    corrections: dict[str, str] = field(default_factory=dict)  # query word the index lacks -> corpus word searched for
    proposals: list[int] = field(default_factory=list)  # proposal numbers the query names (their passages lead)
    empty: str | None = None  # why there are no hits: "filter" (the documents chosen hold none) or "nothing"

    @property
    def suggestion(self) -> str | None:
        """«Mente du …?»: the query with each word the index lacks replaced by the corpus word searched for."""
        return respelled(self.query, self.corrections)

    def as_dict(self) -> dict[str, Any]:
        return {
            "query": self.query,
            "mode": self.mode,
            "took_ms": self.took_ms,
            "hits": [hit.as_dict() for hit in self.hits],
            "suggestion": self.suggestion,
            "corrections": self.corrections,
            "proposals": self.proposals,
            "empty": self.empty,
        }


def validate(index: Index, query: str, k: int, docs: list[str] | None, mode: str) -> str:
    """The cleaned query, or a QueryError that says what is wrong."""
    query = " ".join(query.split())
    if SURROGATES.search(query):  # bytes that were not UTF-8, as Python or Starlette decode them
        raise QueryError("the query is not valid UTF-8 text")
    if not query:
        raise QueryError("the query is empty", "Skriv noe å søke etter.")
    if not any(ch.isalnum() for ch in query):
        raise QueryError("the query has no letters or digits", "Søket må inneholde bokstaver eller tall.")
    if len(query) > MAX_QUERY_CHARS:
        raise QueryError(
            f"the query is {len(query)} characters long; the limit is {MAX_QUERY_CHARS}",
            f"Søket er {len(query)} tegn langt; grensen er {MAX_QUERY_CHARS}.",
        )
    if not 1 <= k <= MAX_K:
        raise QueryError(f"k must be between 1 and {MAX_K}, not {k}", f"Antall treff må være mellom 1 og {MAX_K}.")
    if mode not in MODES:
        raise QueryError(f"unknown mode {mode!r}; choose one of {', '.join(MODES)}", "Ukjent søkemåte.")
    for doc in docs or []:
        index.document(doc)
    return query


def asked_proposals(query: str) -> set[int]:
    """Proposal numbers named in the query ("forslag 14", "proposal 3")."""
    return {int(n) for n in PROPOSAL_QUERY.findall(query)}


def normalised(scores: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Min-max over the passages in play, so the two score scales can be blended."""
    inside = scores[mask]
    if not len(inside):
        return scores
    low, high = inside.min(), inside.max()
    return (scores - low) / (high - low) if high > low else np.zeros_like(scores)


def lexical_trust(coverage: float) -> float:
    """How far to trust BM25 for a query, from the share of its words the corpus knows."""
    return float(np.clip((coverage - NO_COVERAGE) / (FULL_COVERAGE - NO_COVERAGE), 0.0, 1.0))


def score(index: Index, query: str, mode: str, mask: np.ndarray) -> tuple[np.ndarray, Floor]:
    """One score per passage for the query (higher is better), and the relevance floor."""
    fused, shown, _ = _score(index, query, mode, mask)
    return fused, shown


def _score(index: Index, query: str, mode: str, mask: np.ndarray) -> tuple[np.ndarray, Floor, Reading]:
    """score's figures and the query as read (its content words and their corrections). The
    question is embedded as respelled: nynorsk made bokmål where the corpus says so («utvalet»)."""
    wanted = list(asked_proposals(query))
    reading = read(index, PROPOSAL_QUERY.sub(" ", query))  # "forslag 15" names a proposal; "15" is no search word
    with ThreadPoolExecutor(1) as side:  # lexical beside dense: PostgreSQL runs both statements at once (bench/scale)
        lexical_scores = side.submit(index.lexical.scores, reading.text) if mode != "dense" else None
        dense = index.dense_scores(index.query_vector(_embedded(query, reading))) if mode != "lexical" else None
        lexical = index.with_notes(lexical_scores.result()) if lexical_scores else None
    boosted = np.isin(index.proposal_numbers, wanted) if wanted else np.zeros(len(index.passages), dtype=bool)
    if mode == "lexical":
        fused = lexical
    elif mode == "dense":
        fused = dense
    else:
        weight = LEXICAL_WEIGHT * lexical_trust(reading.known)  # an English question's words as translated
        fused = weight * normalised(lexical, mask) + (1 - weight) * normalised(dense, mask)
        if wanted:
            fused = fused + np.where(boosted, np.where(index.proposal_starts, PROPOSAL_BOOST, PROPOSAL_BODY_BOOST), 0.0)
    return fused, floor(index, reading, mode, lexical, dense, boosted), reading


def _embedded(query: str, reading: Reading) -> str:
    """The text the question is embedded as: respelled where it has sure corrections, followed by
    its content words in bokmål (`Reading.text`) where some are translated from English."""
    said = respelled(query, reading.corrections) or query
    return f"{said} {reading.text}" if reading.translated else said  # e5 ranks English against bokmål poorly


def top_rows(scores: np.ndarray, k: int) -> np.ndarray:
    """The rows of the k highest scores, best first, ties in row order: the head of a stable
    argsort without sorting every passage (80 ms at a million, bench/scale)."""
    if k >= len(scores):
        return np.argsort(-scores, kind="stable")[:k]
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    negated = -scores
    kth = np.partition(negated, k - 1)[k - 1]
    above = np.flatnonzero(negated < kth)
    rows = np.sort(np.concatenate([above, np.flatnonzero(negated == kth)[: k - len(above)]]))
    return rows[np.argsort(negated[rows], kind="stable")]


def search(
    index: Index, query: str, k: int = 10, docs: list[str] | None = None, mode: str = "hybrid", all_hits: bool = False
) -> SearchResult:
    """At most k passages for the query, best first: those above the relevance floor (all k with all_hits)."""
    started = time.perf_counter()
    query = validate(index, query, k, docs, mode)
    mask = index.searchable & np.isin(index.doc_ids, docs) if docs else index.searchable
    scores, shown, reading = _score(index, query, mode, mask)
    if not all_hits:
        mask = mask & shown.keep
    shown_rows = np.flatnonzero(mask)
    top = shown_rows[top_rows(scores[shown_rows], k)]  # ties in row order, as over every passage
    marker = _marker(index, _embedded(query, reading), reading.text, mode)
    weak = np.cumsum(shown.weak[top]) > 0  # weaker hits are the tail of the ranking, never from its middle
    hits = [
        Hit(rank, float(scores[i]), index.passages[i], bool(weak[rank - 1]), *marker(index.passages[i]))
        for rank, i in enumerate(top, start=1)
    ]
    empty = None
    if not hits:
        empty = "filter" if docs and (index.searchable & shown.keep).any() else "nothing"
    took = round((time.perf_counter() - started) * 1000, 2)
    return SearchResult(query, mode, took, hits, sure(reading.corrections), sorted(asked_proposals(query)), empty)


def _marker(
    index: Index, query: str, content: str, mode: str
) -> Callable[[Passage], tuple[tuple[int, int], frozenset[str]]]:
    """A function giving a passage's snippet span (the sentence with most matched words, then the
    closest by its vector) and its words that match the query's content words (`Reading.text`)."""
    sentence_scores = index.sentence_scores(index.query_vector(query)) if mode != "lexical" else None

    def mark(passage: Passage) -> tuple[tuple[int, int], frozenset[str]]:
        rows = index.sentences(passage.passage_id)
        scored = sentence_scores is not None
        closeness = {start: float(sentence_scores[row]) for row, start, _ in rows} if scored else None
        marked = index.lexical.matching_words(content, passage.text)
        return snippet_span(passage.text, marked, [(s, e) for _, s, e in rows], closeness), frozenset(marked)

    return mark
