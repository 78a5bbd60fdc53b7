"""Reading a web page (.html/.htm) with lxml: the main content only, h1–h6 as headings with the
id a link can point to, footnotes and endnotes apart from the text.

What is not content goes first: scripts, forms, navigation, menus, cookie banners, page headers
and footers, hidden elements and lists that are nothing but links (a table of contents). A
footnote is what a numbered link in the text points to further down the page ("<a
href="#fn3">3</a>", LibreOffice's "sdfootnote", Word's "_ftn"), or an element marked as one."""

from __future__ import annotations

import re

import lxml.html
from lxml import etree

from ...errors import CorpusError
from .outline import BULLET, Numbers, Outline, Source, title_of, year_of

HEADINGS = {"h1": 1, "h2": 2, "h3": 3, "h4": 4, "h5": 5, "h6": 6}
BLOCKS = {
    "address", "article", "aside", "blockquote", "body", "dd", "details", "div", "dl", "dt", "figcaption",
    "figure", "footer", "header", "hr", "li", "main", "ol", "p", "pre", "section", "summary", "table",
    "tbody", "thead", "tfoot", "tr", "ul", *HEADINGS,
}  # fmt: skip
NOT_CONTENT = ["script", "style", "noscript", "template", "nav", "form", "button", "select", "iframe",
               "svg", "dialog", "object", "canvas", "menu", "input", "textarea"]  # fmt: skip
FURNITURE_ROLES = {"navigation", "banner", "contentinfo", "search", "menu", "menubar", "dialog", "alertdialog"}
# Class or id words of page furniture ("cookie-banner", "site-nav", "breadcrumbs", "share-buttons").
FURNITURE = re.compile(
    r"(?:^|[\s_-])(?:nav|navbar|navigation|menu|mainmenu|breadcrumbs?|skip|share|sharing|social|sidebar|"
    r"toc|pagination|banner|newsletter|search|site-?header|site-?footer)(?:$|[\s_-])|cookie|consent|gdpr",
    re.IGNORECASE,
)
NOTE_MARKED = re.compile(r"foot-?note|end-?note|fotnote|sluttnote", re.IGNORECASE)
NUMBERED = re.compile(r"^\d{1,2}(?:\.\d{1,2})*\.?\s")
NOTE_NUMBER = re.compile(r"^\s*[\[(]?\d{1,3}[\])]?\s*$")
NOTE_LEAD = re.compile(r"^[\[(]?\d{1,3}[\]).]?\s+")  # a note's own number before its text
NOTE_HOLDERS = {"li", "p", "div", "aside", "section", "dd", "dt", "td", "span"}
LINK_LIST_SHARE = 0.8  # a list whose text is mostly links is navigation
MIN_LINKS = 3
SITE_NAME = re.compile(r"\s+[-|–—]\s+[\w.-]+\.[a-z]{2,}\s*$")  # " - regjeringen.no"
DATE_META = ("dcterms.issued", "dcterms.date", "dc.date", "dc.date.issued", "date", "article:published_time")


