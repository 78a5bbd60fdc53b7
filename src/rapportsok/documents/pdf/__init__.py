"""Reading a PDF's text layer by its layout: positions and type sizes, not blank lines.

pypdf's visitor reports every text run with its position and size. From those this module
rebuilds rows, columns and reading order; removes page furniture (running heads, page-number
footers: rows at the page's top or bottom that recur across pages once numbers are masked) and
learns the printed page numbers from it; lifts footnotes (small type at the page bottom) out of
the running text and drops their superscript reference numbers; marks headings (larger or bold
type); drops a table of contents and a table header row repeated on the next page. The result is
a list of SourceLines: running text with blank lines between paragraphs, headings as lines of
their own, footnote rows marked as notes."""

from __future__ import annotations

import math
import re
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from pypdf import PdfReader

from ...records import SourceLine
from ...text.sentences import LINE_END
from .numbers import candidates, fill_labels, printed_labels
from .runs import PageRuns, Reading, Run, page_runs, separator

ROW_TOLERANCE = 0.55  # runs whose baselines differ less than this share of the type size share a row
NOTE_GAP = 1.3  # notes in type barely smaller than the body stand this many line distances below it
SMALL_TYPE = 0.88  # footnotes and superscripts are set at most this share of the body size
HEADING_TYPE = 1.12  # headings are set at least this share of the body size (or in bold)
SHORT_LINE = 2.0  # a paragraph's last line ends this many type sizes short of the column's edge
PARAGRAPH_GAP = 1.45  # a gap this many times the usual leading opens a paragraph
BODY_TYPE = 0.6  # a row whose type differs less than this from the body size is running text
CELL_GAP = 1.5  # a horizontal gap this many type sizes wide separates table cells
EDGE_ROWS = 3  # rows at the top and at the bottom of a page that may be furniture
APART = 1.4  # a head or footer stands this many line distances from the text
MAX_FURNITURE_WORDS = 12  # a head or footer row is short
LABELS_AGREE = 0.8  # the PDF's page labels are used when they match this share of the printed numbers
FURNITURE_SHARE = 0.25  # furniture recurs on at least this share of the pages (and on two)
MIN_READABLE = 20  # a sheet with fewer readable characters has no text layer to speak of
MAX_HEADING_WORDS = 16
MIN_TOC_ROWS = 3
MIN_COLUMN_ROWS = 3  # a second column starts at the same x on at least this many rows
COLUMN_SHARE = 0.15  # ... and on at least this share of the page's rows
MAX_COLUMNS = 4
COLUMN_FILL = 0.5  # a column's lines are at least this share of the room right of its start wide
WIDE_SHARE = 0.3  # ... at least this share of them (the rest: short last lines, table cells)
COLUMN_CANDIDATES = 3  # the x most rows start at past the middle, and the next two, are tried as a column's start
MIN_TABLE_CELLS = 3  # a row of this many cells at least takes in its cells' wrapped lines
RULE_REACH = 10.0  # a rule under a table's cell reaches this far into it at least
MAX_WRAPPED_LINES = 8  # a ruled table's row takes in at most this many lines under its first
WRAPPED_CELL = 1.8  # a table cell's next line stands at most this many type sizes below its first
MARKER = 3.0  # a bullet or a hanging reference number stands at most this many type sizes left of its text
MARKER_CHARS = 5  # ... and is this many characters long at most («•», «[33]», «iii)»)
MIN_COLUMN_WIDTH = 10.0  # a column of text is at least this many type sizes wide
GUTTER = 6.0  # the left column's text ends at most this many type sizes before the right one starts (unless ragged)
BASELINE = 0.1  # two lines share a baseline when they stand at most this share of the type size apart
ALIGNED = 0.5  # a table's rows share a baseline across its gap in at least this share of its lines
GUTTER_STARTS = 0.25  # runs starting in the gutter left of a column: this share of its rows at most (list markers)

NUMBER_TOKEN = re.compile(r"\b(\d{1,4}|[ivxlcdm]{1,7})\b", re.I)  # masked in furniture keys
TOC_ROW = re.compile(r"(?:(?:\.\s?){4,}|…{2,})\s*(?:(?:seite|side|sida|page|s\.|p\.)\s*)?\S{1,6}$", re.I)  # «… Seite 5»
NOTE_START = re.compile(r"^(\d{1,6})\s*(\S.*)$")  # a long report has notes past 999
NOTE_NUMBER = re.compile(r"[\d*†‡]{1,6}\.?")  # a note's number, set apart from its text by a tab
SUPERSCRIPT = re.compile(r"^[\d,–-]{1,9}$")
WORD_START = re.compile(r"^[^\W\d_]{2,}")
CAPTION_LABEL = re.compile(r"^[A-ZÆØÅÄÖÜ][^\W\d_]{1,11}\.?\s?\d{1,3}(?:\.\d+)*[.:]?\s")  # «Table 2:», «Abb. 3.1»


