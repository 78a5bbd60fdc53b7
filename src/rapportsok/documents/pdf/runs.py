"""A page's text runs as drawn: where each string starts and ends on its baseline, its type
size and weight, and its text decoded as far as the font allows.

The content stream is interpreted here, one text-showing string at a time, with pypdf's text
state (matrices, Tc/Tw/Tz/Ts) and its fonts' real glyph widths: a run's end decides whether the
next run continues the same word (Word draws «V» and «erdien» as two runs with a kerning gap) or
starts a new one, and pypdf's own visitor reports neither the end nor every string. Text inside
form XObjects is read too. Glyph names a font's encoding leaves undecoded («/two.oldstyle») are
decoded where the Adobe glyph list knows them and dropped where not, as are C0/C1 control
characters and private-use code points; what was dropped is counted, so that a sheet without
readable text can be told."""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from pypdf import PageObject, PdfReader
from pypdf._codecs import adobe_glyphs
from pypdf.generic import ArrayObject, ContentStream, DictionaryObject, NameObject, StreamObject
from pypdf.generic._font import Font

LIGATURES = re.compile("[\ufb00-\ufb06]")
# C0 and C1 control characters (tab and newline stay), private-use code points (glyphs of fonts
# without a Unicode map), the replacement character and non-characters: nothing a reader sees.
UNREADABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd\ufffe\uffff]|\\(cid:\\d+\\)")
GLYPH_SUFFIX = re.compile(r"[._].*$")
UNI_NAME = re.compile(r"^(?:uni([0-9A-F]{4})|u([0-9A-F]{4,6}))$")
TEXT_OPERATOR = re.compile(rb"\bT[Jj*]\b|['\"]|\bDo\b")
# a bold font by its name; TeX names its bold by «bx» (Computer Modern CMBX12, EC SFBX1200, sans CMSSBX10)
BOLD_NAME = re.compile(r"bold|black|heavy|semibold|demi|(?<![a-z])(?:cm|ec|sf|tc)(?:ss|tt)?bx", re.I)
WORD_GAP = 0.12  # a gap between runs this share of the type size wide separates words
OVERLAP = 0.3  # ... as does an overlap this wide (text drawn over text, not a kerned pair)
MERGE_GAP = 0.6  # runs of one font closer than this are one run from the start (fewer, longer runs)
# spacing accents as their combining marks: TeX draws «å» as «a» with «˚» over it
ACCENTS = dict(
    zip("`´ˆ˜¯˘˙¨˚˝ˇ¸˛", "\u0300\u0301\u0302\u0303\u0304\u0306\u0307\u0308\u030a\u030b\u030c\u0327\u0328", strict=True)
)
PATH = frozenset((b"m", b"l", b"c", b"v", b"y"))  # path pieces that are not rectangles
PAINT = frozenset((b"n", b"f", b"F", b"f*", b"S", b"s", b"B", b"B*", b"b", b"b*"))  # operators that end a path
STROKE = frozenset((b"S", b"s", b"B", b"B*", b"b", b"b*"))  # ... and draw its outline
RULE_HEIGHT = 1.5  # a filled rectangle at most this high is a rule (Word draws table borders so)
RULE_WIDTH = 5.0  # a rule is at least this wide
MAX_RULES = 2000  # rules kept per page: more is a drawing, not a table's borders (and would cost per table row)
CLIP_SLACK = 2.0  # points a baseline may stand outside a clip and still be shown (descenders, rounding)
MAX_FORM_DEPTH = 8  # forms drawn inside forms: deeper is a loop or an attack
UNKNOWN_FONT = Font("Unknown", encoding={}, interpretable=False)


@dataclass
class Run:
    """One string as drawn: start and end on the baseline, type size, weight."""

    x: float
    y: float
    size: float
    bold: bool
    text: str
    end: float = 0.0

    def __post_init__(self) -> None:
        if not self.end:  # a run made without its width (tests): half an em per character
            self.end = self.x + 0.5 * self.size * len(self.text)


