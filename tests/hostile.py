"""Crafted hostile PDFs, written byte by byte (or encrypted with pypdf), for the reader fuzz tests
and bench/reading: deep nesting, huge operands, scaled coordinates, shared and looping content
streams, zero and huge type sizes, every encryption kind, and pages of one run per glyph.

Each PDF is small and well formed enough to open; what it holds is what a hostile or broken
producer would write."""

from __future__ import annotations

import io
import zlib
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader, PdfWriter

FONT = b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>"
SENTENCE = "Rusreformen ga bedre behandling og oppfølging av rusmiddelavhengige i kommunene."


def pdf(objects: list[bytes]) -> bytes:
    """A PDF of these objects (1-based numbers: 1 is the catalog), with a correct xref table."""
    out = bytearray(b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def stream(content: bytes, compress: bool = True) -> bytes:
    if compress:
        data = zlib.compress(content, 9)
        return b"<< /Length %d /Filter /FlateDecode >>\nstream\n" % len(data) + data + b"\nendstream"
    return b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream"


def text_op(text: str, x: float = 72, y: float = 720, size: float = 11) -> bytes:
    escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    return b"BT /F1 %g Tf %g %g Td (" % (size, x, y) + escaped.encode("cp1252") + b") Tj ET\n"


def pages_pdf(contents: list[bytes], page_extra: bytes = b"", shared: bool = False) -> bytes:
    """One page per content stream (or, `shared`, every page drawing the first stream)."""
    n = len(contents)
    first_page = 4
    stream_at = first_page + n
    kids = b" ".join(b"%d 0 R" % (first_page + i) for i in range(n))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>" % (kids, n),
        FONT,
    ]
    for i in range(n):
        target = stream_at if shared else stream_at + i
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
            b"/Contents %d 0 R %s >>" % (target, page_extra)
        )
    objects += [stream(c) for c in (contents[:1] if shared else contents)]
    return pdf(objects)


def readable(pages: int = 1) -> bytes:
    """A plain PDF of a few readable sentences per page, each page its own (in words too: rows that
    recur on every page at the same height, numbers aside, are page furniture)."""
    topics = ("kommunene", "fengslene", "skolene", "sykehusene", "politiet", "barnevernet", "NAV", "domstolene")
    return pages_pdf([
        b"".join(text_op(f"{SENTENCE} Side {p + 1}, avsnitt {k + 1} om {topics[(p + k) % len(topics)]}.",
                         y=700 - 14 * k) for k in range(5))
        for p in range(pages)
    ])


def nested_arrays(depth: int = 20_000) -> bytes:
    return pages_pdf([text_op(SENTENCE)], page_extra=b"/Junk " + b"[" * depth + b"]" * depth)


def nested_dicts(depth: int = 20_000) -> bytes:
    return pages_pdf([text_op(SENTENCE)], page_extra=b"/Junk " + b"<< /A " * depth + b"1" + b" >>" * depth)


def nested_content(depth: int = 100_000) -> bytes:
    """Content nested q/Q and BT blocks, and an array operand nested deep."""
    body = b"q " * depth + text_op(SENTENCE) + b"Q " * depth
    body += b"BT " * 2000 + b"/F1 11 Tf 72 600 Td (" + SENTENCE.encode("cp1252") + b") Tj " + b"ET " * 2000
    body += b"BT /F1 11 Tf " + b"[" * depth + b"]" * depth + b" TJ ET\n"
    return pages_pdf([body])


def huge_operands() -> bytes:
    digits = b"9" * 200_000
    body = text_op(SENTENCE)
    body += b"BT /F1 " + digits + b" Tf " + digits + b" -" + digits + b" Td (" + SENTENCE.encode() + b") Tj ET\n"
    body += b"BT /F1 1e308 Tf 1e308 1e308 Td (Stor) Tj ET\n"
    body += b"BT /F1 11 Tf (" + b"x" * 2_000_000 + b") Tj ET\n"
    return pages_pdf([body])


