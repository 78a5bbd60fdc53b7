"""Where sentences end, and the sentences of a passage, so that every quote is verbatim.

The index embeds each quotable sentence (with its passage's heading), search credits a passage
with its best sentence, and answers quote them. The same rule, in the variants below, also
tells where a long paragraph may be cut into passages, where a line of a document finishes a
sentence, and where a generated answer's claims end."""

from __future__ import annotations

import re

MIN_SENTENCE_CHARS = 25  # shorter pieces are headings or scraps, not claims
MAX_QUOTE_CHARS = 600  # a longer "sentence" is a list or a splitting failure: cut at a clause

ABBREVIATIONS = frozenset(
    """
    bl.a f.eks jf jfr st nr ca dvs m.m o.l pkt kap mill mrd kr ev evt iht mht osv etc pga dr prof meld prop innst
    vol s t.o.m f.o.m tlf ref fig tab art nov des jan feb aug sept okt mfl m.fl e.l o.a a.a bl.annet vs ibid red
    inkl ekskl gj.sn mv m.v ifm ca jf. kl pr
    """.split()
)

# ---------------------------------------------------------------- where a sentence ends
# The rule: a sentence ends at a stop, which closing quotes or brackets may follow; the next one
# starts after whitespace, perhaps behind an opening quote or bracket, with a capital or a digit.
# Each stage reads it in one of the variants below, all built from these parts. Their
# differences are kept on purpose: passages (their ids and embeddings) and quotable sentences
# are cut by them, so a change re-cuts the corpus and is a change of results, not of code.
STOPS = ".!?"
CLOSING_QUOTES = "»”"
OPENING_QUOTES = "«“"
CLOSERS = CLOSING_QUOTES + "\"')\\]"  # may follow the stop
OPENERS = OPENING_QUOTES + "\"(\\["  # may open the next sentence
CAPITALS = "A-ZÆØÅ"
DIGITS = "0-9"
BULLETS = "–•"  # en dash and bullet; a hyphen is added last in a class, where it is literal

BOUNDARY = re.compile(
    rf"[{STOPS}][{CLOSERS}]*(?P<stop>\s+)(?=[{OPENERS}]?[{CAPITALS}{DIGITS}–-])"  # end of a sentence
    r"|(?P<para>\n[ \t]*\n\s*)"  # a blank line
    rf"|(?P<item>\n[ \t]*)(?=[{BULLETS}-]\s)"  # a dash bullet on a new line
)
"""The sentences that are quoted and embedded (split_sentences): the rule, with a dash also
opening a sentence, blank lines and dash bullets as ends too, and abbreviations and initials
("bl.a.", "St.", "K.") not ending one (checked in split_sentences, which needs the word)."""

PASSAGE_BREAK = re.compile(
    rf"(?<=[{STOPS}{CLOSING_QUOTES}])\s+(?=[{CAPITALS}{DIGITS}{OPENING_QUOTES}\"({BULLETS}])"
    rf"|\s+(?=[{BULLETS}]\s)"
)
"""Where a paragraph too long for one passage may be cut (after the match). Looser than
BOUNDARY: one character on either side decides, so a closing quote ends a sentence without a
stop and an opening one starts a sentence whatever follows; abbreviations are not excepted and
a hyphen is no bullet. It only has to find a place to cut, and the shipped passages, their ids
and their embeddings are cut by it."""

CLAIM_BREAK = re.compile(rf"(?<=[{STOPS}])\s+(?=[{CAPITALS}{OPENING_QUOTES}\"])")
"""Where a claim of a generated answer ends, each claim to carry its own [n] marker: a stop
right before the space (not a closing quote or bracket) and a capital or opening quote after
it (not a digit or bracket). Abbreviations are not excepted: the model is asked for short
sentences, and its checked replies stay what they were."""

LINE_END = re.compile(rf"[{STOPS}:{CLOSING_QUOTES})]\s*$")
"""A PDF row that finishes its text (then an indented row below opens a paragraph): the
stop, a colon (a list follows) or a closing quote or parenthesis at the row's end."""

TEXT_LINE_END = re.compile(
    rf"(?:[{STOPS}:{CLOSING_QUOTES})\]]|(?:(?<=[a-zæøå{CLOSING_QUOTES})])|(?<=\d{{4}}))[{STOPS}]\d{{1,3}})\s*$"
)
"""A line of running text that finishes a sentence (see ends_sentence): LINE_END, also after a
closing bracket, or with a footnote number glued to the stop ("tannhelsetjeneste.59", "innen
2015.41"), which a text file keeps and the PDF reader has already dropped as a superscript."""

FOOTNOTE_LEAD = re.compile(rf"\d{{1,3}}\s+(?=[{CAPITALS}])")
BULLET_LEAD = re.compile(rf"[{BULLETS}-]\s+")
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
            if word and is_abbreviation(word.group(1)):
                continue
        end = match.start(gap)
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end(gap)
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return [_trim(text, s, e) for s, e in spans]


def is_abbreviation(word: str) -> bool:
    """Whether a word before a full stop is an abbreviation ("bl.a", "St", "nr") or one letter, not a sentence's end."""
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


def ends_sentence(line: str) -> bool:
    """Whether a line of running text finishes a sentence, so that what follows may open a
    footnote, a paragraph or a new item."""
    return bool(TEXT_LINE_END.search(line))
