"""Word, OpenDocument, web pages and Markdown: fixtures written here with the same libraries (and a
hand-made footnotes part for Word), read back with their headings, footnotes, proposals and tables."""

from __future__ import annotations

import json
import shutil
import subprocess
import threading
import time
import zipfile
from pathlib import Path

import httpx
import pytest
from formatgen import NAVIGATION, notes_of, write_docx, write_html, write_markdown, write_odt
from pdfgen import Heading, Para, Table, sample_body
from serving import clone_index, serve, shared

from rapportsok.documents.files import list_documents
from rapportsok.errors import CorpusError
from rapportsok.indexing.build import build
from rapportsok.indexing.watch import watch as watch_loop
from rapportsok.passages.cut import read_document
from rapportsok.querying.index import Index
from rapportsok.querying.search import search
from rapportsok.records import proposals_of
from rapportsok.settings import Settings

PROPOSALS = [
    Heading("4 Utvalgets forslag", 1),
    Para("Utvalget foreslår følgende tiltak for å styrke oppfølgingen.{fn:Se mandatet punkt 3 om tiltak.}"),
    Para("Forslag 2: Gi kommunene et lovfestet ansvar for oppfølging etter behandling."),
    Para("Kommunene skal ha ansvar for bolig og aktivitet etter utskrivning."),
    Para("Forslag 3: Opprett lavterskel helsetilbud i alle storbyer."),
    Para("Tilbudet skal være åpent hele døgnet."),
    Para("• Oppfølging i bolig"),
    Para("• Arbeid og aktivitet"),
    Table([["Tiltak", "Kostnad"], ["Ruskoordinator", "12 mill"], ["Brukerstyrte senger", "30 mill"]]),
]
BODY = sample_body(seed=2, chapters=3) + PROPOSALS
WRITE = {
    "docx": lambda path: write_docx(path, BODY, "Rapport om oppfølging", 2012),
    "odt": lambda path: write_odt(path, BODY, "Rapport om oppfølging", 2012),
    "html": lambda path: write_html(path, BODY, "Rapport om oppfølging", 2012),
}


def notes_in(body: list) -> list[str]:
    return [note for item in body if isinstance(item, Para) for note in notes_of(item.text)[1]]


@pytest.mark.parametrize("fmt", ["docx", "odt", "html"])
def test_structure_notes_proposals_and_tables_are_read(tmp_path: Path, fmt: str) -> None:
    path = tmp_path / f"rapport.{fmt}"
    WRITE[fmt](path)
    document, passages = read_document(path, None)
    assert (document.title, document.year) == ("Rapport om oppfølging", 2012)  # from the file's properties
    sections = {part for p in passages if p.section for part in p.section.split(" — ")}
    headings = [h.text for h in BODY if isinstance(h, Heading)]
    assert set(headings) <= sections  # Word's automatic numbers included ("2.1 ...")
    running = " ".join(p.text for p in passages if p.kind == "text")
    footnotes = " ".join(p.text for p in passages if p.kind == "footnote")
    notes = notes_in(BODY)
    assert notes and all(note in footnotes and note not in running for note in notes)
    assert [(p.proposal, p.headline) for p in proposals_of(passages)][1:] == [  # 1 is in sample_body's chapter 2
        (2, "Gi kommunene et lovfestet ansvar for oppfølging etter behandling"),
        (3, "Opprett lavterskel helsetilbud i alle storbyer"),
    ]
    assert "Ruskoordinator | 12 mill" in running and "• Oppfølging i bolig" in running
    cited = next(p for p in passages if p.proposal == 3)
    assert cited.source().startswith("Rapport om oppfølging (2012), kap. 4 Utvalgets forslag, Forslag 3")
    assert cited.line_start is None and "linje" not in cited.source()  # paragraph order is not a location
    assert cited.page is None


