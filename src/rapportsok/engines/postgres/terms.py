"""Lexical scoring of a PostgreSQL generation: BM25 over PostgreSQL's `norwegian` stems, read from
the postings of the query's lexemes (engines/postgres/engine.py stores them)."""

from __future__ import annotations

from contextlib import AbstractContextManager
from functools import cached_property, lru_cache
from typing import Any, Protocol

import numpy as np

from ...records import Passage
from ...text.bm25 import K1, B, idf
from ...text.tokens import PART_WEIGHT, STOPWORDS, Analyzer, Decompounder, words


class Generation(Protocol):
    """What lexical scoring reads of a loaded generation (engine.PostgresBuild)."""

    passages: list[Passage]
    lengths: np.ndarray  # of each passage, in lexemes
    avg_len: float

    def connection(self) -> AbstractContextManager[Any]: ...
    def first_rows(self, parts: list[int]) -> np.ndarray: ...


class PostgresTerms:
    """BM25 over PostgreSQL's Norwegian stems, from the postings of the query's lexemes. As the local
    engine indexes a compound's parts as words of its passage, a query lexeme also reads the postings
    of the corpus' compounds with a part stemming to it ("sykehus" finds "sykehusopphold"); and a
    compound query word's parts count PART_WEIGHT."""

    def __init__(self, build: Generation, decompounder: Decompounder) -> None:
        self.analyzer = Analyzer(decompounder)  # as the local engine splits words (relevance floor, highlighting)
        self.build = build
        self._matched = lru_cache(maxsize=8)(self._match)  # scores and coverage of one query read it once

    @cached_property
    def _rows_by_token(self) -> dict[str, np.ndarray]:
        """Which passages hold each of our tokens (for the relevance floor), from the passages in memory."""
        rows: dict[str, list[int]] = {}
        for row, passage in enumerate(self.build.passages):
            for token in set(self.analyzer.tokens(passage.context())):
                rows.setdefault(token, []).append(row)
        return {token: np.array(found, dtype=np.int64) for token, found in rows.items()}

    def containing(self, tokens: list[str]) -> np.ndarray:
        """Per token, which passages contain it (as Lexical.containing)."""
        present = np.zeros((len(tokens), len(self.build.passages)), dtype=bool)
        for i, token in enumerate(tokens):
            present[i, self._rows_by_token.get(token, [])] = True
        return present

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
        if not terms:
            return [], {}
        lexemes: list[list[str]] = [[] for _ in terms]
        with self.build.connection() as conn:
            for n, lexeme in conn.execute(
                "SELECT u.n, v.lexeme FROM unnest(%s::text[]) WITH ORDINALITY AS u(t, n),"
                " unnest(to_tsvector('norwegian', u.t)) AS v",
                (terms,),
            ):
                lexemes[n - 1].append(lexeme)
            postings = conn.execute(  # one row per lexeme: numpy unpacks it whole
                "SELECT lexeme, array_agg(part ORDER BY part, chunk), array_agg(length(tfs) / 2 ORDER BY part, chunk),"
                " string_agg(seqs, '' ORDER BY part, chunk), string_agg(tfs, '' ORDER BY part, chunk)"
                " FROM rs_postings WHERE lexeme = ANY(%s) GROUP BY lexeme",
                (sorted({y for term in lexemes for x in term for y in [x, *self._compounds.get(x, [])]}),),
            ).fetchall()
        read: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for lexeme, parts, counts, seqs, tfs in postings:
            first = np.repeat(self.build.first_rows(parts), counts)  # -1: a part outside this generation
            keep = first >= 0
            read[lexeme] = ((first + np.frombuffer(seqs, dtype=">i4"))[keep], np.frombuffer(tfs, dtype=">i2")[keep])
        found: dict[str, tuple[np.ndarray, np.ndarray]] = {}
        for lexeme in {x for term in lexemes for x in term}:
            group = [read[x] for x in [lexeme, *self._compounds.get(lexeme, [])] if x in read]
            rows = np.concatenate([r for r, _ in group]) if group else np.zeros(0, dtype=np.int64)
            if len(rows):  # a passage's count is the sum over the lexeme and its compounds
                unique, at = np.unique(rows, return_inverse=True)
                counts = np.bincount(at, weights=np.concatenate([t for _, t in group]))
                found[lexeme] = (unique, counts.astype(np.float32))
        return lexemes, found

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
