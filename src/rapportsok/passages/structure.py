"""Recognising a document's structure: headings, "Forslag N:" proposals, paragraphs."""

from __future__ import annotations

import re
import statistics
from dataclasses import dataclass, replace

from ..records import PageMark, SourceLine
from ..text.sentences import ends_sentence
from ..text.tokens import WORD
from .clean import Box, Footnote, join_lines, strip_note_refs

# "4.3 Ny handlingsplan mot overdoser", " 1  Innledning", " 2. Staten overtar ansvar ...", and
# "2Bakgrunn": a number glued to its title by a PDF that positions the gap instead of drawing it.
NUMBERED_HEADING = re.compile(
    r"^\s?(?P<num>[1-9]\d?(?:\.\d{1,2}){0,3})(?P<dot>\.?)"
    r"(?:(?P<gap>\s+)(?P<title>[A-ZÆØÅ«].*?)|(?P<glued>[A-ZÆØÅ][a-zæøå].*?))\s*$"
)
# Lines set like headings that are not sections: a run-in label ("Type:", "Begrunnelse/kommentar:"),
# a figure or table caption ("Figur 3.2 ...", "Tabell 4.1 ..."; a box's title does head its box),
# a budget chapter label at a page's foot ("Kap. 581").
CAPTION = re.compile(
    r"^\s*(?:Figur|Figure|Fig\.|Tabell|Table|Tab\.|Diagram|Kart|Bilde|Abbildung|Tabelle)"
    r"\s*\d+(?:[.:-]\d+)*\b"
)
PAGE_FOOT_LABEL = re.compile(r"^\s*(?:Kap|Kapittel|Post|Programkategori|Side)\.? *\d[\d.]*\s*$", re.I)
# "FOREBYGGING", "INNLEDNING": the 2010 report's theme headings.
CAPS_HEADING = re.compile(r"^\s*[A-ZÆØÅ]{3,}(?: [A-ZÆØÅ]{2,}){0,3}\s*$")
# "Forslag 9:", " Forslag 7:", "Forslag 22  " (its headline follows on the next lines).
PROPOSAL_START = re.compile(r"^\s*Forslag (?P<num>\d{1,2})\s*:?\s*(?P<rest>.*?)\s*$")
BULLET = re.compile(r"^\s*(?:[•\uf0b7\u25aa▪●◦]|[–-] )")
PAGE_NUMBER_END = re.compile(r"\s\d{1,3}\s*$")
DASH_ITEM = re.compile(r"^\s*[–-] ")
# a sentence's end, also with a note reference after it («… i Oslo hver dag.21»): prose, no title
TITLE_END_PUNCT = re.compile(r"(?:[.,;!]|(?<=[^\W\d_])[.!][»”\"')]*\d{1,3})[»”\"')]*\s*$")
TITLE_ABBREVIATION = re.compile(r"\b(?:mv|m\.m|mm|o\.l|osv)\.\s*$")

MAX_TITLE_WORDS = 20
MAX_TITLE_LINES = 4
MAX_PART_TITLE_WORDS = 10  # unnumbered titles ("Bakgrunn", "Bolig og aktivitet") are short
SHORT_LINE_RATIO = 0.75  # an unnumbered title line is clearly shorter than the text's lines
MIN_NUMBERED_HEADINGS = 3  # fewer means the document is not organised by numbered sections


@dataclass(frozen=True)
class Block:
    """A paragraph of running text (or a footnote) with the structure it sits in."""

    text: str
    kind: str  # "text" or "footnote"
    section: str | None
    proposal: int | None
    headline: str | None
    line_start: int | None
    line_end: int | None
    pages: tuple[PageMark, ...]  # the page at offset 0 and where each further page starts
    lead: bool = False  # "Forslag N: headline", which must stay with the start of its body


@dataclass(frozen=True)
class Mark:
    """A heading or proposal start found at a line index; `end` is the first line after it."""

    end: int
    title: str | None = None  # a heading
    proposal: int | None = None
    headline: str | None = None
    note: str | None = None  # "(fra Andresen, ...)" under a proposal number
    sub: bool = False  # an unnumbered subheading inside a numbered section ("Nalokson")


def find_structure(lines: list[SourceLine]) -> dict[int, Mark]:
    """Proposals plus numbered sections, or titled parts where a document has no numbering."""
    marks = find_proposals(lines)
    numbered = find_numbered_headings(lines, skip=marks)
    if any(line.role == "heading" for line in lines):
        if len(numbered) < MIN_NUMBERED_HEADINGS:
            numbered = {}
        return marks | numbered | layout_headings(lines, skip=marks | numbered)
    if len(numbered) >= MIN_NUMBERED_HEADINGS:
        marks.update(numbered)
        first = min(numbered)  # before the first chapter: front matter, no subsections
        subheadings = find_titled_parts(lines, skip=marks)
        marks.update({i: replace(m, sub=True) for i, m in subheadings.items() if i > first})
    else:
        marks.update(find_titled_parts(lines, skip=marks))
    return marks