@dataclass
class Row:
    """Runs on one baseline, left to right."""

    runs: list[Run] = field(default_factory=list)
    role: str = "body"  # "body", "heading", "note", "table"

    @property
    def y(self) -> float:
        return max(self.runs, key=lambda r: r.size).y

    @property
    def x(self) -> float:
        return self.runs[0].x

    @property
    def size(self) -> float:
        return max(r.size for r in self.runs)

    @property
    def bold(self) -> bool:
        return all(r.bold for r in self.runs if r.text.strip())

    @property
    def text(self) -> str:
        return joined(self.runs)

    def segments(self) -> list[list[Run]]:
        """The row's runs split where wide gaps separate columns or table cells."""
        segments = [[self.runs[0]]]
        for before, run in zip(self.runs, self.runs[1:], strict=False):
            if run.x - before.end > CELL_GAP * run.size:
                segments.append([])
            segments[-1].append(run)
        return segments

    def cells(self) -> list[str]:
        return [joined(cell) for cell in self.segments()]


def joined(runs: list[Run]) -> str:
    """Runs left to right as the page shows them: a space only where the page leaves a gap
    (or a run draws one), so a word drawn in pieces stays one word."""
    parts: list[str] = []
    before: Run | None = None
    for run in runs:
        text = " ".join(run.text.split())
        if not text:
            continue
        if before is not None:
            between = separator(before, run)
            if between is None:
                continue
            parts.append(between)
        parts.append(text)
        before = run
    return "".join(parts)


@dataclass
class Page:
    """One PDF page: its columns of running-text rows and its footnote rows."""

    index: int  # 0-based PDF page
    width: float
    rows: list[Row]  # all rows, furniture removed; then split into columns and notes
    columns: list[list[Row]] = field(default_factory=list)
    notes: list[Row] = field(default_factory=list)
    label: str | None = None
    rules: list[tuple[float, float, float]] = field(default_factory=list)  # horizontal rules: x0, x1, y


@dataclass
class PdfText:
    """A PDF's text layer as read: its lines, and the sheets whose text could not be read."""

    lines: list[SourceLine]
    sheets: int
    unreadable: list[int]  # 1-based sheets that draw no readable text (scanned, or fonts without a Unicode map)

    @property
    def mostly_unreadable(self) -> bool:
        return len(self.unreadable) > self.sheets / 2


Recogniser = Callable[[list[int]], dict[int, list[Run]]]  # 0-based pages in, each page's runs out (OCR)


def read_pdf_layout(reader: PdfReader, recognise: Recogniser | None = None) -> list[SourceLine]:
    """The document's lines in reading order, furniture removed, footnotes and headings marked.

    `recognise` (documents/ocr.py) gives the runs of the sheets without readable text (scanned)."""
    return read_pdf(reader, recognise).lines


def unreadable_pages(reader: PdfReader) -> list[int]:
    """The 1-based sheets without readable text (no text layer, or one that cannot be decoded):
    what OCR should read. Only the sheets' runs are read, not their layout."""
    reading = Reading(reader)
    return [i + 1 for i, page in enumerate(reader.pages) if _unreadable(page_runs(page, reading))]


def read_pdf(reader: PdfReader, recognise: Recogniser | None = None) -> PdfText:
    """The document's lines (see `read_pdf_layout`) and which sheets could not be read (by
    `recognise` either, where given)."""
    reading = Reading(reader)
    drawn = [page_runs(page, reading) for page in reader.pages]
    unreadable = {i for i, runs in enumerate(drawn) if _unreadable(runs)}
    if recognise:
        for index, runs in recognise(sorted(unreadable | {i for i, d in enumerate(drawn) if not d.runs})).items():
            if runs:
                drawn[index] = PageRuns(runs, sum(len(run.text) for run in runs))
                unreadable.discard(index)
    return PdfText(_layout(reader, _without_repeats(drawn)), len(drawn), sorted(i + 1 for i in unreadable))


def _without_repeats(drawn: list[PageRuns]) -> list[PageRuns]:
    """Each page that draws exactly what an earlier page drew (sheets sharing one content stream, a
    sheet printed twice) left empty, so its text is read, embedded and cited once, at its first
    sheet: a crafted PDF of one stream on every page costs what one page costs."""
    seen: set[tuple] = set()
    kept = []
    for runs in drawn:
        key = tuple((r.text, round(r.x, 1), round(r.y, 1), round(r.size, 1)) for r in runs.runs)
        if key and key in seen:
            runs = PageRuns([], runs.drawn, runs.unreadable, runs.images)
        seen.add(key)
        kept.append(runs)
    return kept