@dataclass
class PageRuns:
    """A page's runs, and how many of the characters drawn on it could not be read."""

    runs: list[Run] = field(default_factory=list)
    drawn: int = 0  # characters drawn (readable or not)
    unreadable: int = 0  # characters dropped: control characters, undecodable glyphs
    images: bool = False  # the page draws an image (a scan, when it draws no text)
    rules: list[tuple[float, float, float]] = field(default_factory=list)  # horizontal rules drawn: x0, x1, y


class Reading:
    """What pages of one document share: their fonts, glyph-name tables and content streams."""

    def __init__(self, reader: PdfReader) -> None:
        self.reader = reader
        self.fonts: dict[int, tuple[Any, Font]] = {}  # id of a font dictionary -> its Font
        self.names: dict[int, tuple[dict[str, str], re.Pattern | None]] = {}  # id of a Font -> glyph names
        self.streams: dict[tuple, list] = {}  # indirect references of a content stream -> its operations
        self.forms: list[StreamObject] = []

    def font(self, font_dict: Any) -> Font:
        key = id(font_dict)
        if key not in self.fonts:
            try:
                if isinstance(font_dict, DictionaryObject):
                    font = Font.from_font_resource(_without_builtin_encoding(font_dict))
                    _named_where_unmapped(font, font_dict)
                else:
                    font = UNKNOWN_FONT
            except Exception:  # noqa: BLE001 (a damaged font dictionary: its text cannot be read)
                font = UNKNOWN_FONT
            self.fonts[key] = (font_dict, font)  # the dictionary is kept, so its id stays its own
        return self.fonts[key][1]

    def decode(self, font: Font, text: str) -> str:
        """The text with the glyph names this font leaves undecoded turned into characters."""
        key = id(font)
        if key not in self.names:
            names = {}
            if isinstance(font.encoding, dict):
                names = {
                    name: glyph_character(name)
                    for name in font.encoding.values()
                    if isinstance(name, str) and len(name) > 1 and name.startswith("/")
                }
            pattern = re.compile("|".join(map(re.escape, sorted(names, key=len, reverse=True)))) if names else None
            self.names[key] = (names, pattern)
        names, pattern = self.names[key]
        return pattern.sub(lambda m: names[m.group(0)], text) if pattern and "/" in text else text

    def form_operations(self, form: StreamObject) -> list:
        """A form's operations, parsed once, or none when it draws no text (images, vector art)."""
        key = ("form", id(form))
        if key not in self.streams:
            self.forms.append(form)  # kept, so its id stays its own
            has_text = TEXT_OPERATOR.search(form.get_data())
            self.streams[key] = ContentStream(form, self.reader, "bytes").operations if has_text else []
        return self.streams[key]

    def operations(self, contents: Any) -> list:
        """A content stream's operations, parsed once however many pages share it."""
        refs = contents if isinstance(contents, ArrayObject) else [contents]
        key = tuple(getattr(ref, "idnum", id(ref)) for ref in refs)
        if key not in self.streams:
            self.streams[key] = ContentStream(contents.get_object(), self.reader, "bytes").operations
        return self.streams[key]


def _without_builtin_encoding(font_dict: DictionaryObject) -> DictionaryObject:
    """The font dictionary as pypdf should read it: a Type 1 font whose dictionary names its
    encoding (/MacRomanEncoding, a /BaseEncoding, or /Differences) is decoded by that name
    alone (PDF 32000-1 §9.6.6.1), but pypdf lets the embedded font program's own encoding map
    the codes again, so a subset whose program numbers its glyphs from 33 reads «der einmarsch
    russlands am RTN februar RPRR»; such a font is read without its program."""
    encoding = font_dict.get("/Encoding")
    encoding = encoding.get_object() if encoding is not None else None
    named = isinstance(encoding, NameObject) or (  # /Differences name the glyphs of their codes too
        isinstance(encoding, DictionaryObject) and ("/BaseEncoding" in encoding or "/Differences" in encoding)
    )
    descriptor = font_dict.get("/FontDescriptor")
    descriptor = descriptor.get_object() if descriptor is not None else None
    if (
        not named or "/ToUnicode" in font_dict or font_dict.get("/Subtype") not in ("/Type1", "/MMType1")
        or not isinstance(descriptor, DictionaryObject)
        or not ({"/FontFile", "/FontFile3"} & set(descriptor))
    ):
        return font_dict
    plain = DictionaryObject(font_dict)
    plain[NameObject("/FontDescriptor")] = DictionaryObject(
        {k: v for k, v in descriptor.items() if k not in ("/FontFile", "/FontFile3")}
    )
    return plain


