"""Sentences of a passage: where they start and end, so that every quote is verbatim.

The index embeds each quotable sentence (with its passage's heading), search credits a passage
with its best sentence, and answers quote them."""

from __future__ import annotations

import re

MIN_SENTENCE_CHARS = 25  # shorter pieces are headings or scraps, not claims
MAX_QUOTE_CHARS = 600  # a longer "sentence" is a list or a splitting failure: cut at a clause

ABBREVIATIONS = frozenset(
    """
    bl.a f.eks jf jfr st nr ca dvs m.m o.l pkt kap mill mrd kr ev evt iht mht osv etc pga dr prof meld prop innst
    vol s t.o.m f.o.m tlf ref fig tab art nov des jan feb aug sept okt mfl m.fl e.l o.a a.a bl.annet vs ibid red
    inkl ekskl gj.sn mv m.v ifm ca jf. kl
    """.split()
)
BOUNDARY = re.compile(
    r"[.!?][»”\"')\]]*(?P<stop>\s+)(?=[«“\"(\[]?[A-ZÆØÅ0-9–-])"  # end of a sentence
    r"|(?P<para>\n[ \t]*\n\s*)"  # a blank line
    r"|(?P<item>\n[ \t]*)(?=[–•-]\s)"  # a dash bullet on a new line
)
FOOTNOTE_LEAD = re.compile(r"\d{1,3}\s+(?=[A-ZÆØÅ])")
BULLET_LEAD = re.compile(r"[–•-]\s+")
TOKEN_BEFORE = re.compile(r"(\S+)\.\Z")


def split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in text, so that text[start:end] is the sentence verbatim.

    Splits after . ! ? before a capital or digit, at blank lines and before dash bullets, but
    not after abbreviations such as "bl.a.", "f.eks.", "jf.", "St.", "nr." or "ca.", nor after
    a single capital (an initial).
    """
    spans: list[tuple[int, int]] = []
    start = 0
    for match in BOUNDARY.finditer(text):
        gap = next(name for name in ("stop", "para", "item") if match.group(name) is not None)
        if gap == "stop" and "\n" not in match.group(gap):
            word = TOKEN_BEFORE.search(text, start, match.start() + 1)
            if word and _is_abbreviation(word.group(1)):
                continue
        end = match.start(gap)
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end(gap)
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [_trim(text, s, e) for s, e in spans]


def _is_abbreviation(word: str) -> bool:
    word = word.lstrip("(«\"“[").lower()
    return word in ABBREVIATIONS or (len(word) == 1 and word.isalpha())


def _trim(text: str, start: int, end: int) -> tuple[int, int]:
    """Drops leading whitespace, a footnote number left before the sentence, and a bullet dash."""
    while start < end and text[start].isspace():
        start += 1
    for lead in (FOOTNOTE_LEAD, BULLET_LEAD):
        found = lead.match(text, start, end)
        if found:
            start = found.end()
    return start, end


def quotable(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences worth quoting: overlong ones cut at a clause, and what is
    left long enough to be a claim."""
    spans = []
    for start, end in split_sentences(text):
        if end - start > MAX_QUOTE_CHARS:
            end = start + _cut(text[start:end])
        if end - start >= MIN_SENTENCE_CHARS:
            spans.append((start, end))
    return spans


def _cut(text: str) -> int:
    """Where to cut an overlong sentence: the last clause boundary before the limit, else the
    last space, else the limit itself (a long link or number run)."""
    window = text[:MAX_QUOTE_CHARS]
    at = max(window.rfind("; "), window.rfind(", "), window.rfind(": "))
    if at > MAX_QUOTE_CHARS // 3:
        return at
    space = window.rstrip().rfind(" ")
    return space if space > 0 else MAX_QUOTE_CHARS