def _unreadable(runs: PageRuns) -> bool:
    """An image with hardly a line of readable text on it (a scan), or more unreadable characters
    than readable ones."""
    readable = runs.drawn - runs.unreadable
    return (runs.images and readable < MIN_READABLE) or runs.unreadable > readable


def _layout(reader: PdfReader, drawn: list[PageRuns]) -> list[SourceLine]:
    pages = [
        Page(i, float(page.mediabox.width), _rows(runs.runs), rules=runs.rules)
        for i, (page, runs) in enumerate(zip(reader.pages, drawn, strict=True))
    ]
    body_size = _body_size(pages)
    labels = _page_labels(reader, _remove_furniture(pages, body_size))
    for page, label in zip(pages, labels, strict=False):
        page.label = label
        page.columns = _columns(page)
        for column in page.columns:
            page.notes += _take_notes(column, body_size)
            _drop_superscripts(column)
            _mark_rows(column, body_size)
            _join_wrapped_cells(column, page.rules)
    _drop_toc(pages)
    _drop_repeated_table_headers(pages)
    leading = _leading(pages, body_size)
    _floats_after_sentences(pages, body_size, leading)
    return _lines(pages, body_size, leading)


# ---------------------------------------------------------------- runs and rows


def _rows(runs: list[Run]) -> list[Row]:
    """Runs grouped by baseline (a raised superscript joins the row it belongs to), top to bottom."""
    rows: list[Row] = []
    lead: list[Run] = []  # each row's largest run: its baseline and size
    for run in sorted(runs, key=lambda r: (-r.y, r.x)):
        for k in range(len(rows) - 1, max(-1, len(rows) - 4), -1):
            if abs(lead[k].y - run.y) <= ROW_TOLERANCE * max(lead[k].size, run.size):
                rows[k].runs.append(run)
                if run.size > lead[k].size:
                    lead[k] = run
                break
        else:
            rows.append(Row([run]))
            lead.append(run)
    for row in rows:
        row.runs.sort(key=lambda r: r.x)
    return sorted(rows, key=lambda r: -r.y)


def _body_size(pages: list[Page]) -> float:
    return _type_size(run for page in pages for row in page.rows for run in row.runs)


def _type_size(runs: Iterable[Run]) -> float:
    """The type size most characters are set in."""
    sizes: Counter[float] = Counter()
    for run in runs:
        sizes[round(run.size * 2) / 2] += len(run.text)
    return sizes.most_common(1)[0][0] if sizes else 10.0


# ---------------------------------------------------------------- furniture and page numbers


def _furniture_key(place: str, row: Row) -> tuple[str, int, str]:
    """Where the row stands and its text with numbers masked: equal on every page it recurs on."""
    return place, round(row.y / 3), " ".join(NUMBER_TOKEN.sub("#", row.text.lower()).split())


def _remove_furniture(pages: list[Page], body_size: float) -> list[str | None]:
    """Drop running heads and footers; return the page number each sheet prints (None where none).

    Furniture is a row among a page's top and bottom rows that recurs at the same height with
    the same text once numbers are masked (so lone page numbers too), or a short one set apart
    from the text, in type no larger than the body's, that opens or ends with the sheet's page
    number (a head that changes per chapter, «8 1.2. METRISCHE RÄUME»; not «1 Innledning»
    opening page 1). Only those rows are searched for the printed number."""
    seen: Counter[tuple[str, int, str]] = Counter()
    for page in pages:
        seen.update({_furniture_key(place, row) for place, row in _edge_rows(page)})
    need = max(2, math.ceil(FURNITURE_SHARE * len(pages)))
    recurring: list[set[int]] = []
    arabic: list[set[int]] = []
    roman: list[set[int]] = []
    for page in pages:
        recurring.append({
            id(row)
            for place, row in _edge_rows(page)
            if seen[key := _furniture_key(place, row)] >= (2 if key[2] == "#" else need)  # a lone page number
        })
        apart = _set_apart(page)
        found = [
            candidates(row.text, heading=row.size >= HEADING_TYPE * body_size)
            for _, row in _edge_rows(page)
            if id(row) in recurring[-1] or (id(row) in apart and len(row.text.split()) <= MAX_FURNITURE_WORDS)
        ]
        arabic.append({n for numbers, _ in found for n in numbers})
        roman.append({n for _, numbers in found for n in numbers})
    printed = printed_labels(arabic, roman)
    for page, furniture, label in zip(pages, recurring, printed, strict=True):
        if label is not None:
            apart = _set_apart(page)
            furniture |= {
                id(row)
                for _, row in _edge_rows(page)
                if id(row) in apart
                and len(words := row.text.lower().split()) <= MAX_FURNITURE_WORDS
                and label in (words[0], words[-1])
                and row.size <= body_size + 0.5
            }
        page.rows = [row for row in page.rows if id(row) not in furniture]
    return printed


