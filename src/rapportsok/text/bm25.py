"""Lexical ranking: BM25 over Norwegian-stemmed words, with compounds split into their known parts."""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator
from functools import lru_cache
from itertools import chain
from pathlib import Path

import numpy as np

from .tokens import PART_WEIGHT, Analyzer, Decompounder, words

COMPOUNDS_FILE = "compounds.json"
# every word's count over the build's passages (once seen included): what a change needs to work out the
# counts, and so the compound splits, that a whole build of the changed corpus would have
WORDS_FILE = "words.json"
K1, B = 1.5, 0.75  # BM25 as bm25s computes it (Lucene variant; the PostgreSQL engine uses the same)
BUILD_CHUNK = 5_000  # texts read at a time while building (bounds the memory their words take)
POSTINGS_KEPT = 16  # tokens whose postings among the rows in use a loaded index keeps


def compound_splitter(word_counts: dict[str, int]) -> Decompounder:
    """The compound splitter of texts with these word counts: it knows the words seen twice or more."""
    return Decompounder({w: n for w, n in word_counts.items() if n >= 2})


def count_words(texts: Iterable[str]) -> Counter[str]:
    """Each word's count over the texts, as Lexical.build counts them (stop words and words seen once included)."""
    return Counter(word for text in texts for word in words(text))


def save_counts(folder: Path, decompounder: Decompounder, word_counts: dict[str, int] | None) -> None:
    (folder / COMPOUNDS_FILE).write_text(json.dumps(decompounder.counts, ensure_ascii=False), encoding="utf-8")
    if word_counts is not None:
        (folder / WORDS_FILE).write_text(json.dumps(word_counts, ensure_ascii=False), encoding="utf-8")


def span_rows(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The rows of the spans [start, start + length), one span after the other: gathering many short
    runs (a text's tokens, a passage's sentences) in one numpy step instead of a Python loop."""
    return np.repeat(starts - (np.cumsum(lengths) - lengths), lengths) + np.arange(int(lengths.sum()))


def idf(n: int, df: int) -> float:
    """BM25's inverse document frequency of a token `df` of `n` texts hold (bm25s's Lucene
    variant, never negative); the one weight of a word for ranking, the relevance floor and answers."""
    return math.log(1 + (n - df + 0.5) / (df + 0.5))


class Postings:
    """Raw term frequencies by token (a sparse matrix by column) and each passage's length.

    BM25 is computed at query time over the query tokens' postings only, so the stored numbers
    are counts that a change can extend, not scores that every change would alter; the large
    arrays are memory-mapped, so a loaded index holds only the postings a query has read."""

    FILES = ("indptr.npy", "docs.npy", "tf.npy", "lengths.npy")

    def __init__(
        self, vocab: dict[str, int], indptr: np.ndarray, docs: np.ndarray, tf: np.ndarray, lengths: np.ndarray
    ) -> None:
        self.vocab, self.n, self.lengths = vocab, len(lengths), lengths
        self._indptr, self._docs, self._tf = indptr, docs, tf

    @classmethod
    def count(cls, chunks: Iterable[tuple[np.ndarray, np.ndarray]], vocab: dict[str, int]) -> Postings:
        """The postings of texts given a chunk at a time as the numbers (into vocab) of their tokens,
        one text after the other, and how many tokens each text has."""
        terms, docs, tfs, lengths = [], [], [], []
        first = 0
        for flat, sizes in chunks:
            rows = np.repeat(np.arange(len(sizes), dtype=np.int64), sizes)
            pairs, tf = np.unique(rows * len(vocab) + flat, return_counts=True)
            terms.append((pairs % len(vocab)).astype(np.int32))
            docs.append((pairs // len(vocab) + first).astype(np.int32))
            tfs.append(np.minimum(tf, np.iinfo(np.uint16).max).astype(np.uint16))
            lengths.append(np.maximum(sizes, 1).astype(np.float32))  # an empty text counts one token, as in bm25s
            first += len(sizes)
        term = np.concatenate(terms) if terms else np.zeros(0, np.int32)
        order = np.argsort(term, kind="stable")  # by token, passages ascending within each
        indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
        np.cumsum(np.bincount(term, minlength=len(vocab)), out=indptr[1:])
        del term
        doc = np.concatenate(docs)[order] if docs else np.zeros(0, np.int32)
        tf = np.concatenate(tfs)[order] if tfs else np.zeros(0, np.uint16)
        return cls(vocab, indptr, doc, tf, np.concatenate(lengths) if lengths else np.zeros(0, np.float32))

    @classmethod
    def load(cls, folder: Path) -> Postings:
        vocab = json.loads((folder / "vocab.index.json").read_text(encoding="utf-8"))
        if not isinstance(vocab, dict):
            raise ValueError("vocab.index.json is not an object")
        indptr, docs, tf, lengths = (np.load(folder / name, mmap_mode="r") for name in cls.FILES)
        return cls(vocab, np.array(indptr), docs, tf, np.array(lengths))

    def save(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        for name, array in zip(self.FILES, (self._indptr, self._docs, self._tf, self.lengths), strict=True):
            np.save(folder / name, array)
        (folder / "vocab.index.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")

    def check(self, documents: int) -> None:
        """Raises ValueError unless the files agree with each other and index `documents` texts."""
        if self.n != documents:
            raise ValueError(f"the lexical index holds {self.n} texts, not {documents}")
        indptr, docs = self._indptr, self._docs
        if len(docs) != len(self._tf) or len(indptr) != len(self.vocab) + 1 or indptr[-1] != len(docs):
            raise ValueError("the lexical index's matrix files disagree")
        if np.any(np.diff(indptr) < 0) or (len(docs) and (docs.max() >= documents or docs.min() < 0)):
            raise ValueError("the lexical index's postings do not fit its passages")
        if sorted(self.vocab.values()) != list(range(len(self.vocab))):
            raise ValueError("the lexical index's vocabulary does not fit its matrix")

    def postings(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows that hold the token and how often each holds it; None for a token it lacks."""
        at = self.vocab.get(token)
        if at is None:
            return None
        start, end = self._indptr[at], self._indptr[at + 1]
        return self._docs[start:end], self._tf[start:end]


