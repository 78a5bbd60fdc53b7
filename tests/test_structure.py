"""Structure: numbered sections, theme headings, titled parts and "Forslag N:" proposals."""

from __future__ import annotations

from pathlib import Path

import pytest

from rapportsok.documents.files import read_lines
from rapportsok.passages.clean import remove_running_heads, split_footnotes
from rapportsok.passages.structure import find_numbered_headings, find_proposals, find_structure
from rapportsok.records import SourceLine


def cleaned(corpus_dir: Path, name: str) -> list[SourceLine]:
    body, _ = split_footnotes(remove_running_heads(read_lines(corpus_dir / f"{name}.txt")))
    return body


def titles_by_line(lines: list[SourceLine]) -> dict[int, str]:
    return {lines[i].lineno: m.title for i, m in find_structure(lines).items() if m.title}


@pytest.fixture(scope="module")
def white_paper(corpus_dir: Path) -> dict[int, str]:
    return titles_by_line(cleaned(corpus_dir, "meld-st-5-2024-2025"))


def test_numbered_sections_with_wrapped_titles(white_paper: dict[int, str]) -> None:
    assert white_paper[3625] == "4.3 Ny handlingsplan mot overdoser"
    assert white_paper[4237] == "5.4.1 Plikt til å forebygge"
    # "5.4.6 Forebygging i arbeids- og " / "velferdsforvaltningen NAV"
    assert white_paper[5501] == "5.4.6 Forebygging i arbeids- og velferdsforvaltningen NAV"
    # a title wrapped over four lines
    assert white_paper[10548] == (
        "8.5 Behandlingstilbudet til personer som bruker anabole steroider og andre prestasjonsfremmende midler"
    )
    assert white_paper[7369] == "7.2.3 Hjemmetjenester mv."
    assert white_paper[1] == "1 Innledning"


def test_numbered_lists_and_years_are_not_headings(white_paper: dict[int, str], corpus_dir: Path) -> None:
    # "2. Forsterket innsats mot overdoser" is item 2 of a list inside 1.2
    assert 338 not in white_paper and 318 not in white_paper
    assert len([t for t in white_paper.values() if t.split()[0] == "2"]) == 1
    strategy = titles_by_line(cleaned(corpus_dir, "rusreformen-2004"))
    # the fourteen numbered principles after chapter 1 ("1. Tilbudet må møte ...")
    assert not any(132 <= line <= 210 for line in strategy)
    assert strategy[211] == "2 Staten overtar ansvar for behandlingstiltak for rusmiddelmisbrukere"
    assert strategy[901] == "7.3 Legemiddelassistert rehabilitering"


def test_numbering_must_continue() -> None:
    texts = [
        "1 Innledning", "Tekst.", "1.1 Bakgrunn", "3 Tabellrad", "1.2 Mål", "12 Kommuner har svart", "2 Behandling"
    ]
    lines = [SourceLine(t, i, None) for i, t in enumerate(texts, start=1)]
    found = find_numbered_headings(lines, skip={})
    assert [m.title for _, m in sorted(found.items())] == ["1 Innledning", "1.1 Bakgrunn", "1.2 Mål", "2 Behandling"]


def test_regjeringen_vil_is_its_own_section(white_paper: dict[int, str]) -> None:
    assert white_paper[3525] == "4.1.1 Regjeringen vil:"
    assert white_paper[2657] == "3.1.3 Regjeringen vil"


def test_2010_theme_headings_and_wrapped_subheadings(corpus_dir: Path) -> None:
    titles = titles_by_line(cleaned(corpus_dir, "stoltenberg-rapporten-2010"))
    assert titles[272] == "FOREBYGGING"
    # "Reaksjonsformer ved bruk og " / "besittelse av narkotika " directly followed by prose
    assert titles[350] == "Reaksjonsformer ved bruk og besittelse av narkotika"
    assert titles[1371] == "Innsatte med narkotikaproblemer"
    assert "Egenandeler" in titles.values()
    # after "... tannhelsetjeneste.59" (a sentence ending in a footnote reference), a title
    # wrapped onto a parenthesised line: "Behandling med legemidler " / "(LAR) "
    assert titles[1658] == "Behandling med legemidler (LAR)"
    assert titles[2154] == "Hvem kan ha nytte av behandling med heroin?"