def _set_apart(page: Page) -> set[int]:
    """The page's top and bottom rows where a wider gap than between its lines parts them from
    the rest: where heads and footers stand (a heading opening the page stands close to its text)."""
    rows = page.rows
    if len(rows) < 3:
        return set()
    usual = statistics.median(a.y - b.y for a, b in zip(rows, rows[1:], strict=False))
    return {
        id(row) for row, gap in ((rows[0], rows[0].y - rows[1].y), (rows[-1], rows[-2].y - rows[-1].y))
        if gap > APART * usual
    }


def _edge_rows(page: Page) -> list[tuple[str, Row]]:
    return [("top", r) for r in page.rows[:EDGE_ROWS]] + [("bottom", r) for r in page.rows[-EDGE_ROWS:]]


def _page_labels(reader: PdfReader, printed: list[str | None]) -> list[str]:
    """The PDF's own page labels where they agree with the printed numbers (or nothing is
    printed), else the printed numbers, filled in between."""
    labels = _pdf_labels(reader)
    shown = [(label, found) for label, found in zip(labels or [], printed, strict=False) if found is not None]
    if labels and len(labels) == len(printed):
        if sum(label == found for label, found in shown) >= LABELS_AGREE * len(shown):
            return labels
    return fill_labels(printed)


def _pdf_labels(reader: PdfReader) -> list[str] | None:
    """The PDF's own page labels, when it defines them."""
    try:
        if "/PageLabels" not in reader.trailer["/Root"]:
            return None
        return [str(label) for label in reader.page_labels]
    except (KeyError, ValueError, TypeError, IndexError):
        return None


# ---------------------------------------------------------------- footnotes, headings, tables


def _take_notes(rows: list[Row], body_size: float) -> list[Row]:
    """The footnotes: rows at the bottom of a column, below all its running text, in smaller
    type. Small type (at most SMALL_TYPE of the body) is enough; type only a little smaller
    (Word's notes at 10 on 11 pt) must also stand apart, below a gap wider than the lines above
    it, and open with a note number. A table of contents or a table in small type is no footnote
    (nor is what stands above it)."""
    k = len(rows)
    while k and rows[k - 1].size < body_size - 0.4 and not (TOC_ROW.search(rows[k - 1].text) or _tabular(rows[k - 1])):
        k -= 1
    while k < len(rows) and not _notes_from(rows, k, body_size):
        k += 1
    notes = rows[k:]
    del rows[k:]
    for row in notes:
        row.role = "note"
    return notes


def _tabular(row: Row) -> bool:
    """A table's row: several cells, beyond a note's number set apart from its text."""
    cells = row.cells()
    return len(cells) > 2 or (len(cells) == 2 and not NOTE_NUMBER.fullmatch(cells[0]))


def _notes_from(rows: list[Row], k: int, body_size: float) -> bool:
    """Whether rows[k:] (smaller than the body) are footnotes."""
    if all(row.size <= SMALL_TYPE * body_size for row in rows[k:]):
        return True
    if not k or not NOTE_START.match(rows[k].text):
        return False
    above = rows[k - 1].y - rows[k].y
    leading = rows[k - 2].y - rows[k - 1].y if k >= 2 else 1.2 * body_size
    return above > NOTE_GAP * leading


def _drop_superscripts(rows: list[Row]) -> None:
    """Footnote reference numbers: small digits raised above their row's baseline."""
    for row in rows:
        base, size = row.y, row.size
        kept = [
            r for r in row.runs
            if not (r.size <= SMALL_TYPE * size and r.y > base + 0.15 * size and SUPERSCRIPT.match(r.text.strip()))
        ]
        row.runs = kept or row.runs


def _mark_rows(rows: list[Row], body_size: float) -> None:
    """Rows of several cells are table rows; short rows in larger or bold type are headings."""
    for row in rows:
        if len(row.cells()) > 1:
            row.role = "table"
            continue
        larger = row.size >= HEADING_TYPE * body_size
        bold = row.bold and row.size >= SMALL_TYPE * body_size
        text = row.text
        if (larger or bold) and len(text.split()) <= MAX_HEADING_WORDS and not text.endswith((".", ",", ";")):
            row.role = "heading"