def test_a_footnote_stays_in_the_section_that_refers_to_it(tmp_path: Path) -> None:
    path = tmp_path / "rapport.docx"
    WRITE["docx"](path)
    _, passages = read_document(path, None)
    note = next(p for p in passages if p.kind == "footnote" and "Se mandatet punkt 3" in p.text)
    assert note.section == "4 Utvalgets forslag"


def test_word_numbering_is_computed_as_word_prints_it(tmp_path: Path) -> None:
    body = [Heading("1 Innledning", 1), Para("Tekst."), Heading("1.1 Bakgrunn", 2), Para("Mer."),
            Heading("1.2 Mandat", 2), Para("Mer."), Heading("2 Tiltak", 1), Para("Tekst."),
            Heading("2.1 Forebygging", 2), Para("Slutt.")]  # fmt: skip
    path = tmp_path / "numbered.docx"
    write_docx(path, body, auto_numbers=True)
    with zipfile.ZipFile(path) as archive:
        assert "Forebygging</w:t>" in archive.read("word/document.xml").decode()  # no number in the text
        assert "2.1 Forebygging" not in archive.read("word/document.xml").decode()
    _, passages = read_document(path, None)
    sections = ["1 Innledning", "1.1 Bakgrunn", "1.2 Mandat", "2 Tiltak", "2.1 Forebygging"]
    assert [p.section for p in passages] == sections


def test_a_web_page_keeps_its_content_and_section_ids_and_drops_the_rest(tmp_path: Path) -> None:
    path = tmp_path / "meld.html"
    WRITE["html"](path)
    _, passages = read_document(path, None)
    text = " ".join(p.text for p in passages) + " ".join(p.section or "" for p in passages)
    assert not [n for n in NAVIGATION if n in text]
    assert "window.dataLayer" not in text and "Godta" not in text
    section = next(p for p in passages if p.section and p.section.startswith("2.1 "))
    assert section.link == "meld.html#kap2-1"
    assert section.source().endswith(", meld.html#kap2-1")
    url = "https://www.regjeringen.no/no/dokumenter/meld.-st.-5-20242025/id3055424/"
    _, linked = read_document(path, {"url": url, "citation": "Meld. St. 5 (2024–2025)"})
    section = next(p for p in linked if p.section and p.section.startswith("2.1 "))
    assert section.link == f"{url}#kap2-1"
    assert section.source().startswith("Meld. St. 5 (2024–2025), kap. 2.1 ") and section.source().endswith("#kap2-1")


@pytest.mark.parametrize(
    ("ref", "note", "section"),
    [
        (  # LibreOffice's export
            '<a class="sdfootnoteanc" name="sdfootnote1anc" href="#sdfootnote1sym"><sup>1</sup></a>',
            '<div id="sdfootnote1"><p><a class="sdfootnotesym" name="sdfootnote1sym" href="#sdfootnote1anc">1</a>'
            "Helsedirektoratet (2023): Tall om overdoser.</p><p>Andre avsnitt av noten.</p></div>",
            "1 Overdoser",
        ),
        (  # Word's "save as web page"
            '<a href="#_ftn1" name="_ftnref1"><span class="MsoFootnoteReference">[1]</span></a>',
            '<div style="mso-element:footnote-list"><div id="ftn1"><p><a href="#_ftnref1" name="_ftn1">[1]</a>'
            " Helsedirektoratet (2023): Tall om overdoser.</p><p>Andre avsnitt av noten.</p></div></div>",
            "1 Overdoser",
        ),
        (  # pandoc's
            '<a href="#fn1" class="footnote-ref" id="fnref1" role="doc-noteref"><sup>1</sup></a>',
            '<section id="footnotes" class="footnotes" role="doc-endnotes"><hr><ol><li id="fn1"><p>Helsedirektoratet'
            ' (2023): Tall om overdoser.</p><p>Andre avsnitt av noten.<a href="#fnref1" class="footnote-back">↩︎</a>'
            "</p></li></ol></section>",
            "1 Overdoser",
        ),
        (  # no link to it: a note by its class
            "<sup>1</sup>",
            '<aside class="footnote"><p>1 Helsedirektoratet (2023): Tall om overdoser.</p><p>Andre avsnitt av noten.'
            "</p></aside>",
            "2 Tiltak",  # where it stands
        ),
    ],
)
def test_exported_web_pages_keep_their_footnotes_apart(tmp_path: Path, ref: str, note: str, section: str) -> None:
    page = (
        '<html><head><meta charset="utf-8"><title>Notat</title></head><body>'
        '<h1 id="tittel">Notat om overdoser</h1><h2 id="kap1">1 Overdoser</h2>'
        f"<p>Overdosetallene har vært stabile de siste årene.{ref} Det er fortsatt for mange.</p>"
        '<h2 id="kap2">2 Tiltak</h2><p>Nalokson bør deles ut bredt.</p>'
        f"{note}</body></html>"
    )
    path = tmp_path / "notat.html"
    path.write_text(page, encoding="utf-8")
    _, passages = read_document(path, None)
    body = [p for p in passages if p.kind == "text"]
    notes = [p for p in passages if p.kind == "footnote"]
    assert body[0].text == "Overdosetallene har vært stabile de siste årene. Det er fortsatt for mange."
    assert not any("Helsedirektoratet" in p.text for p in body)
    assert len(notes) == 1 and notes[0].text == "1 Helsedirektoratet (2023): Tall om overdoser. Andre avsnitt av noten."
    assert notes[0].section == section and notes[0].link == f"notat.html#kap{section[0]}"


