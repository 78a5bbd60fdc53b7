"""Typesetting report PDFs with known ground truth, and scoring how passages read from them.

The typesetter sets headings (larger, bold), paragraphs broken into lines and hyphenated,
footnotes in small type at page bottoms with raised reference numbers, tables with a header
row repeated after a page break, a table of contents with dot leaders, roman-numbered front
matter, running heads alternating between even and odd pages (with or without page numbers,
then with page-number footers), in one or two columns. It records where every word of the
running text, every heading and every footnote ended up, so tests and bench/pdf can check
passages against the truth. Used by tests/test_pdf.py and bench/pdf."""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from pathlib import Path

from fpdf import FPDF
from pypdf import PdfWriter

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEJAVU_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
NOTE_MARK = re.compile(r"\{fn:([^}]*)\}")
ROMAN = ["i", "ii", "iii", "iv", "v", "vi", "vii", "viii", "ix", "x", "xi", "xii"]


@dataclass
class Heading:
    text: str
    level: int = 1  # 1 chapter (14 pt), 2 section (12 pt), 3 unnumbered subheading (bold body size)


@dataclass
class Para:
    text: str  # footnotes inline as "{fn:text of the note}" right after the word they belong to


@dataclass
class Table:
    rows: list[list[str]]  # the first row is the header


@dataclass
class Layout:
    columns: int = 1
    page_labels: bool = True  # the PDF carries page labels (else only the printed numbers tell)
    head_numbers: bool = True  # running heads carry the page number (else a footer does)
    short: str = "Testmelding Rusfelt"
    year: str = "2031-2032"
    unicode: bool = False  # DejaVu instead of the core Latin-1 fonts
    size: float = 10.0
    word_runs: bool = False  # draw every word as a run of its own (as some PDF producers do)


@dataclass
class Word:
    text: str
    start: str  # page label where the word starts
    end: str  # ... and where it ends (after a hyphenated break)


@dataclass
class Truth:
    """Where everything went."""

    words: list[Word] = field(default_factory=list)  # running text in reading order
    headings: list[tuple[str, str]] = field(default_factory=list)  # (text, page label)
    notes: list[tuple[int, str, str]] = field(default_factory=list)  # (number, text, label)
    toc: list[str] = field(default_factory=list)
    furniture: list[str] = field(default_factory=list)
    broken_over_pages: list[str] = field(default_factory=list)  # words hyphenated across a page break
    pages: int = 0


