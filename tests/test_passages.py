"""Passages: structure-following cuts, pages and proposals from PDFs, stable ids, dev-key coverage."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from rapportsok.documents.files import list_documents, load_metadata, metadata_for
from rapportsok.passages import read_document
from rapportsok.records import Passage, proposals_of

PDF_PAGES = [
    "1 Innledning\nUtvalget har vurdert tiltak for de mest hjelpetrengende rusmiddelavhengige.\n"
    "1.1 Bakgrunn\nMange har langvarig avhengighet og trenger hjelp over tid.",
    "2 Forslag\nForslag 1:\nEtabler mottaks- og oppfolgingssentre\nover hele landet.\n"
    "Sentrene skal samle ansvaret for oppfolging og koordinering av behandling.",
    "Forslag 2:\nAvvikle egenandelene for behandling.\nEgenandeler hindrer mange i a soke hjelp tidlig.",
]


def read_passages(corpus_dir: Path, max_words: int) -> list[Passage]:
    """Every document of the folder cut into passages, with its metadata, as a build reads it."""
    metadata, _ = load_metadata(corpus_dir)
    paths, _ = list_documents(corpus_dir)
    return [p for path in paths for p in read_document(path, metadata_for(metadata, path), max_words)[1]]


@pytest.fixture(scope="module")
def passages(corpus_dir: Path) -> list[Passage]:
    return read_passages(corpus_dir, max_words=200)


def test_pdf_passages_carry_printed_page_section_and_proposal(tmp_path: Path, make_pdf) -> None:
    path = make_pdf(tmp_path / "utvalg.pdf", PDF_PAGES, labels={0: 17})
    document, passages = read_document(path, None, max_words=40)
    assert document.title == "1 Innledning"
    by_proposal = {p.proposal: p for p in passages}
    first = by_proposal[1]
    assert " ".join(first.text.split()).startswith(
        "Forslag 1: Etabler mottaks- og oppfolgingssentre over hele landet. Sentrene skal"
    )
    assert (first.page, first.section, first.headline) == (
        18, "2 Forslag", "Etabler mottaks- og oppfolgingssentre over hele landet"
    )
    assert (first.line_start, first.line_end) == (None, None)
    assert (by_proposal[2].page, by_proposal[2].headline) == (19, "Avvikle egenandelene for behandling")
    assert by_proposal[None].page == 17 and by_proposal[None].section.startswith("1")


def test_pdf_without_labels_uses_page_index(tmp_path: Path, make_pdf) -> None:
    _, passages = read_document(make_pdf(tmp_path / "u.pdf", PDF_PAGES), None)
    assert [p.page for p in passages if p.proposal] == [2, 3]


def test_proposals_of_the_2010_report(passages: list[Passage]) -> None:
    proposals = proposals_of(passages, "stoltenberg-rapporten-2010")
    assert [p.proposal for p in proposals] == list(range(1, 23))
    assert proposals[8].headline == "Etabler mottaks- og oppfølgingssentre over hele landet (MO-sentre)"
    first = {p.passage_id: p for p in passages}
    for proposal in proposals:
        assert first[proposal.passage_id].text.startswith(f"Forslag {proposal.proposal}: {proposal.headline}.")
    assert all(p.doc == "stoltenberg-rapporten-2010" for p in proposals_of(passages))


def test_passages_never_cross_a_proposal_or_section(passages: list[Passage]) -> None:
    for p in passages:
        starts = re.findall(r"Forslag (\d+): ", p.text)
        assert starts in ([], [str(p.proposal)]), p.passage_id
        assert not starts or p.text.startswith("Forslag")


def test_text_is_clean(passages: list[Passage]) -> None:
    text = "\n".join(p.text for p in passages)
    for leftover in ["Meld. St. 5 59", "78 Meld. St. 5", "Trygghet, fellesskap og verdighet\n",
                     "Rapport om narkotika |",
                     "narko- tika", "narkotika- bruk", "Medietilsynet (2010): Barn og digitale medier 2010. bruk"]:
        assert leftover not in text
    assert re.search(r"\n\d{1,3}\n", text) is None  # lone page numbers
    assert "helse- og omsorgstjenester" in text and "LAR-behandling" in text
    assert "injiserer heroin i Norge. Bruken av sprøyter" in text  # "Norge.1" lost its note mark


def test_footnotes_are_separate_passages(passages: list[Passage]) -> None:
    notes = [p for p in passages if p.kind == "footnote"]
    assert any(p.text.startswith("9 Medietilsynet (2010)") for p in notes)
    assert not any("Medietilsynet (2010)" in p.text for p in passages if p.kind == "text")


def test_sizes_follow_max_words(corpus_dir: Path) -> None:
    for max_words in (120, 250):
        sizes = [len(p.text.split()) for p in read_passages(corpus_dir, max_words)]
        assert min(sizes) > 0 and max(sizes) <= 1.5 * max_words
        assert sorted(sizes)[len(sizes) // 2] > max_words / 2


def test_regjeringen_vil_list_stays_together(passages: list[Passage]) -> None:
    lists = [p for p in passages if p.section == "3.1.3 Regjeringen vil"]
    assert len(lists) == 1 and "foreslå endringer i brukerromslov" in lists[0].text


def test_ids_are_stable_and_unique(corpus_dir: Path, passages: list[Passage]) -> None:
    again = read_passages(corpus_dir, max_words=200)
    assert [p.passage_id for p in again] == [p.passage_id for p in passages]
    assert len({p.passage_id for p in passages}) == len(passages)


def test_repeated_text_gets_a_suffixed_id(tmp_path: Path) -> None:
    same = "Dette avsnittet står to ganger i dokumentet, ord for ord, og er langt nok til å stå alene som passasje."
    (tmp_path / "dobbel.txt").write_text(f"Del A\n\n{same}\n\nDel B\n\n{same}\n", encoding="utf-8")
    _, passages = read_document(tmp_path / "dobbel.txt", None)
    ids = [p.passage_id for p in passages if p.text == same]
    assert len(ids) == 2 and ids[1] == f"{ids[0]}-2"


def test_text_passages_know_their_lines(passages: list[Passage]) -> None:
    found = [p for p in passages if "er en ideell forening med rundt 3500 medlemmer" in p.text]
    assert len(found) == 1 and found[0].line_start <= 2 <= found[0].line_end


def test_white_paper_pages_near_headers(passages: list[Passage]) -> None:
    pages = {p.page for p in passages if p.doc == "meld-st-5-2024-2025" and p.page}
    assert {59, 78, 80, 144} <= pages
    assert all(p.page is None for p in passages if p.doc == "stoltenberg-rapporten-2010")


def test_text_sources_cite_short_title_year_and_chapter_never_lines(passages: list[Passage]) -> None:
    p = next(p for p in passages if p.section and p.section.startswith("4.3") and p.page is None)
    assert p.source() == f"Meld. St. 5 (2024–2025), kap. {p.section}"
    assert not any(re.search(r"\blinje", p.source()) for p in passages)  # «retningslinjer» is a word, not a line


def test_boxes_and_footnote_numbers_leave_the_running_text(passages: list[Passage]) -> None:
    """A box no longer cuts the sentence it interrupts; reference numbers between sentences go."""
    texts = [" ".join(p.text.split()) for p in passages if p.kind == "text"]
    joined = "\n".join(texts)
    assert "Den forebyggende innsatsen overfor barn og unge er derfor avgjørende." in joined
    assert "Hensikten er å bidra til å senke terskelen for psykisk helsehjelp." in joined
    assert any(
        t.startswith("Boks 1.1 Sentrale begreper Rusmidler omfatter") or "Boks 1.1 Sentrale begreper" in t
        for t in texts
    )
    assert "forebyg-Boks" not in joined and "Hensikten Boks" not in joined
    assert "internasjonal sammenheng.» Urinprøver ble i 2007" in joined
    assert "tannhelsetjeneste.59" not in joined and "LAR. 82 Et" not in joined


def test_quotes_hold_no_footnote_heading_or_reference_number(passages: list[Passage]) -> None:
    """The quotes issue 19 found: a footnote's last line after a sentence, a heading run into the
    next sentence, a reference number set apart, a dash inside a sentence opening a passage."""
    texts = [" ".join(p.text.split()) for p in passages if p.kind == "text"]
    joined = "\n".join(texts)
    assert "sprøyterommet daglig. sprøyterom." not in joined and "sprøyterommet daglig." in joined
    assert "i fengsel En forutsetning" not in joined
    assert "tildelt en koordinator. Koordinatoren" in joined and "koordinator 43." not in joined
    assert "ødelagte tenner – kort sagt, behandling av rusavhengighet" in joined
    assert not any(t.startswith("– kort sagt") for t in texts)
    notes = "\n".join(p.text for p in passages if p.kind == "footnote")
    assert "18 Olsen & Skretting (2007): Evaluering av prøveordning med sprøyterom.\n" in notes


def test_pdf_footnotes_by_numbering_and_position(tmp_path: Path) -> None:
    """Footnotes in small type at the page foot: a skipped number opens its own note, small type
    without a number in sequence (a back cover) stays text, and no note runs over pages."""
    from fpdf import FPDF

    pdf = FPDF()
    notes = {1: [(1, "Kilde: Helsedirektoratet 2009."), (3, "Tallet er usikkert.")],
             2: [(4, "Se kapittel 4.")], 3: []}
    for sheet in (1, 2, 3):
        pdf.add_page()
        pdf.set_font("Helvetica", size=11)
        topic = {1: "behandling", 2: "oppfølging", 3: "forebygging"}[sheet]  # pages alike but in numbers are furniture
        pdf.multi_cell(0, 6, " ".join(f"Avsnitt {k} om {topic} av brukere i kommune nr. {k}." for k in range(6)))
        pdf.set_font("Helvetica", size=8)
        pdf.set_y(260)
        for number, text in notes[sheet]:
            pdf.cell(0, 4, f"{number} {text}", new_x="LMARGIN", new_y="NEXT")
        if sheet == 3:
            pdf.cell(0, 4, "Utgitt av Departementet, trykk og design", new_x="LMARGIN", new_y="NEXT")
    path = tmp_path / "noter.pdf"
    pdf.output(str(path))
    _, passages = read_document(path, None)
    found = [(p.text, p.page_label, p.page_end_label) for p in passages if p.kind == "footnote"]
    assert found == [("1 Kilde: Helsedirektoratet 2009.\n\n3 Tallet er usikkert.\n\n4 Se kapittel 4.", "1", "2")]
    assert any("Utgitt av Departementet" in p.text for p in passages if p.kind == "text")


def test_a_text_file_without_metadata_is_titled_by_its_first_line_or_else_its_name(tmp_path: Path) -> None:
    """A title line names the file; a file that opens with running text (a heading run into its
    first paragraph) is named by its file name, not by a sentence cut at 120 letters."""
    paragraph = "Gjennom sykehusreformen ble behandlingstiltak for rusmiddelmisbrukere overført til staten " * 3
    (tmp_path / "med-tittel.txt").write_text(f"Tiltak mot overdoser\n\n{paragraph}\n")
    (tmp_path / "rusreformen-2004.txt").write_text(f"Forord {paragraph}\n\n{paragraph}\n")
    titles = [read_document(tmp_path / name, None, 260)[0].title for name in ("med-tittel.txt", "rusreformen-2004.txt")]
    assert titles == ["Tiltak mot overdoser", "rusreformen-2004"]
