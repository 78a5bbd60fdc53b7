"""A simple font's own /Encoding /Differences say what its codes are, whatever encoding is built
into the CFF program it embeds (pypdf 7 let the program's win: a QuarkXPress paper read
«’%%qV’&293» for «approaches»)."""

from __future__ import annotations

from io import BytesIO
from pathlib import Path

from rapportsok.documents.files import read_lines


def _cff(names: list[str], builtin: dict[int, str]) -> bytes:
    """A bare CFF font program (a square for every glyph) with its own built-in encoding."""
    from fontTools.fontBuilder import FontBuilder
    from fontTools.pens.t2CharStringPen import T2CharStringPen

    builder = FontBuilder(1000, isTTF=False)
    glyphs = [".notdef", *names]
    builder.setupGlyphOrder(glyphs)
    builder.setupCharacterMap({})
    strings = {}
    for glyph in glyphs:
        pen = T2CharStringPen(500, None)
        pen.moveTo((0, 0))
        pen.lineTo((400, 0))
        pen.lineTo((400, 400))
        pen.closePath()
        strings[glyph] = pen.getCharString()
    builder.setupCFF("Prove", {"FullName": "Prove"}, strings, {})
    cff = builder.font["CFF "].cff
    encoding = [".notdef"] * 256
    for code, name in builtin.items():
        encoding[code] = name
    cff.topDictIndex[0].Encoding = encoding
    out = BytesIO()
    cff.compile(out, builder.font)
    return out.getvalue()


def test_differences_win_over_the_embedded_programs_encoding(tmp_path: Path) -> None:
    from pypdf import PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DecodedStreamObject,
        DictionaryObject,
        NameObject,
        NumberObject,
    )

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    program = DecodedStreamObject()
    program.set_data(_cff(["a", "b", "c", "e", "h", "j"], {1: "a", 2: "b", 3: "c"}))
    program[NameObject("/Subtype")] = NameObject("/Type1C")
    descriptor = DictionaryObject({
        NameObject("/Type"): NameObject("/FontDescriptor"), NameObject("/FontName"): NameObject("/Prove"),
        NameObject("/Flags"): NumberObject(4), NameObject("/FontFile3"): writer._add_object(program),
    })
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Prove"), NameObject("/FirstChar"): NumberObject(0),
        NameObject("/LastChar"): NumberObject(4),
        NameObject("/Widths"): ArrayObject([NumberObject(500)] * 5),
        NameObject("/FontDescriptor"): writer._add_object(descriptor),
        NameObject("/Encoding"): DictionaryObject({
            NameObject("/Type"): NameObject("/Encoding"),
            NameObject("/Differences"): ArrayObject(
                [NumberObject(0), NameObject("/space"), NameObject("/h"), NameObject("/e"), NameObject("/j")]
            ),
        }),
    })
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    })
    stream = DecodedStreamObject()
    line = b"BT /F1 11 Tf 72 %d Td (\x01\x02\x03\x00\x01\x02\x03) Tj ET"
    stream.set_data(b"\n".join(line % (760 - 14 * k) for k in range(3)))
    page[NameObject("/Contents")] = writer._add_object(stream)
    writer.write(str(tmp_path / "quark.pdf"))
    text = " ".join(line.text for line in read_lines(tmp_path / "quark.pdf") if line.text.strip())
    assert text.startswith("hej hej")
