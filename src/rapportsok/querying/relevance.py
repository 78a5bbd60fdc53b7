"""The relevance floor: which ranked passages deserve to be shown at all, and which only as weaker hits.

Scores are relative (min-max blends), so every query has a "best" passage even when nothing in
the reports is about it. The floor instead asks two absolute questions of each passage: how much
of the question's content-word weight (IDF) it contains, and how close its dense score is to the
question on the e5 cosine scale. Thresholds are tuned on the dev set and on off-topic questions
(bench/quality prints the share of shown hits that are relevant, with and without the floor).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..text.bm25 import idf

if TYPE_CHECKING:
    from .index import Index

# Words that say how a question is asked, not what it is about.
QUESTION_WORDS = frozenset(
    """
    hva hvem hvilke hvilken hvilket hvor hvordan hvorfor når mange mye kor korleis kva kven kvifor kvar
    sier si står skriver skrive mener meiner går gå ut inneholder innebærer handler dreier beskriver omtaler
    rapport rapporten rapportene rapportens dokument dokumentet dokumentets meldingen meldinga stortingsmeldingen
    ifølge ifølgje iflg finnes fins
    what which who whom how why when where many much does did do is are was were the a an of in on about to for
    and say says said report reports according document paper white there
    """.split()
)
# Thresholds (dense scores are blended e5 cosines: about .80 unrelated, .90 on the point)
MIN_COVER = 0.15  # share of the question's content-word weight a passage must contain ...
DENSE_ALONE = 0.88  # ... unless its dense score is this close to the question on its own
DENSE_FOREIGN = 0.80  # a question mostly in words the reports lack (English, nynorsk) has only the dense signal
FOREIGN_KNOWN = 0.6  # at or below this share of known content words a question counts as foreign
STRONG_COVER = 0.5  # a shown hit is "weak" unless it has this much of the content-word weight ...
DENSE_STRONG = 0.89  # ... or this dense score
# A sentence (answers) or passage (compare) this close to the question on its own addresses it,
# shared words or not: answers and compare must move together (tuned with bench/answer).
DENSE_ADDRESSES = 0.865


@dataclass(frozen=True)
class Floor:
    """Per passage: shown at all (keep) and shown as a weaker hit (weak)."""

    keep: np.ndarray
    weak: np.ndarray


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


def content_tokens(index: Index, query: str) -> list[str]:
    """The query's tokens that say what it is about (question words and report names left out,
    unless nothing else is left)."""
    known = vocabulary(index)
    tokens = list(dict.fromkeys(index.lexical.analyzer.tokens(query)))
    return [t for t in tokens if t not in known.meta] or [t for t in tokens if t not in known.generic]


def cover(index: Index, tokens: list[str]) -> tuple[np.ndarray, float]:
    """Per passage, the share of the tokens' IDF weight it contains; and the share of tokens the
    corpus knows. A token no passage contains weighs most, so a passage cannot cover a question
    whose main word the reports never use."""
    if not tokens:
        return np.zeros(len(index.passages), dtype=np.float32), 0.0
    present = index.lexical.containing(tokens)
    n = len(index.passages)
    df = present.sum(axis=1)
    weights = np.array([idf(n, d) for d in df.tolist()])
    return (weights @ present) / weights.sum(), float((df > 0).mean())


def floor(index: Index, query: str, mode: str, lexical: np.ndarray | None, dense: np.ndarray | None,
          boosted: np.ndarray) -> Floor:
    """Which passages to show and which as weaker hits; a proposal the query names is always shown."""
    covered, known = cover(index, content_tokens(index, query))
    if mode == "lexical" or dense is None:
        keep = (lexical > 0) & (covered > 0)  # question words and report names alone are no match
        strong = covered >= STRONG_COVER
    else:
        if known > FOREIGN_KNOWN:
            keep = (covered >= MIN_COVER) | (dense >= DENSE_ALONE)
        elif known > 0:
            keep = dense >= DENSE_FOREIGN
        else:  # not one word the reports use: only a close dense match counts
            keep = dense >= DENSE_ALONE
        strong = (covered >= STRONG_COVER) | (dense >= DENSE_STRONG)
    keep = keep | boosted
    return Floor(keep, ~(strong | boosted))
