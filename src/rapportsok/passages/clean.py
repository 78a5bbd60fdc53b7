"""Cleaning extracted lines: running heads, stray page numbers, footnotes, hyphenation, whitespace."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, replace

from ..records import SourceLine
from ..text.sentences import CAPITALS, CLOSING_QUOTES, STOPS, ends_sentence, is_abbreviation

# "2024–2025 Meld. St. 5 59" (right-hand page) or "78 Meld. St. 5 2024–2025" (left-hand page).
PAGE_HEADER = re.compile(
    r"^\s*(?:\d{4}[–-]\d{4} (?P<title>\S.*?) (?P<page>\d{1,4})"
    r"|(?P<page_left>\d{1,4}) (?P<title_left>\S.*?) \d{4}[–-]\d{4})\s*$"
)
# "Rapport om narkotika | INNLEDNING": the 2010 report's running footer.
SECTION_FOOTER = re.compile(r"^\s*[^|]{3,60} \| [A-ZÆØÅ][A-ZÆØÅ ,–-]*\s*$")
LONE_PAGE_NUMBER = re.compile(r"^\s*\d{1,4}\s*$")
# pypdf starts each page of the source PDFs with one space: the page's first line.
PAGE_START = re.compile(r"^ \S")
# "9  Medietilsynet (2010): ..." / "2 Konvensjonene inneholder ..." at the foot of a page.
FOOTNOTE_START = re.compile(r"^(?P<num>\d{1,3})\s+(?P<text>[A-ZÆØÅ«\"“(].*)$")
# "Den forebyg-1 Regjeringens overordnede ...": a footnote glued to the end of a body line.
GLUED_FOOTNOTE = re.compile(r"^(?P<body>.*\S-)(?P<num>\d{1,3}) (?P<text>[A-ZÆØÅ].*)$")
# A word broken at the line end: "overdo-" + "sekoordinatorer"; group 1 is the char before "-".
LINE_END_HYPHEN = re.compile(r"(\w)-\s*$")
SUSPENDED_HYPHEN_NEXT = re.compile(r"^(?:og|eller|samt|enn)\b|^/")
SPACES = re.compile(r"[ \t\u00a0\u2009\u202f]+")

# "Boks 3.5 Vestlandet i front i arbeidet": a fact box set apart from the running text.
BOX_START = re.compile(r"^Boks \d{1,2}(?:\.\d{1,2})? +[A-ZÆØÅ«\"“]")
# A numbered heading ends a box: "3.8.2 Tilgang til ...".
BOX_BREAK = re.compile(r"^\s?\d{1,2}(?:\.\d{1,2}){1,3} +[A-ZÆØÅ]")
MAX_BOX_LINES = 150

# A footnote row of a PDF: "12 Olsen & Skretting (2007): ...", "3Se kapittel 4" (number glued).
NOTE_ROW = re.compile(r"^\s*(?P<num>\d{1,3})(?!\d|[.,]\d)\s*(?P<text>\S.*)$")
# The end of a contents entry: dot leaders or a wide gap before a page number, or a bare number.
TOC_TAIL = re.compile(r"(?:(?:\.\s?){3,}|…+|\s)\s*(?:\d{1,4}|[ivxlcdm]{1,6})\s*$")
MAX_SKIPPED_NOTES = 10  # a PDF note row may open a note this many numbers after the last one
MIN_TOC_ROWS = 3

# "koordinator 43. Koordinatoren": a reference number with a space before it (see drop_spaced_note_refs).
SPACED_BEFORE_STOP = re.compile(r"(?<=[a-zæøå]) (?P<num>\d{1,3})(?=[.,;:](?:\s|$))")
NOTE_WINDOW = 80  # a footnote stands at most this many lines of a text file after its reference

MIN_REPEATS = 2  # a header text must recur to count as a running header
MAX_LOST_FOOTNOTES = 4  # footnote numbers may skip this many (glued into text by extraction)


@dataclass(frozen=True)
class Footnote:
    """A footnote lifted out of the running text, with the lines it came from."""

    number: int
    lines: list[SourceLine]


def remove_running_heads(lines: list[SourceLine]) -> list[SourceLine]:
    """Drop page headers, the running title under them, section footers and lone page numbers.

    Header lines give their page's number; text near them gets that page (see assign_pages)."""
    headers = _page_headers(lines)
    lines = assign_pages(lines, headers)
    subtitle_idx = _running_subtitles(lines, headers)
    drop = set(headers) | subtitle_idx
    return [
        line
        for i, line in enumerate(lines)
        if i not in drop and not SECTION_FOOTER.match(line.text) and not LONE_PAGE_NUMBER.match(line.text)
    ]