def layout_headings(lines: list[SourceLine], skip: dict[int, Mark]) -> dict[int, Mark]:
    """Headings a PDF's type marked: numbered ones are sections, unnumbered ones after the first
    numbered heading are subsections of it (before it, and in unnumbered documents, sections).

    `skip` holds the numbered headings found by their numbering, in any type. Labels, captions
    and a heading-like line under running text with nothing after it on its page (a page-foot
    label) are not sections; a title that goes on over a blank line in lowercase is kept whole."""
    found: dict[int, Mark] = {}
    numbered_at = {i for i, m in skip.items() if m.title}
    numbered_seen = False
    for i, line in enumerate(lines):
        numbered_seen = numbered_seen or i in numbered_at
        if line.role != "heading" or i in skip or not _is_section_title(lines, i):
            continue
        title, end = _heading_text(lines, i)
        m = NUMBERED_HEADING.match(title)
        if m:
            title = f"{m.group('num')} {m.group('title') or m.group('glued')}"
        numbered_seen = numbered_seen or bool(m)
        found[i] = Mark(end=end, title=title, sub=numbered_seen and not m)
    return found


def _is_section_title(lines: list[SourceLine], i: int) -> bool:
    """Whether a line set as a heading opens a section (see layout_headings)."""
    text = lines[i].text.strip()
    label = text.endswith(":") and not NUMBERED_HEADING.match(text)  # "4.1.1 Regjeringen vil:" is a heading
    if not text or label or CAPTION.match(text) or PAGE_FOOT_LABEL.match(text):
        return False
    k = _skip_blank(lines, i + 1)
    ends_page = k >= len(lines) or lines[k].sheet != lines[i].sheet
    above = next((lines[k] for k in range(i - 1, -1, -1) if lines[k].text.strip()), None)
    return not (ends_page and above is not None and above.sheet == lines[i].sheet and above.role == "body")


def _heading_text(lines: list[SourceLine], i: int) -> tuple[str, int]:
    """A heading's text with the lines that finish it: an unfinished title goes on over a blank
    line where the next line starts in lowercase (the title's last line was set apart)."""
    parts = [lines[i].text]
    end = i + 1
    while len(parts) < MAX_TITLE_LINES and not ends_sentence(parts[-1]):
        k = _skip_blank(lines, end)
        if k >= len(lines) or lines[k].role == "note" or not lines[k].text.strip()[:1].islower():
            break
        parts.append(lines[k].text)
        end = k + 1
    return join_lines(parts), end


def numbered_heading_lines(lines: list[SourceLine]) -> frozenset[int]:
    """Indexes of numbered headings, when the document is organised by them."""
    found = find_numbered_headings(lines, skip={})
    return frozenset(found) if len(found) >= MIN_NUMBERED_HEADINGS else frozenset()


def find_proposals(lines: list[SourceLine]) -> dict[int, Mark]:
    """Consecutively numbered "Forslag N:" lines with their (possibly wrapped) headline."""
    found: dict[int, Mark] = {}
    last = 0
    for i, line in enumerate(lines):
        m = PROPOSAL_START.match(line.text)
        if not m or int(m.group("num")) != last + 1:
            continue
        j = i + 1
        note = None
        if m.group("rest").startswith("("):
            note, rest = m.group("rest"), ""
        else:
            rest = m.group("rest")
        j = _skip_blank(lines, j)
        if not rest and j < len(lines) and lines[j].text.strip().startswith("("):
            note_lines, j = _take_until(lines, j, lambda t: t.rstrip().endswith((")", "):")))
            note = join_lines(note_lines)
            j = _skip_blank(lines, j)
        head_lines = [rest] if rest else []
        if not rest or not ends_sentence(rest):
            more, j = _take_until(lines, j, ends_sentence, stop_at_blank=True)
            head_lines += more
        while head_lines and len(head_lines) < MAX_TITLE_LINES and not ends_sentence(head_lines[-1]):
            k = _skip_blank(lines, j)  # a wrapped headline whose next line a PDF set apart
            if k >= len(lines) or not lines[k].text.strip()[:1].islower():
                break
            more, j = _take_until(lines, k, ends_sentence, stop_at_blank=True)
            head_lines += more
        headline, _, aside = join_lines(head_lines).partition(". (")
        if aside and not note:  # "... i LAR. (fra Andresen, ...)": who proposed it, on the same line
            note = f"({aside}"
        headline = headline.rstrip(" .")
        if not headline:
            continue
        last = int(m.group("num"))
        found[i] = Mark(end=j, proposal=last, headline=headline, note=(note or "").rstrip(":") or None)
    return found


