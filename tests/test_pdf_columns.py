"""Reading order of pages as published: columns found by where many lines start with an empty
gutter left of them (in the type the page is set in, between the text's edges), started at
their bullets and hanging reference numbers, and told apart from a table's columns."""

from __future__ import annotations

import re
from pathlib import Path

from rapportsok.documents.files import read_lines
from rapportsok.passages.cut import read_document

WORDS = "rusfeltet tiltak kommunene brukere oppfølging behandling pårørende ungdom skolen bolig arbeid".split()


def _text(path: Path, sheet: int) -> str:
    return " ".join(line.text for line in read_lines(path) if line.sheet == sheet and line.text.strip())


def _filled(pdf, start: str, width: float) -> str:
    """A line as wide as the column, as set text is."""
    line = start
    for word in WORDS * 3:
        if pdf.get_string_width(f"{line} {word}") > width:
            break
        line += f" {word}"
    return line


def test_references_in_small_type_with_hanging_numbers_read_column_by_column(tmp_path: Path) -> None:
    """A page of references in two columns, set smaller than the paper's body, each entry's
    number hanging left of its lines: the left column is read whole before the right one, and
    no number of the right column lands among the left column's entries."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for i in range(40):  # a page of running text gives the document its body size
        pdf.text(20, 20 + 6 * i, _filled(pdf, f"Tekst {i + 1:02d}", 170))
    pdf.add_page()
    pdf.set_font("Helvetica", size=8)
    for c in range(2):
        for k in range(12):
            number = 12 * c + k + 1
            x, y = 15 + 95 * c, 20 + 20 * k
            pdf.text(x, y, f"[{number}]")
            for j in range(4):
                pdf.text(x + 7, y + 4 * j, _filled(pdf, f"Kilde{number:02d} del {j + 1}", 80))
    pdf.output(str(tmp_path / "kilder.pdf"))
    text = _text(tmp_path / "kilder.pdf", 2)
    order = [text.index(f"Kilde{n:02d} del {j}") for n in range(1, 25) for j in range(1, 5)]
    assert order == sorted(order)
    for n in range(13, 25):  # a right-column number stands right before its own entry
        assert f"[{n}] Kilde{n:02d} del 1" in text


def test_a_table_is_read_row_by_row_not_as_columns(tmp_path: Path) -> None:
    """A table whose last columns start at the same x on every row is no set of text columns."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.text(20, 20, _filled(pdf, "Innledning", 170))
    for i in range(14):
        y = 30 + 6 * i
        pdf.text(20, y, f"Rad{i + 1:02d} kommune")
        pdf.text(75, y, f"tiltak {i + 1}")
        pdf.text(115, y, "behandling og oppfølging")
        pdf.text(170, y, f"{10 * i} %")
    pdf.output(str(tmp_path / "tabell.pdf"))
    text = _text(tmp_path / "tabell.pdf", 1)
    for i in range(1, 15):
        assert f"Rad{i:02d} kommune tiltak {i} behandling og oppfølging {10 * (i - 1)} %" in text


def test_three_columns_on_a_landscape_sheet(tmp_path: Path) -> None:
    """A landscape sheet of three ragged columns, the third narrower and far from the sheet's
    edge: each column is read whole (columns are measured against the text's edges)."""
    from fpdf import FPDF

    pdf = FPDF(orientation="L")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for c, (name, width) in enumerate([("Alfa", 85), ("Beta", 85), ("Gamma", 42)]):
        for i in range(24):
            line = _filled(pdf, f"{name} punkt {i + 1:02d}", width - (i % 3) * 4)
            pdf.text(10 + 95 * c, 15 + 7.5 * i, line)
    pdf.output(str(tmp_path / "ark.pdf"))
    text = _text(tmp_path / "ark.pdf", 1)
    order = [text.index(f"{name} punkt {i:02d}") for name in ["Alfa", "Beta", "Gamma"] for i in range(1, 25)]
    assert order == sorted(order)


def test_a_table_cell_wrapped_over_two_lines_is_read_whole(tmp_path: Path) -> None:
    """A cell whose text goes on on the line below is read whole, before the row's next cells."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.text(20, 20, _filled(pdf, "Innledning", 170))
    for i in range(6):
        y = 30 + 12 * i
        pdf.text(20, y, "Bachelor")
        pdf.text(55, y, f"Samfunnsøkonomi{i + 1}")
        pdf.text(55, y + 4.5, "(heltid) - 180 studiepoeng")
        pdf.text(115, y, "Obligatorisk")
        pdf.text(160, y, f"{5 * i + 5}/165")
    pdf.output(str(tmp_path / "celler.pdf"))
    text = _text(tmp_path / "celler.pdf", 1)
    for i in range(6):
        assert f"Bachelor Samfunnsøkonomi{i + 1} (heltid) - 180 studiepoeng Obligatorisk {5 * i + 5}/165" in text


def test_a_contents_list_with_page_words_is_dropped(tmp_path: Path) -> None:
    """Contents entries ending «. . . . Seite 5» are no running text."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.text(20, 20, "Inhalt")
    for i in range(8):
        pdf.text(20, 30 + 6 * i, f"Modul {i + 1} Grundlagen " + ". " * 40 + f"Seite {2 * i + 3}")
    pdf.add_page()
    for i in range(20):
        pdf.text(20, 20 + 6 * i, _filled(pdf, f"Tekst {i + 1:02d}", 170))
    pdf.output(str(tmp_path / "inhalt.pdf"))
    assert "Seite" not in _text(tmp_path / "inhalt.pdf", 1)