def _join_wrapped_cells(rows: list[Row], rules: list[tuple[float, float, float]]) -> None:
    """A table row takes in the lines right under it that go on with its cells (each of their
    cells starts where one of its cells does, none where its first one does): a reader reads
    «Betriebswirtschaftslehre (Business Studies) - 180 LP» as one cell, not the next row's
    cells in between. In a table ruled row by row it takes in all its lines down to the rule
    that closes it, also where its first cell wraps too («Juristische und /
    Wirtschaftswissenschaftliche / Fakultät -», see `_ruled_row`); a bold header row takes in its
    bold lines («… Arbeitszeit in / Stunden»). Its runs are then ordered cell by cell. A row of
    two cells is left alone: it may be two columns that were not told apart."""
    k = 0
    while k < len(rows):
        row = rows[k]
        if row.role != "table" or len(row.segments()) < MIN_TABLE_CELLS:
            k += 1
            continue
        starts = [segment[0].x for segment in row.segments()]
        cells = [list(segment) for segment in row.segments()]
        closed = _ruled_row(rows, k, starts, rules)  # lines under it that its rules hold in
        above = row
        while k + 1 < len(rows):
            below = rows[k + 1]
            at = _cells_of(below, starts)
            if not (closed or (_goes_on_cells(row, above, below, starts) and 0 not in at)):
                break
            for i, seg in zip(at, below.segments(), strict=True):
                cells[i] += seg
            above, closed = below, max(0, closed - 1)
            del rows[k + 1]
        row.runs = [run for cell in cells for run in cell]
        k += 1


def _cells_of(line: Row, starts: list[float]) -> list[int]:
    """The cell (by where it starts) each part of a line stands in."""
    return [min(range(len(starts)), key=lambda i: abs(starts[i] - seg[0].x)) for seg in line.segments()]


def _goes_on_cells(row: Row, above: Row, below: Row, starts: list[float]) -> bool:
    """Whether the line below may go on with the row's cells: close under the line above, each
    part where a cell starts, body text or table cells (a bold header's bold lines too)."""
    parts = zip(_cells_of(below, starts), below.segments(), strict=True)
    return (
        (below.role in ("body", "table") or (below.role == "heading" and row.bold))
        and above.y - below.y < WRAPPED_CELL * below.size
        and all(abs(starts[i] - seg[0].x) <= 2 for i, seg in parts)
    )


def _ruled_row(rows: list[Row], k: int, starts: list[float], rules: list[tuple[float, float, float]]) -> int:
    """How many lines under rows[k] belong to it by the table's rules: with a rule right above
    it and one right under its last line, none between, and a cell left empty on some line (a
    cell wraps, «Fakultät -» alone on the third line). Where every line fills every cell, the
    lines between a table's rules are rows of their own (a table ruled only above and below its
    body), and 0 is returned."""
    row = rows[k]
    if not _ruled(rules, starts[0], row.y, row.y + WRAPPED_CELL * row.size):
        return 0
    n, above = 0, row
    while k + n + 1 < len(rows) and n < MAX_WRAPPED_LINES:
        below = rows[k + n + 1]
        if not _goes_on_cells(row, above, below, starts) or _ruled(rules, starts[0], below.y, above.y):
            break
        n, above = n + 1, below
    closed = _ruled(rules, starts[0], above.y - WRAPPED_CELL * above.size, above.y)
    wraps = any(len(line.segments()) < len(starts) for line in rows[k : k + n + 1])
    return n if closed and wraps else 0


def _ruled(rules: list[tuple[float, float, float]], x: float, low: float, high: float) -> bool:
    """Whether a horizontal rule under a cell starting at x (a table's border, drawn for the
    row or cell by cell) stands between heights low and high."""
    return any(x0 <= x + 2 and x1 >= x + RULE_REACH and low < y < high for x0, x1, y in rules)


def _drop_toc(pages: list[Page]) -> None:
    """A table of contents: a column with rows ending in dot leaders and a page number loses
    those rows, the wrapped entry lines between them and the heading above them."""
    for page in pages:
        for k, rows in enumerate(page.columns):
            toc = [i for i, row in enumerate(rows) if TOC_ROW.search(row.text)]
            if len(toc) < MIN_TOC_ROWS:
                continue
            first, last = toc[0], toc[-1]
            start = first - 1 if first and rows[first - 1].role == "heading" else first
            page.columns[k] = rows[:start] + rows[last + 1 :]


def _drop_repeated_table_headers(pages: list[Page]) -> None:
    """A table row opening a page or column that repeats the (bold) header row of the table it continues."""
    header: str | None = None
    for page in pages:
        for rows in page.columns:
            if rows and rows[0].role == "table" and header is not None and rows[0].text == header:
                rows.pop(0)
            previous = "body"
            for row in rows:
                if row.role == "table" and previous != "table" and row.bold:
                    header = row.text
                previous = row.role


# ---------------------------------------------------------------- reading order and lines


