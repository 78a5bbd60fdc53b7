"""Printed page numbers: the number in a running head or footer that advances by one per sheet.

A head or footer carries other numbers too: years («2024–2025»), a report's number («Meld. St.
5», «2021/37»), a chapter («8 1.2. METRISCHE RÄUME»). Only the page number goes up by one from
sheet to sheet, so each candidate is read as an offset from its sheet's index, and a sheet's
number is the candidate whose offset most sheets nearby share. Roman front matter is found the
same way. Sheets without a number get their neighbour's plus or minus one, else the sheet."""

from __future__ import annotations

import re
from collections import Counter

ROMAN = re.compile(r"^(?=[ivxlcdm]+$)m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})$", re.I)
NUMBER_TOKEN = re.compile(r"(?<![\w./–-])(\d{1,4}|[ivxlcdm]{1,7})(?![\w/–-]|[.,]\d)", re.I)
WORD = re.compile(r"[^\W\d_]{2,}")
ROMAN_VALUES = {"m": 1000, "d": 500, "c": 100, "l": 50, "x": 10, "v": 5, "i": 1}
WINDOW = 6  # sheets on either side whose offsets support a sheet's choice
MIN_NEIGHBOURS = 4  # with this many sheets around, two of them must share the offset


def candidates(text: str, heading: bool = False) -> tuple[list[int], list[int]]:
    """The arabic and the roman numbers a head or footer row shows (years are no page numbers).
    A row in heading type (`heading`: larger than the body) with words in it is a heading
    («Beispiel 4» opening each sheet of an exam), not a folio: it shows none."""
    if heading and WORD.search(text):
        return [], []
    arabic, roman = [], []
    for token in NUMBER_TOKEN.findall(text):
        if token.isdigit():
            if not (len(token) == 4 and token[:2] in ("19", "20")):
                arabic.append(int(token))
        elif ROMAN.match(token) and (token.islower() or (token.isupper() and len(token) > 1)):  # not «Vi», «I»
            roman.append(_roman_value(token.lower()))
    return arabic, roman


def printed_labels(arabic: list[set[int]], roman: list[set[int]]) -> list[str | None]:
    """Per sheet, the printed page label its heads and footers carry (None where none does)."""
    numbers = _advancing(arabic, front=False)
    romans = _advancing(roman, front=True)
    return [
        str(n) if n is not None else (_roman_text(r) if r is not None else None)
        for n, r in zip(numbers, romans, strict=True)
    ]


def fill_labels(printed: list[str | None]) -> list[str]:
    """Sheets without a printed number: the next after an arabic number, or the one before one,
    else the 1-based sheet."""
    labels = list(printed)
    for i in range(len(labels)):  # forward: next of an arabic number
        if labels[i] is None and i and labels[i - 1] and labels[i - 1].isdigit():
            labels[i] = str(int(labels[i - 1]) + 1)
    for i in reversed(range(len(labels))):  # backward: one before an arabic number
        if labels[i] is None and i + 1 < len(labels) and labels[i + 1] and labels[i + 1].isdigit():
            labels[i] = str(int(labels[i + 1]) - 1) if int(labels[i + 1]) > 1 else None
    return [label or str(i + 1) for i, label in enumerate(labels)]


def _advancing(found: list[set[int]], front: bool) -> list[int | None]:
    """Per sheet, the candidate that advances by one per sheet with its neighbours'. Roman front
    matter (`front`) is short: only the sheets showing roman numbers count as neighbours; a
    one-sheet document keeps its smallest arabic number."""
    offsets = [{n - i for n in numbers} for i, numbers in enumerate(found)]
    chosen: list[int | None] = []
    for i, numbers in enumerate(found):
        if not numbers:
            chosen.append(None)
            continue
        near: Counter[int] = Counter()
        window = range(max(0, i - WINDOW), min(len(found), i + WINDOW + 1))
        others = [k for k in window if k != i and (found[k] or not front)]
        for k in others:
            near.update(offsets[k])
        best = max(numbers, key=lambda n: (near[n - i], -n))
        need = 1 if len(others) < MIN_NEIGHBOURS else 2  # a coincidence seldom repeats on three sheets
        chosen.append(best if best > 0 and (near[best - i] >= need or (not front and len(found) == 1)) else None)
    return chosen


def _roman_value(token: str) -> int:
    values = [ROMAN_VALUES[c] for c in token]
    return sum(-v if k + 1 < len(values) and v < values[k + 1] else v for k, v in enumerate(values))


def _roman_text(value: int) -> str:
    parts = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"), (50, "l"), (40, "xl"),
             (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]
    text = ""
    for size, letters in parts:
        while value >= size:
            text += letters
            value -= size
    return text
