"""Scanned PDF pages read by OCR: the optional `ocr` extra (pytesseract and pypdfium2, with Debian's
tesseract-ocr and tesseract-ocr-nor).

A page without a text layer is rendered (pypdfium2) and recognised by tesseract. Its hOCR output
(lines with their baseline and type size, words with their boxes) becomes the same Runs that
documents/pdf.py makes from a text layer, so running heads, page numbers, columns, headings (by
size, and bold told by the width of the strokes) and footnotes go through one cleaning, and every
line keeps its page. What tesseract returns is cached by the page's content, the languages and
tesseract's version in SQLite in the index's cache folder: a rebuild never recognises a page
twice. Without the extra a scanned PDF gets one warning naming the install step, and nothing else
changes."""

from __future__ import annotations

import hashlib
import json
import os
import re
import sqlite3
import statistics
import threading
import xml.etree.ElementTree as ET
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from ..settings import DEFAULT_OCR_LANGS

if TYPE_CHECKING:  # pypdf and the layout are loaded only when a PDF is read
    from pypdf import PdfReader

    from .pdf import Recogniser, Run

INSTALL = "pip install -e '.[ocr]' and apt-get install tesseract-ocr tesseract-ocr-nor"
DPI = 300  # tesseract reads best at 300 dpi; a 200-dpi scan is scaled up by the renderer
PAGE_LAYOUT = "--psm 3 -c hocr_char_boxes=1"  # automatic page layout; a box per character (for superscripts)
ONE_BLOCK = "--psm 6 -c hocr_char_boxes=1"  # a margin strip read as one block of text
INK = 128  # a pixel darker than this (of 255) is ink
PAD = 8  # pixels kept around the ink of a margin strip
PAGE_TIMEOUT = 300  # seconds for one page before tesseract is stopped
RAISED = 0.35  # a glyph whose foot is this share of the type size above the baseline is a superscript
DASHES = "-‐‑‒–—"
TASK = "Leser skannede sider"
CACHE_FILE = "ocr.sqlite"
BBOX = re.compile(r"bbox (-?\d+) (-?\d+) (-?\d+) (-?\d+)")
BASELINE = re.compile(r"baseline (-?[\d.]+) (-?[\d.]+)")
X_SIZE = re.compile(r"x_size ([\d.]+)")
LINES = {"ocr_line", "ocr_header", "ocr_caption", "ocr_textfloat"}
LEADER = re.compile(r"\.{3,}\S*")
LOST_L = re.compile(r"I(?=[a-zæøå])")
X_LETTERS = set("acemnorsuvwxz")  # letters without ascender or descender
MIN_X_LETTERS = 3
OVERLAP = 0.3  # a word starting this share of the type size inside the one before it is a second reading
X_HEIGHT = 1.7  # x_size per x-height letter box (measured on typeset reports: body 41 px per 24)
LOST = 0.9  # an x_size at most this many x-heights is not a type size (a type size is about 1.7)
BELIEVABLE = 0.75  # x-height letters telling a size below this share of x_size are misread boxes
DESCENDERS = set("gjpqyQ,;()[]{}/|_")
STROKE = re.compile(r"x_stroke ([\d.]+)")
BOLD_STROKE = 1.35  # a line whose strokes are this much wider (per type size) than the page's usual is bold
MIN_STROKE_CHARS = 4  # fewer letters tell no stroke width

Progress = Callable[[int, int, str], None]  # (pages read, pages to read, what is being done)


def scanned_hint(ocr: Ocr | None) -> str:
    """What the error about a PDF without any text adds: why OCR could not read it, and the remedy."""
    problem = ocr.problem() if ocr else missing()
    if problem:
        return f" ({problem})"
    return " (OCR found no text)" if ocr else ""


def missing() -> str | None:
    """Why scanned pages cannot be read here (a package or the tesseract program is missing) and how to
    install what is missing; None when they can."""
    try:
        import pypdfium2  # noqa: F401
        import pytesseract
    except ImportError:
        return f"the OCR extra is not installed; to read scanned pages: {INSTALL}"
    try:
        pytesseract.get_tesseract_version()
    except (pytesseract.TesseractNotFoundError, OSError, RuntimeError):
        return f"the tesseract program is not installed; to read scanned pages: {INSTALL}"
    return None