def _named_where_unmapped(font: Font, font_dict: DictionaryObject) -> None:
    """Codes a ToUnicode map sends to nothing readable (macOS maps TeX's «ff» ligature to U+0000)
    read as the glyph the encoding's /Differences names there: «geschaffen», not «gescha en»."""
    cmap = font.character_map
    encoding = font_dict.get("/Encoding")
    encoding = encoding.get_object() if encoding is not None else None
    if not cmap or not isinstance(encoding, DictionaryObject):
        return
    differences = encoding.get("/Differences")
    differences = differences.get_object() if differences is not None else None
    if not isinstance(differences, ArrayObject):
        return
    code = 0
    for item in differences:
        if isinstance(item, (int, float)):
            code = int(item)
            continue
        mapped = cmap.get(chr(code)) if 0 <= code < 256 else None
        if isinstance(mapped, str) and not UNREADABLE.sub("", mapped) and (char := glyph_character(str(item))):
            cmap[chr(code)] = char
        code += 1


def separator(before: Run, run: Run) -> str | None:
    """What stands between two runs of a row as a reader sees them: nothing (one word drawn in
    pieces, or a kerned pair), a space (a gap, an overlap, or a space the runs draw themselves),
    or None when the run repeats the one before it (a bold faked by drawing twice)."""
    if run.text == before.text and abs(run.x - before.x) < 0.2 * run.size:
        return None
    gap = (run.x - before.end) / (min(run.size, before.size) or 1.0)
    if not -OVERLAP <= gap <= WORD_GAP or run.text[0].isspace() or before.text[-1].isspace():
        return " "
    return ""


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


def page_runs(page: PageObject, reading: Reading) -> PageRuns:
    """The runs drawn on a page, decoded and measured; rotated text (margin stamps) left out
    unless most of the page is rotated."""
    found = PageRuns(images=_has_images(page))
    contents = page.get("/Contents")
    if contents is None or not isinstance(contents.get_object(), (ArrayObject, StreamObject)):
        return found
    upright: list[Run] = []
    rotated: list[Run] = []
    text = TextState(reading, found, upright, rotated)
    text.interpret(reading.operations(contents), page.get("/Resources"), 0)
    found.runs = upright if len(upright) >= len(rotated) else rotated
    return found


def _has_images(page: PageObject) -> bool:
    try:
        xobjects = page["/Resources"]["/XObject"]
        return any(xobjects[name].get("/Subtype") == "/Image" for name in xobjects)
    except (KeyError, TypeError, AttributeError):
        return False


IDENTITY = (1.0, 0.0, 0.0, 1.0, 0.0, 0.0)


def _multiply(a: tuple | list, b: tuple | list) -> tuple:
    """The product of two PDF matrices [a b c d e f]."""
    return (
        a[0] * b[0] + a[1] * b[2], a[0] * b[1] + a[1] * b[3],
        a[2] * b[0] + a[3] * b[2], a[2] * b[1] + a[3] * b[3],
        a[4] * b[0] + a[5] * b[2] + b[4], a[4] * b[1] + a[5] * b[3] + b[5],
    )


def _decode(value: bytes, encoding: str) -> str:
    """A composite font's string by its named encoding (odd bytes or unknown codes: U+FFFD)."""
    try:
        return value.decode(encoding, "surrogatepass")
    except UnicodeDecodeError:
        return value.decode(encoding, "replace")
    except LookupError:
        return "\ufffd" * len(value)


def _number(value: Any, default: float = 0.0) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