def test_2010_proposals_1_to_22_with_headlines(corpus_dir: Path) -> None:
    lines = cleaned(corpus_dir, "stoltenberg-rapporten-2010")
    proposals = sorted(find_proposals(lines).values(), key=lambda m: m.proposal)
    assert [m.proposal for m in proposals] == list(range(1, 23))
    headline = {m.proposal: m.headline for m in proposals}
    assert headline[9] == "Etabler mottaks- og oppfølgingssentre over hele landet (MO-sentre)"
    assert headline[7] == "Intensiver kampen mot omsetning av narkotiske stoffer på internett"  # " Forslag 7:"
    assert headline[4] == (
        "Etabler tverrfaglige nemnder som vurderer tiltak for personer som pågripes for bruk og besittelse av narkotika"
    )
    assert headline[22].startswith("Åpne for et tidsbegrenset forsøksprosjekt der behandling med heroin")
    assert proposals[21].note == "(fra Andresen, Haga, Hagen, Skog Hansen og Stoltenberg)"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("mandat-stoltenberg-utvalget-2009", ["Bakgrunn", "Mandat", "Problembeskrivelse", "Forslag til tiltak",
                                              "Avgrensing", "Administrative og økonomiske konsekvenser",
                                              "Prosedyrer og tidsfrister"]),
        ("hoeringsinnspill-narkotikapolitiforening", ["Høringsinnspill fra Norsk narkotikapolitiforening",
                                                      "ROP pasienter som kasteball i akutte situasjoner", "Ettervern",
                                                      "Botilbud", "LAR", "Forebygging og koordinering"]),
    ],
)
def test_titled_parts_of_small_documents(corpus_dir: Path, name: str, expected: list[str]) -> None:
    titles = list(titles_by_line(cleaned(corpus_dir, name)).values())
    assert [t for t in titles if t in expected] == expected
    assert len(titles) <= len(expected) + 1  # at most the document title on top


def test_an_unnumbered_subheading_opens_a_subsection_of_its_numbered_section(corpus_dir: Path) -> None:
    # meld-st-5-2024-2025.txt lines 3580-3582: "Nalokson" alone between blank lines, then its paragraph
    from rapportsok.passages.cut import read_document

    _, passages = read_document(corpus_dir / "meld-st-5-2024-2025.txt", None, 260)
    opening = next(p for p in passages if p.text.startswith("Nalokson er et legemiddel"))
    assert opening.section == "4.2 Oppfølging av overdosestrategien og videreføring av tiltak — Nalokson"
    assert not any("Nalokson Nalokson" in p.text for p in passages)
    after = next(p for p in passages if p.line_start and p.line_start >= 3625)
    assert after.section == "4.3 Ny handlingsplan mot overdoser"  # the next numbered section ends it


# ---------------------------------------------------------------- headings from more than type size


def layout(*rows: tuple[str, str], sheet: int = 1) -> list[SourceLine]:
    """Lines as the PDF reader gives them: (role, text); "" for a blank line."""
    return [SourceLine(text, None, sheet, str(sheet), sheet, role=role or "body") for role, text in rows]


BODY = ("body", "Her står brødtekst som forklarer saken grundig for leseren.")


def test_proposal_headline_kept_whole_when_its_last_line_is_set_apart() -> None:
    """A LibreOffice PDF sets a headline's last line (ending in a stop) apart from its bold first line."""
    lines = layout(
        ("heading", "Forslag 1:"), ("", ""),
        ("heading", "Tilby avtaler om oppfølging som alternativ til påtale og anmerkning i straffe-"), ("", ""),
        ("body", "registeret."), ("", ""), BODY,
        ("heading", "Forslag 2:"), ("", ""),
        ("heading", "Åpne for et forsøksprosjekt med heroin i LAR. (fra Andresen og Haga)"), ("", ""), BODY,
    )
    marks = {m.proposal: m for m in find_structure(lines).values() if m.proposal}
    whole = "Tilby avtaler om oppfølging som alternativ til påtale og anmerkning i strafferegisteret"
    assert marks[1].headline == whole
    assert marks[2].headline == "Åpne for et forsøksprosjekt med heroin i LAR"
    assert marks[2].note == "(fra Andresen og Haga)"