class _Setter:
    """Places text on pages, column by column, keeping the truth as it goes."""

    def __init__(self, layout: Layout, front_pages: int) -> None:
        self.layout = layout
        self.pdf = FPDF(format="A4", unit="mm")
        self.pdf.set_auto_page_break(False)
        self.regular, self.bold = "Helvetica", "Helvetica"
        if layout.unicode:
            self.pdf.add_font("DejaVu", "", str(DEJAVU))
            self.pdf.add_font("DejaVu", "B", str(DEJAVU_BOLD))
            self.regular = self.bold = "DejaVu"
        self.truth = Truth()
        self.front_pages = front_pages
        self.page_notes: list[tuple[int, str]] = []
        self.note_number = 0
        self.column = 0
        self.y = 0.0
        self.front = True
        self.heading_pages_found: list[str] = []

    # geometry (mm)
    top, bottom, left, right, gutter = 25.0, 275.0, 20.0, 190.0, 8.0

    @property
    def width(self) -> float:
        full = self.right - self.left
        return full if self.layout.columns == 1 else (full - self.gutter) / 2

    @property
    def x0(self) -> float:
        return self.left + self.column * (self.width + self.gutter)

    def label(self) -> str:
        n = self.pdf.page
        return ROMAN[n - 1] if n <= self.front_pages else str(n - self.front_pages)

    def font(self, size: float, bold: bool = False) -> None:
        self.pdf.set_font(self.bold if bold else self.regular, "B" if bold else "", size)

    def line_height(self, size: float) -> float:
        return size * 0.5

    # pages and furniture

    def new_page(self) -> None:
        self.finish_page()
        self.pdf.add_page()
        self.column, self.y = 0, self.top
        self.page_notes = []

    def finish_page(self) -> None:
        if self.pdf.page == 0:
            return
        self._set_notes()
        label = self.label()
        self.font(8)
        if self.front:
            self.pdf.text(105, 287, label)
            return
        even = int(label) % 2 == 0
        head = self.layout.short + " " + self.layout.year
        if self.layout.head_numbers:
            text = f"{label}   {head}" if even else f"{self.layout.year} {self.layout.short}   {label}"
        else:
            text = head if even else self.layout.short
            self.pdf.text(105, 287, label)
        x = self.left if even else self.right - self.pdf.get_string_width(text)
        self.pdf.text(x, 14, text)
        self.truth.furniture.append(text)

    def notes_height(self, extra: int = 0) -> float:
        count = len(self.page_notes) + extra
        if not count:
            return 0.0
        lines = sum(len(self._wrap_note(n, t)) for n, t in self.page_notes) + 2 * extra
        return 4 + lines * self.line_height(self.layout.size * 0.75)

    def _wrap_note(self, number: int, text: str) -> list[str]:
        self.font(self.layout.size * 0.75)
        return _wrap(self.pdf, f"{number} {text}", self.width)

    def _set_notes(self) -> None:
        """The notes of the current column (of the page, in one column) at its bottom."""
        if not self.page_notes:
            return
        size = self.layout.size * 0.75
        lines = [line for n, t in self.page_notes for line in self._wrap_note(n, t)]
        y = self.bottom - len(lines) * self.line_height(size) + self.line_height(size)
        self.pdf.line(self.x0, y - 5, self.x0 + 30, y - 5)
        self.font(size)
        for line in lines:
            self.pdf.text(self.x0, y, line)
            y += self.line_height(size)
        self.page_notes = []

    def room(self, height: float, extra_notes: int = 0) -> bool:
        return self.y + height <= self.bottom - self.notes_height(extra_notes)

    def next_column(self) -> None:
        if self.layout.columns == 2 and self.column == 0:
            self._set_notes()
            self.column, self.y = 1, self.top
        else:
            self.new_page()

    # elements

    def heading(self, heading: Heading) -> None:
        size = {1: 14.0, 2: 12.0}.get(heading.level, self.layout.size)
        lines = _wrap(self.pdf, heading.text, self.width, self, size, True)
        height = 4 + len(lines) * self.line_height(size) + 3 * self.line_height(self.layout.size)
        if not self.room(height):
            self.next_column()
        self.y += 4 if self.y > self.top else 0
        self.font(size, True)
        for line in lines:
            self.y += self.line_height(size)
            self.pdf.text(self.x0, self.y, line)
        self.y += 2
        self.truth.headings.append((heading.text, self.label()))

    def para(self, para: Para) -> None:
        size = self.layout.size
        tokens = _tokens(para.text)
        line: list[tuple[str, list[str]]] = []
        width = 0.0
        self.font(size)
        space = self.pdf.get_string_width(" ")
        i = 0
        while i < len(tokens):
            word, notes = tokens[i]
            w = self.pdf.get_string_width(word) + (2.5 if notes else 0)
            if not line or width + space + w <= self.width:
                line.append((word, notes))
                width += (space if len(line) > 1 else 0) + w
                i += 1
                continue
            head, rest = _hyphenate(self.pdf, word, self.width - width - space)
            if head and not notes:
                line.append((head + "-", []))
                tokens[i] = (rest, notes)
                self._set_line(line, broken=True)
            else:
                self._set_line(line)
            line, width = [], 0.0
            self.font(size)
        if line:
            self._set_line(line)
        self.y += 3

    def _set_line(self, line: list[tuple[str, list[str]]], broken: bool = False) -> None:
        size = self.layout.size
        notes = [n for _, ns in line for n in ns]
        if not self.room(self.line_height(size), len(notes)):
            self.next_column()
        self.y += self.line_height(size)
        x = self.x0
        label = self.label()
        chunk: list[str] = []  # words drawn as one run, up to a footnote reference (as typesetters do)
        for k, (word, word_notes) in enumerate(line):
            chunk.append(word)
            self._record(word, label, last=k == len(line) - 1 and broken)
            if not word_notes and k < len(line) - 1 and not self.layout.word_runs:
                continue
            self.font(size)
            text = " ".join(chunk)
            self.pdf.text(x, self.y, text)
            x += self.pdf.get_string_width(text)
            chunk = []
            for note in word_notes:
                self.note_number += 1
                self.page_notes.append((self.note_number, note))
                self.truth.notes.append((self.note_number, note, label))
                self.font(size * 0.6)
                self.pdf.text(x + 0.2, self.y - 1.6, str(self.note_number))
                x += self.pdf.get_string_width(str(self.note_number)) + 0.4
            self.font(size)
            x += self.pdf.get_string_width(" ")

    def _record(self, word: str, label: str, last: bool) -> None:
        words = self.truth.words
        if words and words[-1].text.endswith("\x00"):  # the rest of a hyphenated word
            whole = words[-1].text[:-1] + word
            if words[-1].start != label:
                self.truth.broken_over_pages.append(whole)
            words[-1] = Word(whole, words[-1].start, label)
            return
        words.append(Word(word[:-1] + "\x00" if last else word, label, label))

    def table(self, table: Table) -> None:
        size = self.layout.size
        for k, row in enumerate(table.rows):
            if not self.room(self.line_height(size) + 1):
                self.next_column()
                if k:
                    self._set_row(table.rows[0], record=False)
            self._set_row(row, record=True, bold=k == 0)
        self.y += 3

    def _set_row(self, row: list[str], record: bool, bold: bool = True) -> None:
        size = self.layout.size
        self.y += self.line_height(size) + 1
        cell = self.width / len(row)
        self.font(size, bold)
        for k, text in enumerate(row):
            self.pdf.text(self.x0 + k * cell, self.y, text)
        if record:
            label = self.label()
            self.truth.words.extend(Word(w, label, label) for text in row for w in text.split())

    def toc(self, entries: list[tuple[str, str]]) -> None:
        self.heading(Heading("Innhold", 1))
        self.truth.headings.pop()
        size = self.layout.size
        self.font(size)
        for title, page in entries:
            dots = "." * 40
            text = f"{title} {dots} {page}"
            while self.pdf.get_string_width(text) > self.right - self.left and len(dots) > 4:
                dots = dots[:-1]
                text = f"{title} {dots} {page}"
            self.y += self.line_height(size) + 1
            self.pdf.text(self.left, self.y, text)
            self.truth.toc.append(title)


