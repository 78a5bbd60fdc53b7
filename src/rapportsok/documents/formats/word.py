"""Reading a Word (.docx) file with python-docx: headings from their styles and outline levels with
Word's own automatic numbering, footnotes and endnotes apart from the text, tables as rows, lists."""

from __future__ import annotations

import io
import re

from docx import Document as open_docx
from docx.enum.style import WD_STYLE_TYPE
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.oxml.ns import qn
from lxml import etree

from .outline import BULLET, Outline, Source, open_zip, title_of, year_of

W_P = qn("w:p")
HEADING_STYLE = re.compile(r"^(?:heading|overskrift)\s*(\d)$", re.IGNORECASE)
TITLE_STYLES = {"title", "tittel"}
TOC_STYLE = re.compile(r"^(?:toc|innholdsfortegnelse) ?\d", re.IGNORECASE)
BODY_LEVEL = 9  # w:outlineLvl 9 is body text; 0-8 are heading levels 1-9
ROMAN = [(1000, "m"), (900, "cm"), (500, "d"), (400, "cd"), (100, "c"), (90, "xc"),
         (50, "l"), (40, "xl"), (10, "x"), (9, "ix"), (5, "v"), (4, "iv"), (1, "i")]  # fmt: skip
INLINE = {qn("w:t"), qn("w:tab"), qn("w:br"), qn("w:cr"), qn("w:noBreakHyphen"),
          qn("w:footnoteReference"), qn("w:endnoteReference")}  # fmt: skip


def read_word(data: bytes, name: str, max_bytes: int) -> Source:
    """The document's paragraphs, headings, lists, tables and notes in reading order."""
    open_zip(data, name, max_bytes).close()  # refuses a zip bomb before python-docx unpacks it
    document = open_docx(io.BytesIO(data))
    notes = {kind: _notes(document.part, rel) for kind, rel in (("footnote", RT.FOOTNOTES), ("endnote", RT.ENDNOTES))}
    numbering = Numbering(document.part)
    outline = Outline()
    for block in _blocks(document.element.body):
        if block.tag == qn("w:tbl"):
            for row in block.iter(qn("w:tr")):
                cells = [_text(p, notes, outline) for cell in row.iterchildren(qn("w:tc")) for p in cell.iter(W_P)]
                outline.paragraph(" | ".join(cell for cell in cells if cell.strip()))
            continue
        styles = _style_chain(document, block)
        if any(TOC_STYLE.match(style.name_val or "") for style in styles[:1]):
            continue  # a table of contents typed in TOC styles: navigation
        label = numbering.label(block, styles)
        text = _text(block, notes, outline)
        if not text.strip():
            outline.paragraph("")
            continue
        level = _heading_level(block, styles)
        if level is not None:
            outline.heading(f"{label} {text}" if label and label != BULLET else text)
        else:
            outline.paragraph(f"{label} {text}" if label else text)
    props = document.core_properties
    return Source(outline.lines, title_of(props.title), year_of(props.created))


def _blocks(container):
    """Paragraphs and tables in order, also inside content controls, but not in a table of contents
    (Word puts it in a content control of the "Table of Contents" gallery)."""
    for child in container.iterchildren(qn("w:p"), qn("w:tbl"), qn("w:sdt")):
        if child.tag != qn("w:sdt"):
            yield child
            continue
        gallery = child.find(f"{qn('w:sdtPr')}/{qn('w:docPartObj')}/{qn('w:docPartGallery')}")
        content = child.find(qn("w:sdtContent"))
        if content is not None and (gallery is None or "contents" not in (gallery.get(qn("w:val")) or "").lower()):
            yield from _blocks(content)


def _notes(part, reltype: str) -> dict[str, str]:
    """The footnotes (or endnotes) part: note id -> its text (separators left out)."""
    related = next((rel.target_part for rel in part.rels.values() if rel.reltype == reltype), None)
    if related is None:
        return {}
    root = etree.fromstring(related.blob)
    found: dict[str, str] = {}
    for note in root:
        if note.get(qn("w:type")) in (None, "normal"):
            paragraphs = ("".join(t.text or "" for t in p.iter(qn("w:t"))) for p in note.iter(qn("w:p")))
            found[note.get(qn("w:id"))] = " ".join(paragraphs)
    return found


def _text(paragraph, notes: dict[str, dict[str, str]], outline: Outline) -> str:
    """A paragraph's text, its footnote references handed to the outline and left out of the text."""
    parts: list[str] = []
    for node in paragraph.iter(*INLINE):
        tag = node.tag
        if tag == qn("w:t"):
            parts.append(node.text or "")
        elif tag == qn("w:noBreakHyphen"):
            parts.append("-")
        elif tag in (qn("w:footnoteReference"), qn("w:endnoteReference")):
            kind = "footnote" if tag == qn("w:footnoteReference") else "endnote"
            outline.note(notes[kind].get(node.get(qn("w:id")), ""))
        else:
            parts.append(" ")
    return "".join(parts)


