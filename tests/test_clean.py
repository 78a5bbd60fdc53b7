"""Cleaning rules, each checked on lines copied from the corpus."""

from __future__ import annotations

from pathlib import Path

from rapportsok.documents.files import read_lines
from rapportsok.passages.clean import (
    Footnote,
    drop_spaced_note_refs,
    join_lines,
    lift_boxes,
    lift_layout_notes,
    remove_running_heads,
    split_footnotes,
    strip_note_refs,
)
from rapportsok.records import SourceLine


def lines(*texts: str) -> list[SourceLine]:
    return [SourceLine(text, i, None) for i, text in enumerate(texts, start=1)]


def test_word_hyphenated_across_lines_is_rejoined() -> None:
    # stoltenberg-rapporten-2010.txt
    assert join_lines(
        ["Hva er god hjelp for en som er avhengig av narko-", "tika? Kan sykdommen «avhengighet» forebygges? "]
    ) == (
        "Hva er god hjelp for en som er avhengig av narkotika? Kan sykdommen «avhengighet» forebygges?"
    )
    # meld-st-5-2024-2025.txt, with the stray space after the hyphen some lines have
    assert join_lines(["erfaringer med rusmidler allerede i ungdoms- ", "skolealderen. De fleste unge"]) == (
        "erfaringer med rusmidler allerede i ungdomsskolealderen. De fleste unge"
    )


def test_suspended_hyphen_survives_a_line_break() -> None:
    # meld-st-5-2024-2025.txt: the line breaks right after "helse-"
    assert join_lines(
        ["på rusmiddelrelaterte problemstillinger på helse- ", "og velferdsområdet. Meldingen må ses i sammen-"]
    ) == (
        "på rusmiddelrelaterte problemstillinger på helse- og velferdsområdet. Meldingen må ses i sammen-"
    )
    # mandat-stoltenberg-utvalget-2009.txt: suspended hyphen inside the line, a broken word at its end
    assert join_lines(["tjenesten, herunder forholdet mellom første- og annenlinje-", "tjenesten, forholdet"]) == (
        "tjenesten, herunder forholdet mellom første- og annenlinjetjenesten, forholdet"
    )
    assert join_lines(["med rus- eller psykiske lidelser"]) == "med rus- eller psykiske lidelser"


def test_hyphen_after_capital_is_a_real_hyphen() -> None:
    # meld-st-5-2024-2025.txt
    assert join_lines(["målgruppen ikke mottar eller ønsker å motta LAR-", "behandling på tross av mulig nytte"]) == (
        "målgruppen ikke mottar eller ønsker å motta LAR-behandling på tross av mulig nytte"
    )
    # stoltenberg-rapporten-2010.txt: suspended hyphen after an abbreviation
    assert join_lines(["for spesialisert behandling fra tilbud som ACT- ", "og FACT-team, men som likevel"]) == (
        "for spesialisert behandling fra tilbud som ACT- og FACT-team, men som likevel"
    )


def test_whitespace_is_normalised() -> None:
    assert join_lines(["  Ved utgangen av 2003 mottok\u00a0i underkant av 2\u00a0500  ", "", "slik behandling. "]) == (
        "Ved utgangen av 2003 mottok i underkant av 2 500 slik behandling."
    )


WHITE_PAPER_PAGE_BREAKS = lines(
    "gevinster av forbedret fysisk kapasitet (176).",
    "",
    "2024–2025 Meld. St. 5 59",
    "Trygghet, fellesskap og verdighet",
    "som det er kvalifisert mistanke om ulovlig befat-",
    "ning med narkotika, kan politiet bruke tvangsmid-",
    "det lettere å samhandle om mål, planlegge ",
    "",
    "60 Meld. St. 5 2024–2025",
    "Trygghet, fellesskap og verdighet",
    "behandlingen og styrke brukerinvolvering. Der-",
)


def test_page_headers_and_running_title_are_removed_and_give_pages() -> None:
    cleaned = remove_running_heads(WHITE_PAPER_PAGE_BREAKS)
    texts = [line.text for line in cleaned]
    assert not any("Meld. St. 5" in t or "Trygghet, fellesskap" in t for t in texts)
    page = {line.text: line.page for line in cleaned}
    assert page["som det er kvalifisert mistanke om ulovlig befat-"] == 59
    assert page["behandlingen og styrke brukerinvolvering. Der-"] == 60
    assert page["gevinster av forbedret fysisk kapasitet (176)."] == 58