def test_numbered_headings_in_body_type_beside_bold_lines() -> None:
    """Numbered headings set in body type are sections although other lines are bold; a number
    glued to its title («2Bakgrunn») is a heading too."""
    lines = layout(
        ("heading", "Sammendrag"), ("", ""), BODY, ("", ""),
        ("body", "1 Innledning"), ("", ""), BODY, ("", ""),
        ("body", "1.1 Om rapporten"), ("", ""), BODY, ("", ""),
        ("heading", "Viktige funn"), ("", ""), BODY, ("", ""),
        ("body", "2Bakgrunn"), ("", ""), BODY, ("", ""),
        ("body", "2.1 Markedet"), ("", ""), BODY, ("", ""),
        ("body", "2.1.1 Markedspriser"), ("", ""), BODY,
    )
    titles = [m.title for _, m in sorted(find_structure(lines).items())]
    assert titles == [
        "Sammendrag", "1 Innledning", "1.1 Om rapporten", "Viktige funn", "2 Bakgrunn", "2.1 Markedet",
        "2.1.1 Markedspriser",
    ]
    subs = {m.title for m in find_structure(lines).values() if m.sub}
    assert subs == {"Viktige funn"}  # an unnumbered heading inside chapter 1


def test_labels_captions_and_page_foot_labels_are_not_sections() -> None:
    lines = [
        *layout(("heading", "1 Innledning"), ("", ""), BODY, ("", ""), ("heading", "Type:"), BODY, ("", ""),
                ("heading", "Begrunnelse/kommentar:"), BODY, ("", ""),
                ("heading", "Figur 3.2 Utviklingen i antall brukere"), ("", ""), BODY, ("", ""),
                ("heading", "Tabell 4.1 Kostnader per år"), ("", ""), BODY, ("", ""), ("heading", "Kap. 581"), sheet=1),
        *layout(BODY, ("", ""), ("heading", "Bolig og aktivitet"), ("", ""), BODY, sheet=2),
    ]
    titles = [m.title for m in find_structure(lines).values()]
    assert titles == ["1 Innledning", "Bolig og aktivitet"]


def test_a_table_of_contents_does_not_lead_the_numbering() -> None:
    lines = layout(
        ("body", "1 Introduction 1"), ("body", "2 The Consensus Algorithm 1"), ("body", "3 Implementing 8"),
        ("", ""), ("body", "01 Nov 2001"), ("", ""),
        ("body", "1 Introduction"), ("", ""), BODY, ("", ""), ("body", "2 The Consensus Algorithm"), ("", ""),
        BODY, ("", ""), ("body", "2.1 The Problem"), ("", ""), BODY,
    )
    assert [m.title for _, m in sorted(find_numbered_headings(lines, {}).items())] == [
        "1 Introduction", "2 The Consensus Algorithm", "2.1 The Problem"
    ]


def test_a_wrapped_title_with_a_long_first_line_stays_out_of_the_next_sentence(corpus_dir: Path) -> None:
    titles = set(titles_by_line(cleaned(corpus_dir, "meld-st-5-2024-2025")).values())
    assert "Riksrevisjonens undersøkelse av helse-, opplærings- og velferdstjenester til innsatte i fengsel" in titles
    assert "Tiltak for å sikre kunnskapsbasert informasjon og forskning på forebygging" in titles
    report = titles_by_line(cleaned(corpus_dir, "stoltenberg-rapporten-2010"))
    assert "Mottaks- og oppfølgingssentre" in set(report.values())


def test_a_short_paragraph_ending_in_a_note_reference_is_prose_not_a_title(corpus_dir: Path) -> None:
    # stoltenberg-rapporten-2010.txt line 579: «Dette utgjør antagelig under 1 prosent av rus-» /
    # «injeksjonene som settes i Oslo hver dag.21» between blank lines, after a block of notes
    titles = set(titles_by_line(cleaned(corpus_dir, "stoltenberg-rapporten-2010")).values())
    assert not any(t.startswith("Dette utgjør antagelig") for t in titles)
    assert "Mottaks- og oppfølgingssentre" in titles