def test_a_table_in_small_type_at_a_pages_foot_is_no_footnote(tmp_path: Path) -> None:
    """Small type at the bottom of the page is a footnote only where it is not a table's rows."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for i in range(30):
        pdf.text(20, 20 + 6 * i, _filled(pdf, f"Tekst {i + 1:02d}", 170))
    pdf.set_font("Helvetica", size=8)
    for i in range(4):
        pdf.text(20, 210 + 5 * i, f"Kommune {i + 1}")
        pdf.text(80, 210 + 5 * i, f"{12 * i + 3} brukere")
        pdf.text(140, 210 + 5 * i, f"{40 + i} tiltak")
    pdf.output(str(tmp_path / "fot.pdf"))
    lines = [line for line in read_lines(tmp_path / "fot.pdf") if "Kommune" in line.text]
    assert len(lines) == 4 and all(line.role != "note" for line in lines)


def test_a_table_inside_the_right_column_keeps_the_columns(tmp_path: Path) -> None:
    """A table set in the right column, its first cells where the column starts, leaves the page
    two columns: the left one is read whole first."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for i in range(40):
        pdf.text(20, 20 + 6 * i, _filled(pdf, f"Venstre {i + 1:02d}", 80))
    for i in range(12):
        pdf.text(110, 20 + 6 * i, _filled(pdf, f"Høyre {i + 1:02d}", 80))
    for i in range(24):
        y = 95 + 6 * i
        pdf.text(110, y, f"Tiltak{i + 1:02d}")
        pdf.text(140, y, "kommunene")
        pdf.text(170, y, f"{i + 3} mill")
    pdf.output(str(tmp_path / "tabellkolonne.pdf"))
    text = _text(tmp_path / "tabellkolonne.pdf", 1)
    order = [text.index(f"Venstre {i:02d}") for i in range(1, 41)]
    order += [text.index(f"Høyre {i:02d}") for i in range(1, 13)]
    assert order == sorted(order)
    assert "Tiltak01 kommunene 3 mill" in text


def test_ragged_columns_in_their_own_line_spacing_are_columns_a_table_is_not(tmp_path: Path) -> None:
    """Two columns of short list lines (a cheat sheet), far apart and each in its own line
    spacing, are read column by column; the same gap between cells that share every baseline
    is a table, read row by row."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for i in range(24):
        pdf.text(15, 20 + 6 * i, f"Alfa punkt {i + 1:02d} kort")
    for i in range(20):
        width = 80 if i % 4 == 0 else 30  # mostly short lines, a few that fill the column
        pdf.text(110, 22 + 7.3 * i, _filled(pdf, f"Beta punkt {i + 1:02d}", width))
    pdf.add_page()
    for i in range(20):
        pdf.text(15, 20 + 6 * i, f"Rad{i + 1:02d} kommune")
        pdf.text(110, 20 + 6 * i, _filled(pdf, f"tiltak {i + 1:02d}", 80 if i % 4 == 0 else 30))
    pdf.output(str(tmp_path / "jukselapp.pdf"))
    text = _text(tmp_path / "jukselapp.pdf", 1)
    order = [text.index(f"{name} punkt {i:02d}") for name, n in [("Alfa", 24), ("Beta", 20)] for i in range(1, n + 1)]
    assert order == sorted(order)
    table = _text(tmp_path / "jukselapp.pdf", 2)
    order = [table.index(f"{cell}{i:02d}") for i in range(1, 21) for cell in ("Rad", "tiltak ")]
    assert order == sorted(order)


def _two_columns_cut_by_a_float(path: Path, rest: str, labels: bool = True) -> None:
    """A page of two columns whose left one ends mid-sentence and whose right one opens with a
    figure (labels in small type, or an image without text; a caption, in small type under the
    labels, in body type alone) above `rest`, the running text it goes on with."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    for i in range(39):
        pdf.text(20, 20 + 6 * i, _filled(pdf, f"Venstre {i + 1:02d}.", 80))
    pdf.text(20, 20 + 6 * 39, _filled(pdf, "Dessuten fikk", 80))  # a full line, no stop: the sentence goes on
    pdf.set_font("Helvetica", size=7)
    for i in range(6 if labels else 0):
        pdf.text(125, 22 + 5 * i, f"Akse {2010 + i}")
        pdf.text(160, 22 + 5 * i, f"{10 * i} %")
    pdf.set_font("Helvetica", size=8 if labels else 10)
    pdf.text(110, 58, "Figur 1: Brukere med oppfølging i kommunene etter år.")
    pdf.set_font("Helvetica", size=10)
    pdf.text(110, 72, _filled(pdf, rest, 80))
    for i in range(8):
        pdf.text(110, 78 + 6 * i, _filled(pdf, f"Høyre {i + 1:02d}", 80))
    pdf.text(110, 78 + 6 * 8, "som avslutter avsnittet.")
    for i in range(14):
        pdf.text(110, 140 + 6 * i, _filled(pdf, f"Neste {i + 1:02d}", 80))
    pdf.output(str(path))


