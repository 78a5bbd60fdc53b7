"""The relevance floor: which ranked passages deserve to be shown at all, and which only as weaker hits.

Scores are relative (min-max blends), so every query has a "best" passage even when nothing in
the reports is about it. The floor instead asks two absolute questions of each passage: how much
of the question's content-word weight (IDF) it contains, and how close its dense score is to the
question on the e5 cosine scale. Thresholds are tuned on the dev set and on off-topic questions
(bench/quality prints the share of shown hits that are relevant, with and without the floor).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from ..text.bm25 import idf
from ..text.stopwords import QUESTION_WORDS, STOPWORDS_ENGLISH
from ..text.tokens import STOPWORDS, stem_words, words
from .glossary import translated
from .spelling import speller, sure

if TYPE_CHECKING:
    from .index import Index

# Thresholds (dense scores are blended e5 cosines: about .80 unrelated, .90 on the point)
MIN_COVER = 0.15  # share of the question's content-word weight a passage must contain ...
DENSE_ALONE = 0.88  # ... unless its dense score is this close to the question on its own
DENSE_FOREIGN = 0.80  # an English question has only the dense signal, and English runs lower on e5's scale
FOREIGN_KNOWN = 0.6  # at or below this share of known content words, the lexical signal is too thin
STANDOUT = 0.045  # ... and a Norwegian question's passage must stand this far above the corpus' median
STRONG_COVER = 0.5  # a shown hit is "weak" unless it has this much of the content-word weight ...
DENSE_STRONG = 0.89  # ... or this dense score
# a Norwegian question about the reports has a passage this close (dev and dev-nn: .855 and up, off-topic
# questions in the reports' words .850 at most; midway, since sentences are embedded without headings) ...
DENSE_ON_TOPIC = 0.852
ON_TOPIC_COVER = 0.5  # ... or one with this much of its words (off-topic in real words: .843, .46 at most)
ENGLISH_GAP = 0.05  # an English question's cosines run this much below the same question's in Norwegian
# A sentence (answers) or passage (compare) this close to the question on its own addresses it,
# shared words or not: answers and compare must move together (tuned with bench/answer).
DENSE_ADDRESSES = 0.865
ENGLISH_ONLY = frozenset(STOPWORDS_ENGLISH) - STOPWORDS
NORWEGIAN_ONLY = STOPWORDS - frozenset(STOPWORDS_ENGLISH)
QUERY_STOPWORDS = STOPWORDS | frozenset(STOPWORDS_ENGLISH) | frozenset(QUESTION_WORDS)


@dataclass(frozen=True)
class Floor:
    """Per passage: shown at all (keep) and shown as a weaker hit (weak)."""

    keep: np.ndarray
    weak: np.ndarray


@dataclass(frozen=True)
class Reading:
    """A query as search understands it: its content words (question words of bokmål, nynorsk and
    English left out, a word the index lacks replaced by the corpus word it is taken for or by its
    bokmål translation), their tokens, and whether it is asked in English (more English than
    Norwegian function words: then every content word is read through the glossary)."""

    text: str
    tokens: list[str]
    known: float  # share of the content tokens the index knows, corrections included
    english: bool
    corrections: dict[str, str] = field(default_factory=dict)  # query word -> corpus word
    glossed: dict[str, str] = field(default_factory=dict)  # English term the index lacks -> its bokmål words

    @property
    def translated(self) -> bool:
        """Whether the text holds bokmål words the question was not asked with (an English question's)."""
        return self.english or bool(self.glossed)


class Vocabulary:
    """Per index: the tokens that only say how a question is asked or which report it names."""

    def __init__(self, index: Index) -> None:
        self.generic = set(index.lexical.analyzer.tokens(" ".join(QUESTION_WORDS)))
        self.meta = self.generic | doc_words(index)


def doc_words(index: Index) -> set[str]:
    """Tokens of document ids (the names users call the reports by: "stoltenberg", "meld", "rusreform")."""
    ids = " ".join(d.doc.replace("-", " ") for d in index.documents)
    spelled = ids.replace("oe", "ø").replace("aa", "å").replace("ae", "æ")  # "hoeringsinnspill": ASCII for ø
    return {t for t in index.lexical.analyzer.tokens(f"{ids} {spelled}") if not t.isdigit()}


_VOCABULARIES: weakref.WeakKeyDictionary[Index, Vocabulary] = weakref.WeakKeyDictionary()


def vocabulary(index: Index) -> Vocabulary:
    found = _VOCABULARIES.get(index)
    if found is None:
        found = _VOCABULARIES[index] = Vocabulary(index)
    return found


def read(index: Index, query: str) -> Reading:
    """The query's content words and tokens, with corrections of the words the index lacks: a sure
    misspelling of a corpus word («naloxon»), else an English word the glossary knows («police»,
    «prisoners»), else the closest corpus word as a lexical guess."""
    said = words(query)
    english = sum(w in ENGLISH_ONLY for w in said) > sum(w in NORWEGIAN_ONLY for w in said)
    kept = [w for w in dict.fromkeys(said) if w not in QUERY_STOPWORDS]
    found = [len(rows) > 0 for rows in index.lexical.holding(stem_words(kept))]
    lacking = [w for w, known in zip(kept, found, strict=True) if not known]
    corrections = {} if english else {w: c for w in lacking if (c := speller(index).correct(w))}
    untranslated = set() if english else set(sure(corrections)) | (set(kept) - set(lacking))
    read_as, glossed = translated(kept, None if english else set(kept) - untranslated)
    corrections = {w: c for w, c in corrections.items() if w in read_as}  # a guess where the glossary had none
    text = " ".join(corrections.get(w, w) for w in read_as)
    tokens = _content(index, index.lexical.analyzer.tokens(text))
    share = float(np.mean([len(rows) > 0 for rows in index.lexical.holding(tokens)])) if tokens else 0.0
    return Reading(text, tokens, share, english, corrections, glossed)


def _content(index: Index, tokens: list[str]) -> list[str]:
    """The tokens that say what the query is about: report names left out unless nothing else is left."""
    known = vocabulary(index)
    tokens = list(dict.fromkeys(tokens))
    return [t for t in tokens if t not in known.meta] or [t for t in tokens if t not in known.generic]


def content_tokens(index: Index, query: str) -> list[str]:
    """The query's tokens that say what it is about (question words and report names left out,
    unless nothing else is left)."""
    return read(index, query).tokens


def cover(index: Index, tokens: list[str]) -> np.ndarray:
    """Per passage, the share of the tokens' IDF weight it contains. A token no passage contains
    weighs most, so a passage cannot cover a question whose main word the reports never use."""
    n = len(index.passages)
    covered = np.zeros(n)
    if not tokens:
        return covered
    held = index.lexical.holding(tokens)
    weights = [idf(n, len(rows)) for rows in held]
    for rows, weight in zip(held, weights, strict=True):
        covered[rows] += weight  # each passage once per token
    covered /= sum(weights)
    return covered


def floor(index: Index, reading: Reading, mode: str, lexical: np.ndarray | None, dense: np.ndarray | None,
          boosted: np.ndarray) -> Floor:
    """Which passages to show and which as weaker hits; a proposal the query names is always shown.

    A Norwegian question whose words the reports know needs them (or a close dense match); an
    English one, whose words the reports mostly lack, only its own dense scale; a Norwegian one
    whose words the reports lack (nonsense in real words) a passage that stands out from the rest
    of the corpus for it, not merely the best of a bad lot; and none at all unless the reports
    address the question (`_about_reports`)."""
    covered = index.with_notes(cover(index, reading.tokens))
    if mode == "lexical" or dense is None:
        keep = (lexical > 0) & (covered > 0)  # question words and report names alone are no match
        strong = covered >= STRONG_COVER
    elif reading.english:
        keep = dense >= DENSE_FOREIGN
        strong = (covered >= STRONG_COVER) | (dense >= DENSE_STRONG - ENGLISH_GAP)
    else:
        if reading.known > FOREIGN_KNOWN:
            keep = (covered >= MIN_COVER) | (dense >= DENSE_ALONE)
        else:
            keep = (covered >= STRONG_COVER) | (dense >= DENSE_ALONE) | (dense - _median(index, dense) >= STANDOUT)
        strong = (covered >= STRONG_COVER) | (dense >= DENSE_STRONG)
        if not _about_reports(index, covered, dense):
            keep = np.zeros_like(boosted)
    if not reading.tokens and boosted.any():  # "forslag 15" and nothing else: that proposal alone
        keep = np.zeros_like(boosted)
    keep = keep | boosted
    return Floor(keep, ~(strong | boosted))


def _about_reports(index: Index, covered: np.ndarray, dense: np.ndarray) -> bool:
    """Whether the reports address the question at all: real words the reports also use («fly til
    Tromsø», «parkering i Oslo sentrum») meet a few passages partly, but none comes as close as the
    passage answering a question about the reports does, nor holds most of the question's words."""
    searchable = index.searchable
    return bool(np.any((dense >= DENSE_ON_TOPIC) & searchable) or np.any((covered >= ON_TOPIC_COVER) & searchable))


def _median(index: Index, dense: np.ndarray) -> float:
    """The dense score of the corpus' middle passage: how close the query is to the reports in general."""
    return float(np.median(dense[index.searchable]))
