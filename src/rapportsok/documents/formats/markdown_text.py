"""Reading Markdown (.md) with markdown-it-py: headings, paragraphs, lists and tables, each line
keeping its line number in the file."""

from __future__ import annotations

from markdown_it import MarkdownIt
from markdown_it.token import Token

from .outline import BULLET, Outline, Source

TEXT_TOKENS = {"text", "code_inline"}


def read_markdown(text: str) -> Source:
    """The file's blocks in order; the first level-1 heading is its title."""
    outline = Outline()
    title = None
    labels: list[str] = []  # the open list items' labels ("•", "3."), "" once printed
    row: list[str] | None = None  # the cells of the table row being read
    row_line: int | None = None
    level = 0
    for token in MarkdownIt("commonmark").enable("table").parse(text):
        if token.type == "heading_open":
            level = int(token.tag[1:])
        elif token.type == "list_item_open":
            labels.append(f"{token.info}{token.markup}" if token.info else BULLET)
        elif token.type == "list_item_close":
            labels.pop()
        elif token.type == "tr_open":
            row, row_line = [], token.map[0] + 1 if token.map else None
        elif token.type == "tr_close" and row is not None:
            outline.paragraph(" | ".join(cell for cell in row if cell.strip()), lineno=row_line)
            row = None
        elif token.type in ("fence", "code_block") and token.map:
            outline.paragraph(token.content, lineno=token.map[0] + (2 if token.type == "fence" else 1))
        elif token.type == "inline" and row is not None:
            row.append(_plain(token))
        elif token.type == "inline" and token.map:
            plain = _plain(token)
            if level:
                outline.heading(plain, lineno=token.map[0] + 1)
                title = title or (plain if level == 1 else None)
                level = 0
                continue
            label = labels[-1] if labels else ""
            if labels:
                labels[-1] = ""  # the item's further paragraphs go without it
            outline.paragraph(f"{label} {plain}" if label else plain, lineno=token.map[0] + 1)
    return Source(outline.lines, title)


def _plain(token: Token) -> str:
    """Inline text without markup, soft line breaks kept (each line has its own number)."""
    parts = []
    for child in token.children or []:
        if child.type in TEXT_TOKENS:
            parts.append(child.content)
        elif child.type in ("softbreak", "hardbreak"):
            parts.append("\n")
        elif child.type == "image":
            parts.append(child.content)
    return "".join(parts)
