"""The contract between the build, the engines that store builds, and the read side.

The build (indexing/) reads the corpus and embeds; an engine stores what it produced and
scores queries against it. Search and answer talk to `querying.index.Index`, never to an engine.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..records import Passage

if TYPE_CHECKING:
    from ..text.bm25 import Lexical

FOLLOWUP_VERSION = 3  # of the follow-up evidence's layout: another version is recomputed


@dataclass(frozen=True)
class Built:
    """What a build hands to an engine to store and make current."""

    meta: dict
    passages: list[Passage]
    vectors: np.ndarray  # one per passage
    sentences: np.ndarray  # one vector per row of table
    table: np.ndarray  # (passage row, start, end) of each sentence, passage by passage
    # BM25 over the passages (stored by the local engine when it writes a build whole; PostgreSQL ranks words itself)
    lexical: Lexical
    links: dict  # follow-up evidence (followup.compute)


class Terms(Protocol):
    """Lexical scoring of one build (lexical.Lexical for the local engine)."""

    def tokens(self, text: str) -> list[str]: ...
    def scores(self, query: str) -> np.ndarray: ...
    def coverage(self, query: str) -> float: ...
    def matching_words(self, query: str, text: str) -> set[str]: ...


class Loaded(Protocol):
    """One build, loaded for searching: its meta, passages (in row order) and sentence table."""

    meta: dict
    passages: list[Passage]
    sentence_table: np.ndarray  # (passage row, start, end) of every sentence with a vector, passage by passage

    @property
    def lexical(self) -> Terms: ...
    def passage_scores(self, query_vector: np.ndarray) -> np.ndarray: ...
    def sentence_scores(self, query_vector: np.ndarray) -> np.ndarray: ...
    def is_current(self) -> bool: ...
    def followups(self) -> dict: ...  # follow-up evidence (followup.py); IndexMissing when absent


class Engine(Protocol):
    """Stores builds and makes one current atomically; one builder at a time."""

    where: str  # for messages: the index folder or the database

    def lock(self) -> AbstractContextManager[None]: ...
    def has_build(self) -> bool: ...
    def current_meta(self) -> dict | None: ...
    def readable(self) -> tuple[dict | None, list[Passage]]: ...
    def repair(self) -> list[str]: ...  # clears what would stop a new build being made current
    def current_followups(self) -> dict | None: ...
    def write(self, built: Built) -> str: ...
    def load(self) -> Loaded: ...


def scattered(total: int, rows: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Scores of the nearest rows an approximate search found; every other row gets the lowest
    score found, so it ranks below them without stretching the min-max blend (−1 with none found)."""
    scores = np.full(total, values.min() if len(values) else -1.0, dtype=np.float32)
    scores[rows] = values
    return scores