def _columns(page: Page) -> list[list[Row]]:
    """The page's rows as blocks in reading order, each top to bottom: on a page of columns,
    each band between full-width rows (a title, a figure, a box across the gutter) is read
    column by column, left to right, before the full-width row below it. Columns are found in
    the type most of the page is set in (a page of references in small type has columns too)."""
    runs = [run for row in page.rows for run in row.runs]
    if not runs:
        return [page.rows]
    left, right = min(run.x for run in runs), max(run.end for run in runs)  # the text's edges, not the sheet's
    starts = _column_starts(page.rows, left, right, _type_size(runs), MAX_COLUMNS - 1)  # references: small type
    if not starts:
        return [page.rows]
    blocks: list[list[Row]] = []
    band: list[list[Run]] = [[] for _ in range(len(starts) + 1)]
    for row in page.rows:
        if any(_across(row, x) for x in starts):
            blocks += [_rows(runs) for runs in band if runs] + [[row]]
            band = [[] for _ in range(len(starts) + 1)]
            continue
        for run in row.runs:
            band[sum(run.x >= x - 2 for x in starts)].append(run)
    return blocks + [_rows(runs) for runs in band if runs]


def _across(row: Row, x: float) -> bool:
    """A row drawn across the gutter before column start x (no run of it starts the column)."""
    return any(run.x < x - 2 and run.end > x + 2 for run in row.runs) and not any(
        abs(run.x - x) <= 2 for run in row.runs
    )


def _column_starts(rows: list[Row], left: float, right: float, body_size: float, depth: int) -> list[float]:
    """Where columns start between left and right.

    A column starts where, past 40 % of the span, runs of body type start at the same x on many
    rows, each close after the run before it (table cells are far apart), and hardly any run
    starts in the gutter just left of it (as words of one wide column do), and its lines fill
    most of the room to its right on many rows, with no further cell on their row (a table's
    first cells do not). Where no line of the page crosses the gutter, a column
    beside a figure or a table may start only a few rows. The parts on either
    side are searched again, so three columns are found as two splits."""
    starts: Counter[int] = Counter()
    gaps: dict[int, list[float]] = {}  # per start: how far the run before it ends from it
    widths: dict[int, list[float]] = {}  # per start: how wide the lines starting there are (0: a table's cell)
    rows = [row for row in rows if row.size >= SMALL_TYPE * body_size]
    for row in rows:
        segments = row.segments()
        ends = {id(run): segment[-1].end for segment in segments for run in segment}  # justified: many runs
        for before, run in zip([None, *row.runs], row.runs, strict=False):
            x = round(run.x / 2) * 2
            if left + 0.4 * (right - left) < x < right and run.size >= SMALL_TYPE * body_size:
                starts[x] += 1
                gaps.setdefault(x, []).append(run.x - before.end if before else 0.0)
                last = segments[-1][0].x <= run.x  # no table cell follows on its row
                widths.setdefault(x, []).append(ends[id(run)] - run.x if last else 0.0)
    if not starts or depth <= 0:
        return []
    for x, count in starts.most_common(COLUMN_CANDIDATES):  # a list indented in the column may start more rows
        in_gutter = [run.x for row in rows for run in row.runs if x - CELL_GAP * body_size < run.x < x - 2]
        clear = not any(run.x < x - 2 and run.end > x + 2 for row in rows for run in row.runs)
        wide = sum(w >= COLUMN_FILL * (right - x) for w in widths[x])
        if (
            right - x >= MIN_COLUMN_WIDTH * body_size  # not a column of page numbers in a contents list
            and count >= max(MIN_COLUMN_ROWS, 0 if clear else COLUMN_SHARE * len(rows))
            and len(in_gutter) <= GUTTER_STARTS * count
            and wide >= MIN_COLUMN_ROWS
            and (
                (statistics.median(gaps[x]) < GUTTER * body_size and wide >= WIDE_SHARE * count)
                or _unaligned(rows, x, body_size)  # ragged columns, each in its own line spacing
            )
        ):
            x = _column_edge(rows, x, body_size)
            break
    else:
        return []
    runs = [run for row in rows for run in row.runs]
    before = _column_starts(_rows([r for r in runs if r.x < x - 2]), left, x, body_size, depth - 1)
    after = _column_starts(_rows([r for r in runs if r.x >= x - 2]), x, right, body_size, depth - 1 - len(before))
    return [*before, float(x), *after]


def _unaligned(rows: list[Row], x: float, size: float) -> bool:
    """Whether the lines left and right of x keep their own line spacing: few of the rows with
    text on both sides share one baseline (a table's cells do, row by row; ragged columns of lists
    and formulas, each with its own spacing, meet on a baseline only by chance)."""
    left = right = both = 0
    for row in rows:
        parts = [
            [run for run in row.runs if run.text.strip() and (run.x < x - 2) == before] for before in (True, False)
        ]
        left, right = left + bool(parts[0]), right + bool(parts[1])
        if all(parts):
            baselines = [max(part, key=lambda run: len(run.text)).y for part in parts]
            both += abs(baselines[0] - baselines[1]) <= BASELINE * size
    return both < ALIGNED * min(left, right)