def _tokens(text: str) -> list[tuple[str, list[str]]]:
    """Words with the footnotes attached to them."""
    tokens: list[tuple[str, list[str]]] = []
    for part in re.split(r"(\{fn:[^}]*\})| ", text):
        if not part:
            continue
        m = NOTE_MARK.fullmatch(part)
        if m and tokens:
            tokens[-1][1].append(m.group(1))
        elif not m:
            tokens.append((part, []))
    return tokens


def _hyphenate(pdf: FPDF, word: str, room: float) -> tuple[str | None, str]:
    """The longest head (3+ letters, leaving 3+) of a plain lowercase word that fits with its hyphen."""
    if len(word) < 7 or not word.isalpha() or not word[1:].islower():
        return None, word
    for cut in range(len(word) - 3, 2, -1):
        if pdf.get_string_width(word[:cut] + "-") <= room:
            return word[:cut], word[cut:]
    return None, word


def _wrap(pdf: FPDF, text: str, width: float, setter: _Setter | None = None, size: float | None = None,
          bold: bool = False) -> list[str]:
    if setter and size:
        setter.font(size, bold)
    lines: list[str] = []
    for word in text.split():
        if lines and pdf.get_string_width(f"{lines[-1]} {word}") <= width:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines


def typeset(path: Path, body: list, layout: Layout | None = None, toc: bool = True) -> Truth:
    """Write the PDF and return its ground truth. Front matter (roman pages): a title page and
    a table of contents of the numbered headings. Typeset twice: the contents need the pages."""
    layout = layout or Layout()
    pages: list[str] = []
    for _ in range(2):
        setter = _run(body, layout, pages if toc else None)
        pages = setter.heading_pages_found
    setter.pdf.output(str(path))
    if layout.page_labels:
        writer = PdfWriter(clone_from=path)
        writer.set_page_label(0, setter.front_pages - 1, style="/r", start=1)
        writer.set_page_label(setter.front_pages, len(writer.pages) - 1, style="/D", start=1)
        writer.write(path)
    return setter.truth


def _run(body: list, layout: Layout, heading_pages: list[str] | None) -> _Setter:
    front_pages = 2 if heading_pages is not None else 1
    setter = _Setter(layout, front_pages)
    setter.new_page()
    setter.font(20, True)
    setter.pdf.text(20, 60, layout.short)
    if heading_pages is not None:
        setter.new_page()
        numbered = [h.text for h in body if isinstance(h, Heading) and h.level < 3]
        pages = heading_pages or ["1"] * len(numbered)
        setter.toc(list(zip(numbered, pages, strict=False)))
    setter.front = True
    setter.finish_page()
    setter.front = False
    setter.pdf.add_page()
    setter.column, setter.y, setter.page_notes = 0, setter.top, []
    for element in body:
        if isinstance(element, Heading):
            setter.heading(element)
        elif isinstance(element, Para):
            setter.para(element)
        else:
            setter.table(element)
    setter.finish_page()
    setter.truth.pages = setter.pdf.page
    setter.heading_pages_found = [p for (t, p) in setter.truth.headings if any(
        isinstance(h, Heading) and h.level < 3 and h.text == t for h in body)]
    return setter


# ---------------------------------------------------------------- sample documents

