"""Lexical scoring of a PostgreSQL generation: BM25 over PostgreSQL's `norwegian` stems, read from
the postings of the query's lexemes (engines/postgres/engine.py stores them)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from contextlib import AbstractContextManager
from functools import cached_property, lru_cache
from typing import Any, Protocol

import numpy as np

from ...records import Passage
from ...text.bm25 import K1, B, idf
from ...text.tokens import PART_WEIGHT, STOPWORDS, Analyzer, Decompounder, words

CACHE_BYTES = 64 << 20  # per loaded generation: merged postings of the lexemes read last (a common one: 2 MB at 100k)
CACHE_TERMS = 100_000  # query words whose stems are kept
# aggregates of one group are fed its rows in the same order, so the i-th part, count, seqs and tfs belong together
POSTINGS = """
    SELECT lexeme, string_agg(int8send(part), ''), string_agg(int2send((length(tfs) / 2)::int2), ''),
           string_agg(seqs, ''), string_agg(tfs, '')
    FROM rs_postings WHERE lexeme = ANY(%s) GROUP BY lexeme
    """


class Generation(Protocol):
    """What lexical scoring reads of a loaded generation (engine.PostgresBuild)."""

    passages: list[Passage]
    lengths: np.ndarray  # of each passage, in lexemes
    avg_len: float

    def connection(self) -> AbstractContextManager[Any]: ...
    def first_rows(self, parts: np.ndarray) -> np.ndarray: ...


class PostgresTerms:
    """BM25 over PostgreSQL's Norwegian stems, from the postings of the query's lexemes. As the local
    engine indexes a compound's parts as words of its passage, a query lexeme also reads the postings
    of the corpus' compounds with a part stemming to it ("sykehus" finds "sykehusopphold"); and a
    compound query word's parts count PART_WEIGHT."""

    def __init__(self, build: Generation, decompounder: Decompounder) -> None:
        self.analyzer = Analyzer(decompounder)  # as the local engine splits words (relevance floor, highlighting)
        self.build = build
        self._matched = lru_cache(maxsize=8)(self._match)  # scores and coverage of one query read it once
        self._lock = threading.Lock()  # the server's threads share the caches below
        self._stems: dict[str, list[str]] = {}
        self._kept: OrderedDict[str, tuple[np.ndarray, np.ndarray] | None] = OrderedDict()  # None: no postings
        self._kept_bytes = 0

    @cached_property
    def _rows_by_token(self) -> dict[str, np.ndarray]:
        """Which passages hold each of our tokens (for the relevance floor), from the passages in memory."""
        rows: dict[str, list[int]] = {}
        for row, passage in enumerate(self.build.passages):
            for token in set(self.analyzer.tokens(passage.context())):
                rows.setdefault(token, []).append(row)
        return {token: np.array(found, dtype=np.int64) for token, found in rows.items()}

    def holding(self, tokens: list[str]) -> list[np.ndarray]:
        """Per token, the passages that contain it (as Lexical.holding)."""
        return [self._rows_by_token.get(token, np.zeros(0, dtype=np.int64)) for token in tokens]

    def matching_words(self, query: str, text: str) -> set[str]:
        """The words of text that match a query term (for highlighting)."""
        return self.analyzer.matching_words(query, text)

    @cached_property
    def _compounds(self) -> dict[str, list[str]]:
        """Per lexeme, the lexemes of the corpus' compounds with a part that stems to it."""
        decompounder = self.analyzer.decompounder
        split = {w: parts for w in decompounder.counts if (parts := decompounder.parts(w))}
        stems: dict[str, list[str]] = {}
        with self.build.connection() as conn:
            for word, lexeme in conn.execute(
                "SELECT u.w, v.lexeme FROM unnest(%s::text[]) AS u(w), unnest(to_tsvector('norwegian', u.w)) AS v",
                (sorted(set(split) | {part for parts in split.values() for part in parts}),),
            ):
                stems.setdefault(word, []).append(lexeme)
        found: dict[str, set[str]] = {}
        for word, parts in split.items():
            for stem in {x for part in parts for x in stems.get(part, [])}:
                found.setdefault(stem, set()).update(x for x in stems.get(word, []) if x != stem)
        return {part: sorted(compounds) for part, compounds in found.items()}

    def _weighted(self, query: str) -> tuple[list[str], list[float], int]:
        """Query words with their weights (compound parts count PART_WEIGHT), and how many are whole words."""
        kept = [w for w in words(query) if w not in STOPWORDS]
        parts = [part for w in kept for part in self.analyzer.decompounder.parts(w)]
        return kept + parts, [1.0] * len(kept) + [PART_WEIGHT] * len(parts), len(kept)

    def _match(self, query: str) -> tuple[list[list[str]], dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Each query term's lexemes, and the postings in this generation of each lexeme with its
        compounds: (rows, counts)."""
        terms, _, _ = self._weighted(query)
        lexemes = self._stemmed(terms)
        return lexemes, self._postings(sorted({x for term in lexemes for x in term}))

    def _stemmed(self, terms: list[str]) -> list[list[str]]:
        """Each term's lexemes, as PostgreSQL's `norwegian` configuration stems it (asked once per word)."""
        with self._lock:
            stems = {term: self._stems[term] for term in terms if term in self._stems}
        missing = sorted(set(terms) - stems.keys())
        if missing:
            stems |= {term: [] for term in missing}
            with self.build.connection() as conn:
                for term, lexeme in conn.execute(
                    "SELECT u.t, v.lexeme FROM unnest(%s::text[]) AS u(t), unnest(to_tsvector('norwegian', u.t)) AS v",
                    (missing,),
                ):
                    stems[term].append(lexeme)
            with self._lock:
                if len(self._stems) + len(missing) > CACHE_TERMS:
                    self._stems.clear()
                self._stems |= {term: stems[term] for term in missing}
        return [stems[term] for term in terms]

    def _postings(self, lexemes: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """Per lexeme with any, in the order given, the passages holding it or one of its compounds and
        the summed counts; those read last are kept (up to CACHE_BYTES), the others are read from
        rs_postings in one statement."""
        with self._lock:
            found = {x: self._kept[x] for x in lexemes if x in self._kept}
            for lexeme in found:
                self._kept.move_to_end(lexeme)
        missing = [x for x in lexemes if x not in found]
        if missing:
            read = self._read(missing)
            found |= {x: read.get(x) for x in missing}
            with self._lock:
                for lexeme in missing:
                    self._kept_bytes += _size(read.get(lexeme)) - _size(self._kept.get(lexeme))
                    self._kept[lexeme] = read.get(lexeme)
                while self._kept_bytes > CACHE_BYTES and self._kept:
                    self._kept_bytes -= _size(self._kept.popitem(last=False)[1])
        return {x: postings for x in lexemes if (postings := found[x]) is not None}

    def _read(self, lexemes: list[str]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        """The postings of each lexeme with its compounds, from the database: (rows, summed counts)."""
        with self.build.connection() as conn:
            postings = conn.execute(  # a row per lexeme: its parts, counts, seqs and tfs packed, numpy reads them whole
                POSTINGS, (sorted({y for x in lexemes for y in [x, *self._compounds.get(x, [])]}),),
            ).fetchall()
        n = len(self.build.passages)
        read: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for lexeme, parts, counts, seqs, tfs in postings:
            first = self.build.first_rows(np.frombuffer(parts, dtype=">i8"))
            first = np.repeat(first, np.frombuffer(counts, dtype=">i2"))
            keep = first >= 0  # -1: a part outside this generation
            read[lexeme] = ((first + np.frombuffer(seqs, dtype=">i4"))[keep], np.frombuffer(tfs, dtype=">i2")[keep])
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for lexeme in lexemes:
            group = [read[x] for x in [lexeme, *self._compounds.get(lexeme, [])] if x in read]
            if group:  # a passage's count is the sum over the lexeme and its compounds (bincount: no sort)
                counts = np.bincount(np.concatenate([r for r, _ in group]), minlength=n,
                                     weights=np.concatenate([t for _, t in group]))
                rows = np.flatnonzero(counts)
                found[lexeme] = (rows, counts[rows].astype(np.float32))
        return found

    def scores(self, query: str) -> np.ndarray:
        """BM25 of every passage (bm25s's Lucene variant), a lexeme counting the weights of the
        query terms that stem to it."""
        _, weights, _ = self._weighted(query)
        lexemes, postings = self._matched(query)
        weight: dict[str, float] = {}
        for term_lexemes, w in zip(lexemes, weights, strict=True):
            for lexeme in term_lexemes:
                weight[lexeme] = weight.get(lexeme, 0.0) + w
        n, lengths = len(self.build.passages), self.build.lengths
        norm = K1 * (1 - B + B * lengths / max(self.build.avg_len, 1.0))
        scores = np.zeros(n, dtype=np.float32)
        for lexeme, (rows, tf) in postings.items():
            scores[rows] += weight[lexeme] * idf(n, len(rows)) * tf * (K1 + 1) / (tf + norm[rows])
        return scores

    def coverage(self, query: str) -> float:
        """Share of the query's words whose stem occurs in a passage of this build."""
        _, _, whole = self._weighted(query)
        if not whole:
            return 0.0
        lexemes, postings = self._matched(query)
        return sum(any(x in postings for x in found) for found in lexemes[:whole]) / whole


def _size(postings: tuple[np.ndarray, np.ndarray] | None) -> int:
    return 0 if postings is None else postings[0].nbytes + postings[1].nbytes