def _column_edge(rows: list[Row], x: float, size: float) -> float:
    """Where the column most rows start at x really starts: at its bullets and hanging reference
    numbers, which stand in the gutter right of where the column before it ends on most rows,
    at most MARKER type sizes before x."""
    ends = [max(ends) for row in rows if (ends := [run.end for run in row.runs if run.end < x - 2])]
    if not ends:
        return x
    edge = max(statistics.median(ends), x - MARKER * size)  # most rows: the column before ends there
    markers = (
        run.x
        for row in rows
        for run, after in zip(row.runs, [*row.runs[1:], None], strict=True)
        if edge + 2 < run.x < x
        and (run.end > x or (after is not None and after.x >= x - 2 and _marks(run, after, size)))
    )
    return min([x, *markers])


def _marks(run: Run, after: Run, size: float) -> bool:
    """A bullet or a number leading the text right after it (a left column's last short word
    stands a gutter's width from the next column)."""
    return len(run.text.strip()) <= MARKER_CHARS and after.x - run.end < CELL_GAP * size


def _floats_after_sentences(pages: list[Page], body_size: float, leading: float) -> None:
    """A figure or table standing between a sentence cut by a column or page break and the rest
    of that sentence is read after the paragraph it interrupts, as a reader reads it: LaTeX,
    InDesign and Word set floats at the top of a column or page, so «… a single input» / figure /
    caption / «event induce a failure.» reads «… a single input event induce a failure.», then
    the figure. A block cuts a sentence when it ends on a full line of running text without a
    stop; the float is what opens the next blocks of the page in other type than the running text
    or in lines less than half as wide (a table's cells, a figure's labels or code, a caption in
    smaller type, headings among them); the sentence's rest is the first row of running text
    after it, opening a paragraph (first in its block, or below a gap) with a lowercase word. The
    float stays on its page: only what the page itself holds is moved."""
    before: list[Row] = []
    for page in pages:
        k = 0
        while k < len(page.columns):
            if _cuts_sentence(before, body_size):
                _read_float_after(page, k, before[-1], body_size, leading)
            before = page.columns[k] or before
            k += 1


def _cuts_sentence(rows: list[Row], body_size: float) -> bool:
    """A block ending on a full line of running text that does not end its sentence."""
    if len(rows) < 2 or rows[-1].role != "body" or not _running_type(rows[-1], body_size):
        return False
    right = max(row.runs[-1].end for row in rows)
    last = rows[-1]
    return not LINE_END.search(last.text) and last.runs[-1].end >= right - SHORT_LINE * last.size


def _running_type(row: Row, body_size: float) -> bool:
    return abs(_type_size(row.runs) - body_size) < BODY_TYPE


def _read_float_after(page: Page, k: int, cut: Row, body_size: float, leading: float) -> None:
    """page.columns[k:] with the float that opens them moved after the paragraph that goes on
    with the cut sentence (see `_floats_after_sentences`); unchanged where no such float stands.
    A paragraph in running type below the float's rows is its caption (one at a time), and so is
    one above them that opens with a label and a number («Table 2:», «Tabell 3.1», «Abb. 4»); a
    caption so labelled is a float of its own (its figure an image, without text)."""
    blocks = page.columns
    width = cut.runs[-1].end - cut.x
    caption = False  # a caption may follow here: below the float's rows
    drawn = False  # rows of a table, a figure or code seen
    above = cut  # the row read before
    for b in range(k, len(blocks)):
        rows = blocks[b]
        i = 0
        while i < len(rows):
            row = rows[i]
            narrow = row.runs[-1].end - row.x < 0.5 * width and not LINE_END.search(row.text)
            if row.role in ("table", "heading") or not _running_type(row, body_size) or narrow:
                drawn, caption = drawn or row.role != "heading", True  # cells, labels, code, headings
                above, i = row, i + 1
                continue
            opens = not 0 < above.y - row.y <= PARAGRAPH_GAP * leading  # below a gap, or atop a column
            if drawn and opens and _goes_on(row.text):
                _move_float(blocks, k, b, i, leading)
                return
            labelled = bool(CAPTION_LABEL.match(row.text))  # «Figure 3:» stands for its figure, drawn or not
            if not (caption or (not drawn and labelled)):  # a caption below the float's rows, or above them
                return
            caption, drawn = False, drawn or labelled
            end = _paragraph_end(rows, i, leading)
            above, i = rows[end - 1], end