def _page_headers(lines: list[SourceLine]) -> dict[int, int]:
    """Index -> page number of header lines whose title text recurs (a one-off is running text)."""
    found: dict[int, tuple[str, int]] = {}
    for i, line in enumerate(lines):
        m = PAGE_HEADER.match(line.text)
        if m:
            title = m.group("title") or m.group("title_left")
            found[i] = (title, int(m.group("page") or m.group("page_left")))
    counts = Counter(title for title, _ in found.values())
    return {i: page for i, (title, page) in found.items() if counts[title] >= MIN_REPEATS}


def _running_subtitles(lines: list[SourceLine], headers: dict[int, int]) -> set[int]:
    """The line right under each header when it is the same text under several headers."""
    below = {i + 1: lines[i + 1].text.strip() for i in headers if i + 1 < len(lines)}
    counts = Counter(below.values())
    return {i for i, text in below.items() if text and counts[text] >= MIN_REPEATS}


def assign_pages(lines: list[SourceLine], headers: dict[int, int]) -> list[SourceLine]:
    """Give lines near a page header that page (after it) or the page before (above it).

    A page is taken to span as many lines as the densest gap between two headers shows,
    so lines farther from any header than that stay without a page rather than guessing."""
    if not headers:
        return lines
    marks = sorted(headers.items())
    spans = [(b - a) / (pb - pa) for (a, pa), (b, pb) in zip(marks, marks[1:], strict=False) if pb > pa]
    span = int(min(spans)) if spans else 0
    pages: list[int | None] = [line.page for line in lines]
    for index, page in marks:
        for j in range(index, min(len(lines), index + max(span, 1))):
            pages[j] = page
    for index, page in reversed(marks):
        for j in range(max(0, index - span), index):
            if pages[j] is None:
                pages[j] = page - 1
    return [replace(line, page=p) for line, p in zip(lines, pages, strict=True)]


def split_footnotes(
    lines: list[SourceLine], headings: frozenset[int] = frozenset()
) -> tuple[list[SourceLine], list[Footnote]]:
    """Lift footnotes out of the running text.

    A footnote opens a line after a blank line or a finished sentence, numbered just above the
    previous one (a few may be lost in extraction) or 1 (numbering restarts per chapter). It runs
    to a blank line, a page start or the next footnote, and continues over a blank line only
    while its text is unfinished and the next line goes on in lowercase. Lines at `headings`
    ("1 Innledning" looks just like a footnote) are never footnotes."""
    body: list[SourceLine] = []
    notes: list[Footnote] = []
    last = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        opens = not body or not body[-1].text.strip() or ends_sentence(body[-1].text)
        start = None if i in headings else _footnote_start(line.text, last, opens)
        if start is None:
            body.append(line)
            i += 1
            continue
        number, head, note_text = start
        if head:
            body.append(replace(line, text=head))
        note = [replace(line, text=note_text)]
        i += 1
        while i < len(lines) and _continues_footnote(note[-1].text, lines, i, number):
            if lines[i].text.strip():
                note.append(lines[i])
            i += 1
        notes.append(Footnote(number, note))
        last = number
    return body, notes


def _footnote_start(text: str, last: int, opens: bool) -> tuple[int, str, str] | None:
    """(number, body text before it, footnote text) when this line opens the next footnote."""
    expected = {1, *range(last + 1, last + 1 + MAX_LOST_FOOTNOTES + 1)}
    m = FOOTNOTE_START.match(text)
    if m and opens and int(m.group("num")) in expected:
        return int(m.group("num")), "", m.group("text")
    m = GLUED_FOOTNOTE.match(text)
    if m and int(m.group("num")) in expected:
        return int(m.group("num")), m.group("body"), m.group("text")
    return None


def _continues_footnote(previous: str, lines: list[SourceLine], i: int, number: int) -> bool:
    text = lines[i].text
    if SECTION_FOOTER.match(text):
        return False
    if PAGE_START.match(text):  # the next page, unless the note's unfinished end lies between it and the next note
        return not ends_sentence(previous) and text.strip()[:1].islower() and _next_note_follows(lines, i + 1, number)
    if text.strip():
        return True
    nxt = next((line.text for line in lines[i + 1 :] if line.text.strip()), "")
    return not ends_sentence(previous) and nxt[:1].islower()


