"""A page's text runs as drawn: where each starts, where it ends (from the font's real glyph
widths), its type size and weight, and its text decoded as far as the font allows.

pypdf's visitor reports runs with their start matrix but not their width; a run's end decides
whether the next run on the row continues the same word (Word draws «V» and «erdien» as two runs
with a kerning gap) or starts a new one, so it is computed here from the font's /Widths.
Glyph names the font's encoding leaves undecoded («/two.oldstyle») are decoded where the Adobe
glyph list knows them and dropped where not, as are C0/C1 control characters and private-use
code points; what was dropped is counted so that a page without readable text can be told."""

from __future__ import annotations

import math
import re
import unicodedata
from dataclasses import dataclass

from pypdf import PageObject
from pypdf._codecs import adobe_glyphs
from pypdf.generic import DictionaryObject
from pypdf.generic._font import Font

LIGATURES = re.compile("[\ufb00-\ufb06]")
# C0 and C1 control characters (tab and newline stay), private-use code points (glyphs of fonts
# without a Unicode map), the replacement character and non-characters: nothing a reader sees.
UNREADABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd\ufffe\uffff]|\\(cid:\\d+\\)")
GLYPH_SUFFIX = re.compile(r"[._].*$")
UNI_NAME = re.compile(r"^(?:uni([0-9A-F]{4})|u([0-9A-F]{4,6}))$")
DEFAULT_WIDTH = 0.5  # a glyph's width as a share of the type size where the font gives none


@dataclass
class Run:
    """One piece of text as drawn: start and end on the baseline, type size, weight."""

    x: float
    y: float
    size: float
    bold: bool
    text: str
    end: float = 0.0

    def __post_init__(self) -> None:
        if not self.end:
            self.end = self.x + DEFAULT_WIDTH * self.size * len(self.text)


@dataclass
class PageRuns:
    """A page's runs, and how many of the characters drawn on it could not be read."""

    runs: list[Run]
    drawn: int  # characters drawn (readable or not)
    unreadable: int  # characters dropped: control characters, undecodable glyphs


class FontMetrics:
    """A font's glyph widths by the text pypdf decodes, and the glyph names it leaves undecoded."""

    def __init__(self, font_dict: DictionaryObject | None) -> None:
        self.font: Font | None = None
        self.raw: dict[str, str] = {}  # decoded character -> the code whose width it has
        self.names: dict[str, str] = {}  # undecoded glyph name -> its character ("" when unknown)
        if font_dict is None:
            return
        try:
            self.font = Font.from_font_resource(font_dict)
        except Exception:  # noqa: BLE001 (any damage in a font dictionary: fall back to estimates)
            return
        font = self.font
        if isinstance(font.encoding, dict):  # a simple font: code -> glyph -> Unicode
            for code, name in font.encoding.items():
                if isinstance(name, str) and len(name) > 1 and name.startswith("/"):
                    self.names[name] = glyph_character(name)
                elif isinstance(name, str):
                    self.raw.setdefault(font.character_map.get(name, name), chr(code))
        for raw, char in font.character_map.items():  # a composite font: CID -> Unicode
            if isinstance(raw, str) and isinstance(char, str) and len(char) == 1:
                self.raw.setdefault(char, raw)
        self.pattern = re.compile("|".join(map(re.escape, sorted(self.names, key=len, reverse=True))))

    def decode(self, text: str) -> str:
        """The text with the glyph names this font leaves undecoded turned into characters."""
        return self.pattern.sub(lambda m: self.names[m.group(0)], text) if self.names else text

    def width(self, text: str) -> float:
        """The text's width in units of its type size."""
        font = self.font
        if font is None:
            return DEFAULT_WIDTH * len(text)
        widths = font.character_widths
        default = widths.get("default", 500) or 500
        total = 0.0
        for char in text:
            if char == " ":
                total += font.space_width or default / 2
            else:
                total += widths.get(self.raw.get(char, char), default)
        return total / 1000


def glyph_character(name: str) -> str:
    """A glyph name as its character: «/two.oldstyle» → «2», «/uni00E6» → «æ», «/g135» → ""."""
    base = GLYPH_SUFFIX.sub("", name[1:])
    if char := adobe_glyphs.get("/" + base):
        return char if len(char) == 1 else ""
    m = UNI_NAME.match(base)
    if m:
        code = int(m.group(1) or m.group(2), 16)
        return chr(code) if code <= 0x10FFFF and not UNREADABLE.match(chr(code)) else ""
    return ""


def page_runs(page: PageObject, metrics: dict[int, tuple[object, FontMetrics]]) -> PageRuns:
    """The runs drawn on a page, decoded and measured (`metrics` caches fonts across pages)."""
    runs: list[Run] = []
    counts = [0, 0]

    def visit(text, cm, tm, font, size) -> None:
        if not text or not text.strip():
            return
        font_metrics = _metrics(font, metrics)
        text = normalise(font_metrics.decode(text.replace("\n", " ")))
        cleaned = UNREADABLE.sub("", text)
        counts[0] += len(text.replace(" ", ""))
        counts[1] += len(text) - len(cleaned)
        if not cleaned.strip():
            return
        m = _multiply(tm, cm)
        size_y = size * (math.hypot(m[2], m[3]) or 1.0)
        size_x = size * (math.hypot(m[0], m[1]) or 1.0)
        name = str((font or {}).get("/BaseFont", "")).lower()
        bold = "bold" in name or "black" in name or "heavy" in name
        end = m[4] + size_x * font_metrics.width(text)
        runs.append(Run(m[4], m[5], round(size_y, 1), bold, cleaned, end))

    page.extract_text(visitor_text=visit)
    return PageRuns(runs, counts[0], counts[1])


def _metrics(font: object, cache: dict[int, tuple[object, FontMetrics]]) -> FontMetrics:
    if not isinstance(font, DictionaryObject):
        font = None
    key = id(font)
    if key not in cache:
        cache[key] = (font, FontMetrics(font))  # the dictionary is kept, so its id stays its own
    return cache[key][1]


def _multiply(a: list[float], b: list[float]) -> list[float]:
    """The product of two PDF matrices [a b c d e f]."""
    return [
        a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5],
    ]


def normalise(text: str) -> str:
    """Ligatures as letters; a soft hyphen at a line end is a hyphen, elsewhere nothing."""
    text = LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    text = re.sub("\u00ad\\s*$", "-", text)
    return text.replace("\u00ad", "")
