"""Fonts, clips and printed page numbers as published PDFs have them, written byte by byte: a Type 1
subset whose own program numbers its glyphs differently from the encoding its dictionary names (a
macOS print of a pandoc paper), a ToUnicode map that sends a ligature to U+0000, text clipped away
(a proceedings print hiding a paper's own page numbers), and a heading with a number opening every
sheet (an exam's «Oppgave N»)."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

import hostile  # noqa: E402

from rapportsok.documents.files import read_lines  # noqa: E402

SENTENCE = "Rusreformen ga bedre behandling og oppfølging av rusmiddelavhengige i {}."
PLACES = ("kommunene", "fengslene", "skolene", "sykehusene", "politiet", "barnevernet", "domstolene")


def _pdf(path: Path, contents: list[bytes], font: bytes, extra: tuple[bytes, ...] | list[bytes] = ()) -> Path:
    """One page per content stream, all with font F1 (object 3) and the objects after the pages."""
    n = len(contents)
    kids = b" ".join(b"%d 0 R" % (4 + i) for i in range(n))
    objects = [b"<< /Type /Catalog /Pages 2 0 R >>", b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n), font]
    objects += [
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
        b"/Contents %d 0 R >>" % (4 + n + i)
        for i in range(n)
    ]
    objects += [hostile.stream(c) for c in contents] + list(extra)
    path.write_bytes(hostile.pdf(objects))
    return path


def _text(path: Path) -> str:
    return " ".join(line.text for line in read_lines(path) if line.text.strip())


def _body(page: int, lines: int = 6) -> bytes:
    return b"".join(
        hostile.text_op(SENTENCE.format(PLACES[(page + k) % len(PLACES)]), y=700 - 14 * k) for k in range(lines)
    )


def test_a_named_encoding_is_not_mapped_again_by_the_embedded_programs_own(tmp_path: Path) -> None:
    """A subset whose program numbers «a» as 65 and «N» as 46, drawn with /WinAnsiEncoding named in
    its dictionary: the codes are WinAnsi's («A», «.»), as PDF 32000-1 §9.6.6.1 says, not the
    program's (pypdf alone reads «der einmarschN»)."""
    program = b"%!PS-AdobeFont-1.0: Test\n/Encoding 256 array\n" + b"".join(
        b"dup %d /%s put\n" % (ord(c), c.lower().encode()) for c in "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    ) + b"dup 46 /N put\nreadonly def\ncurrentfile eexec\n"
    font = (b"<< /Type /Font /Subtype /Type1 /BaseFont /ABCDEF+Times-Roman /Encoding /WinAnsiEncoding "
            b"/FontDescriptor %d 0 R >>")
    pages = [_body(0)]
    descriptor = b"<< /Type /FontDescriptor /FontName /ABCDEF+Times-Roman /Flags 32 /FontFile %d 0 R >>"
    n = 3 + 2 * len(pages)
    path = _pdf(tmp_path / "navngitt.pdf", pages, font % (n + 1), [descriptor % (n + 2), hostile.stream(program)])
    assert "Rusreformen ga bedre behandling og oppfølging av rusmiddelavhengige i kommunene." in _text(path)


def test_a_ligature_mapped_to_nothing_reads_as_the_glyph_its_encoding_names(tmp_path: Path) -> None:
    """macOS writes TeX's «ff» ligature with a ToUnicode entry of U+0000; /Differences names it /ff."""
    cmap = (b"/CIDInit /ProcSet findresource begin 12 dict begin begincmap /CMapName /Test def 1 begincodespacerange "
            b"<00> <FF> endcodespacerange 1 beginbfchar <21> <0000> endbfchar endcmap end end")
    font = (b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding << /Type /Encoding "
            b"/Differences [33 /ff] >> /ToUnicode %d 0 R >>")
    content = b"BT /F1 11 Tf 72 720 Td (Tilbudet ble gescha!et og tre!er mange brukere.) Tj ET\n" + _body(0, 3)
    path = _pdf(tmp_path / "ligatur.pdf", [content], font % 6, [hostile.stream(cmap)])
    assert "Tilbudet ble geschaffet og treffer mange brukere." in _text(path)


def test_text_clipped_away_is_not_read_nor_taken_for_the_page_number(tmp_path: Path) -> None:
    """Each page prints its number at the foot (from 101) and, clipped away below the text area, the
    paper's own number (from 1), as USENIX prints do: the page is 101, and the hidden 1 is no text."""
    contents = [
        _body(page) + hostile.text_op(f"{101 + page}", x=290, y=40)
        + b"q 50 60 500 700 re W n " + hostile.text_op(f"Skjult {page + 1}", x=290, y=52) + b"Q\n"
        for page in range(4)
    ]
    path = _pdf(tmp_path / "klipp.pdf", contents, hostile.FONT)
    lines = [line for line in read_lines(path) if line.text.strip()]
    assert not any("Skjult" in line.text for line in lines)
    assert {line.sheet: line.label for line in lines} == {1: "101", 2: "102", 3: "103", 4: "104"}


def test_a_numbered_heading_opening_every_sheet_is_no_page_number(tmp_path: Path) -> None:
    """An exam prints no page numbers but opens every sheet with «Oppgave N» in large type, N one
    less than the sheet from the second on: the pages are the sheets."""
    contents = [b"BT /F1 20 Tf 72 780 Td (Oppgave %d) Tj ET\n" % max(1, sheet) + _body(sheet) for sheet in range(5)]
    path = _pdf(tmp_path / "oppgaver.pdf", contents, hostile.FONT)
    labels = {line.sheet: line.label for line in read_lines(path) if line.text.strip()}
    assert labels == {1: "1", 2: "2", 3: "3", 4: "4", 5: "5"}


def _two_fonts(path: Path, heading_font: bytes) -> Path:
    """A page whose first line, a numbered subheading in body size, is set in `heading_font` and the
    paragraph right under it (no gap) in Helvetica, as LaTeX sets a \\subsubsection."""
    content = b"BT /F2 11 Tf 72 740 Td (2.2.1 Scapy) Tj ET\n" + _body(0)
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R] /Count 1 >>",
        hostile.FONT,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R /F2 6 0 R >> >> "
        b"/Contents 5 0 R >>",
        hostile.stream(content),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /%s /Encoding /WinAnsiEncoding >>" % heading_font,
    ]
    path.write_bytes(hostile.pdf(objects))
    return path


def test_tex_bold_fonts_are_bold_by_their_names(tmp_path: Path) -> None:
    """TeX names its bold «bx» (CMBX12, SFBX1200), never «Bold»: a body-size line in it is a heading;
    the same line in the roman (SFRM1200) is body text."""
    roles = {}
    for name in (b"FXXXWC+SFBX1200", b"ABCDEF+CMBX12", b"AHQWUC+SFRM1200"):
        lines = read_lines(_two_fonts(tmp_path / f"{name.decode()}.pdf", name))
        roles[name] = next(line.role for line in lines if line.text.startswith("2.2.1"))
    assert roles == {b"FXXXWC+SFBX1200": "heading", b"ABCDEF+CMBX12": "heading", b"AHQWUC+SFRM1200": "body"}