def _next_note_follows(lines: list[SourceLine], i: int, number: int) -> bool:
    """Whether the next line with text, from i on, opens footnote number + 1."""
    nxt = next((line.text for line in lines[i:] if line.text.strip()), "")
    m = FOOTNOTE_START.match(nxt)
    return bool(m) and int(m.group("num")) == number + 1


def drop_spaced_note_refs(lines: list[SourceLine], notes: list[Footnote]) -> list[SourceLine]:
    """Reference numbers set apart from their word before a stop or comma ("koordinator 43."):
    only the number of a footnote that follows within a page's lines, where its reference stands."""
    starts = {note.number: note.lines[0].lineno for note in notes}

    def keep_or_drop(line: SourceLine, m: re.Match) -> str:
        at = starts.get(int(m.group("num")))
        near = at is not None and line.lineno is not None and 0 < at - line.lineno <= NOTE_WINDOW
        return "" if near else m.group(0)

    return [
        replace(line, text=SPACED_BEFORE_STOP.sub(lambda m, line=line: keep_or_drop(line, m), line.text))
        if SPACED_BEFORE_STOP.search(line.text) else line
        for line in lines
    ]


def lift_layout_notes(lines: list[SourceLine]) -> tuple[list[SourceLine], list[Footnote]]:
    """The footnotes among the lines a PDF's layout marked as notes, by their numbering.

    A note row opens footnote N when it starts with N next in sequence (a few may be skipped,
    the numbering may restart at 1); a row without such a number continues the open footnote on
    its page, or on the next page as that page's first note row (a note carried over). Other
    note rows are no footnotes and stay running text: small type with no number in sequence (a
    list of figures, a back cover, an unnumbered aside). A page of note rows that end in page
    numbers is a table of contents, and is dropped as the layout drops any other."""
    toc_sheets = _toc_sheets(lines)
    body: list[SourceLine] = []
    notes: list[Footnote] = []
    last = 0
    open_note: Footnote | None = None
    previous: SourceLine | None = None  # the last note row
    for line in lines:
        if line.role != "note":
            body.append(line)
            continue
        if line.sheet in toc_sheets and TOC_TAIL.search(line.text):
            continue
        m = NOTE_ROW.match(line.text)
        number = int(m.group("num")) if m else None
        if number is not None and (number == 1 or last < number <= last + MAX_SKIPPED_NOTES + 1):
            open_note = Footnote(number, [replace(line, text=m.group("text"))])
            notes.append(open_note)
            last = number
        elif open_note is not None and _continues_note(open_note, previous, line):
            open_note.lines.append(line)
        else:
            body.append(replace(line, role="body"))
        previous = line
    return body, notes


def _continues_note(note: Footnote, previous: SourceLine | None, line: SourceLine) -> bool:
    """An unnumbered note row goes on with the open note on its page, or, where the note is
    unfinished, as the first note row of the next page."""
    last = note.lines[-1]
    if last.sheet == line.sheet:
        return True
    first_on_page = previous is None or previous.sheet != line.sheet
    carried = not ends_sentence(last.text) or line.text.strip()[:1].islower()
    return first_on_page and carried and line.sheet is not None and last.sheet == line.sheet - 1


def _toc_sheets(lines: list[SourceLine]) -> set[int | None]:
    """Pages where most note rows end in a page number, as the entries of a contents list do."""
    rows: dict[int | None, list[bool]] = {}
    for line in lines:
        if line.role == "note":
            rows.setdefault(line.sheet, []).append(bool(TOC_TAIL.search(line.text)))
    return {sheet for sheet, tails in rows.items() if len(tails) >= MIN_TOC_ROWS and sum(tails) * 2 > len(tails)}


@dataclass(frozen=True)
class Box:
    """A fact box ("Boks 3.5 Vestlandet i front ...") lifted out of the text it interrupts."""

    title: str
    start: SourceLine  # the title's first line: where the box stood
    lines: list[SourceLine]  # its text


