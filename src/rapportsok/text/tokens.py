"""Words as search sees them: Norwegian stems without stop words, with compounds split into their known parts."""

from __future__ import annotations

import re
from functools import lru_cache

import Stemmer

from .stopwords import STOPWORDS_NORWEGIAN

WORD = re.compile(r"\w+")
STOPWORDS = frozenset(STOPWORDS_NORWEGIAN)
MIN_PART = 4  # shortest compound part we trust ("spill", "over", "rus" is too short to be safe)
MIN_COMPOUND = 2 * MIN_PART
MAX_COMPOUND = 64  # longer "words" (a hash, a run of letters) are not split: splitting costs the square of the length
PART_WEIGHT = 0.5  # a compound part of a query word is weaker evidence than the word itself


@lru_cache(maxsize=1)
def _stemmer() -> Stemmer.Stemmer:
    return Stemmer.Stemmer("norwegian")


def stem_words(words: list[str]) -> list[str]:
    """The Norwegian stems of the words, in one call."""
    return _stemmer().stemWords(words)


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
        self.parts = lru_cache(maxsize=65536)(self._parts)  # per instance: a swapped-out index frees it

    def _parts(self, word: str) -> tuple[str, ...]:
        """The best two-part split of word, or () when it is not a compound of known words."""
        if not MIN_COMPOUND <= len(word) <= MAX_COMPOUND or word.isdigit():
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


class Analyzer:
    """Text as one build's lexical index sees it: stems without stop words, and stems of the
    compound parts its decompounder knows. Every engine's lexical side analyses with one, so
    that scoring, the relevance floor, answers and highlighting agree on what a word is."""

    def __init__(self, decompounder: Decompounder) -> None:
        self.decompounder = decompounder

    def split(self, text: str) -> tuple[list[str], list[str]]:
        """Stems of the non-stop words, and stems of their compound parts."""
        kept = [w for w in words(text) if w not in STOPWORDS]
        parts = [part for w in kept for part in self.decompounder.parts(w)]
        return _stemmer().stemWords(kept), _stemmer().stemWords(parts)

    def tokens(self, text: str) -> list[str]:
        """Stems of the non-stop words, then stems of their compound parts."""
        whole, parts = self.split(text)
        return whole + parts

    def frequency(self, word: str) -> int:
        """How often the corpus uses the word: counted for words of MIN_PART letters or more seen
        twice or more, 1 for any other."""
        return self.decompounder.counts.get(word, 1)

    def matching_words(self, query: str, text: str) -> set[str]:
        """The words of text that match a query term (for highlighting); stemmed in one call each,
        as search marks every hit it returns."""
        wanted = set(self.tokens(query))
        distinct = [w for w in set(words(text)) if w not in STOPWORDS]
        found = {w for w, s in zip(distinct, stem_words(distinct), strict=True) if s in wanted}
        rest = [(w, part) for w in distinct if w not in found for part in self.decompounder.parts(w)]
        stems = stem_words([part for _, part in rest])
        return found | {w for (w, _), s in zip(rest, stems, strict=True) if s in wanted}