WORDS = """
rusmidler behandling tjenester kommunene pasienter oppfølging forebygging narkotika alkohol
helsetjenesten brukere regjeringen tilbudet kunnskap ansvar samarbeid overdoser tiltak personer
rusmiddelproblemer spesialisthelsetjenesten lavterskeltilbud pårørende ungdom skolen politiet
legemiddelassistert rehabilitering arbeid bolig utdanning kvalitet tilgjengelighet erfaringer
""".split()
LINK = "og i for med til som av om på er skal kan har bør blir".split()


def sentence(rng: random.Random, words: int | None = None) -> str:
    n = words or rng.randint(8, 18)
    picked = [rng.choice(WORDS if k % 2 == 0 else LINK) for k in range(n)]
    return " ".join(picked).capitalize() + "."


def paragraph(rng: random.Random, sentences: int, note_every: int = 0, counter: list[int] | None = None) -> Para:
    parts = []
    for _ in range(sentences):
        text = sentence(rng)
        if note_every and counter is not None:
            counter[0] += 1
            if counter[0] % note_every == 0:
                text = text[:-1] + ".{fn:" + f"Kilde {sentence(rng, 6)[:-1]} rapport om {rng.choice(WORDS)}." + "}"
        parts.append(text)
    return Para(" ".join(parts))


def sample_body(seed: int = 1, chapters: int = 3) -> list:
    """A report: numbered chapters and sections, bold unnumbered subheadings, footnotes, a
    proposal, a long table."""
    rng = random.Random(seed)
    counter = [0]
    body: list = []
    for c in range(1, chapters + 1):
        body.append(Heading(f"{c} {rng.choice(WORDS).capitalize()} og {rng.choice(WORDS)}", 1))
        body.append(paragraph(rng, 6, 4, counter))
        for s in range(1, 3):
            body.append(Heading(f"{c}.{s} {rng.choice(WORDS).capitalize()} for {rng.choice(WORDS)}", 2))
            for _ in range(3):
                body.append(paragraph(rng, rng.randint(4, 9), 4, counter))
            body.append(Heading(f"{rng.choice(WORDS).capitalize()} {rng.choice(LINK)} {rng.choice(WORDS)}", 3))
            body.append(paragraph(rng, 7, 4, counter))
        if c == 2:
            body.append(Para(f"Forslag 1: {sentence(rng, 7)}"))
            body.append(paragraph(rng, 5))
            rows = [["Tiltak", "Ansvar", "Kostnad"]] + [
                [rng.choice(WORDS), rng.choice(WORDS), f"{rng.randint(2, 90)} mill"] for _ in range(24)
            ]
            body.append(Table(rows))
            body.append(paragraph(rng, 4))
    return body


# ---------------------------------------------------------------- scoring


def _norm(text: str) -> str:
    return " ".join(text.split())


def score(passages: list, truth: Truth) -> dict[str, float]:
    """How passages read from a typeset PDF match its truth (shares in 0..1, counts as ints)."""
    stream = [w.text for w in truth.words]
    joined = " ".join(stream)
    offsets = []
    pos = 0
    for w in stream:
        offsets.append(pos)
        pos += len(w) + 1
    texts = [p for p in passages if p.kind == "text"]
    notes = [p for p in passages if p.kind == "footnote"]
    verbatim = pages_right = 0
    for p in texts:
        text = _norm(p.text)
        at = joined.find(text)
        if at < 0 or (at and joined[at - 1] != " "):
            continue
        verbatim += 1
        first = offsets.index(at) if at in offsets else None
        last_at = at + len(text) - 1
        last = max(k for k, o in enumerate(offsets) if o <= last_at)
        if first is not None and (p.page_label, p.page_end_label) == (truth.words[first].start, truth.words[last].end):
            pages_right += 1
    body_text = " ".join(_norm(p.text) for p in texts)
    note_text = " ".join(_norm(p.text) for p in notes)
    notes_out = sum(1 for _, t, _ in truth.notes if t not in body_text)
    notes_kept = sum(1 for _, t, _ in truth.notes if t in note_text)
    sections = {part for p in passages if p.section for part in p.section.split(" — ")}
    furniture = [f for f in set(truth.furniture)]
    return {
        "passages": len(texts),
        "verbatim": verbatim / max(1, len(texts)),
        "pages_right": pages_right / max(1, len(texts)),
        "furniture_leaks": sum(1 for p in passages for f in furniture if truth_head(f) in p.text),
        "notes_out_of_text": notes_out / max(1, len(truth.notes)),
        "notes_kept": notes_kept / max(1, len(truth.notes)),
        "headings_found": sum(1 for h, _ in truth.headings if h in sections) / max(1, len(truth.headings)),
        "toc_leaks": sum(1 for p in passages if "...." in p.text or (p.section and "...." in p.section)),
    }


def truth_head(furniture: str) -> str:
    """The words of a running head without its page number."""
    return " ".join(t for t in furniture.split() if not t.isdigit())