def _move_float(blocks: list[list[Row]], k: int, b: int, i: int, leading: float) -> None:
    """blocks[k:] read as: the paragraph that opens at blocks[b][i], then what stood before it
    (the float, marked so), then the rest."""
    rows = blocks[b]
    floats = [block for block in [*blocks[k:b], rows[:i]] if block]
    for block in floats:
        for row in block:
            row.role = "float" if row.role == "body" else row.role
    end = _paragraph_end(rows, i, leading)
    rest = [rows[end:]] if end < len(rows) else []
    blocks[k:] = [rows[i:end], *floats, *rest, *blocks[b + 1 :]]


def _goes_on(text: str) -> bool:
    """Text opening with a lowercase word: the rest of a sentence, not a new one."""
    return bool(WORD_START.match(text)) and text[0].islower()


def _paragraph_end(rows: list[Row], i: int, leading: float) -> int:
    """The index after the paragraph of running text that starts at rows[i]: it ends on a row
    that ends a sentence short of the column's edge, or before a gap, an indent, other rows or
    other type."""
    right = max(row.runs[-1].end for row in rows)
    for j in range(i, len(rows) - 1):
        row, below = rows[j], rows[j + 1]
        if below.role != "body" or row.y - below.y > PARAGRAPH_GAP * leading:
            return j + 1
        if abs(_type_size(below.runs) - _type_size(row.runs)) >= BODY_TYPE:
            return j + 1
        short = row.runs[-1].end < right - SHORT_LINE * row.size
        if LINE_END.search(row.text) and (short or below.x > row.x + row.size):
            return j + 1
    return len(rows)


def _leading(pages: list[Page], body_size: float) -> float:
    """The usual baseline distance of running text."""
    gaps = [
        a.y - b.y
        for page in pages
        for rows in page.columns
        for a, b in zip(rows, rows[1:], strict=False)
        if a.role == b.role == "body" and abs(a.size - body_size) < 0.6 and 0 < a.y - b.y < 3 * body_size
    ]
    return statistics.median(gaps) if gaps else 1.2 * body_size


def _lines(pages: list[Page], body_size: float, leading: float) -> list[SourceLine]:
    """Running text page by page and column by column, each page's footnotes after it.

    Footnote rows are marked "note", as printed (their number first): the cleaning step tells
    the footnotes apart by their numbering and takes them out, so the running text on either
    side of them, and a word hyphenated over them, stays whole."""
    lines: list[SourceLine] = []
    previous: Row | None = None
    ended = False  # the previous column's last row ended its paragraph
    for page in pages:
        label = page.label or str(page.index + 1)
        where = {
            "lineno": None, "page": int(label) if label.isdigit() else None, "label": label, "sheet": page.index + 1
        }
        for rows in page.columns:
            above: Row | None = None  # the row above in this column
            left = min((row.x for row in rows), default=0.0)
            for row in rows:
                text = " ".join(row.cells()) if row.role == "table" else row.text
                if _continues_heading(row, previous, above):
                    lines[-1] = replace(lines[-1], text=f"{lines[-1].text} {text}")
                else:
                    starts = above is None and (ended or (row.x > left + row.size and _ends_sentence(previous)))
                    if _opens_block(row, previous, above, leading) or (previous is not None and starts):
                        lines.append(SourceLine("", **where))
                    role = "heading" if row.role == "heading" else "body"
                    lines.append(SourceLine(text, **where, role=role))
                previous = above = row
            if rows:
                right = max(row.runs[-1].end for row in rows)
                ended = _ends_sentence(rows[-1]) and rows[-1].runs[-1].end < right - SHORT_LINE * rows[-1].size
        lines += [SourceLine(row.text, **where, role="note") for row in page.notes]
    return lines


def _ends_sentence(row: Row | None) -> bool:
    return row is not None and bool(LINE_END.search(row.text))


def _continues_heading(row: Row, previous: Row | None, above: Row | None) -> bool:
    """A heading's second line: same type, right under the first."""
    return (
        row.role == "heading"
        and previous is not None
        and previous is above
        and previous.role == "heading"
        and abs(previous.size - row.size) < 0.5
        and previous.bold == row.bold
        and previous.y - row.y < 1.6 * row.size
    )


def _opens_block(row: Row, previous: Row | None, above: Row | None, leading: float) -> bool:
    """A blank line before and after a heading, around a table, and where a vertical gap or an
    indent opens a paragraph; at a column or page break only where the paragraph before ended
    (a sentence ending on a short line, or an indented first line: see `_lines`), as running
    text otherwise goes on."""
    if previous is None:
        return False
    if row.role != previous.role or row.role == "heading":
        return True
    if above is None:
        return False
    return above.y - row.y > PARAGRAPH_GAP * leading or (
        row.x > above.x + row.size and bool(LINE_END.search(above.text))
    )