def test_markdown_headings_lists_and_line_numbers(tmp_path: Path) -> None:
    path = tmp_path / "notat.md"
    write_markdown(path, BODY, "Notat om oppfølging")
    document, passages = read_document(path, None)
    assert document.title == "Notat om oppfølging"
    sections = {part for p in passages if p.section for part in p.section.split(" — ")}
    assert {h.text for h in BODY if isinstance(h, Heading)} <= sections
    assert [p.proposal for p in proposals_of(passages)] == [1, 2, 3]
    lines = path.read_text(encoding="utf-8").splitlines()
    item = next(p for p in passages if "• Oppfølging i bolig" in p.text)
    assert "- Oppfølging i bolig" in lines[item.line_start - 1 : item.line_end]  # lines of the file itself


@pytest.mark.parametrize(
    ("name", "data", "reason"),
    [
        ("tom.docx", b"PK\x05\x06" + b"\0" * 18, "corrupt docx file"),
        ("skadet.docx", b"not a zip at all", "corrupt file (not a zip archive)"),
        ("skadet.odt", b"PK\x03\x04 truncated", "corrupt file (not a zip archive)"),
        ("tom.html", b"<html><body><nav><a href='/'>Forsiden</a></nav></body></html>", "no text found"),
    ],
)
def test_damaged_files_are_one_clear_error(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(CorpusError) as error:
        read_document(path, None)
    assert reason in str(error.value) and "\n" not in str(error.value)


def test_a_zip_bomb_is_refused_before_it_is_unpacked(tmp_path: Path) -> None:
    path = tmp_path / "bombe.docx"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("word/document.xml", b"<" + b"a" * 3_000_000 + b"/>")
    with pytest.raises(CorpusError, match="unpacks to over"):
        read_document(path, None, max_bytes=100_000)


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return shared("small", tmp_path_factory)


def test_every_format_goes_through_the_incremental_index(built: Settings, tmp_path: Path) -> None:
    settings = clone_index(built, tmp_path)
    WRITE["docx"](settings.corpus / "rapport-word-2012.docx")
    WRITE["odt"](settings.corpus / "rapport-odt-2012.odt")
    WRITE["html"](settings.corpus / "meld-web.html")
    write_markdown(settings.corpus / "notat.md", BODY, "Notat om oppfølging")
    url = "https://www.regjeringen.no/no/dokumenter/meld-web/id1/"
    metadata = json.loads((settings.corpus / "metadata.json").read_text(encoding="utf-8"))
    metadata["meld-web"] = {"url": url, "citation": "Meld. St. 99 (2012–2013)"}
    (settings.corpus / "metadata.json").write_text(json.dumps(metadata), encoding="utf-8")
    assert len(list_documents(settings.corpus)[0]) == 6
    report = build(settings)
    assert report.added == 4 and report.unchanged == 2  # the two text reports are not read again
    index = Index.load(settings)
    hits = search(index, "lavterskel helsetilbud i alle storbyer", k=10).hits
    docs = {h.passage.doc for h in hits if h.passage.proposal == 3}
    assert {"rapport-word-2012", "rapport-odt-2012", "meld-web", "notat"} <= docs
    web = next(h for h in hits if h.passage.doc == "meld-web")
    assert web.as_dict()["link"] == f"{url}#kap4" and web.as_dict()["source"].endswith(f"{url}#kap4")
    with serve(settings, tmp_path / "serve.log") as server:  # the JSON and the page a person reads
        query = {"q": "lavterskel helsetilbud i alle storbyer", "k": 10}
        found = httpx.get(server.url + "/search", params=query, timeout=60).json()["hits"]
        assert {h["link"] for h in found if h["doc"] == "meld-web"} == {f"{url}#kap4"}
        assert {h["link"] for h in found if h["doc"] == "rapport-word-2012"} == {None}
        page = httpx.get(server.url + "/", params=query, timeout=60).text
        assert f'<a class="web" href="{url}#kap4" rel="noopener">Åpne avsnittet på nettet</a>' in page
        assert f'data-source="Meld. St. 99 (2012–2013), kap. 4 Utvalgets forslag, Forslag 3, {url}#kap4"' in page


def test_watch_picks_up_a_word_file(built: Settings, tmp_path: Path) -> None:
    settings = clone_index(built, tmp_path)
    index = Index.load(settings)
    stop = threading.Event()
    reports = []
    kwargs = {"on_build": reports.append, "stop": stop, "embedder": index.embedder}
    thread = threading.Thread(target=watch_loop, args=(settings,), kwargs=kwargs)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not reports and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        write_docx(settings.corpus / "notat-2025.docx", [Heading("1 Snøskred", 1), Para("Snøskredsikring av hytter.")])
        while len(reports) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(reports) >= 2 and reports[-1].added == 1
        hit = search(Index.load(settings, embedder=index.embedder), "snøskredsikring", k=1).hits[0]
        assert hit.passage.doc == "notat-2025" and hit.passage.section == "1 Snøskred"
    finally:
        stop.set()
        thread.join(timeout=10)


def test_headings_numbered_by_a_list_around_them_get_their_number(tmp_path: Path) -> None:
    """LibreOffice keeps Word's heading numbering as a numbered list around the headings."""
    from odf.opendocument import OpenDocumentText
    from odf.text import H, List, ListItem, ListLevelStyleNumber, ListStyle, P

    document = OpenDocumentText()
    style = ListStyle(name="WWNum1")
    for level in (1, 2):
        style.addElement(ListLevelStyleNumber(level=level, numformat="1", displaylevels=level))
    document.automaticstyles.addElement(style)

    def heading(level: int, title: str) -> None:
        outer = List(stylename="WWNum1")
        item = ListItem()
        if level == 2:
            inner = List()
            inner_item = ListItem()
            inner_item.addElement(H(outlinelevel=2, text=title))
            inner.addElement(inner_item)
            item.addElement(inner)
        else:
            item.addElement(H(outlinelevel=1, text=title))
        outer.addElement(item)
        document.text.addElement(outer)
        document.text.addElement(P(text=f"Tekst om {title.lower()}."))

    for level, title in [(1, "Innledning"), (2, "Bakgrunn"), (2, "Mandat"), (1, "Tiltak"), (2, "Forebygging")]:
        heading(level, title)
    document.save(str(tmp_path / "liste.odt"))
    page = (
        "<html><body><ol><li><h1>Innledning</h1></li></ol><p>Tekst om innledning.</p>"
        '<ol><ol><li><h2 id="b">Bakgrunn</h2></li></ol></ol><p>Tekst om bakgrunn.</p>'
        '<ol><ol start="2"><li><h2>Mandat</h2></li></ol></ol><p>Tekst om mandat.</p>'
        '<ol start="2"><li><h1>Tiltak</h1></li></ol><p>Tekst om tiltak.</p>'
        "<ol><ol><li><h2>Forebygging</h2></li></ol></ol><p>Tekst om forebygging.</p></body></html>"
    )
    (tmp_path / "liste.html").write_text(page, encoding="utf-8")
    for name in ("liste.odt", "liste.html"):
        _, passages = read_document(tmp_path / name, None)
        sections = ["1 Innledning", "1.1 Bakgrunn", "1.2 Mandat", "2 Tiltak", "2.1 Forebygging"]
        assert [p.section for p in passages] == sections, name


@pytest.mark.skipif(not shutil.which("soffice"), reason="LibreOffice (soffice) is not installed")
@pytest.mark.parametrize(("source", "target"), [("docx", "odt"), ("docx", "html"), ("odt", "docx")])
def test_libreoffice_exports_are_read_alike(tmp_path: Path, source: str, target: str) -> None:
    """Word's numbering and footnotes as LibreOffice writes them into another format."""
    path = tmp_path / f"rapport.{source}"
    WRITE[source](path)
    profile = f"-env:UserInstallation={(tmp_path / 'profil').as_uri()}"  # its own: another soffice may be running
    command = ["soffice", profile, "--headless", "--convert-to", target, "--outdir", str(tmp_path / "ut"), str(path)]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    _, passages = read_document(tmp_path / "ut" / f"rapport.{target}", None)
    sections = {part for p in passages if p.section for part in p.section.split(" — ")}
    assert {h.text for h in BODY if isinstance(h, Heading)} <= sections
    running = " ".join(p.text for p in passages if p.kind == "text")
    footnotes = " ".join(p.text for p in passages if p.kind == "footnote")
    assert all(note in footnotes and note not in running for note in notes_in(BODY))
    assert [p.proposal for p in proposals_of(passages)] == [1, 2, 3]


def test_a_word_proposal_list_numbered_by_word_is_found(tmp_path: Path) -> None:
    """A numbered list whose number reads "Forslag 1:" (Word's lvlText "Forslag %1:")."""
    from docx import Document
    from docx.oxml import parse_xml

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document = Document()
    numbering = document.part.numbering_part.element
    numbering.insert(0, parse_xml(
        f'<w:abstractNum xmlns:w="{w}" w:abstractNumId="80"><w:lvl w:ilvl="0"><w:start w:val="1"/>'
        '<w:numFmt w:val="decimal"/><w:lvlText w:val="Forslag %1:"/></w:lvl></w:abstractNum>'
    ))  # fmt: skip
    numbering.append(parse_xml(f'<w:num xmlns:w="{w}" w:numId="80"><w:abstractNumId w:val="80"/></w:num>'))
    document.add_paragraph("Forslagene", style="Heading 1")
    for headline, body in [("Styrk oppfølgingen etter behandling.", "Kommunene har ansvaret."),
                           ("Del ut nalokson til alle som trenger det.", "Nesespray redder liv.")]:  # fmt: skip
        paragraph = document.add_paragraph(headline)
        paragraph._p.get_or_add_pPr().append(
            parse_xml(f'<w:numPr xmlns:w="{w}"><w:ilvl w:val="0"/><w:numId w:val="80"/></w:numPr>')
        )
        document.add_paragraph(body)
    document.save(tmp_path / "forslag.docx")
    _, passages = read_document(tmp_path / "forslag.docx", None)
    assert [(p.proposal, p.headline) for p in proposals_of(passages)] == [
        (1, "Styrk oppfølgingen etter behandling"), (2, "Del ut nalokson til alle som trenger det")
    ]


def test_a_word_table_of_contents_is_left_out(tmp_path: Path) -> None:
    """Word's table of contents: a content control of the "Table of Contents" gallery, or lines in TOC styles."""
    from docx import Document
    from docx.enum.style import WD_STYLE_TYPE
    from docx.oxml import parse_xml
    from docx.oxml.ns import qn

    w = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
    document = Document()
    end = document.element.body.find(qn("w:sectPr"))

    def control(gallery: str, text: str) -> None:
        properties = f'<w:docPartObj><w:docPartGallery w:val="{gallery}"/></w:docPartObj>' if gallery else ""
        end.addprevious(parse_xml(
            f'<w:sdt xmlns:w="{w}"><w:sdtPr>{properties}</w:sdtPr>'
            f"<w:sdtContent><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:sdtContent></w:sdt>"
        ))  # fmt: skip

    document.add_paragraph("Innhold", style="Heading 1")
    control("Table of Contents", "1 Innledning ........ 5")
    document.add_paragraph("2 Tiltak ........ 9", style=document.styles.add_style("toc 1", WD_STYLE_TYPE.PARAGRAPH))
    control("", "Tekst i en innholdskontroll.")
    document.add_paragraph("1 Innledning", style="Heading 1")
    document.add_paragraph("Brødtekst om innledningen.")
    document.save(tmp_path / "innhold.docx")
    _, passages = read_document(tmp_path / "innhold.docx", None)
    text = " ".join(p.text for p in passages)
    assert "........" not in text
    assert "Tekst i en innholdskontroll." in text and "Brødtekst om innledningen." in text


def test_a_metadata_url_must_be_a_web_address(tmp_path: Path) -> None:
    from rapportsok.documents.metadata import read_metadata

    path = tmp_path / "metadata.json"
    good = "https://www.regjeringen.no/no/dokumenter/nou-2019-26/id2682370/"
    entries = {"a": {"url": good}, "b": {"url": "javascript:alert(1)", "year": 2019}}
    path.write_text(json.dumps(entries), encoding="utf-8")
    entries, warnings = read_metadata(path)
    assert entries == {"a": {"url": good}, "b": {"year": 2019}}
    assert len(warnings) == 1 and "'b'" in warnings[0] and "url" in warnings[0]


def test_word_lock_files_are_not_documents(tmp_path: Path) -> None:
    WRITE["docx"](tmp_path / "rapport.docx")
    (tmp_path / "~$rapport.docx").write_bytes(b"\x0bOla Nordmann" + b"\0" * 150)  # Word's owner file while open
    paths, notes = list_documents(tmp_path)
    assert [p.name for p in paths] == ["rapport.docx"] and notes == []


def test_opendocument_outline_numbering_is_counted(tmp_path: Path) -> None:
    """Headings numbered by the document's outline numbering (Tools > Chapter numbering), no number in the text."""
    from odf.opendocument import OpenDocumentText
    from odf.text import H, OutlineLevelStyle, OutlineStyle, P

    document = OpenDocumentText()
    outline = OutlineStyle(name="Outline")
    for level in (1, 2):
        outline.addElement(OutlineLevelStyle(level=level, numformat="1", displaylevels=level))
    document.styles.addElement(outline)
    for level, title in [(1, "Innledning"), (2, "Bakgrunn"), (1, "Tiltak"), (2, "Forebygging"), (2, "Behandling")]:
        document.text.addElement(H(outlinelevel=level, text=title))
        document.text.addElement(P(text=f"Tekst om {title.lower()}."))
    document.save(str(tmp_path / "kapitler.odt"))
    _, passages = read_document(tmp_path / "kapitler.odt", None)
    sections = ["1 Innledning", "1.1 Bakgrunn", "2 Tiltak", "2.1 Forebygging", "2.2 Behandling"]
    assert [p.section for p in passages] == sections
