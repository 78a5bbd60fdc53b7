"""Snippets: the one to three sentences of a passage that best show why it was found.

A hit printed whole is ~260 words; ten of them fill six screens. The snippet is the sentence
with most of the query's matched words (the closest to the question by its sentence vector on
a tie), grown by its neighbours while it stays short, and cropped around the first matched word
when one sentence alone is too long. A row of table numbers is never the snippet while the
passage has a sentence of prose, nor joins one."""

from __future__ import annotations

from ..text.sentences import split_sentences
from ..text.tokens import WORD

SNIPPET_WORDS = 45  # a snippet grows by whole neighbouring sentences up to about this many words
MAX_SENTENCES = 3
CROP_WORDS = 60  # a single sentence longer than this is cropped to a window of this many words
PROSE_SHARE = 0.6  # a sentence is prose when this share of its words has letters; else table debris ("12 345 6,7")


def snippet_span(
    text: str,
    marked: set[str],
    spans: list[tuple[int, int]] | None = None,
    closeness: dict[int, float] | None = None,
) -> tuple[int, int]:
    """(start, end) of the snippet in text. marked: the lower-cased words that match the query;
    spans: the sentences to choose from (the index's, which saves splitting; else split here);
    closeness: a dense score per sentence start, where the index has one."""
    spans = spans or split_sentences(text) or [(0, len(text))]
    closeness = closeness or {}

    def rank(i: int) -> tuple[bool, int, float, int]:
        start, end = spans[i]
        found = {w.lower() for w in WORD.findall(text[start:end])} & marked
        return _prose(text[start:end]), len(found), closeness.get(start, 0.0), -i

    best = max(range(len(spans)), key=rank)
    low = high = best
    size = _words(text, *spans[best])

    def joinable(i: int) -> int | None:
        """The words of sentence i when it may join the snippet (it exists and is prose)."""
        return _words(text, *spans[i]) if 0 <= i < len(spans) and _prose(text[slice(*spans[i])]) else None

    while high - low + 1 < MAX_SENTENCES:
        after, before = joinable(high + 1), joinable(low - 1)
        if after is not None and size + after <= SNIPPET_WORDS:
            high, size = high + 1, size + after
        elif before is not None and size + before <= SNIPPET_WORDS:
            low, size = low - 1, size + before
        else:
            break
    start, end = spans[low][0], spans[high][1]
    return _crop(text, start, end, marked) if size > CROP_WORDS else (start, end)


def _prose(sentence: str) -> bool:
    """Whether most of the sentence's words have letters (a table row's are numbers)."""
    found = WORD.findall(sentence)
    return bool(found) and sum(any(ch.isalpha() for ch in w) for w in found) >= PROSE_SHARE * len(found)


def _words(text: str, start: int, end: int) -> int:
    return len(text[start:end].split())


def _crop(text: str, start: int, end: int, marked: set[str]) -> tuple[int, int]:
    """A window of CROP_WORDS words of text[start:end] that begins a few words before the first marked word."""
    words = list(WORD.finditer(text, start, end))
    first = next((i for i, w in enumerate(words) if w.group().lower() in marked), 0)
    begin = max(0, min(first - 5, len(words) - CROP_WORDS))
    last = min(len(words), begin + CROP_WORDS) - 1
    return (start if begin == 0 else words[begin].start()), (end if last == len(words) - 1 else words[last].end())