def scaled_coordinates() -> bytes:
    """cm with huge, zero and negative factors, repeated until they overflow to infinity."""
    body = text_op(SENTENCE)
    body += b"q " + b"1e30 0 0 1e30 0 0 cm " * 40 + text_op("Uendelig stor") + b"Q\n"
    body += b"q 0 0 0 0 0 0 cm " + text_op("Null skala") + b"Q\n"
    body += b"q 1e-300 0 0 1e-300 0 0 cm " * 3 + text_op("Bitte liten") + b"Q Q Q\n"
    body += b"BT /F1 11 Tf 1e308 0 0 1e308 1e308 1e308 Tm (Tm stor) Tj ET\n"
    return pages_pdf([body])


def font_sizes() -> bytes:
    body = text_op(SENTENCE) + text_op("Null", size=0) + text_op("Enorm", size=1e38) + text_op("Negativ", size=-11)
    return pages_pdf([body])


def shared_stream(pages: int = 50, runs: int = 2000) -> bytes:
    """Many pages drawing one content stream of many runs: compressed, a few KB for the lot."""
    body = b"".join(text_op(f"ord{k}", x=30 + (k % 40) * 13, y=800 - (k // 40) * 12, size=9) for k in range(runs))
    return pages_pdf([body] * pages, shared=True)


def looping_contents() -> bytes:
    """A /Contents array holding itself, and a page tree whose kid is its own parent."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [4 0 R 6 0 R] /Count 2 >>",
        FONT,
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R >> >> "
        b"/Contents 5 0 R >>",
        b"[5 0 R 7 0 R]",
        b"<< /Type /Pages /Parent 2 0 R /Kids [6 0 R 2 0 R] /Count 2 >>",
        stream(text_op(SENTENCE)),
    ]
    return pdf(objects)


def run_per_glyph(pages: int = 1, lines: int = 60, chars: int = 90, one_block: bool = False) -> bytes:
    """Pages where every glyph is a run of its own: its own text object, or (`one_block`) its own
    Tm and Tj in one text object per page."""
    contents = []
    line = (SENTENCE + " ") * 2
    for page in range(pages):
        ops = []
        for row in range(lines):
            for col in range(chars):
                glyph = line[(col + row + page) % len(line)].encode("cp1252")
                x, y = 40 + col * 5.5, 800 - row * 12
                if one_block:
                    ops.append(b"1 0 0 1 %g %g Tm (%s) Tj\n" % (x, y, glyph))
                else:
                    ops.append(b"BT /F1 9 Tf %g %g Td (%s) Tj ET\n" % (x, y, glyph))
        body = b"".join(ops)
        contents.append(b"BT /F1 9 Tf\n" + body + b"ET\n" if one_block else body)
    return pages_pdf(contents)


def inflating(megabytes: int = 60) -> bytes:
    """A page whose content stream inflates from a few KB to this many MB (of "q Q" pairs)."""
    return pages_pdf([text_op(SENTENCE) + b"q Q " * (megabytes * 250_000)])


def encrypted(algorithm: str, user_password: str = "") -> bytes:
    """A readable PDF encrypted with pypdf: RC4-40, RC4-128, AES-128 or AES-256."""
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(readable(2))))
    writer.encrypt(user_password=user_password, owner_password="eier", algorithm=algorithm)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


# name -> (maker, whether its text must be read: else passages or one warning naming it are both right)
HOSTILE: dict[str, tuple[Callable[[], bytes], bool]] = {
    "nested-arrays": (nested_arrays, False),
    "nested-dicts": (nested_dicts, False),
    "nested-content": (nested_content, False),
    "huge-operands": (huge_operands, False),
    "scaled-coordinates": (scaled_coordinates, True),
    "font-sizes": (font_sizes, False),
    "shared-stream": (lambda: shared_stream(10), True),
    "looping-contents": (looping_contents, False),
    "rc4-40": (lambda: encrypted("RC4-40"), True),
    "rc4-128": (lambda: encrypted("RC4-128"), True),
    "aes-128": (lambda: encrypted("AES-128"), True),
    "aes-256": (lambda: encrypted("AES-256"), True),
    "aes-256-password": (lambda: encrypted("AES-256", "hemmelig"), False),
    "run-per-glyph": (run_per_glyph, True),
}


def write_all(folder: Path) -> list[Path]:
    """Every hostile PDF into the folder, named by its kind."""
    paths = []
    for name, (make, _) in HOSTILE.items():
        path = folder / f"hostile-{name}.pdf"
        path.write_bytes(make())
        paths.append(path)
    return paths
