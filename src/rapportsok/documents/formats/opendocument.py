"""Reading an OpenDocument text (.odt) with odfpy: headings by outline level with their numbering,
footnotes and endnotes apart from the text, lists, tables as rows, title and date from its meta."""

from __future__ import annotations

import io

from odf.namespaces import DCNS, METANS, OFFICENS, STYLENS, TABLENS, TEXTNS
from odf.opendocument import load

from .outline import BULLET, Numbers, Outline, Source, open_zip, title_of, year_of

SKIPPED = {  # a table of contents is navigation; comments and tracked deletions are not the text
    (TEXTNS, "table-of-content"), (TEXTNS, "tracked-changes"), (OFFICENS, "annotation"),
    (TEXTNS, "alphabetical-index"), (TEXTNS, "illustration-index"), (TEXTNS, "table-index"),
    (TEXTNS, "bibliography"), (TEXTNS, "user-index"), (TEXTNS, "object-index"),
}  # fmt: skip
SPACE = {(TEXTNS, "s"), (TEXTNS, "tab"), (TEXTNS, "line-break")}


def read_opendocument(data: bytes, name: str, max_bytes: int) -> Source:
    """The document's headings, paragraphs, lists, tables and notes in reading order."""
    open_zip(data, name, max_bytes).close()  # refuses a zip bomb before odfpy unpacks it
    document = load(io.BytesIO(data))
    reader = _Reader(_outline_formats(document), _numbered_lists(document))
    reader.blocks(document.text)
    return Source(reader.outline.lines, title_of(_meta(document, DCNS, "title")), year_of(
        _meta(document, DCNS, "date") or _meta(document, METANS, "creation-date")
    ))


class _Reader:
    def __init__(self, formats: dict[int, tuple[str, int]], numbered: set[str]) -> None:
        self.outline = Outline()
        self.formats = formats  # outline level -> (num-format, display-levels)
        self.numbered = numbered  # the list styles that number their items
        self.numbers = Numbers()

    def blocks(self, node, bullet: str = "", in_numbered: bool = False) -> None:
        """The block-level content under `node`, in order; `bullet` opens a list item's first
        paragraph; `in_numbered` says a numbered list is around it (LibreOffice puts Word's
        numbered headings in one)."""
        for child in node.childNodes:
            qname = getattr(child, "qname", None)
            if qname in SKIPPED or qname is None:
                continue
            if qname == (TEXTNS, "list") and child.getAttrNS(TEXTNS, "style-name"):
                self.blocks(child, bullet, child.getAttrNS(TEXTNS, "style-name") in self.numbered)
            elif qname == (TEXTNS, "h"):
                self.heading(child, in_numbered)
            elif qname == (TEXTNS, "p"):
                text = self.text(child)
                self.outline.paragraph(f"{bullet} {text}" if bullet and text.strip() else text)
                bullet = ""
            elif qname == (TEXTNS, "list-item"):
                self.blocks(child, BULLET, in_numbered)
            elif qname == (TABLENS, "table-row"):
                cells = [self.text(p) for cell in child.childNodes for p in _paragraphs(cell)]
                self.outline.paragraph(" | ".join(cell for cell in cells if cell.strip()))
            else:  # sections, nested lists, tables and their row groups, frames
                self.blocks(child, bullet, in_numbered)

    def heading(self, node, in_numbered: bool) -> None:
        level = int(node.getAttrNS(TEXTNS, "outline-level") or 1)
        written = next((c for c in node.childNodes if getattr(c, "qname", None) == (TEXTNS, "number")), None)
        fmt, shown = self.formats.get(level, ("", 1))
        if written is not None:
            number = self.text(written)
        elif node.getAttrNS(TEXTNS, "is-list-header") == "true":
            number = None
        elif in_numbered:  # Word's heading numbering as LibreOffice keeps it
            number = self.numbers.next(level)
        else:  # the document's own outline numbering ("4.2"), where it numbers
            number = self.numbers.next(level, shown=shown) if fmt == "1" else None
        text = self.text(node, skip_number=True)
        self.outline.heading(f"{number} {text}" if number and text.strip() else text)

    def text(self, node, skip_number: bool = False) -> str:
        """Inline text, its notes handed to the outline and left out."""
        parts: list[str] = []
        for child in node.childNodes:
            qname = getattr(child, "qname", None)
            if child.nodeType == child.TEXT_NODE:
                parts.append(child.data)
            elif qname == (TEXTNS, "note"):
                body = next((c for c in child.childNodes if getattr(c, "qname", None) == (TEXTNS, "note-body")), None)
                self.outline.note(" ".join(self.text(p) for p in _paragraphs(body)) if body is not None else "")
            elif qname == (TEXTNS, "s"):
                parts.append(" " * int(child.getAttrNS(TEXTNS, "c") or 1))
            elif qname in SPACE:
                parts.append(" ")
            elif qname in SKIPPED or (skip_number and qname == (TEXTNS, "number")):
                continue
            else:
                parts.append(self.text(child))
        return "".join(parts)


def _paragraphs(node):
    """The paragraphs and headings under `node`, at any depth."""
    for child in node.childNodes:
        if getattr(child, "qname", None) in ((TEXTNS, "p"), (TEXTNS, "h")):
            yield child
        elif getattr(child, "qname", None) is not None:
            yield from _paragraphs(child)


def _outline_formats(document) -> dict[int, tuple[str, int]]:
    """Level -> (number format, levels shown) of the document's outline numbering."""
    formats: dict[int, tuple[str, int]] = {}
    for part in (document.styles, document.automaticstyles):
        for node in _descendants(part):
            if node.qname == (TEXTNS, "outline-level-style"):
                level = int(node.getAttrNS(TEXTNS, "level") or 0)
                fmt = node.getAttrNS(STYLENS, "num-format") or ""
                formats[level] = (fmt, int(node.getAttrNS(TEXTNS, "display-levels") or 1))
    return formats


def _numbered_lists(document) -> set[str]:
    """The names of the list styles whose first level is numbered ("1", "a", "i"), not bulleted."""
    found: set[str] = set()
    for part in (document.styles, document.automaticstyles):
        for node in _descendants(part):
            if node.qname != (TEXTNS, "list-style"):
                continue
            first = next((c for c in _descendants(node) if c.getAttrNS(TEXTNS, "level") == "1"), None)
            number = first is not None and first.qname == (TEXTNS, "list-level-style-number")
            if number and first.getAttrNS(STYLENS, "num-format"):
                found.add(node.getAttrNS(STYLENS, "name"))
    return found


def _descendants(node):
    for child in node.childNodes:
        if getattr(child, "qname", None) is not None:
            yield child
            yield from _descendants(child)


def _meta(document, namespace: str, name: str) -> str | None:
    found = next((n for n in _descendants(document.meta) if n.qname == (namespace, name)), None)
    if found is None:
        return None
    return "".join(str(c.data) for c in found.childNodes if c.nodeType == c.TEXT_NODE).strip() or None
