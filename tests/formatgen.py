"""Writing a report (pdfgen's Heading/Para/Table body, footnotes inline as "{fn:...}") as Word,
OpenDocument, a web page with navigation around it, or Markdown: fixtures whose headings,
footnotes, proposals and tables are known, for the tests and bench/formats."""

from __future__ import annotations

import html
import re
from pathlib import Path

from pdfgen import Heading, Para, Table

NOTE = re.compile(r"\{fn:(.*?)\}")
NUMBER = re.compile(r"^(\d{1,2}(?:\.\d{1,2}){0,2})\s+(.*)$")
# What a web page puts around its content: none of it may reach a passage.
NAVIGATION = ["Hopp til hovedinnhold", "Forsiden Departementene Aktuelt", "Vi bruker informasjonskapsler",
              "Del på Facebook", "Kontakt oss Personvern Nettstedskart", "Innholdsfortegnelse"]  # fmt: skip


def notes_of(text: str) -> tuple[str, list[str]]:
    """A paragraph's running text and its notes, in order."""
    return NOTE.sub("", text), NOTE.findall(text)


def pieces(text: str) -> list[tuple[str, str | None]]:
    """(text, note after it) runs of a paragraph."""
    out: list[tuple[str, str | None]] = []
    last = 0
    for m in NOTE.finditer(text):
        out.append((text[last : m.start()], m.group(1)))
        last = m.end()
    return [*out, (text[last:], None)]


def depth(heading: Heading) -> tuple[int, str | None, str]:
    """(level by its number, the number, the title): "4.2 Oppfølging" -> (2, "4.2", "Oppfølging")."""
    m = NUMBER.match(heading.text)
    if not m:
        return 4, None, heading.text
    return m.group(1).count(".") + 1, m.group(1), m.group(2)


# ---------------------------------------------------------------- Word


W = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"


def write_docx(path: Path, body: list, title: str = "", year: int | None = None, auto_numbers: bool = True) -> None:
    """Headings in Word's heading styles, numbered by Word's automatic numbering (the number left
    out of the text) when `auto_numbers`; footnotes in a footnotes part, as Word writes them."""
    import datetime

    from docx import Document
    from docx.opc.constants import RELATIONSHIP_TYPE as RT
    from docx.opc.packuri import PackURI
    from docx.opc.part import Part
    from docx.oxml import parse_xml

    document = Document()
    if auto_numbers:
        _number_headings(document)
    notes: list[str] = []
    counters = [0, 0, 0]
    for item in body:
        if isinstance(item, Heading):
            level, number, title_text = depth(item)
            expected = counters[: level - 1] + [counters[level - 1] + 1] if level <= 3 else []
            if auto_numbers and number and number == ".".join(map(str, expected)):
                counters = expected + [0] * (3 - level)
                document.add_paragraph(title_text, style=f"Heading {level}")
            else:  # Word's count would not print this number: the number as text, the list numbering off
                paragraph = document.add_paragraph(item.text, style=f"Heading {min(level, 4)}")
                if level <= 3:
                    ppr = paragraph._p.get_or_add_pPr()
                    ppr.append(parse_xml(f'<w:numPr xmlns:w="{W}"><w:numId w:val="0"/></w:numPr>'))
        elif isinstance(item, Table):
            table = document.add_table(rows=len(item.rows), cols=len(item.rows[0]))
            for r, row in enumerate(item.rows):
                for c, cell in enumerate(row):
                    table.cell(r, c).text = cell
        else:
            style = "List Bullet" if item.text.startswith("• ") else None
            paragraph = document.add_paragraph(style=style)
            for text, note in pieces(item.text.removeprefix("• ")):
                paragraph.add_run(text)
                if note is not None:
                    notes.append(note)
                    run = paragraph.add_run()
                    run._r.append(parse_xml(f'<w:footnoteReference xmlns:w="{W}" w:id="{len(notes)}"/>'))
    xml = "".join(
        f'<w:footnote w:id="{i}"><w:p><w:r><w:footnoteRef/></w:r><w:r><w:t xml:space="preserve"> '
        f"{html.escape(note)}</w:t></w:r></w:p></w:footnote>"
        for i, note in enumerate(notes, start=1)
    )
    blob = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><w:footnotes xmlns:w="{W}">'
        '<w:footnote w:type="separator" w:id="-1"><w:p><w:r><w:separator/></w:r></w:p></w:footnote>'
        '<w:footnote w:type="continuationSeparator" w:id="0"><w:p><w:r><w:continuationSeparator/></w:r></w:p>'
        f"</w:footnote>{xml}</w:footnotes>"
    ).encode()
    part = Part(PackURI("/word/footnotes.xml"),
                "application/vnd.openxmlformats-officedocument.wordprocessingml.footnotes+xml",
                blob, document.part.package)  # fmt: skip
    document.part.relate_to(part, RT.FOOTNOTES)
    document.core_properties.title = title
    if year:
        document.core_properties.created = datetime.datetime(year, 6, 1)
    document.save(path)