class TextState:
    """The graphics and text state of PDF 32000-1 §9.3 as far as text placement needs it, kept
    as plain matrices so that every operator costs the same however long the page is."""

    def __init__(self, reading: Reading, found: PageRuns, upright: list[Run], rotated: list[Run]) -> None:
        self.reading, self.found, self.upright, self.rotated = reading, found, upright, rotated
        self.ctm: tuple = IDENTITY
        self.tm: tuple = IDENTITY
        self.tlm: tuple = IDENTITY
        self.font: Font = UNKNOWN_FONT
        self.size = 0.0
        self.tc = self.tw = self.tl = self.ts = 0.0
        self.tz = 1.0
        self.saved: list[tuple] = []
        self.clip: tuple[float, float, float, float] | None = None  # the visible box a rectangle clip leaves
        self.path: list[tuple[float, float, float, float]] | None = []  # the path's rectangles (None: not only)
        self.clipping = False  # W seen: the path, once ended, clips what follows
        self.boxes: list[tuple[float, float, float, float]] = []  # the path's rectangles, for rules
        self.segments: list[tuple[float, float, float, float]] = []  # the path's straight lines, for rules
        self.point: tuple[float, float] | None = None  # the path's current point

    def interpret(self, operations: Iterable, resources: Any, depth: int) -> None:
        """Follow one content stream's text operators (and the forms it draws)."""
        resources = resources.get_object() if resources is not None else None
        if not isinstance(resources, DictionaryObject):
            resources = DictionaryObject()
        fonts = resources.get("/Font")
        fonts = fonts.get_object() if fonts is not None else None
        level = len(self.saved)
        for operands, op in operations:
            if op == b"Tj" and operands:
                self.show(operands[0])
            elif op == b"TJ" and operands and isinstance(operands[0], ArrayObject):
                for item in operands[0]:
                    if isinstance(item, (int, float)):
                        self.advance(-float(item) / 1000 * self.size * self.tz)
                    else:
                        self.show(item)
            elif op == b"Td" or op == b"TD":
                x, y = (_number(v) for v in (operands + [0, 0])[:2])
                if op == b"TD":
                    self.tl = -y
                self.tlm = self.tm = _multiply((1.0, 0.0, 0.0, 1.0, x, y), self.tlm)
            elif op == b"Tm" and len(operands) >= 6:
                self.tlm = self.tm = tuple(_number(v) for v in operands[-6:])
            elif op in (b"T*", b"'", b'"'):
                if op == b'"' and len(operands) >= 3:
                    self.tw, self.tc = _number(operands[0]), _number(operands[1])
                self.tlm = self.tm = _multiply((1.0, 0.0, 0.0, 1.0, 0.0, -self.tl), self.tlm)
                if op != b"T*" and operands:
                    self.show(operands[-1])
            elif op == b"BT":
                self.tlm = self.tm = IDENTITY
            elif op == b"Tf" and len(operands) >= 2:
                font_dict = fonts.get(operands[0]) if isinstance(fonts, DictionaryObject) else None
                self.font = self.reading.font(font_dict.get_object()) if font_dict is not None else UNKNOWN_FONT
                self.size = _number(operands[1], self.size)
            elif op == b"q":
                self.saved.append(self.graphics())
            elif op == b"Q" and len(self.saved) > level:
                self.restore(self.saved.pop())
            elif op == b"cm" and len(operands) >= 6:
                self.ctm = _multiply(tuple(_number(v) for v in operands[-6:]), self.ctm)
            elif op == b"Do" and operands and depth < MAX_FORM_DEPTH:
                self.form(operands[0], resources, depth)
            elif op == b"Tc" and operands:
                self.tc = _number(operands[0])
            elif op == b"Tw" and operands:
                self.tw = _number(operands[0])
            elif op == b"Tz" and operands:
                self.tz = _number(operands[0], 100.0) / 100
            elif op == b"TL" and operands:
                self.tl = _number(operands[0])
            elif op == b"Ts" and operands:
                self.ts = _number(operands[0])
            elif op == b"re" and len(operands) >= 4:
                self.rectangle(*(_number(v) for v in operands[:4]))
            elif op in PATH:
                self.path = None
                if op in (b"m", b"l") and len(operands) >= 2:
                    self.line_to(op, _number(operands[0]), _number(operands[1]))
            elif op == b"W" or op == b"W*":
                self.clipping = True
            elif op in PAINT:
                self.end_path(op)
        del self.saved[level:]  # an unbalanced stream leaves no state to its caller

    def form(self, name: Any, resources: DictionaryObject, depth: int) -> None:
        """The text of a form XObject, drawn with its own matrix and resources."""
        xobjects = resources.get("/XObject")
        xobjects = xobjects.get_object() if xobjects is not None else None
        form = xobjects.get(name) if isinstance(xobjects, DictionaryObject) else None
        form = form.get_object() if form is not None else None
        if not isinstance(form, StreamObject) or form.get("/Subtype") != "/Form":
            return
        operations = self.reading.form_operations(form)
        if not operations:
            return
        saved, text = self.graphics(), (self.tm, self.tlm)
        matrix = form.get("/Matrix")
        if isinstance(matrix, ArrayObject) and len(matrix) == 6:
            self.ctm = _multiply(tuple(_number(v) for v in matrix), self.ctm)
        self.interpret(operations, form.get("/Resources", resources), depth + 1)
        self.restore(saved)
        self.tm, self.tlm = text

    def graphics(self) -> tuple:
        """What q saves (and a form's drawing leaves as it found)."""
        return self.ctm, self.font, self.size, self.tc, self.tw, self.tz, self.tl, self.ts, self.clip

    def restore(self, saved: tuple) -> None:
        self.ctm, self.font, self.size, self.tc, self.tw, self.tz, self.tl, self.ts, self.clip = saved

    def rectangle(self, x: float, y: float, w: float, h: float) -> None:
        """A rectangle added to the path, as the box it covers on the page."""
        corners = [_multiply((1.0, 0.0, 0.0, 1.0, cx, cy), self.ctm)[4:] for cx in (x, x + w) for cy in (y, y + h)]
        xs, ys = [c[0] for c in corners], [c[1] for c in corners]
        self.boxes.append((min(xs), min(ys), max(xs), max(ys)))
        if self.path is not None:
            self.path.append(self.boxes[-1])

    def line_to(self, op: bytes, x: float, y: float) -> None:
        """A path's move (m) or straight line (l), kept as a segment on the page."""
        point = _multiply((1.0, 0.0, 0.0, 1.0, x, y), self.ctm)[4:]
        if op == b"l" and self.point is not None:
            self.segments.append((*self.point, *point))
        self.point = point

    def end_path(self, op: bytes) -> None:
        """A path painted or ended. Its horizontal rules are kept (a table's borders: a thin filled
        rectangle, a stroked one's top and bottom edges, a straight line). When W made it a clip
        of rectangles, what lies outside their box is not shown (USENIX prints cover a paper's own
        page numbers so: pdftotext still reads them). A clip of curves or lines is left aside."""
        if op != b"n" and len(self.found.rules) < MAX_RULES:
            rules = self.found.rules
            for x0, y0, x1, y1 in self.boxes:
                if x1 - x0 >= RULE_WIDTH and y1 - y0 <= RULE_HEIGHT:
                    rules.append((x0, x1, (y0 + y1) / 2))
                elif x1 - x0 >= RULE_WIDTH and op in STROKE:
                    rules += [(x0, x1, y0), (x0, x1, y1)]
            rules += [
                (min(x0, x1), max(x0, x1), (y0 + y1) / 2)
                for x0, y0, x1, y1 in self.segments
                if op in STROKE and abs(y1 - y0) < 0.5 and abs(x1 - x0) >= RULE_WIDTH
            ]
        self.boxes, self.segments, self.point = [], [], None
        if self.clipping and self.path:
            x0, y0 = min(r[0] for r in self.path), min(r[1] for r in self.path)
            x1, y1 = max(r[2] for r in self.path), max(r[3] for r in self.path)
            if self.clip is not None:
                x0, y0 = max(x0, self.clip[0]), max(y0, self.clip[1])
                x1, y1 = min(x1, self.clip[2]), min(y1, self.clip[3])
            self.clip = (x0, y0, x1, y1)
        self.path, self.clipping = [], False

    def advance(self, dx: float) -> None:
        self.tm = (*self.tm[:4], self.tm[4] + dx * self.tm[0], self.tm[5] + dx * self.tm[1])

    def show(self, value: Any) -> None:
        """One string: decoded, measured, collected; the text position moves past it."""
        font = self.font
        if isinstance(value, bytes):
            if isinstance(font.encoding, str):
                raw = decoded = _decode(value, font.encoding)
            else:
                raw = value.decode("latin-1")
                decoded = "".join(font.encoding.get(b, chr(b)) for b in value)
        elif isinstance(value, str):
            raw = decoded = value
        else:
            return
        cmap = font.character_map
        text = "".join(cmap.get(c, c) for c in decoded) if cmap else decoded
        widths = font.character_widths
        default = widths.get("default", 500)
        space = font.space_char
        width = sum(font.space_width if c == space else widths.get(c, default) for c in raw)
        advance = (width / 1000 * self.size + len(raw) * self.tc + raw.count(space) * self.tw) * self.tz
        m = _multiply(self.tm, self.ctm)
        self.collect(text, m, advance)
        self.advance(advance)

    def collect(self, text: str, m: tuple, advance: float) -> None:
        found = self.found
        x, y = m[4] + self.ts * m[2], m[5] + self.ts * m[3]
        clip = self.clip
        if clip is not None and not (
            clip[0] - CLIP_SLACK <= x <= clip[2] + CLIP_SLACK and clip[1] - CLIP_SLACK <= y <= clip[3] + CLIP_SLACK
        ):
            return  # clipped away: not on the page as printed
        text = normalise(self.reading.decode(self.font, text))
        cleaned = UNREADABLE.sub("", text)
        found.drawn += len(text.replace(" ", ""))
        found.unreadable += len(text) - len(cleaned)
        if not self.font.interpretable:
            found.unreadable += len(cleaned)
            return
        if not cleaned.strip():
            return
        dx, dy = advance * m[0], advance * m[1]
        size = round(self.size * math.hypot(m[2], m[3]), 1)
        bold = bool(BOLD_NAME.search(str(self.font.name)))
        if abs(m[1]) <= abs(m[0]) and m[0] > 0:  # upright
            _add(self.upright, Run(x, y, size, bold, cleaned, x + dx))
        else:  # turned: placed in the frame of its own baseline
            ux, uy = (m[0], m[1]) if (m[0] or m[1]) else (1.0, 0.0)
            norm = math.hypot(ux, uy)
            ux, uy = ux / norm, uy / norm
            along, across = x * ux + y * uy, -x * uy + y * ux
            _add(self.rotated, Run(along, across, size, bold, cleaned, along + math.hypot(dx, dy)))