def _style_chain(document, paragraph) -> list:
    """The paragraph's style and the styles it is based on, nearest first."""
    style_id = paragraph.pPr.pStyle.val if paragraph.pPr is not None and paragraph.pPr.pStyle is not None else None
    styles = document.styles.element
    style = styles.get_by_id(style_id) if style_id else styles.default_for(WD_STYLE_TYPE.PARAGRAPH)
    chain = []
    while style is not None and style not in chain:
        chain.append(style)
        based = style.basedOn_val
        style = styles.get_by_id(based) if based else None
    return chain


def _heading_level(paragraph, styles: list) -> int | None:
    """1-9 for a heading (by its style's name or an outline level), None for body text."""
    for element in [paragraph, *styles]:
        level = element.find(f"{qn('w:pPr')}/{qn('w:outlineLvl')}")
        if level is not None:
            value = int(level.get(qn("w:val"), BODY_LEVEL))
            return value + 1 if value < BODY_LEVEL else None
    for style in styles:
        name = (style.name_val or "").strip()
        match = HEADING_STYLE.match(name)
        if match:
            return int(match.group(1))
        if name.lower() in TITLE_STYLES:
            return 1
    return None


class Numbering:
    """Word's automatic numbering as it prints it ("4.2", "Forslag 3:", "a)"), counted through the
    document: python-docx reads the definitions but does not compute the numbers."""

    def __init__(self, part) -> None:
        try:
            root = part.numbering_part.element
        except (KeyError, NotImplementedError):
            root = None
        found = [] if root is None else list(root)
        self.abstract = {a.get(qn("w:abstractNumId")): a for a in found if a.tag == qn("w:abstractNum")}
        self.nums = {n.get(qn("w:numId")): n for n in found if n.tag == qn("w:num")}
        self.counters: dict[str, list[int]] = {}

    def label(self, paragraph, styles: list) -> str | None:
        """The paragraph's number as printed, counting it; None when it is not numbered."""
        num_id, ilvl = None, None
        for element in [paragraph, *styles]:  # the paragraph's own setting first, then its styles'
            num_pr = element.find(f"{qn('w:pPr')}/{qn('w:numPr')}")
            if num_pr is not None:
                num_id = num_id or _val(num_pr, "w:numId")
                ilvl = ilvl if ilvl is not None else _val(num_pr, "w:ilvl")
        ilvl = int(ilvl or 0)
        num = self.nums.get(num_id)
        if num is None or num_id == "0":
            return None
        abstract_id = num.find(qn("w:abstractNumId"))
        abstract = self.abstract.get(abstract_id.get(qn("w:val")) if abstract_id is not None else None)
        levels = {} if abstract is None else {int(lvl.get(qn("w:ilvl"))): lvl for lvl in abstract.iter(qn("w:lvl"))}
        if ilvl not in levels:
            return None
        counts = self.counters.setdefault(num_id, [0] * 10)
        counts[ilvl] = counts[ilvl] + 1 if counts[ilvl] else _start(levels[ilvl], num, ilvl)
        counts[ilvl + 1 :] = [0] * (len(counts) - ilvl - 1)
        fmt = _val(levels[ilvl], "w:numFmt") or "decimal"
        if fmt == "bullet":
            return BULLET
        text = _val(levels[ilvl], "w:lvlText") or ""

        def number(match: re.Match) -> str:
            k = int(match.group(1)) - 1
            value = counts[k] or (_start(levels[k], num, k) if k in levels else 1)
            return _formatted(value, _val(levels[k], "w:numFmt") if k in levels else "decimal")

        return re.sub(r"%([1-9])", number, text).strip() or None


def _start(level, num, ilvl: int) -> int:
    for override in num.iter(qn("w:lvlOverride")):
        start = override.find(qn("w:startOverride"))
        if int(override.get(qn("w:ilvl"), -1)) == ilvl and start is not None:
            return int(start.get(qn("w:val")))
    return int(_val(level, "w:start") or 1)


def _val(element, tag: str) -> str | None:
    found = element.find(qn(tag))
    return None if found is None else found.get(qn("w:val"))


def _formatted(value: int, fmt: str | None) -> str:
    """A counter as Word prints it in the given w:numFmt (decimal where the format is rarer)."""
    if fmt in ("lowerLetter", "upperLetter"):
        letter = chr(ord("a") + (value - 1) % 26) * ((value - 1) // 26 + 1)
        return letter.upper() if fmt == "upperLetter" else letter
    if fmt in ("lowerRoman", "upperRoman"):
        roman = ""
        for size, digits in ROMAN:
            count, value = divmod(value, size)
            roman += digits * count
        return roman.upper() if fmt == "upperRoman" else roman
    if fmt == "none":
        return ""
    return str(value)