def find_numbered_headings(lines: list[SourceLine], skip: dict[int, Mark]) -> dict[int, Mark]:
    """Numbered headings that continue the numbering so far (4.1 -> 4.1.1, 4.2 or 5).

    Chapter headings must keep one style per document ("1  Innledning" or "1. Forord"), which
    keeps numbered list items ("2. Forsterket innsats ...") from passing as chapters. A title
    that ends a sentence is prose, unless it ends with an abbreviation ("Hjemmetjenester mv.")."""
    found: dict[int, Mark] = {}
    current: tuple[int, ...] = ()
    chapter_style: str | None = None
    for i, line in enumerate(lines):
        m = NUMBERED_HEADING.match(line.text)
        if not m or i in skip:
            continue
        number = tuple(int(n) for n in m.group("num").split("."))
        if number not in _successors(current):
            continue
        if m.group("glued") is None:  # a glued number shows no style of its own
            style = "dot" if m.group("dot") else ("wide" if len(m.group("gap")) > 1 else "narrow")
            if len(number) == 1 and chapter_style not in (None, style):
                continue
        title, end = _title_block(lines, i, m.group("title") or m.group("glued"))
        if title is None or _contents_entry(lines, i):
            continue
        if len(number) == 1 and m.group("glued") is None:
            chapter_style = style
        current = number
        found[i] = Mark(end=end, title=f"{m.group('num')} {title}")
    return found


def _contents_entry(lines: list[SourceLine], i: int) -> bool:
    """A numbered line ending in a page number beside another such line: a table of contents
    ("2 The Consensus Algorithm 1" / "2.1 The Problem 1"), whose numbers must not lead the
    numbering past the chapters it lists."""
    def entry(k: int) -> bool:
        return 0 <= k < len(lines) and bool(NUMBERED_HEADING.match(lines[k].text)) and bool(
            PAGE_NUMBER_END.search(lines[k].text)
        )

    before = next((k for k in range(i - 1, -1, -1) if lines[k].text.strip()), -1)
    return entry(i) and (entry(before) or entry(_skip_blank(lines, i + 1)))


def _successors(current: tuple[int, ...]) -> set[tuple[int, ...]]:
    """Numbers that may follow `current`: a first subsection, or the next at any level."""
    if not current:
        return {(1,)}
    nexts = {current[:k] + (current[k] + 1,) for k in range(len(current))}
    return nexts | {current + (1,)}


def _title_block(lines: list[SourceLine], i: int, first: str) -> tuple[str | None, int]:
    """A heading's title with its wrapped continuation lines, or None if it reads like prose."""
    parts = [first]
    j = i + 1
    while (
        j < len(lines)
        and len(parts) < MAX_TITLE_LINES
        and not parts[-1].rstrip().endswith(":")
        and lines[j].text.strip()[:1].islower()
    ):
        parts.append(lines[j].text)
        j += 1
    title = join_lines(parts)
    prose = TITLE_END_PUNCT.search(title) and not TITLE_ABBREVIATION.search(title)
    if prose or len(WORD.findall(title)) > MAX_TITLE_WORDS:
        return None, i + 1
    return title, j


def find_titled_parts(lines: list[SourceLine], skip: dict[int, Mark]) -> dict[int, Mark]:
    """Unnumbered titles: capitalised themes, and short title lines set apart from the prose.

    A title line is clearly shorter than the document's text lines, starts with a capital,
    opens after a blank line or page start where the previous text ended a sentence (or at
    the top), and is followed by a capitalised line; a second, lowercase or parenthesised line
    continues it."""
    limit = SHORT_LINE_RATIO * _typical_length(lines)
    found: dict[int, Mark] = {}
    top = _skip_blank(lines, 0)
    if top < len(lines) and top not in skip:  # the first line may be the document's own title
        title, end = _title_block(lines, top, lines[top].text.strip())
        if title and len(WORD.findall(title)) <= MAX_TITLE_WORDS:
            found[top] = Mark(end=end, title=title)
    previous = ""  # the last non-blank line before i, or "." after a heading
    previous_blank = True
    i = 0
    while i < len(lines):
        text = lines[i].text
        mark = skip.get(i) or found.get(i)
        if mark:  # a title may follow right under a heading ("Del II" / "Retning for rusmiddelfeltet")
            i, previous, previous_blank = mark.end, ".", True
            continue
        if not text.strip():
            previous_blank = True
            i += 1
            continue
        opens = previous_blank or text.startswith(" ")
        if opens and (not previous or ends_sentence(previous)):
            mark = _titled_part(lines, i, limit, skip)
            if mark:
                found[i] = mark
                i, previous, previous_blank = mark.end, ".", True
                continue
        previous, previous_blank = text, False
        i += 1
    return found


