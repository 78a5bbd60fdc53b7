"""Scanned PDFs made for the tests and bench/ocr: text drawn onto page images with Pillow (or page
images rendered elsewhere), wrapped as an image-only PDF: no text layer, one image per page, as a
scanner writes them; and the pages of passages read from a scan of a typeset report checked
against the typesetter's truth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pdfgen import Truth
from PIL import Image, ImageDraw, ImageFont

FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
FONT_BOLD = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")
DPI = 200
A4 = (8.27, 11.69)  # inches
MARGIN = 1.0  # inch


@dataclass
class Line:
    """A block of text on a scanned page: wrapped to the text width, in `size` points."""

    text: str
    size: float = 11.0
    bold: bool = False
    note_ref: str | None = None  # a footnote number set raised and small after the block's last word
    gap: float = 0.6  # space before the block, in lines


def image_pdf(images: list[Image.Image], path: Path, dpi: int = DPI) -> Path:
    """Page images as an image-only PDF (Pillow writes one image per page, sized by the resolution)."""
    first, *rest = [image.convert("L") for image in images]
    first.save(path, "PDF", resolution=dpi, save_all=True, append_images=rest)
    return path


def scanned_page(head: str, blocks: list[Line], notes: list[str], folio: str, dpi: int = DPI) -> Image.Image:
    """A page with a running head, blocks of running text, footnotes in small type and a page number."""
    width, height = (round(side * dpi) for side in A4)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    left, right = round(MARGIN * dpi), width - round(MARGIN * dpi)
    px = dpi / 72

    def font(size: float, bold: bool = False) -> ImageFont.FreeTypeFont:
        return ImageFont.truetype(str(FONT_BOLD if bold else FONT), round(size * px))

    draw.text((left, round(0.5 * dpi)), head, font=font(9), fill=0)
    y = round(MARGIN * dpi)
    for block in blocks:
        face = font(block.size, block.bold)
        leading = round(block.size * px * 1.35)
        y += round(block.gap * leading)
        lines = _wrap(draw, block.text, face, right - left)
        for i, line in enumerate(lines):
            draw.text((left, y), line, font=face, fill=0)
            if block.note_ref and i == len(lines) - 1:
                end = left + draw.textlength(line, font=face)
                raised = y - round(0.25 * block.size * px)
                draw.text((end + 2, raised), block.note_ref, font=font(block.size * 0.6), fill=0)
            y += leading
    y = height - round(MARGIN * dpi) - len(notes) * round(8 * px * 1.4)
    draw.line((left, y - 10, left + 300, y - 10), fill=0, width=2)
    for note in notes:
        draw.text((left, y), note, font=font(8), fill=0)
        y += round(8 * px * 1.4)
    draw.text((width // 2, height - round(0.55 * dpi)), folio, font=font(9), fill=0)
    return image


def _wrap(draw: ImageDraw.ImageDraw, text: str, face: ImageFont.FreeTypeFont, width: float) -> list[str]:
    lines: list[str] = []
    for word in text.split():
        if lines and draw.textlength(f"{lines[-1]} {word}", font=face) <= width:
            lines[-1] += f" {word}"
        else:
            lines.append(word)
    return lines


def pages_right(passages: list, truth: Truth, gram: int = 4) -> tuple[float, float]:
    """The share of running-text passages found in the typeset text (by a run of `gram` words among
    their first and last ten, so that an OCR slip elsewhere does not matter), and the share of those
    whose start and end pages are the pages their first and last words were typeset on."""
    words = [" ".join(w.text.split()) for w in truth.words]
    at: dict[tuple[str, ...], list[int]] = {}
    for i in range(len(words) - gram + 1):
        at.setdefault(tuple(words[i : i + gram]), []).append(i)

    def find(tokens: list[str], from_end: bool) -> int | None:
        for k in range(min(10, len(tokens) - gram + 1)):
            i = len(tokens) - gram - k if from_end else k
            hits = at.get(tuple(tokens[i : i + gram]), [])
            if len(hits) == 1:
                return hits[0] + (len(tokens) - 1 - i if from_end else -i)
        return None

    texts = [p for p in passages if p.kind == "text"]
    located = right = 0
    for p in texts:
        tokens = p.text.split()
        first, last = find(tokens, False), find(tokens, True)
        if first is None or last is None or not 0 <= first <= last < len(words):
            continue
        located += 1
        right += (p.page_label, p.page_end_label) == (truth.words[first].start, truth.words[last].end)
    return located / max(1, len(texts)), right / max(1, located)