@lru_cache(maxsize=1)
def _tesseract() -> tuple[str, frozenset[str]]:
    """Tesseract's version (part of the cache key) and its installed languages."""
    import pytesseract

    return str(pytesseract.get_tesseract_version()), frozenset(pytesseract.get_languages(config=""))


@dataclass
class Ocr:
    """What a build hands the PDF reader to recognise scanned pages: where the cache lives, the
    languages, a progress callback; it gathers the warnings for the build report."""

    cache: Path | None  # folder of the cache file; None: nothing cached
    langs: str = DEFAULT_OCR_LANGS
    progress: Progress | None = None
    warnings: list[str] = field(default_factory=list)
    recognised: int = 0  # pages tesseract read in this run (not from the cache)

    def for_pdf(self, reader: PdfReader, data: bytes, name: str) -> Recogniser:
        """The recogniser of one PDF's pages: 0-based page numbers in, each page's runs out.

        Pages of a PDF that has some text get one warning when OCR is not possible; a PDF without
        any text raises its own error in documents/files.py, naming the same install step."""

        def recognise(pages: list[int]) -> dict[int, list[Run]]:
            if not pages:
                return {}
            problem = self.problem()
            if problem:
                if len(pages) < len(reader.pages):
                    self.warnings.append(
                        f"{name}: {len(pages)} of {len(reader.pages)} pages have no text layer (scanned?) and were "
                        f"not read: {problem}"
                    )
                return {}
            return self._recognise(reader, data, name, pages)

        return recognise

    def problem(self) -> str | None:
        """Why this machine cannot read scanned pages in these languages, with the remedy; None when it can."""
        problem = missing()
        if problem:
            return problem
        absent = [lang for lang in self.langs.split("+") if lang not in _tesseract()[1]]
        if absent:
            return f"tesseract has no language {', '.join(absent)} (apt-get install tesseract-ocr-{absent[0].lower()})"
        return None

    def _recognise(self, reader: PdfReader, data: bytes, name: str, pages: list[int]) -> dict[int, list[Run]]:
        import pypdfium2
        import pytesseract

        try:
            pdf = pypdfium2.PdfDocument(data)
        except pypdfium2.PdfiumError as exc:
            self.warnings.append(f"{name}: its scanned pages could not be rendered for OCR ({exc})")
            return {}
        found: dict[int, list[Run]] = {}
        try:
            with _Cache(self.cache / CACHE_FILE if self.cache else None) as cache:
                for done, index in enumerate(pages):
                    if self.progress:
                        self.progress(done, len(pages), TASK)
                    key = self._key(reader, index)
                    page = pdf[index]
                    try:
                        hocr = cache.get(key)
                        if hocr is None:
                            hocr = _tesseract_hocr(page, self.langs)
                            cache.put(key, hocr)
                            self.recognised += 1
                        found[index] = page_runs(hocr, page.get_cropbox())
                    except (pytesseract.TesseractError, RuntimeError, OSError, ET.ParseError) as exc:
                        # RuntimeError: a timeout, or pdfium failing to render the page
                        self.warnings.append(f"{name}: page {index + 1} could not be read by OCR ({exc})")
                if self.progress:
                    self.progress(len(pages), len(pages), TASK)
        finally:
            pdf.close()
        return found

    def _key(self, reader: PdfReader, index: int) -> str:
        """The page as drawn (content stream, images, boxes), the languages and tesseract's version."""
        how = f"{_tesseract()[0]}|{self.langs}|{DPI}|{PAGE_LAYOUT}|{ONE_BLOCK}|{INK}|{PAD}|stroke"
        digest = hashlib.sha256(how.encode())
        for part in page_content(reader, index):
            digest.update(hashlib.sha256(part).digest())
        return digest.hexdigest()