def test_a_float_atop_the_next_column_is_read_after_the_sentence_it_cuts(tmp_path: Path) -> None:
    """The left column's last sentence goes on under a figure atop the right column: it is read
    whole, then its paragraph, then the figure and its caption, then the next paragraph."""
    _two_columns_cut_by_a_float(tmp_path / "figur.pdf", "kommunene tilbud")
    text = _text(tmp_path / "figur.pdf", 1)
    assert "Dessuten fikk" in text and "kommunene tilbud" in text
    cut = text.index("Dessuten fikk")
    assert text.index("kommunene tilbud", cut) < text.index("Høyre 01") < text.index("som avslutter avsnittet.")
    assert text.index("som avslutter avsnittet.") < text.index("Akse 2010") < text.index("Figur 1:")
    assert text.index("Figur 1:") < text.index("Neste 01")
    passages = [p.text for p in read_document(tmp_path / "figur.pdf", None)[1]]
    assert any(re.search(r"Dessuten fikk[\w\s]* kommunene tilbud", p) for p in passages)


def test_a_labelled_caption_alone_is_read_after_the_sentence_it_cuts(tmp_path: Path) -> None:
    """A figure drawn as an image, only its caption («Figur 1: …», in body type) in the text layer,
    between the cut sentence and its rest: the caption is read after the paragraph."""
    _two_columns_cut_by_a_float(tmp_path / "bilde.pdf", "kommunene tilbud", labels=False)
    text = _text(tmp_path / "bilde.pdf", 1)
    assert text.index("Dessuten fikk") < text.index("kommunene tilbud") < text.index("som avslutter avsnittet.")
    assert text.index("som avslutter avsnittet.") < text.index("Figur 1:") < text.index("Neste 01")


def test_a_float_before_a_new_sentence_stays_where_it_stands(tmp_path: Path) -> None:
    """Where the text under the figure opens a sentence of its own, the figure is not moved."""
    _two_columns_cut_by_a_float(tmp_path / "figur.pdf", "Kommunene tilbud")
    text = _text(tmp_path / "figur.pdf", 1)
    assert text.index("Dessuten fikk") < text.index("Akse 2010") < text.index("Figur 1:") < text.index("Kommunene")


def test_a_ruled_table_reads_each_wrapped_cell_whole(tmp_path: Path) -> None:
    """A table drawn with a border round each cell: a row whose cells wrap, its first one too,
    is read cell by cell, each cell whole; rows of one line each, a rule between them, stay rows,
    as do the rows of a table ruled only above and below its body."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.text(20, 20, _filled(pdf, "Innledning", 170))
    rows = [
        ["Fakultet", "Institutt", "Ansvarlig"],
        ["Juridisk og\nøkonomisk\nfakultet", "Økonomisk\ninstitutt", "alle lærere ved\ninstituttet"],
        ["Rad2 kommune", "tiltak", "behandling"],
        ["Rad3 kommune", "tiltak", "oppfølging"],
    ]
    y = 30.0
    for cells in rows:
        height = 5.0 * max(cell.count("\n") + 1 for cell in cells)
        for k, cell in enumerate(cells):
            pdf.rect(20 + 50 * k, y, 50, height)
            for j, line in enumerate(cell.split("\n")):
                pdf.text(22 + 50 * k, y + 4 + 5 * j, line)
        y += height
    pdf.add_page()  # a table ruled only above and below its body: every line a row of its own
    pdf.text(20, 20, _filled(pdf, "Innledning", 170))
    for y in (27, 33, 55):
        pdf.line(20, y, 170, y)
    for k, head in enumerate(["Kommune", "Tiltak", "Andel"]):
        pdf.text(22 + 50 * k, 31, head)
    for i in range(4):
        for k, cell in enumerate([f"Rad{i + 1} kommune", f"tiltak {i + 1}", f"{10 * i} %"]):
            pdf.text(22 + 50 * k, 38 + 5 * i, cell)
    pdf.output(str(tmp_path / "rutenett.pdf"))
    text = _text(tmp_path / "rutenett.pdf", 1)
    assert "Juridisk og økonomisk fakultet Økonomisk institutt alle lærere ved instituttet" in text
    assert "Rad2 kommune tiltak behandling" in text and "Rad3 kommune tiltak oppfølging" in text
    body = _text(tmp_path / "rutenett.pdf", 2)
    assert all(f"Rad{i + 1} kommune tiltak {i + 1} {10 * i} %" in body for i in range(4))