def test_pages_learned_from_the_real_white_paper(corpus_dir: Path) -> None:
    cleaned = remove_running_heads(read_lines(corpus_dir / "meld-st-5-2024-2025.txt"))
    by_line = {line.lineno: line for line in cleaned}
    assert 6809 not in by_line and 6810 not in by_line  # "78 Meld. St. 5 2024–2025" and the running title
    assert by_line[6811].text.startswith("behandlingen og styrke") and by_line[6811].page == 78
    assert by_line[6806].page == 77
    assert by_line[1].page is None  # far from any header: no guess


def test_section_footer_and_stray_page_number_are_removed() -> None:
    # stoltenberg-rapporten-2010.txt lines 536-543
    cleaned = remove_running_heads(
        lines("tverrfaglig team med representanter fra kriminalomsorg, sosial- ", "",
              "Rapport om narkotika | FOREBYGGING       ", "", " 18", "", "rom, som ligger i Oslo sentrum.")
    )
    assert [line.text for line in cleaned if line.text] == [
        "tverrfaglig team med representanter fra kriminalomsorg, sosial- ",
        "rom, som ligger i Oslo sentrum.",
    ]


def test_footnotes_inside_a_hyphenated_word_are_lifted_out(corpus_dir: Path) -> None:
    # stoltenberg-rapporten-2010.txt lines 299-306, read with the footnotes numbered before them:
    # "narkotika-" / "" / "9  Medietilsynet ..." / "" / "10  I denne ..." / "" / "bruk.11 For å treffe ..."
    source = read_lines(corpus_dir / "stoltenberg-rapporten-2010.txt")[:306]
    assert source[298].text.endswith("narkotika-") and source[305].text.startswith("bruk.11")
    body, notes = split_footnotes(source)
    joined = join_lines([line.text for line in body if line.lineno >= 299])
    text = strip_note_refs(joined, {n.number for n in notes} | {11})
    assert text == "som gir opplysninger om narkotika og narkotikabruk. For å treffe ungdom må informasjonen"
    assert [(n.number, join_lines([line.text for line in n.lines])) for n in notes[-2:]] == [
        (9, "Medietilsynet (2010): Barn og digitale medier 2010."),
        (10, "I denne aldersgruppen er Facebook og Nettby de mest brukte."
             " Facebook ble etablert i 2004, Nettby i 2006."),
    ]


def test_footnote_glued_to_a_line_end_is_lifted_out() -> None:
    # meld-st-5-2024-2025.txt lines 151-153
    body, notes = split_footnotes(
        lines(
            "Den forebyg-1 Regjeringens overordnede mål for helse- og omsorgspoli-",
            "",
            "tikken er: 1. God helse og mestring i befolkningen, uavhen-",
        )
    )
    assert [line.text for line in body] == ["Den forebyg-"]
    assert notes[0].number == 1 and notes[0].lines[-1].text.startswith("tikken er")


def test_note_refs_go_but_real_numbers_stay() -> None:
    notes = {1, 3, 8}
    assert (strip_note_refs("injiserer heroin i Norge.1 Bruken av sprøyter", notes)
            == "injiserer heroin i Norge. Bruken av sprøyter")
    assert (strip_note_refs("brukte heroin sporadisk i 2008.8 Hvordan kan vi", notes)
            == "brukte heroin sporadisk i 2008. Hvordan kan vi")
    assert (strip_note_refs("I et historisk perspektiv3 har rusmiddelproblemer", notes)
            == "I et historisk perspektiv har rusmiddelproblemer")
    for kept in ["jf. boks 3.1 og kapittel 8", "rundt 8000 personer", "kapasitet (176).", "15–20 år", "§ 6-2a"]:
        assert strip_note_refs(kept, notes) == kept


def test_a_footnotes_last_line_on_a_page_start_stays_in_the_footnote(corpus_dir: Path) -> None:
    """«... daglig.20» / «18  Olsen & Skretting (2007): Evaluering av prøveordning med» /
    « sprøyterom.» / «19  Ifølge ...»: the indented last line belongs to note 18, not the text."""
    source = read_lines(corpus_dir / "stoltenberg-rapporten-2010.txt")[:600]
    body, notes = split_footnotes(source)
    note = next(n for n in notes if n.number == 18)
    expected = "Olsen & Skretting (2007): Evaluering av prøveordning med sprøyterom."
    assert join_lines([line.text for line in note.lines]) == expected
    assert not any(line.text.strip() == "sprøyterom." for line in body)