def _titled_part(lines: list[SourceLine], i: int, limit: float, skip: dict[int, Mark]) -> Mark | None:
    """A title at line i: one short line, or two whose second continues the first and is short.

    A first line as long as the text's may start a title only when its shorter second line is
    followed by a blank line (a wrapped bold title: «Riksrevisjonens undersøkelse av helse-,
    opplærings- / og velferdstjenester til innsatte i fengsel»)."""
    first = lines[i].text.strip()
    if CAPS_HEADING.match(first):
        return Mark(end=i + 1, title=first)
    if not first[:1].isupper() or BULLET.match(first):
        return None
    long_first = len(lines[i].text.rstrip()) > limit
    parts = [first]
    j = i + 1
    room = len(first) - 1 if long_first else limit  # the wrapped line is the shorter one
    if j < len(lines) and _continues_title(lines[j].text, first) and len(lines[j].text.rstrip()) <= room:
        parts.append(lines[j].text)
        j += 1
    title = join_lines(parts)
    k = _skip_blank(lines, j)
    follows = lines[k].text.strip() if k < len(lines) else ""
    if (
        (long_first and (len(parts) == 1 or k == j))
        or TITLE_END_PUNCT.search(title)
        or title.endswith(":")
        or len(WORD.findall(title)) > (MAX_TITLE_WORDS if long_first else MAX_PART_TITLE_WORDS)
        or not (follows[:1].isupper() or k in skip or BULLET.match(follows))
    ):
        return None
    return Mark(end=j, title=title)


def _continues_title(text: str, before: str) -> bool:
    """A wrapped title's next line: lowercase ("og besittelse av narkotika"), an aside ("(LAR)"),
    or anything after a dash ("Appendix A: Kunnskapsstatus –" / "Forskerkommisjonens vurdering")."""
    start = text.strip()[:1]
    return start.islower() or start == "(" or (bool(start) and before.rstrip().endswith(("–", " -")))


def _typical_length(lines: list[SourceLine]) -> float:
    lengths = [len(line.text.rstrip()) for line in lines if line.text.strip()]
    return statistics.median(lengths) if lengths else 0.0


def _skip_blank(lines: list[SourceLine], j: int) -> int:
    while j < len(lines) and not lines[j].text.strip():
        j += 1
    return j


def _take_until(lines: list[SourceLine], j: int, last_line, stop_at_blank: bool = False) -> tuple[list[str], int]:
    """Lines from j up to and including the first for which last_line(text) holds."""
    taken: list[str] = []
    while j < len(lines) and len(taken) < MAX_TITLE_LINES:
        text = lines[j].text
        if stop_at_blank and not text.strip():
            break
        taken.append(text)
        j += 1
        if last_line(text):
            break
    return taken, j


def build_blocks(lines: list[SourceLine], notes: list[Footnote], boxes: list[Box] = ()) -> list[Block]:
    """Paragraphs (and footnotes and boxes) labelled with the section and proposal they belong to.

    A blank line ends a paragraph only after a finished sentence: elsewhere it is a column or
    page break inside running text. A bullet always starts a new paragraph. A box follows the
    paragraph it interrupted, in blocks of its own."""
    marks = find_structure(lines)
    note_numbers = {note.number for note in notes}
    blocks: list[Block] = []
    section: str | None = None
    numbered_section: str | None = None  # the section a subheading belongs to
    proposal: int | None = None
    headline: str | None = None
    para: list[SourceLine] = []
    pending_break = False

    def flush() -> None:
        if para:
            text = _running_text(para, note_numbers)
            if text:
                blocks.append(_block(text, "text", section, proposal, headline, para, note_numbers))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        mark = marks.get(i)
        if mark:
            flush()
            if mark.sub:
                section, proposal, headline = f"{numbered_section} — {mark.title}", None, None
            elif mark.title is not None:
                section = numbered_section = mark.title
                proposal, headline = None, None
            else:
                proposal, headline = mark.proposal, mark.headline
                lead = f"Forslag {proposal}: {headline}." + (f" {mark.note}" if mark.note else "")
                blocks.append(_block(lead, "text", section, proposal, headline, lines[i : mark.end], lead=True))
            i = mark.end
            continue
        text = line.text.strip()
        if not text:
            pending_break = bool(para)
        else:
            if para and (
                _opens_item(text, para)
                or (pending_break and _finished(para) and not text[:1].islower())
            ):
                flush()
            para.append(line)
            pending_break = False
        i += 1
    flush()
    for box in boxes:
        blocks = _with_box(blocks, box, note_numbers)
    return blocks + [_note_block(note, blocks) for note in notes]