def page_content(reader: PdfReader, index: int) -> Iterator[bytes]:
    """What decides how a page looks: its boxes, its rotation, its content stream and the data of
    the images and forms it draws."""
    page = reader.pages[index]
    yield repr((list(page.mediabox), list(page.cropbox), page.rotation)).encode()
    contents = page.get_contents()
    yield contents.get_data() if contents is not None else b""
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources is not None else None
    for name in sorted(xobjects.get_object()) if xobjects is not None else []:
        stream = xobjects.get_object()[name].get_object()
        yield str(name).encode() + stream.get_data()


def _tesseract_hocr(page, langs: str) -> list[tuple[int, str]]:
    """One page rendered at DPI and recognised by tesseract: hOCR of the page's automatic layout, and of
    the margins above and below the text it found where they hold ink (tesseract's layout analysis
    passes over a lone page number); each with the pixel row its image starts at."""
    from PIL import ImageOps

    image = page.render(scale=DPI / 72, grayscale=True).to_pil()
    parts = [(0, _with_strokes(_hocr(image, langs, PAGE_LAYOUT), image))]
    boxes = [_bbox(line.get("title", "")) for line in _lines_of(parts[0][1])]
    if boxes:
        top, bottom = min(b[1] for b in boxes), max(b[3] for b in boxes)
        for start, end in ((0, top), (bottom, image.height)):
            ink = ImageOps.invert(image.crop((0, start, image.width, end))).point(lambda v: 255 if v > INK else 0)
            found = ink.getbbox()
            if found:
                y0, y1 = max(0, start + found[1] - PAD), min(image.height, start + found[3] + PAD)
                strip = image.crop((0, y0, image.width, y1))
                parts.append((y0, _with_strokes(_hocr(strip, langs, ONE_BLOCK), strip)))
    return parts


def _with_strokes(hocr: str, image) -> str:  # noqa: ANN001 (a PIL image: PIL is loaded only for OCR)
    """The hOCR with each line's stroke width in pixels (`x_stroke`: ink per horizontal stretch of
    ink inside its words' boxes), so that bold lines can be told: tesseract's LSTM engine reports
    no font, and bold strokes are half again as wide as regular ones of the same size."""
    import numpy as np

    ink = np.asarray(image) < INK
    root = ET.fromstring(hocr)
    for line in (e for e in root.iter() if e.get("class") in LINES):
        dark = stretches = 0
        for word in (w for w in line.iter() if w.get("class") == "ocrx_word"):
            x0, y0, x1, y1 = _bbox(word.get("title", ""))
            box = ink[max(0, y0):y1, max(0, x0):x1]
            if box.size:
                dark += int(box.sum())
                stretches += int(box[:, 0].sum()) + int((box[:, 1:] & ~box[:, :-1]).sum())
        if stretches:
            line.set("title", f"{line.get('title', '')}; x_stroke {dark / stretches:.2f}")
    return ET.tostring(root, encoding="unicode")  # XHTML's tags as ns0:span: read back the same


def _hocr(image, langs: str, config: str) -> str:
    import pytesseract

    with _one_thread():
        return pytesseract.image_to_pdf_or_hocr(
            image, lang=langs, config=config, extension="hocr", timeout=PAGE_TIMEOUT
        ).decode("utf-8")


def _lines_of(hocr: str) -> Iterator[ET.Element]:
    return (e for e in ET.fromstring(hocr).iter() if e.get("class") in LINES)


_ENV_LOCK = threading.Lock()


@contextmanager
def _one_thread() -> Iterator[None]:
    """Tesseract on one thread: its OpenMP threads spin and take several times as long on a busy machine
    (15 s instead of 2.5 s a page on two shared cores). Set for the tesseract process only, as the
    embedding model reads the same variable."""
    with _ENV_LOCK:
        before = os.environ.get("OMP_THREAD_LIMIT")
        os.environ["OMP_THREAD_LIMIT"] = "1"
        try:
            yield
        finally:
            if before is None:
                del os.environ["OMP_THREAD_LIMIT"]
            else:
                os.environ["OMP_THREAD_LIMIT"] = before