def test_a_reference_number_set_apart_before_a_stop_goes() -> None:
    """«koordinator 43.» loses its 43 when note 43 follows on the page; «fra 25 til 43.» far
    from any note 43, and numbers that are no notes, stay."""
    body = lines(
        "må få tildelt en koordinator 43. Koordinatoren blir en helt",
        "sentral person, og prisen steg fra 25 til 44.",
        *["brødtekst"] * 10,
    )
    notes = [Footnote(43, [SourceLine("Helsedirektoratet (2009): Individuell plan.", 14, None)])]
    cleaned = drop_spaced_note_refs(body, notes)
    assert cleaned[0].text == "må få tildelt en koordinator. Koordinatoren blir en helt"
    assert cleaned[1].text == "sentral person, og prisen steg fra 25 til 44."
    far_note = Footnote(43, [SourceLine("Note.", 102, None)])
    far = drop_spaced_note_refs(lines("i alt 43.", *["brødtekst"] * 100), [far_note])
    assert far[0].text == "i alt 43."


def note_rows(*rows: tuple[int, str]) -> list[SourceLine]:
    """Note rows of a PDF as the reader marks them: (sheet, text as printed)."""
    return [SourceLine(text, None, sheet, str(sheet), sheet, role="note") for sheet, text in rows]


def test_pdf_footnotes_follow_their_numbering() -> None:
    """A skipped number opens the next note instead of joining it to the last one; a note goes
    on as the next page's first note row; unnumbered small type later on (a list of figures, a
    back cover) is text, not part of a 14-page «footnote»."""
    body_line = SourceLine("Brødtekst.", None, 1, "1", 1)
    rows = [
        body_line,
        *note_rows((1, "1 Første note."), (1, "2 Andre note som fortsetter"), (1, "på neste linje og")),
        *note_rows((2, "neste side.")),
        *note_rows((3, "4 Fjerde note (nummer 3 mangler)."), (3, "5Femte note, nummeret klistret.")),
        *note_rows((5, "Figur 1 Utvikling i antall brukere"), (6, "Baksiden: Trykk og design")),
    ]
    body, notes = lift_layout_notes(rows)
    assert [(n.number, join_lines([line.text for line in n.lines])) for n in notes] == [
        (1, "Første note."),
        (2, "Andre note som fortsetter på neste linje og neste side."),
        (4, "Fjerde note (nummer 3 mangler)."),
        (5, "Femte note, nummeret klistret."),
    ]
    assert [line.text for line in body] == [
        "Brødtekst.", "Figur 1 Utvikling i antall brukere", "Baksiden: Trykk og design"
    ]
    assert all(line.role == "body" for line in body)


def test_a_table_of_contents_in_small_type_is_never_a_footnote() -> None:
    rows = note_rows(
        (2, "1 Innledning ........ 5"), (2, "2 Bakgrunn 9"), (2, "3 Funn og vurderinger 14"), (2, "4 Tiltak 21"),
        (3, "1 En ekte fotnote."),
    )
    body, notes = lift_layout_notes(rows)
    assert [(n.number, n.lines[0].text) for n in notes] == [(1, "En ekte fotnote.")]
    assert body == []


def test_a_box_ends_where_the_interrupted_text_resumes_on_the_next_page() -> None:
    """meld-st-5-2024-2025.txt lines 8978-9016: «Boks 7.9 Kobo ...» runs to a page's foot; the
    next page (its running head removed) goes on with the sentence the box interrupted."""
    source = lines(
        "2024–2025 Meld. St. 5 98",
        "for at sykehjemmene skal ha tilgang til vel-",
        "",
        "Boks 7.9 Kobo – digitalt system for kommunale utleieboliger",
        "Kobo letter prosessen med å søke, tildele og følge opp.",
        "Regjeringen vil at alle kommuner tar Kobo i ",
        "bruk. ",
        "",
        "2024–2025 Meld. St. 5 99",
        "kemidler som sikrer gode tjenester i egen bolig.",
        "",
        "2024–2025 Meld. St. 5 100",
    )
    body, boxes = lift_boxes(remove_running_heads(source))
    assert [line.text for line in boxes[0].lines if line.text][-1] == "bruk. "
    assert "kemidler som sikrer gode tjenester i egen bolig." in [line.text for line in body]
