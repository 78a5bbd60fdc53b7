"""Lexical ranking: BM25 over Norwegian-stemmed words, with compounds split into their known parts."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache

import bm25s
import numpy as np
import Stemmer
from bm25s.stopwords import STOPWORDS_NORWEGIAN

WORD = re.compile(r"\w+")
STOPWORDS = frozenset(STOPWORDS_NORWEGIAN)
MIN_PART = 4  # shortest compound part we trust ("spill", "over", "rus" is too short to be safe)
MIN_COMPOUND = 2 * MIN_PART


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("norwegian")


def words(text: str) -> list[str]:
    """Lower-cased word tokens, stop words included (for highlighting and splitting)."""
    return WORD.findall(text.lower())


class Decompounder:
    """Splits a word into two parts that both occur as words in the corpus ("overdose|dødsfall").

    Norwegian writes compounds as one word, so "dødsfall" never matches "overdosedødsfall" in
    plain BM25; adding the parts as extra tokens lets it. Of the possible splits, the one whose
    parts are most frequent wins (geometric mean, as in Koehn & Knight 2003), and only when
    that beats the frequency of the whole word; a linking "s" or "e" may follow the first part.
    """

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = {
            w: n for w, n in counts.items() if len(w) >= MIN_PART and not w.isdigit() and w not in STOPWORDS
        }

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_count: int = 2) -> "Decompounder":
        counts = Counter(w for text in texts for w in words(text))
        return cls({w: n for w, n in counts.items() if n >= min_count})

    @lru_cache(maxsize=65536)
    def parts(self, word: str) -> tuple[str, ...]:
        """The best two-part split of word, or () when it is not a compound of known words."""
        if len(word) < MIN_COMPOUND or word.isdigit():
            return ()
        best, best_score = (), float(self.counts.get(word, 0)) ** 2  # a split must be commoner than the word
        for cut in range(MIN_PART, len(word) - MIN_PART + 1):
            tail = word[cut:]
            for head in (word[:cut], word[: cut - 1] if word[cut - 1] in "se" else ""):
                if head in self.counts and tail in self.counts:
                    score = self.counts[head] * self.counts[tail]
                    if score > best_score:
                        best, best_score = (head, tail), score
        return best


class Lexical:
    """BM25 (bm25s) over stemmed tokens; a query's unknown tokens are ignored."""

    def __init__(self, texts: list[str], decompounder: Decompounder | None = None) -> None:
        self.decompounder = decompounder or Decompounder.from_texts(texts)
        self._bm25 = bm25s.BM25()
        self._bm25.index([self.tokens(t) or [""] for t in texts], show_progress=False)
        self._vocab = self._bm25.vocab_dict

    def tokens(self, text: str) -> list[str]:
        """Stems of the non-stop words, plus stems of compound parts."""
        kept = [w for w in words(text) if w not in STOPWORDS]
        extra = [part for w in kept for part in self.decompounder.parts(w)]
        return _stemmer().stemWords(kept + extra)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query (zeros when no query term is known)."""
        known = [t for t in self.tokens(query) if t in self._vocab]
        if not known:
            return np.zeros(self._bm25.scores["num_docs"], dtype=np.float32)
        return np.asarray(self._bm25.get_scores(known), dtype=np.float32)

    def matching_words(self, query: str, text: str) -> set[str]:
        """The words of text that match a query term (for highlighting)."""
        wanted = set(self.tokens(query))
        stem = _stemmer().stemWord
        return {w for w in set(words(text)) if w not in STOPWORDS and (stem(w) in wanted or
                any(stem(p) in wanted for p in self.decompounder.parts(w)))}
