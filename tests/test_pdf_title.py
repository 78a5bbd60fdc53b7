"""A PDF's title: its first line, or its document information's /Title where that line is generic
(a contents page, «FORORD», «ABSTRACT») and the field holds a real title, not a file name or a
template's leftover."""

from __future__ import annotations

from pathlib import Path

import pytest
from pypdf import PdfWriter

from rapportsok.documents.files import metadata_for
from rapportsok.passages import read_document

BODY = "Kommunene har ansvar for lavterskeltilbud til personer som bruker rusmidler, og for oppfølging etter overdoser."


def titled(make_pdf, path: Path, first_line: str, info_title: str) -> Path:
    make_pdf(path, [f"{first_line}\n\n" + f"{BODY} " * 3])
    writer = PdfWriter(clone_from=path)
    writer.add_metadata({"/Title": info_title})
    writer.write(path)
    return path


@pytest.mark.parametrize(
    ("first_line", "info_title", "expected"),
    [
        ("Innholdsfortegnelse", "Tiltak mot overdoser i kommunene", "Tiltak mot overdoser i kommunene"),
        ("ABSTRACT", "Tiltak mot overdoser i kommunene", "Tiltak mot overdoser i kommunene"),
        ("Table of contents", "Tiltak mot overdoser i kommunene", "Tiltak mot overdoser i kommunene"),
        ("Innholdsfortegnelse", "Microsoft Word - rapport_v3.docx", "Innholdsfortegnelse"),
        ("Lavterskeltilbud i kommunene 2030", "Proceedings Template - WORD", "Lavterskeltilbud i kommunene 2030"),
        ("Lavterskeltilbud i kommunene 2030", "Et annet navn i feltet", "Lavterskeltilbud i kommunene 2030"),
    ],
)
def test_the_info_title_replaces_only_a_generic_first_line(tmp_path, make_pdf, first_line, info_title, expected):
    path = titled(make_pdf, tmp_path / "rapport.pdf", first_line, info_title)
    document, _ = read_document(path, metadata_for({}, path), 260)  # as a build reads it
    assert document.title == expected


def test_a_papers_title_is_its_first_printed_heading_not_the_abstract(tmp_path):
    """Title, authors and «ABSTRACT» are headings with no text between them: the title is the first."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    for text, size in [("Overdoser og nalokson i norske kommuner", 18), ("Kari Nordmann, Ola Nordmann", 13),
                       ("Helsedirektoratet", 13), ("ABSTRACT", 12)]:
        pdf.set_font("Helvetica", "B", size)
        pdf.multi_cell(0, size * 0.6, text)
        pdf.ln(4)
    pdf.set_font("Helvetica", size=10)
    pdf.multi_cell(0, 5, f"{BODY} " * 12)
    path = tmp_path / "artikkel.pdf"
    pdf.output(str(path))
    document, passages = read_document(path, metadata_for({}, path), 260)
    assert document.title == "Overdoser og nalokson i norske kommuner"
    assert passages[0].section == "ABSTRACT"
