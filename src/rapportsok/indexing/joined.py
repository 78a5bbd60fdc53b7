"""A build's passages as pieces one after the other, none copied: the stored passages of the unchanged
documents (which the local engine reads only where asked) and the passages of the documents read anew."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Iterator, Sequence
from itertools import accumulate
from typing import overload

from ..engines.base import document_runs
from ..records import Passage


class Joined(Sequence[Passage]):
    """Several sequences of passages as one; a slice is a list (read from the pieces it spans)."""

    def __init__(self, pieces: list[Sequence[Passage]]) -> None:
        self._pieces = [piece for piece in pieces if len(piece)]
        self._ends = list(accumulate(len(piece) for piece in self._pieces))

    def __len__(self) -> int:
        return self._ends[-1] if self._ends else 0

    @overload
    def __getitem__(self, index: int) -> Passage: ...
    @overload
    def __getitem__(self, index: slice) -> list[Passage]: ...
    def __getitem__(self, index: int | slice) -> Passage | list[Passage]:
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return [self[i] for i in range(start, stop, step)]
            found: list[Passage] = []
            for piece, begin in self._spanned(start, stop):
                found.extend(piece[max(0, start - begin) : stop - begin])
            return found
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        at = bisect_right(self._ends, index)
        return self._pieces[at][index - (self._ends[at - 1] if at else 0)]

    def __iter__(self) -> Iterator[Passage]:
        for piece in self._pieces:
            yield from piece

    def document_runs(self) -> list[tuple[str, int, int]]:
        """(doc, first, end) of each run of one document's passages, from each piece's own."""
        runs: list[tuple[str, int, int]] = []
        for piece, begin in zip(self._pieces, [0, *self._ends], strict=False):
            for doc, start, end in document_runs(piece):
                if runs and runs[-1][0] == doc and runs[-1][2] == begin + start:
                    runs[-1] = (doc, runs[-1][1], begin + end)
                else:
                    runs.append((doc, begin + start, begin + end))
        return runs

    def _spanned(self, start: int, stop: int) -> Iterator[tuple[Sequence[Passage], int]]:
        """The pieces holding rows of [start, stop), each with its first row."""
        for piece, begin, end in zip(self._pieces, [0, *self._ends], self._ends, strict=False):
            if begin < stop and end > start:
                yield piece, begin