def page_runs(parts: list[tuple[int, str]], cropbox: tuple[float, float, float, float]) -> list[Run]:
    """Tesseract's lines as text runs in PDF coordinates, as a text layer draws them: a run per stretch
    of words without a wide gap (so table cells stay apart), from its first word's left edge to its
    last word's right edge (a guessed width would reach over a column gutter beside a table), at the
    line's baseline, in the line's type size (`_line_size`), bold where its strokes are wider than the
    page's usual for their size. Small raised glyphs at word ends (footnote reference numbers, often
    misread as * or ") are left out, as pdf.py drops superscripts, and so is a word that starts inside the one
    before it: tesseract reads a row of superscript numbers a second time, as full-height words over
    the same place. A word part after a line-end hyphen read with a capital I before small letters
    ("enke-" "Ite") starts with an l: the capital would keep the hyphen when the lines are joined."""
    from .pdf import CELL_GAP, Run

    left, _, _, top = cropbox
    scale = 72 / DPI
    runs: list[Run] = []
    lines = [(dy, line, line.get("title", "")) for dy, hocr in parts for line in _lines_of(hocr)]
    sizes = [_line_size(line, title) for _, line, title in lines]
    usual = _usual_stroke(lines, sizes)
    hyphen = False  # the line before ended in a hyphen (in the same part)
    for i, ((dy, line, title), size) in enumerate(zip(lines, sizes, strict=True)):
        hyphen = hyphen and i > 0 and lines[i - 1][0] == dy
        baseline = _baseline(line, title)
        stroke = STROKE.search(title)
        bold = bool(usual and stroke and float(stroke.group(1)) / size >= BOLD_STROKE * usual)
        words: list[tuple[int, int, str]] = []  # (x0, x1, text)
        reach = -1  # the right end of the words so far
        for word in (w for w in line.iter() if w.get("class") == "ocrx_word"):
            x0, _, x1, _ = _bbox(word.get("title", ""))
            if x0 < reach - OVERLAP * size:
                continue
            reach = x1
            text = _word_text(word, baseline(x0), size)
            if text and not words and hyphen and LOST_L.match(text):
                text = "l" + text[1:]
            if text:
                words.append((x0, x1, text))
        hyphen = bool(words) and words[-1][2].endswith("-")
        start = 0
        for k in range(1, len(words) + 1):
            if k == len(words) or words[k][0] - words[k - 1][1] > CELL_GAP * size:
                y = dy + baseline(words[start][0])
                text = " ".join(t for _, _, t in words[start:k])
                runs.append(Run(x=left + words[start][0] * scale, y=top - y * scale,
                                size=round(size * scale, 1), bold=bold, text=text,
                                end=left + words[k - 1][1] * scale))
                start = k
    return runs


def _usual_stroke(lines: list[tuple[int, ET.Element, str]], sizes: list[float]) -> float | None:
    """The page's usual stroke width per type size: the median over its lines of some letters."""
    ratios = [
        float(stroke.group(1)) / size
        for (_, line, title), size in zip(lines, sizes, strict=True)
        if size and (stroke := STROKE.search(title))
        and sum(ch.isalpha() for ch in "".join(line.itertext())) >= MIN_STROKE_CHARS
    ]
    return statistics.median(ratios) if ratios else None


def _baseline(line: ET.Element, title: str) -> Callable[[float], float]:
    """The line's baseline (pixel row at a given x): tesseract's slope, at the median foot of the
    letters that sit on it (of any characters when there are no letters: a page number). Tesseract's
    own offset guesses a descender under a lone "1" and none under a "2", which would put the page
    numbers of two pages at different heights, and may follow a row of raised reference numbers."""
    lx0, _, _, ly1 = _bbox(title)
    found = BASELINE.search(title)
    slope, offset = map(float, found.groups()) if found else (0.0, 0.0)
    on_it = [c for c in line.iter() if c.get("class") == "ocrx_cinfo" and c.text and c.text not in DESCENDERS]
    letters = [c for c in on_it if c.text.isalpha()]  # raised reference numbers are not letters
    boxes = [_bbox(c.get("title", "")) for c in letters or on_it]
    feet = [box[3] - (ly1 + offset + slope * (box[0] - lx0)) for box in boxes]
    shift = statistics.median(feet) if feet else 0.0
    return lambda x: ly1 + offset + shift + slope * (x - lx0)