def _add(runs: list[Run], run: Run) -> None:
    """A run, joined to the one drawn before it when it goes on in the same type on the same
    baseline (Word and InDesign draw a word in several pieces, some a glyph at a time); an
    accent drawn on its own over the next letter (TeX's «p˚a») composed with it («på»)."""
    if runs:
        before = runs[-1]
        accent = ACCENTS.get(before.text[-1])
        if accent and run.x < before.end and abs(run.y - before.y) < run.size and run.text[0].isalpha():
            letter = unicodedata.normalize("NFC", run.text[0] + accent)
            before.text = before.text[:-1] + letter + run.text[1:]
            before.end = max(before.end, run.end)
            return
        gap = (run.x - before.end) / (run.size or 1.0)
        if (
            before.y == run.y and before.size == run.size and before.bold == run.bold
            and -OVERLAP <= gap <= MERGE_GAP
        ):
            between = separator(before, run)
            if between is not None:
                before.text += between + run.text
                before.end = run.end
            return
    runs.append(run)


def normalise(text: str) -> str:
    """Ligatures as letters; a soft hyphen at a run's end is a hyphen, elsewhere nothing."""
    text = LIGATURES.sub(lambda m: unicodedata.normalize("NFKC", m.group(0)), text)
    text = re.sub("\u00ad\\s*$", "-", text)
    return text.replace("\u00ad", "")
