"""Scanned PDFs (page images, no text layer) read through OCR, the optional `ocr` extra: passages with
their headings, proposals, footnotes and printed pages; the page cache; and, without the extra, one
warning naming the install step. The scans are made here: text drawn onto page images (Pillow)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from pdfgen import Layout, sample_body, score, typeset
from pypdf import PdfWriter
from scangen import Line, image_pdf, pages_right, scanned_page

from rapportsok.documents.ocr import INSTALL, TASK, Ocr, missing
from rapportsok.errors import CorpusError
from rapportsok.indexing.build import build
from rapportsok.passages.cut import read_document
from rapportsok.querying.index import Index
from rapportsok.querying.search import search
from rapportsok.settings import Settings

REPO = Path(__file__).resolve().parent.parent
HEAD = "Testrapport om rusfeltet 2031"
BODY = (
    "Kommunene har ansvar for lavterskeltilbud til personer som bruker rusmidler. Tiltakene skal "
    "nå dem som ikke oppsøker hjelp selv, og de skal gi oppfølging etter en overdose. "
)
NOTE = "Kilde: Helsedirektoratet, tall for overdosedødsfall i 2030."


def _need_ocr() -> None:
    """In CI (which installs tesseract and the extra) missing OCR is a failure, elsewhere a skip."""
    reason = missing()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(f"OCR tests: {reason}")
        pytest.skip(f"OCR tests need the ocr extra and tesseract ({reason}): {INSTALL}")


def scanned_report(path: Path) -> Path:
    """Three scanned pages printed as 7-9: running head, numbered headings, a footnote, two proposals."""
    pages = [
        scanned_page(
            HEAD,
            [Line("1 Innledning", 16, True), Line(BODY * 2, note_ref="1"), Line("1.1 Bakgrunn", 13, True),
             Line("Utvalget har hørt brukerorganisasjonene om sprøyterom og legemiddelassistert behandling. " * 3)],
            [f"1 {NOTE}"],
            "7",
        ),
        scanned_page(
            HEAD,
            [Line("2 Utvalgets forslag", 16, True), Line("Forslag 1: Innfør en nasjonal naloksonordning."),
             Line("Nalokson skal deles ut gratis i alle kommuner, også til pårørende. " * 2, gap=0),
             Line("Forslag 2: Styrk oppfølgingen etter overdose."),
             Line("Sykehusene skal melde fra til kommunen når en pasient er behandlet for overdose. " * 2, gap=0)],
            [],
            "8",
        ),
        scanned_page(
            HEAD,
            [Line("3 Avslutning", 16, True),
             Line("Til slutt vurderer utvalget skadereduksjon som en del av en helhetlig ruspolitikk. " * 3)],
            [],
            "9",
        ),
    ]
    return image_pdf(pages, path)


def test_a_scanned_report_is_read_with_headings_proposals_footnotes_and_printed_pages(tmp_path):
    _need_ocr()
    ocr = Ocr(tmp_path / "cache")
    document, passages = read_document(scanned_report(tmp_path / "skannet.pdf"), None, 260, ocr=ocr)
    assert ocr.recognised == 3 and not ocr.warnings
    text = " ".join(p.text for p in passages if p.kind == "text")
    assert "lavterskeltilbud til personer som bruker rusmidler" in text
    assert "sprøyterom og legemiddelassistert behandling" in text  # Norwegian letters recognised
    assert HEAD not in text and "Testrapport" not in text  # the running head is furniture
    assert NOTE not in text and "overdose.1" not in text and "overdose.*" not in text  # note and its mark out
    notes = [p for p in passages if p.kind == "footnote"]
    assert len(notes) == 1 and NOTE in notes[0].text and (notes[0].page, notes[0].sheet) == (7, 1)
    proposals = {p.proposal: p for p in passages if p.proposal}
    assert {n: p.headline for n, p in proposals.items()} == {
        1: "Innfør en nasjonal naloksonordning", 2: "Styrk oppfølgingen etter overdose"
    }
    assert all((p.page, p.sheet) == (8, 2) for p in proposals.values())
    sections = {p.section for p in passages}
    assert {"1 Innledning", "1.1 Bakgrunn", "2 Utvalgets forslag", "3 Avslutning"} <= sections
    closing = next(p for p in passages if "skadereduksjon" in p.text)
    assert (closing.section, closing.page, closing.page_label, closing.sheet) == ("3 Avslutning", 9, "9", 3)
    assert document.title == "1 Innledning"


def test_a_scanned_two_column_report_keeps_its_reading_order_footnotes_and_pages(tmp_path):
    """A report typeset in two columns (tests/pdfgen: running heads, page-number footers, footnotes),
    rendered to 200-dpi images and wrapped as a scan, reads as the typeset text: every passage found
    in it with its start and end page, the footnotes out of the running text, no furniture."""
    _need_ocr()
    import pypdfium2

    truth = typeset(tmp_path / "satt.pdf", sample_body(3, 2), Layout(columns=2, page_labels=False, head_numbers=False),
                    toc=False)
    pdf = pypdfium2.PdfDocument(tmp_path / "satt.pdf")
    images = [pdf[i].render(scale=200 / 72, grayscale=True).to_pil() for i in range(len(pdf))]
    pdf.close()
    _, passages = read_document(image_pdf(images, tmp_path / "skannet.pdf"), None, 260, ocr=Ocr(None))
    located, right = pages_right(passages, truth)
    assert located == 1.0 and right == 1.0
    scored = score(passages, truth)
    assert scored["notes_out_of_text"] == 1.0 and scored["furniture_leaks"] == 0
    sections = {part for p in passages if p.section for part in p.section.split(" — ")}
    assert {h for h, _ in truth.headings} <= sections  # bold ones at body size too: told by their strokes


def test_a_rebuild_reads_no_page_twice_and_the_proposal_is_found(tmp_path):
    _need_ocr()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    scanned_report(corpus / "skannet.pdf")
    settings = Settings.resolve(corpus, tmp_path / "index")
    first = build(settings)
    assert first.ocr_pages == 3 and (settings.index / "cache" / "ocr.sqlite").is_file()
    assert "3 skannede sider lest med OCR" in first.summary()
    again = build(settings, full=True)  # every document read again: the pages come from the cache
    assert again.ocr_pages == 0 and again.passages == first.passages
    hit = search(Index.load(settings), "nasjonal naloksonordning", k=3).hits[0]
    assert (hit.passage.proposal, hit.passage.page, hit.passage.sheet) == (1, 8, 2)
    ticks: list[tuple[int, int, str]] = []
    (corpus / "skannet.pdf").rename(corpus / "kopi.pdf")  # a new file name, the same pages
    build(settings, progress=lambda done, total, task: ticks.append((done, total, task)))
    assert (TASK in {t for _, _, t in ticks}) and (3, 3, TASK) in ticks


def test_a_text_pdf_with_a_scanned_sheet_has_that_sheet_read(tmp_path, make_pdf):
    """`index` reads documents in budgeted workers without OCR; a PDF with text on some sheets and a
    scan on another is read again with OCR, so the scanned sheet is searchable too."""
    _need_ocr()
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    writer = PdfWriter(clone_from=make_pdf(tmp_path / "tekst.pdf", ["Brodtekst om lavterskeltilbud og nalokson."]))
    writer.append(str(scanned_report(tmp_path / "skannet.pdf")), pages=[1])
    writer.write(corpus / "blandet.pdf")
    settings = Settings.resolve(corpus, tmp_path / "index")
    report = build(settings)
    assert report.ocr_pages == 1 and not report.warnings, report.warnings
    hit = search(Index.load(settings), "nasjonal naloksonordning", k=3).hits[0]
    assert (hit.passage.proposal, hit.passage.sheet) == (1, 2)


def test_a_language_tesseract_lacks_is_named(tmp_path):
    _need_ocr()
    with pytest.raises(CorpusError, match="tesseract has no language xyz"):
        read_document(scanned_report(tmp_path / "skannet.pdf"), None, 260, ocr=Ocr(None, "nor+xyz"))


def test_without_ocr_a_scanned_pdf_is_one_warning_naming_the_install_step(tmp_path, make_pdf):
    """Tesseract kept off the PATH (as on a machine without it): the scanned file is one warning, a PDF
    with a scanned page gives its text pages and one warning naming that sheet, the text file is
    indexed as ever."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    shutil.copy(REPO / "corpus" / "mandat-stoltenberg-utvalget-2009.txt", corpus)
    scanned_report(corpus / "skannet.pdf")
    writer = PdfWriter(clone_from=make_pdf(tmp_path / "tekst.pdf", ["Brodtekst om lavterskeltilbud og nalokson."]))
    writer.append(str(corpus / "skannet.pdf"), pages=[0])
    writer.write(corpus / "blandet.pdf")
    bin_dir = tmp_path / "bin"  # only this Python: no tesseract
    bin_dir.mkdir()
    (bin_dir / "python").symlink_to(sys.executable)
    env = {**os.environ, "PATH": str(bin_dir)}
    result = subprocess.run(
        [sys.executable, "-m", "rapportsok", "index", "--corpus", str(corpus), "--index", str(tmp_path / "index")],
        capture_output=True, text=True, timeout=300, env=env,
    )
    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if line.startswith("advarsel:")]
    assert len(warnings) == 2, result.stderr
    mixed, scanned = sorted(warnings)
    for warning in warnings:
        assert "pip install -e '.[ocr]'" in warning and "apt-get install tesseract-ocr tesseract-ocr-nor" in warning
    assert "skannet.pdf" in scanned and "no text layer" in scanned
    assert "blandet.pdf" in mixed and "no readable text on sheet 2 " in mixed
    docs = {p.doc for p in Index.load(Settings.resolve(corpus, tmp_path / "index")).passages}
    assert docs == {"mandat-stoltenberg-utvalget-2009", "blandet"}


def test_the_ocr_extra_is_optional():
    """`pip install -e .` pulls no OCR package, and reading or searching loads none."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    ocr_packages = {"pytesseract", "pypdfium2"}
    assert not {d.split(">")[0].split("=")[0] for d in project["dependencies"]} & ocr_packages
    assert {d.split(">")[0].split("=")[0] for d in project["optional-dependencies"]["ocr"]} == ocr_packages
    loaded = subprocess.run(
        [sys.executable, "-c", "import sys, rapportsok.facade, rapportsok.passages.cut;"
         "print(sorted(m for m in ('pytesseract', 'pypdfium2') if m in sys.modules))"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert loaded.stdout.strip() == "[]"