def _line_size(line: ET.Element, title: str) -> float:
    """The line's type size in pixels: hOCR's x_size, unless the height of its x-height letters (a, e,
    n, o, ...) tells a smaller one: x_size grows with raised footnote numbers and would make a line of
    running text a heading. The letters' boxes of a short line can be too large, so the smaller of the
    two; a few letters, or boxes far too small, tell nothing; and an x_size no larger than an x-height
    is a line tesseract lost (the letters tell its size)."""
    heights = [
        _bbox(c.get("title", ""))[3] - _bbox(c.get("title", ""))[1]
        for c in line.iter()
        if c.get("class") == "ocrx_cinfo" and c.text and c.text in X_LETTERS
    ]
    x_size = float(X_SIZE.search(title).group(1)) if X_SIZE.search(title) else 0.0
    if not x_size:
        return float(_bbox(title)[3] - _bbox(title)[1])
    if len(heights) < MIN_X_LETTERS:
        return x_size
    x_height = statistics.median(heights)
    if x_height >= LOST * x_size:  # tesseract lost the line's geometry (it took raised numbers for its baseline)
        return x_height * X_HEIGHT
    return min(x_size, x_height * X_HEIGHT) if x_height * X_HEIGHT >= BELIEVABLE * x_size else x_size


def _word_text(word: ET.Element, baseline: float, size: float) -> str:
    """The word without the small raised glyphs at its end (footnote references); dot leaders as dots
    (tesseract reads the end of a row of dots as letters: "......»»rrrrvrnn"), so that pdf.py finds a
    table of contents."""
    chars = [c for c in word.iter() if c.get("class") == "ocrx_cinfo"]
    if not chars:
        return "".join(word.itertext()).strip()
    text = [c.text or "" for c in chars]
    while chars and text[-1] not in DASHES and _bbox(chars[-1].get("title", ""))[3] < baseline - RAISED * size:
        chars.pop()
        text.pop()
    return LEADER.sub("....", "".join(text).strip())


def _bbox(title: str) -> tuple[int, int, int, int]:
    """A hOCR box (x0, y0, x1, y1) in pixels from the top left; hOCR's character boxes are x_bboxes."""
    match = BBOX.search(title.replace("x_bboxes", "bbox"))
    return tuple(map(int, match.groups())) if match else (0, 0, 0, 0)


# ---------------------------------------------------------------- the cache


class _Cache:
    """hOCR by page key (each part with the pixel row it starts at) in SQLite, compressed; every
    page committed at once, so a killed build keeps what it recognised. Never pruned: recognising a
    page again costs seconds, keeping it kilobytes."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.db: sqlite3.Connection | None = None

    def __enter__(self) -> _Cache:
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            try:
                self.db = _open(self.path)
            except sqlite3.OperationalError:  # locked or unwritable: not damage
                raise
            except sqlite3.DatabaseError:  # garbage: start afresh, the cache only saves time
                self.path.unlink()
                self.db = _open(self.path)
        return self

    def __exit__(self, *_: object) -> None:
        if self.db is not None:
            self.db.close()

    def get(self, key: str) -> list[tuple[int, str]] | None:
        if self.db is None:
            return None
        row = self.db.execute("SELECT hocr FROM pages WHERE key = ?", (key,)).fetchone()
        try:
            return [(int(dy), str(hocr)) for dy, hocr in json.loads(zlib.decompress(row[0]))] if row else None
        except (zlib.error, ValueError, TypeError):  # a damaged entry: recognised again
            return None

    def put(self, key: str, parts: list[tuple[int, str]]) -> None:
        if self.db is not None:
            with self.db:
                self.db.execute(
                    "INSERT OR REPLACE INTO pages VALUES (?, ?)", (key, zlib.compress(json.dumps(parts).encode()))
                )


def _open(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, timeout=30)
    try:
        db.execute("CREATE TABLE IF NOT EXISTS pages (key TEXT PRIMARY KEY, hocr BLOB NOT NULL)")
        db.execute("SELECT key, hocr FROM pages LIMIT 1").fetchall()
    except sqlite3.DatabaseError:
        db.close()
        raise
    return db