class _Numbering(dict):
    """Numbers keys in the order they are first looked up."""

    def __missing__(self, key: str) -> int:
        self[key] = number = len(self)
        return number


def _chunks(items: Iterable[str], size: int) -> Iterator[list[str]]:
    chunk: list[str] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


class Lexical:
    """BM25 (bm25s's Lucene variant) over stemmed tokens; a query's unknown tokens are ignored.

    The rows are those of one or more parts (postings of the passages a build added), of which
    `live` marks the rows still in use: a change adds a part and retires rows instead of
    recounting every passage. Document frequencies and the average length are taken over the
    live rows at query time, so the scores are those of one index over the live passages."""

    def __init__(
        self, parts: list[Postings] | None, decompounder: Decompounder, live: np.ndarray | None = None
    ) -> None:
        self.analyzer = Analyzer(decompounder)
        self.word_counts: dict[str, int] | None = None  # known when built from texts (not when loaded)
        self._parts = parts or []
        self._offsets = np.cumsum([0] + [part.n for part in self._parts])
        self._live = live
        self._live_rows = None if live is None else np.flatnonzero(live)
        self.n = int(self._offsets[-1]) if live is None else len(self._live_rows)
        # each row's place among the rows in use (-1 retired): scores are made for those only, never
        # gathered from an array over every row (two gathers of 1M values a query in a build in parts)
        self._in_use = None if live is None else np.where(live, np.cumsum(live) - 1, -1)
        # a search reads a token's postings four times (reading the query, cover, BM25), and over parts
        # each is gathered and filtered: the last tokens' are kept (a common one is ~3 MB at a million)
        self._live_postings = lru_cache(maxsize=POSTINGS_KEPT)(self._read_live_postings)
        if self._parts:
            lengths = np.concatenate([np.asarray(part.lengths, dtype=np.float32) for part in self._parts])
            average = float(lengths[self._live_rows].mean() if live is not None else lengths.mean()) if self.n else 1.0
            self._norm = (K1 * (1 - B + B * lengths / average)).astype(np.float32)

    @classmethod
    def build(cls, texts: Iterable[str], decompounder: Decompounder | None = None) -> Lexical:
        """BM25 over the texts. Each text is read once into numbers of its words; each distinct
        word is then stemmed and split once, and its tokens are spread over the texts by numpy."""
        numbering = _Numbering()
        chunks = []  # per chunk of texts: their words' numbers one text after the other, and words per text
        for chunk in _chunks(texts, BUILD_CHUNK):
            found = [words(text) for text in chunk]
            sizes = np.fromiter(map(len, found), dtype=np.int64, count=len(found))
            numbers = map(numbering.__getitem__, chain.from_iterable(found))
            flat = np.fromiter(numbers, dtype=np.int32, count=int(sizes.sum()))
            chunks.append((flat, sizes))
        surface = list(numbering)
        counts = np.zeros(len(surface), dtype=np.int64)
        for flat, _ in chunks:
            counts += np.bincount(flat, minlength=len(surface))
        word_counts = dict(zip(surface, counts.tolist(), strict=True))
        if decompounder is None:
            decompounder = compound_splitter(word_counts)
        analyzer = Analyzer(decompounder)
        vocab: dict[str, int] = {}
        expansion = [[vocab.setdefault(token, len(vocab)) for token in analyzer.tokens(word)] for word in surface]
        per_word = np.fromiter(map(len, expansion), dtype=np.int64, count=len(expansion))  # tokens of each word
        first = np.cumsum(per_word) - per_word
        tokens = np.fromiter(chain.from_iterable(expansion), dtype=np.int64, count=int(per_word.sum()))

        def spread(flat: np.ndarray, sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            """The token numbers of a chunk's texts, and how many each text has."""
            n = per_word[flat]
            at = span_rows(first[flat], n)
            text_of = np.repeat(np.arange(len(sizes)), sizes)
            return tokens[at], np.bincount(text_of, weights=n, minlength=len(sizes)).astype(np.int64)

        def spread_all() -> Iterator[tuple[np.ndarray, np.ndarray]]:
            while chunks:
                yield spread(*chunks.pop(0))  # each chunk's words freed once counted

        lexical = cls([Postings.count(spread_all(), vocab)], decompounder)
        lexical.word_counts = word_counts
        return lexical

    def save(self, folder: Path, compounds: bool = True) -> None:
        """Stored with the build, so that loading costs milliseconds instead of re-tokenising; a
        part added by a change is stored without the compounds and word counts (its build has them)."""
        (part,) = self._parts
        part.save(folder)
        if compounds:
            save_counts(folder, self.analyzer.decompounder, self.word_counts)

    @classmethod
    def load(cls, folders: list[Path], live: np.ndarray | None = None) -> Lexical:
        """The parts stored in folders (the first holds the compounds), with the live rows."""
        counts = json.loads((folders[0] / COMPOUNDS_FILE).read_text(encoding="utf-8"))
        if not isinstance(counts, dict) or not all(isinstance(n, int) for n in counts.values()):
            raise ValueError(f"{COMPOUNDS_FILE} is not an object of word counts")
        return cls([Postings.load(folder) for folder in folders], Decompounder(counts), live)

    def check(self, rows: list[int]) -> None:
        """Raises ValueError unless each part's files agree with each other and index its rows."""
        if len(rows) != len(self._parts):
            raise ValueError(f"the lexical index has {len(self._parts)} parts, not {len(rows)}")
        for part, count in zip(self._parts, rows, strict=True):
            part.check(count)

    def scores(self, query: str) -> np.ndarray:
        """BM25 score of every passage for the query; a query word's compound parts count half."""
        whole, parts = self.analyzer.split(query)
        return self._bm25_scores(whole) + PART_WEIGHT * self._bm25_scores(parts)

    def coverage(self, query: str) -> float:
        """Share of the query's words that occur in the corpus: low for English or nynorsk
        questions, whose words BM25 cannot match."""
        whole, _ = self.analyzer.split(query)
        return sum(any(t in part.vocab for part in self._parts) for t in whole) / len(whole) if whole else 0.0

    def holding(self, tokens: list[str]) -> list[np.ndarray]:
        """Per token, the passages that contain it, ascending (none for an unknown token): their
        postings, not a row over every passage (a million booleans per token at scale)."""
        found = [self._live_postings(token) for token in tokens]
        empty = np.zeros(0, dtype=np.int64)
        return [empty if f is None else f[0] if self._in_use is None else self._in_use[f[0]] for f in found]

    def _read_live_postings(self, token: str) -> tuple[np.ndarray, np.ndarray] | None:
        """The rows in use (numbered across the parts) that hold the token, and how often each does."""
        found = []
        for part, offset in zip(self._parts, self._offsets[:-1].tolist(), strict=True):
            hit = part.postings(token)
            if hit is not None:
                found.append((hit[0] + offset if offset else hit[0], hit[1]))
        if not found:
            return None
        docs = found[0][0] if len(found) == 1 else np.concatenate([d for d, _ in found])
        tf = found[0][1] if len(found) == 1 else np.concatenate([t for _, t in found])
        if self._live is not None:
            keep = self._live[docs]
            docs, tf = docs[keep], tf[keep]
        return docs, tf

    def _bm25_scores(self, tokens: list[str]) -> np.ndarray:
        """Sum over the known tokens (repeats count again) of each live row's BM25 score."""
        scores = np.zeros(self.n, dtype=np.float32)
        for token, repeats in Counter(tokens).items():
            found = self._live_postings(token)
            if found is None:
                continue
            docs, tf = found[0], found[1].astype(np.float32)
            weight = tf / (self._norm[docs] + tf)
            weight *= np.float32(repeats * idf(self.n, len(docs)))
            at = docs if self._in_use is None else self._in_use[docs]
            if len(docs) > len(scores) // 16:  # a common word: one pass in C beats gathering and scattering
                np.add(scores, np.bincount(at, weight, minlength=len(scores)), out=scores, casting="unsafe")
            else:
                scores[at] += weight
        return scores

    def matching_words(self, query: str, text: str) -> set[str]:
        """The words of text that match a query term (for highlighting)."""
        return self.analyzer.matching_words(query, text)