def read_web(data: bytes, name: str) -> Source:
    """The page's main content: headings with their ids, paragraphs, lists, table rows and notes."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = None  # lxml reads the page's own charset declaration
    try:
        root = lxml.html.document_fromstring(text if text is not None else data)
    except (etree.ParserError, ValueError) as exc:
        raise CorpusError(f"{name}: not a readable web page ({exc})") from exc
    for comment in root.xpath("//comment() | //processing-instruction()"):
        _drop(comment)
    notes = _footnotes(root)
    main = _main(root)
    _clean(main, notes)
    page = _Page(notes)
    page.walk(main)
    return Source(page.outline.lines, _title(root, main), _year(root))


class _Page:
    def __init__(self, notes: dict[etree._Element, etree._Element]) -> None:
        self.outline = Outline()
        self.notes = notes  # reference link -> the note it points to
        self.given: set[etree._Element] = set()
        self.numbers = Numbers()

    def walk(self, element: etree._Element, bullet: str = "") -> None:
        """Block by block; inline runs between blocks are paragraphs (a list item's first opens with a bullet)."""
        tag = element.tag if isinstance(element.tag, str) else ""
        if tag in HEADINGS:
            text = _squeezed(self.inline(element))
            count = _list_count(element)
            if count is not None and not NUMBERED.match(text):  # "<ol start="2"><li><h2>": LibreOffice's export
                text = f"{self.numbers.next(HEADINGS[tag], count)} {text}"
            self.outline.heading(text, _anchor(element))
            return
        if tag == "tr":
            cells = [self.inline(cell) for cell in element if cell.tag in ("td", "th")]
            self.outline.paragraph(" | ".join(c for c in cells if c.strip()))
            return
        if tag in NOTE_HOLDERS and NOTE_MARKED.search(_names(element)):  # a note with no link to it
            text = NOTE_LEAD.sub("", _note_text(element))
            if text:  # not the emptied list of notes read where they were referred to
                self.outline.note(text)
                self.outline.paragraph("")
            return
        bullet = BULLET if tag == "li" else bullet
        run = [element.text or ""]
        for child in element:
            if isinstance(child.tag, str) and child.tag in BLOCKS:
                bullet = self.flush(run, bullet)
                self.walk(child, bullet if child.tag == "p" else "")
                bullet = "" if child.tag == "p" else bullet
                run = [child.tail or ""]
            else:
                run += [self.inline(child), child.tail or ""]
        self.flush(run, bullet)

    def flush(self, run: list[str], bullet: str) -> str:
        """The inline run as a paragraph; the bullet still to be used (none once a paragraph took it)."""
        text = _squeezed("".join(run))
        if not text:
            return bullet
        self.outline.paragraph(f"{bullet} {text}" if bullet else text)
        return ""

    def inline(self, element: etree._Element) -> str:
        """An element's text, its note references handed to the outline."""
        if element in self.notes:
            note = self.notes[element]
            if note not in self.given:
                self.given.add(note)
                self.outline.note(_note_text(note))
            return ""
        if element.tag == "br":
            return " "
        parts = [element.text or ""]
        for child in element:
            if isinstance(child.tag, str):
                parts.append(self.inline(child))
            parts.append(child.tail or "")
        return "".join(parts)


def _list_count(heading: etree._Element) -> int | None:
    """The number a browser shows before a heading that is the first thing in an item of an <ol>."""
    item = heading.getparent()
    if item is None or item.tag != "li" or item.index(heading) != 0 or _squeezed(item.text or ""):
        return None
    numbered = item.getparent()
    if numbered is None or numbered.tag != "ol":
        return None
    if (item.get("value") or "").isdigit():
        return int(item.get("value"))
    start = int(numbered.get("start")) if (numbered.get("start") or "").isdigit() else 1
    return start + [el for el in numbered if el.tag == "li"].index(item)


def _footnotes(root: etree._Element) -> dict[etree._Element, etree._Element]:
    """Reference link -> note: numbered in-page links to a later element, the note being the
    largest element around the target that holds no other note and no reference."""
    ids = {el.get("id") or el.get("name"): el for el in root.iter() if el.get("id") or el.get("name")}
    order = {el: i for i, el in enumerate(root.iter())}
    refs: dict[etree._Element, etree._Element] = {}
    for link in root.iter("a"):
        target = ids.get((link.get("href") or "")[1:]) if (link.get("href") or "").startswith("#") else None
        if target is not None and NOTE_NUMBER.match(link.text_content()) and order[target] > order[link]:
            refs[_ref_element(link)] = target
    targets = set(refs.values())
    found: dict[etree._Element, etree._Element] = {}
    for ref, target in refs.items():
        note = target
        while not (isinstance(note.tag, str) and note.tag in NOTE_HOLDERS) and note.getparent() is not None:
            note = note.getparent()
        while (parent := note.getparent()) is not None and parent.tag in ("div", "aside", "section", "span"):
            inside = set(parent.iter())
            if (inside & targets) - set(note.iter()) or inside & set(refs):
                break
            note = parent
        if not _holds_heading(note):  # a numbered link to a chapter is a cross-reference, not a note
            found[ref] = note
    return found


def _ref_element(link: etree._Element) -> etree._Element:
    """The reference as it stands in the text: the link, or the <sup> around it."""
    parent = link.getparent()
    same = parent is not None and _squeezed(parent.text_content()) == _squeezed(link.text_content())
    return parent if same and parent.tag == "sup" else link


def _main(root: etree._Element) -> etree._Element:
    """The page's main content: <main>, role="main", the largest <article>, or the body."""
    for path in ("//main", "//*[@role='main']"):
        found = root.xpath(path)
        if found:
            return found[0]
    articles = root.xpath("//article")
    if articles:
        return max(articles, key=lambda a: len(a.text_content()))
    body = root.find("body")
    return body if body is not None else root


def _clean(main: etree._Element, notes: dict[etree._Element, etree._Element]) -> None:
    """Everything that is not content out of `main`; the notes out of the running text (they are read
    where they are referred to)."""
    keep = set(notes) | {el for note in notes.values() for el in note.iter()}
    half = len(main.text_content()) / 2
    for element in list(main.iter()):
        if not isinstance(element.tag, str) or element in keep or element.getparent() is None:
            continue
        furniture = not NOTE_MARKED.search(_names(element)) and (
            element.get("role") in FURNITURE_ROLES
            or (element.tag in ("header", "footer", "aside") and not _holds_heading(element))
            or FURNITURE.search(_names(element))
        )  # by its name only: never what holds most of the page ("content has-sidebar")
        if (
            element.tag in NOT_CONTENT
            or element.get("hidden") is not None
            or element.get("aria-hidden") == "true"
            or re.search(r"display\s*:\s*none", element.get("style") or "")
            or (furniture and len(element.text_content()) < half)
            or _link_list(element)
        ):
            _drop(element)
    for note in set(notes.values()):
        if note.getparent() is not None:
            _drop(note)


def _holds_heading(element: etree._Element) -> bool:
    """An article's own <header> holds its title: that one is content."""
    return any(el.tag in HEADINGS for el in element.iter())


def _link_list(element: etree._Element) -> bool:
    """A list or block of links only (a table of contents, "see also"): navigation."""
    if element.tag not in ("ul", "ol", "dl", "div"):
        return False
    links = element.findall(".//a")
    total = len(_squeezed(element.text_content()))
    linked = sum(len(_squeezed(a.text_content())) for a in links)
    return len(links) >= MIN_LINKS and total > 0 and linked / total >= LINK_LIST_SHARE


def _drop(element: etree._Element) -> None:
    """Remove an element but keep the text after it."""
    parent = element.getparent()
    if parent is None:
        return
    tail = element.tail or ""
    previous = element.getprevious()
    if previous is not None:
        previous.tail = (previous.tail or "") + tail
    else:
        parent.text = (parent.text or "") + tail
    parent.remove(element)


def _note_text(note: etree._Element) -> str:
    """A note's text without its back links ("↩", its own number linking back to the text)."""
    copy = lxml.html.fromstring(etree.tostring(note, with_tail=False))
    for link in copy.xpath(".//a[starts-with(@href, '#')]"):
        _drop(link)
    for element in copy.iter():
        if element.tag in BLOCKS or element.tag == "br":  # "overdoser.</p><p>Andre" is two sentences
            element.tail = " " + (element.tail or "")
    return _squeezed(copy.text_content())


def _anchor(heading: etree._Element) -> str | None:
    """The id a link to this heading uses: its own, an anchor inside it or just before it, or its
    section's when it opens one."""
    named = [a.get("id") or a.get("name") for a in heading.iter("a")]
    own = heading.get("id") or next((name for name in named if name), None)
    if own:
        return own
    previous = heading.getprevious()
    if previous is not None and previous.tag == "a" and not _squeezed(previous.text_content()):
        return previous.get("id") or previous.get("name")
    parent = heading.getparent()
    if parent is not None and parent.tag in ("section", "div", "article") and parent.index(heading) == 0:
        return parent.get("id")
    return None


def _names(element: etree._Element) -> str:
    return f"{element.get('class') or ''} {element.get('id') or ''} {element.get('role') or ''}"


def _title(root: etree._Element, main: etree._Element) -> str | None:
    """The page's <title> without the site's name after it ("Meld. St. 5 - regjeringen.no"), else
    its one <h1>."""
    title = title_of(SITE_NAME.sub("", root.findtext(".//title") or ""))
    first = main.findall(".//h1")
    return title or (_squeezed(first[0].text_content()) if len(first) == 1 else None)


def _year(root: etree._Element) -> int | None:
    for meta in root.iter("meta"):
        key = (meta.get("name") or meta.get("property") or "").lower()
        if key in DATE_META and year_of(meta.get("content")):
            return year_of(meta.get("content"))
    return None


def _squeezed(text: str) -> str:
    return " ".join(text.split())
