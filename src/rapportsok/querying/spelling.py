"""«Mente du …?»: a query word the index does not know, taken for the closest word the reports use.

The vocabulary is the corpus' own (the words the build's decompounder counts: four letters or
more, seen twice or more), so a suggestion is always a word a search can find. Closeness is the
Levenshtein distance (RapidFuzz, in C over the whole vocabulary: no index to build or load), at
most one edit for short words and two for longer ones, the commoner word winning a tie. The same
correction serves nynorsk spellings of bokmål words («utvalet» → «utvalget») and close English
cognates («naloxon» → «nalokson»). A four-letter word has many neighbours at one edit, so its
correction only counts lexically («fekk» → «fikk»); a longer word's is also suggested and is what
the question is embedded with (`respelled`)."""

from __future__ import annotations

import re
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .index import Index

MIN_LETTERS = 4  # shorter words are left alone: too many neighbours at one edit
SURE_LETTERS = 5  # a shorter word's correction is only a lexical guess ("user" → "uker"), never suggested
LONG_WORD = 7  # from this length on, two edits are allowed
CANDIDATES = 20  # nearest words compared by frequency


class Speller:
    """The corpus' words and how often each is used, with the closest one to an unknown word."""

    def __init__(self, counts: dict[str, int]) -> None:
        self.counts = counts
        self.words = list(counts)

    def correct(self, word: str) -> str | None:
        """The corpus word closest to word (fewest edits, then the commonest), or None."""
        if len(word) < MIN_LETTERS or not word.isalpha():
            return None
        from rapidfuzz import process
        from rapidfuzz.distance import Levenshtein

        limit = 2 if len(word) >= LONG_WORD else 1
        found = process.extract(word, self.words, scorer=Levenshtein.distance, score_cutoff=limit, limit=CANDIDATES)
        if not found:
            return None
        best, _, _ = min(found, key=lambda match: (match[1], -self.counts[match[0]], match[0]))
        return best


def sure(corrections: dict[str, str]) -> dict[str, str]:
    """The corrections of words long enough to suggest."""
    return {word: corrected for word, corrected in corrections.items() if len(word) >= SURE_LETTERS}


def respelled(query: str, corrections: dict[str, str]) -> str | None:
    """The query with its sure corrections made, as typed otherwise («Mente du …?»); None without any."""
    made = sure(corrections)
    if not made:
        return None
    return re.sub(r"\w+", lambda m: made.get(m.group().lower(), m.group()), query)


_SPELLERS: weakref.WeakKeyDictionary[Index, Speller] = weakref.WeakKeyDictionary()


def speller(index: Index) -> Speller:
    """The index's speller, made on first use (a list of its words: microseconds)."""
    found = _SPELLERS.get(index)
    if found is None:
        found = _SPELLERS[index] = Speller(index.lexical.analyzer.decompounder.counts)
    return found