def _number_headings(document) -> None:
    """Heading 1-3 numbered "1", "1.1", "1.1.1" by one multi-level list, as Word's outline numbering does."""
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    numbering = document.part.numbering_part.element
    levels = "".join(
        f'<w:lvl w:ilvl="{k}"><w:start w:val="1"/><w:numFmt w:val="decimal"/>'
        f'<w:lvlText w:val="{".".join(f"%{j + 1}" for j in range(k + 1))}"/></w:lvl>'
        for k in range(3)
    )
    numbering.insert(0, parse_xml(f'<w:abstractNum xmlns:w="{W}" w:abstractNumId="90">{levels}</w:abstractNum>'))
    numbering.append(parse_xml(f'<w:num xmlns:w="{W}" w:numId="90"><w:abstractNumId w:val="90"/></w:num>'))
    for k in range(3):
        style = document.styles[f"Heading {k + 1}"].element
        ppr = style.get_or_add_pPr()
        ppr.append(parse_xml(f'<w:numPr xmlns:w="{W}"><w:ilvl w:val="{k}"/><w:numId w:val="90"/></w:numPr>'))
        assert ppr.find(qn("w:numPr")) is not None


# ---------------------------------------------------------------- OpenDocument


def write_odt(path: Path, body: list, title: str = "", year: int | None = None) -> None:
    """Headings by outline level (numbers in the text), footnotes as text:note, tables, lists."""
    from odf import dc, meta, table, text
    from odf.opendocument import OpenDocumentText

    document = OpenDocumentText()
    notes = 0
    bullets: text.List | None = None
    for item in body:
        if isinstance(item, Heading):
            bullets = None
            document.text.addElement(text.H(outlinelevel=min(depth(item)[0], 4), text=item.text))
        elif isinstance(item, Table):
            bullets = None
            grid = table.Table(name=f"Tabell{notes}")
            grid.addElement(table.TableColumn(numbercolumnsrepeated=len(item.rows[0])))
            for row in item.rows:
                tr = table.TableRow()
                for cell in row:
                    tc = table.TableCell()
                    tc.addElement(text.P(text=cell))
                    tr.addElement(tc)
                grid.addElement(tr)
            document.text.addElement(grid)
        else:
            paragraph = text.P()
            for run, note in pieces(item.text.removeprefix("• ")):
                paragraph.addText(run)
                if note is not None:
                    notes += 1
                    element = text.Note(id=f"ftn{notes}", noteclass="footnote")
                    element.addElement(text.NoteCitation(text=str(notes)))
                    note_body = text.NoteBody()
                    note_body.addElement(text.P(text=note))
                    element.addElement(note_body)
                    paragraph.addElement(element)
            if item.text.startswith("• "):
                if bullets is None:
                    bullets = text.List()
                    document.text.addElement(bullets)
                entry = text.ListItem()
                entry.addElement(paragraph)
                bullets.addElement(entry)
            else:
                bullets = None
                document.text.addElement(paragraph)
    document.meta.addElement(dc.Title(text=title))
    if year:
        document.meta.addElement(meta.CreationDate(text=f"{year}-06-01T12:00:00"))
    document.save(str(path))


# ---------------------------------------------------------------- web page


