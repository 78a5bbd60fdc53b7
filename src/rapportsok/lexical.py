"""Lexical ranking: BM25 over Norwegian-stemmed words, with compounds split into their known parts."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import numpy as np
import Stemmer

from .stopwords import STOPWORDS_NORWEGIAN

WORD = re.compile(r"\w+")
STOPWORDS = frozenset(STOPWORDS_NORWEGIAN)
MIN_PART = 4  # shortest compound part we trust ("spill", "over", "rus" is too short to be safe)
MIN_COMPOUND = 2 * MIN_PART
COMPOUNDS_FILE = "compounds.json"
PART_WEIGHT = 0.5  # a compound part of a query word is weaker evidence than the word itself


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
        self.parts = lru_cache(maxsize=65536)(self._parts)  # per instance: a swapped-out index frees it

    @classmethod
    def from_texts(cls, texts: Iterable[str], min_count: int = 2) -> Decompounder:
        counts = Counter(w for text in texts for w in words(text))
        return cls({w: n for w, n in counts.items() if n >= min_count})

    def _parts(self, word: str) -> tuple[str, ...]:
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


def split(text: str, decompounder: Decompounder) -> tuple[list[str], list[str]]:
    """Stems of the non-stop words, and stems of their compound parts."""
    kept = [w for w in words(text) if w not in STOPWORDS]
    parts = [part for w in kept for part in decompounder.parts(w)]
    return _stemmer().stemWords(kept), _stemmer().stemWords(parts)


def tokens_of(text: str, decompounder: Decompounder) -> list[str]:
    whole, parts = split(text, decompounder)
    return whole + parts


class Postings:
    """The BM25 score of every (token, passage) pair as bm25s saves it: a sparse matrix by token.

    Read and summed here with numpy alone, so a search never imports bm25s and SciPy (a fifth
    of a cold `rapportsok search`); bm25s computes the matrix when a build writes it."""

    FILES = ("data.csc.index.npy", "indices.csc.index.npy", "indptr.csc.index.npy")

    def __init__(
        self, vocab: dict[str, int], data: np.ndarray, indices: np.ndarray, indptr: np.ndarray, n: int
    ) -> None:
        self.vocab, self.n = vocab, n
        self._data, self._indices, self._indptr = data, indices, indptr

    @classmethod
    def load(cls, folder: Path) -> Postings:
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        n = json.loads((folder / "params.index.json").read_text(encoding="utf-8"))["num_docs"]
        return cls(vocab, *(np.load(folder / name) for name in cls.FILES), n)

    def save(self, folder: Path) -> None:
        """The files and names bm25s writes (params: only what loading needs)."""
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in zip(self.FILES, (self._data, self._indices, self._indptr), strict=True):
            np.save(folder / name, array)
        (folder / "vocab.index.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        params = json.dumps({"method": "lucene", "num_docs": self.n})
        (folder / "params.index.json").write_text(params, encoding="utf-8")

    def check(self, documents: int) -> None:
        """Raises ValueError unless the files agree with each other and index `documents` texts."""
        if self.n != documents:
            raise ValueError(f"the lexical index holds {self.n} texts, not {documents}")
        indices, indptr = self._indices, self._indptr
        if len(indices) != len(self._data) or len(indptr) == 0 or indptr[-1] != len(indices):
            raise ValueError("the lexical index's matrix files disagree")
        if (len(indices) and indices.max() >= documents) or max(self.vocab.values(), default=-1) >= len(indptr):
            raise ValueError("the lexical index's vocabulary does not fit its matrix")

    def scores(self, tokens: list[str]) -> np.ndarray:
        """Sum over the known tokens (repeats count again) of each passage's BM25 score."""
        scores = np.zeros(self.n, dtype=np.float32)
        for token in tokens:
            at = self.vocab.get(token)
            if at is not None:
                start, end = self._indptr[at], self._indptr[at + 1]
                np.add.at(scores, self._indices[start:end], self._data[start:end])
        return scores


class Lexical:
    """BM25 (bm25s's Lucene variant) over stemmed tokens; a query's unknown tokens are ignored."""

    def __init__(self, postings: Postings, decompounder: Decompounder) -> None:
        self.decompounder = decompounder
        self._postings = postings

    @classmethod
    def build(cls, texts: list[str], decompounder: Decompounder | None = None) -> Lexical:
        import bm25s

        decompounder = decompounder or Decompounder.from_texts(texts)
        bm25 = bm25s.BM25()
        bm25.index([tokens_of(t, decompounder) or [""] for t in texts], show_progress=False)
        matrix = bm25.scores
        postings = Postings(bm25.vocab_dict, matrix["data"], matrix["indices"], matrix["indptr"], matrix["num_docs"])
        return cls(postings, decompounder)

    def save(self, folder: Path) -> None:
        """Stored with the build, so that loading costs milliseconds instead of re-tokenising."""
        self._postings.save(folder)
        (folder / COMPOUNDS_FILE).write_text(json.dumps(self.decompounder.counts, ensure_ascii=False))

    @classmethod
    def load(cls, folder: Path) -> Lexical:
        counts = json.loads((folder / COMPOUNDS_FILE).read_text(encoding="utf-8"))
        if not isinstance(counts, dict) or not all(isinstance(n, int) for n in counts.values()):
            raise ValueError(f"{COMPOUNDS_FILE} is not an object of word counts")
        return cls(Postings.load(folder), Decompounder(counts))

    def check(self, documents: int) -> None:
        """Raises ValueError unless the loaded files agree with each other and index `documents` texts."""
        self._postings.check(documents)

    def tokens(self, text: str) -> list[str]:
        """Stems of the non-stop words, plus stems of compound parts."""
        return tokens_of(text, self.decompounder)

    def _split(self, text: str) -> tuple[list[str], list[str]]:
        return split(text, self.decompounder)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query; a query word's compound parts count half."""
        whole, parts = self._split(query)
        return self._bm25_scores(whole) + PART_WEIGHT * self._bm25_scores(parts)

    def coverage(self, query: str) -> float:
        """Share of the query's words that occur in the corpus: low for English or nynorsk
        questions, whose words BM25 cannot match."""
        whole, _ = self._split(query)
        return sum(t in self._postings.vocab for t in whole) / len(whole) if whole else 0.0

    def containing(self, tokens: list[str]) -> np.ndarray:
        """Per token, which passages contain it (a boolean row per token; all False for an unknown token)."""
        rows = [self._bm25_scores([t]) > 0 for t in tokens]
        return np.array(rows, dtype=bool).reshape(len(tokens), self._postings.n)

    def _bm25_scores(self, tokens: list[str]) -> np.ndarray:
        return self._postings.scores(tokens)

    def matching_words(self, query: str, text: str) -> set[str]:
        """The words of text that match a query term (for highlighting); stemmed in one call each,
        as search marks every hit it returns."""
        wanted = set(self.tokens(query))
        distinct = [w for w in set(words(text)) if w not in STOPWORDS]
        found = {w for w, s in zip(distinct, _stemmer().stemWords(distinct), strict=True) if s in wanted}
        rest = [(w, part) for w in distinct if w not in found for part in self.decompounder.parts(w)]
        stems = _stemmer().stemWords([part for _, part in rest])
        return found | {w for (w, _), s in zip(rest, stems, strict=True) if s in wanted}