def lift_boxes(lines: list[SourceLine]) -> tuple[list[SourceLine], list[Box]]:
    """Boxes out of the running text, so the sentence a box interrupts is whole again.

    A box opens at "Boks N.M Title" (a lowercase next line continues the title) and ends after
    its "Kilde: ..." line, or before a page's first line that goes on in lowercase (the
    interrupted text resuming, also where running heads gave the page), a numbered heading or
    the next box. A box without such an end within MAX_BOX_LINES is left where it is."""
    body: list[SourceLine] = []
    boxes: list[Box] = []
    i = 0
    while i < len(lines):
        m = BOX_START.match(lines[i].text)
        end = _box_end(lines, i) if m else None
        if end is None:
            body.append(lines[i])
            i += 1
            continue
        title_lines = [lines[i].text]
        j = i + 1
        if j < end and lines[j].text.strip()[:1].islower():
            title_lines.append(lines[j].text)
            j += 1
        boxes.append(Box(join_lines(title_lines), lines[i], lines[j:end]))
        body.append(replace(lines[i], text=""))  # where the box stood: the text around it goes on
        i = end
    return body, boxes


def _box_end(lines: list[SourceLine], start: int) -> int | None:
    for j in range(start + 1, min(len(lines), start + MAX_BOX_LINES)):
        text = lines[j].text
        if text.startswith("Kilde:"):
            k = j + 1
            while k < len(lines) and lines[k].text.strip() and not PAGE_START.match(lines[k].text):
                k += 1
            return k
        if PAGE_START.match(text) or BOX_START.match(text) or BOX_BREAK.match(text) or _resumes_on_next_page(lines, j):
            return j
    return None


def _resumes_on_next_page(lines: list[SourceLine], j: int) -> bool:
    """A line that goes on in lowercase on a new page (by the pages its running heads gave):
    the text a box interrupted, resuming."""
    before = next((lines[k] for k in range(j - 1, -1, -1) if lines[k].text.strip()), None)
    return (
        lines[j].text.strip()[:1].islower()
        and before is not None
        and None not in (before.page, lines[j].page)
        and lines[j].page != before.page
    )


def join_lines(texts: list[str]) -> str:
    """Running text from wrapped lines: rejoin hyphenated words, keep real and suspended hyphens.

    "narko-"+"tika" -> "narkotika"; "helse-"+"og omsorg" -> "helse- og omsorg";
    "LAR-"+"behandling" -> "LAR-behandling" (capital or digit before the hyphen)."""
    out = ""
    for raw in texts:
        text = SPACES.sub(" ", raw).strip()
        if not text:
            continue
        m = LINE_END_HYPHEN.search(out)
        if not out:
            out = text
        elif m and not SUSPENDED_HYPHEN_NEXT.match(text):
            keep_hyphen = m.group(1).isupper() or m.group(1).isdigit() or text[0].isupper()
            out = out[: m.end(1)] + ("-" if keep_hyphen else "") + text
        else:
            out = f"{out} {text}"
    return out


def strip_note_refs(text: str, numbers: set[int]) -> str:
    """Remove footnote reference numbers from running text.

    Glued to words ("Norge.1", "bruk.11", "perspektiv3"): only numbers that are footnotes of
    this document, right after a lowercase letter or after closing punctuation that follows a
    letter or a year. Between sentences ("sammenheng.» 81 Urinprøver", "LAR.84 Dette"): any
    number up to the document's last footnote (some are lost in extraction), after a sentence
    end that is not an abbreviation ("St. 5 Forebygging" keeps its 5), before a capital."""
    if not numbers:
        return text
    text = NOTE_REF.sub(lambda m: "" if int(m.group(1)) in numbers else m.group(0), text)
    limit = max(numbers) + MAX_LOST_FOOTNOTES

    def between(m: re.Match) -> str:
        keep = int(m.group("num")) > limit or is_abbreviation(m.group("word"))
        return m.group(0) if keep else m.group("end")

    return SPACED_NOTE_REF.sub(between, text)


SPACED_NOTE_REF = re.compile(
    rf"(?P<end>(?P<word>\S*?[A-Za-zÆØÅæøå])[{STOPS}][{CLOSING_QUOTES}]?) ?(?P<num>\d{{1,3}})(?=\s+[{CAPITALS}«])"
)
NOTE_REF = re.compile(
    r"(?:(?<=[a-zæøå»”)])|(?<=[a-zæøå»”)][.,;:])|(?<=[12]\d{3}[.,]))(\d{1,3})(?=[\s.,;:)]|$)"
)