def _finished(para: list[SourceLine]) -> bool:
    """Whether a paragraph may end here: after a finished sentence, or anywhere in a list item
    (items often end without a stop: «• tiltak ... på grunnlag av tvang»)."""
    return ends_sentence(para[-1].text) or bool(BULLET.match(para[0].text))


def _opens_item(text: str, para: list[SourceLine]) -> bool:
    """A bullet opens a list item; a dash at a line's start only after a finished sentence or
    colon, or in a list: elsewhere it is a dash inside the sentence («tenner – kort sagt, ...»)."""
    if not BULLET.match(text):
        return False
    return not DASH_ITEM.match(text) or ends_sentence(para[-1].text) or bool(BULLET.match(para[0].text))


def _running_text(lines: list[SourceLine], note_numbers: set[int]) -> str:
    return strip_note_refs(join_lines([line.text for line in lines]), note_numbers)


def _with_box(blocks: list[Block], box: Box, note_numbers: set[int]) -> list[Block]:
    """The box (its title, then its paragraphs) as blocks of their own after the block it
    interrupted, in that block's section."""
    where = _block_at(box.start, blocks)
    at = blocks.index(where) + 1 if where else 0
    section, proposal, headline = (where.section, where.proposal, where.headline) if where else (None, None, None)
    paragraphs: list[list[SourceLine]] = [[]]
    for line in box.lines:
        if line.text.strip():
            paragraphs[-1].append(line)
        elif paragraphs[-1]:
            paragraphs.append([])
    made = [_block(box.title, "text", section, proposal, headline, [box.start])] + [
        _block(_running_text(lines, note_numbers), "text", section, proposal, headline, lines, note_numbers)
        for lines in paragraphs
        if lines and _running_text(lines, note_numbers)
    ]
    return blocks[:at] + made + blocks[at:]


def _note_block(note: Footnote, blocks: list[Block]) -> Block:
    """A footnote as its own block, placed in the section where its text stood."""
    where = _block_at(note.lines[0], blocks)
    text = f"{note.number} {join_lines([line.text for line in note.lines])}"
    return _block(
        text, "footnote", where.section if where else None, where.proposal if where else None,
        where.headline if where else None, note.lines, lead=f"{note.number} ",
    )


def _block_at(line: SourceLine, blocks: list[Block]) -> Block | None:
    """The last text block starting at or before a line (by line number, else by PDF page)."""
    key = line.lineno if line.lineno is not None else line.sheet
    if key is None:
        return None
    best = None
    for block in blocks:
        start = block.line_start if line.lineno is not None else block.pages[0].sheet if block.pages else None
        if block.kind == "text" and start is not None and start <= key:
            best = block
    return best


def _block(
    text: str, kind: str, section, proposal, headline, lines: list[SourceLine],
    note_numbers: set[int] = frozenset(), lead: bool | str = False,
) -> Block:
    numbers = [line.lineno for line in lines if line.lineno is not None]
    return Block(
        text=text,
        kind=kind,
        section=section,
        proposal=proposal,
        headline=headline,
        line_start=min(numbers) if numbers else None,
        line_end=max(numbers) if numbers else None,
        pages=page_marks(lines, text, note_numbers, len(lead) if isinstance(lead, str) else 0),
        lead=lead is True,
    )


def page_marks(lines: list[SourceLine], text: str, note_numbers: set[int], shift: int = 0) -> tuple[PageMark, ...]:
    """Where in `text` (the lines joined, `shift` characters after its start) each page begins.

    A page begins at the first word that starts on it: a word hyphenated over a page break
    belongs to the page where it starts."""
    marks: list[PageMark] = []
    for k, line in enumerate(lines):
        if not line.text.strip() or line.page is None and line.label is None:
            continue
        label = line.label or str(line.page)
        if marks and (marks[-1].label, marks[-1].sheet) == (label, line.sheet):
            continue
        offset = 0
        if marks:
            before = shift + len(_running_text(lines[:k], note_numbers))
            space = text.find(" ", max(0, before - 1))
            offset = len(text) if space < 0 else space + 1
        marks.append(PageMark(offset, line.page, label, line.sheet))
    return tuple(marks)