def write_html(path: Path, body: list, title: str = "", year: int | None = None) -> None:
    """A page as a ministry publishes it: a header with menus and a cookie banner, a table of
    contents, the report in <main> (h1-h3 with ids, numbered note links, the notes of each chapter
    in a list after it), a footer."""
    out: list[str] = []
    toc: list[str] = []
    chapter_notes: list[str] = []
    notes = 0

    def flush_notes() -> None:
        if chapter_notes:
            out.append('<div class="footnotes"><ol>' + "".join(chapter_notes) + "</ol></div>")
            chapter_notes.clear()

    in_list = False
    for item in body:
        if in_list and not (isinstance(item, Para) and item.text.startswith("• ")):
            out.append("</ul>")
            in_list = False
        if isinstance(item, Heading):
            level = min(depth(item)[0], 4) + 1  # h1 is the page's title
            if level == 2:
                flush_notes()
            anchor = "kap" + (depth(item)[1] or str(len(toc))).replace(".", "-")
            toc.append(f'<li><a href="#{anchor}">{html.escape(item.text)}</a></li>')
            out.append(f'<h{level} id="{anchor}">{html.escape(item.text)}</h{level}>')
        elif isinstance(item, Table):
            rows = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in item.rows)
            out.append(f"<table>{rows}</table>")
        else:
            parts = []
            for run, note in pieces(item.text.removeprefix("• ")):
                parts.append(html.escape(run))
                if note is not None:
                    notes += 1
                    parts.append(f'<sup><a href="#fn{notes}" id="fnref{notes}">{notes}</a></sup>')
                    chapter_notes.append(
                        f'<li id="fn{notes}"><p>{html.escape(note)} <a href="#fnref{notes}">↩</a></p></li>'
                    )
            if item.text.startswith("• "):
                if not in_list:
                    out.append("<ul>")
                    in_list = True
                out.append(f"<li>{''.join(parts)}</li>")
            else:
                out.append(f"<p>{''.join(parts)}</p>")
    if in_list:
        out.append("</ul>")
    flush_notes()
    date = f'<meta name="dcterms.issued" content="{year}-06-01">' if year else ""
    nav = NAVIGATION
    page = f"""<!DOCTYPE html>
<html lang="nb"><head><meta charset="utf-8"><title>{html.escape(title)} - regjeringen.no</title>{date}
<script>window.dataLayer = [{{"page": "dokument"}}];</script><style>body {{ font: 16px sans-serif }}</style></head>
<body>
<a class="skip-link" href="#main">{nav[0]}</a>
<div id="cookie-banner" class="cookie-consent"><p>{nav[2]} for å forbedre tjenesten.</p><button>Godta</button></div>
<header class="site-header"><nav aria-label="Hovedmeny"><ul><li><a href="/">{nav[1]}</a></li></ul></nav>
<form role="search"><input name="q"></form></header>
<div class="breadcrumbs"><a href="/">Forsiden</a> / <a href="/dokumenter">Dokumenter</a> / <span>Rapport</span></div>
<main id="main">
<h1>{html.escape(title)}</h1>
<nav class="toc"><h2>{nav[5]}</h2><ul>{"".join(toc)}</ul></nav>
{chr(10).join(out)}
<div class="share"><a href="#">{nav[3]}</a></div>
</main>
<footer><p>{nav[4]}</p></footer>
</body></html>
"""
    path.write_text(page, encoding="utf-8")


# ---------------------------------------------------------------- Markdown


def write_markdown(path: Path, body: list, title: str = "") -> None:
    """ATX headings with their numbers, paragraphs, "- " lists, pipe tables; notes dropped."""
    out = [f"# {title}", ""] if title else []
    for item in body:
        if isinstance(item, Heading):
            out += ["#" * (min(depth(item)[0], 4) + 1) + " " + item.text, ""]
        elif isinstance(item, Table):
            out += ["| " + " | ".join(item.rows[0]) + " |", "|" + "---|" * len(item.rows[0])]
            out += ["| " + " | ".join(row) + " |" for row in item.rows[1:]] + [""]
        else:
            running, _ = notes_of(item.text)
            out += [running.replace("• ", "- ", 1) if running.startswith("• ") else running, ""]
    path.write_text("\n".join(out), encoding="utf-8")
