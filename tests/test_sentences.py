"""Sentence spans: verbatim, not fooled by abbreviations, and quotable ones long enough and cut sensibly;
the looser variants of the rule that cut passages, split generated replies and end lines."""

from __future__ import annotations

from rapportsok.text.sentences import (
    CLAIM_BREAK,
    LINE_END,
    MAX_QUOTE_CHARS,
    MIN_SENTENCE_CHARS,
    PASSAGE_BREAK,
    ends_sentence,
    quotable,
    split_sentences,
)


def test_abbreviations_do_not_end_sentences() -> None:
    text = (
        "Tiltakene gjelder bl.a. Helsedirektoratet, jf. Meld. St. 5 og nr. 3 i listen. "
        "Det døde ca. 200 personer, f.eks. i Oslo. «Kostnadene er store.» 81 Urinprøver er dyre.\n\n"
        "Regjeringen vil:\n\n– gjøre A bedre.\n– gjøre B enklere!"
    )
    spans = split_sentences(text)
    got = [text[s:e] for s, e in spans]
    assert got == [
        "Tiltakene gjelder bl.a. Helsedirektoratet, jf. Meld. St. 5 og nr. 3 i listen.",
        "Det døde ca. 200 personer, f.eks. i Oslo.",
        "«Kostnadene er store.»",
        "Urinprøver er dyre.",  # the footnote number left in the running text is not part of it
        "Regjeringen vil:",
        "gjøre A bedre.",
        "gjøre B enklere!",
    ]


def test_sentence_spans_are_verbatim_and_ordered() -> None:
    text = "Første setning her. Andre setning, med komma.\n\nTredje   setning? Ja."
    spans = split_sentences(text)
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:], strict=False))
    assert [text[s:e] for s, e in spans] == [
        "Første setning her.", "Andre setning, med komma.", "Tredje   setning?", "Ja."
    ]


def test_quotable_sentences_are_long_enough_and_overlong_ones_cut() -> None:
    link = "Https://www.regjeringen.no/" + "rusbehandling" * 55  # a "sentence" with no space within the limit
    text = (
        "Kort.\n\nRegjeringen legger fram en ny plan for rusbehandling i kommunene. "
        f"{link} er adressen til planen. Kilde: {'a' * 700} er lenken til kilden."
    )
    spans = quotable(text)
    quotes = [text[s:e] for s, e in spans]
    assert quotes[0] == "Regjeringen legger fram en ny plan for rusbehandling i kommunene."
    assert quotes[1] == link[:MAX_QUOTE_CHARS]  # cut at the limit when there is no space to cut at
    assert all(MIN_SENTENCE_CHARS <= e - s <= MAX_QUOTE_CHARS for s, e in spans)
    assert "Kilde:" not in quotes  # a cut that leaves a scrap is no quote


def test_passages_are_cut_at_looser_sentence_ends() -> None:
    """A passage may be cut after a closing quote without a stop and after an abbreviation, where
    no quotable sentence ends, but not before a hyphen, where one does."""
    text = "Prosjektet het «Ut av rus» Det ga bl.a. Helsedirektoratet nye oppgaver. - neste punkt"
    cuts = [m.end() for m in PASSAGE_BREAK.finditer(text)]
    assert [text[a:b] for a, b in zip([0, *cuts], [*cuts, len(text)], strict=True)] == [
        "Prosjektet het «Ut av rus» ",
        "Det ga bl.a. ",
        "Helsedirektoratet nye oppgaver. - neste punkt",
    ]
    assert [text[s:e] for s, e in split_sentences(text)] == [
        "Prosjektet het «Ut av rus» Det ga bl.a. Helsedirektoratet nye oppgaver.",
        "neste punkt",
    ]


def test_claims_of_a_reply_end_at_a_stop_before_a_capital_or_a_quote() -> None:
    reply = "Nalokson reverserer overdoser [1]. «Det virker raskt» [2]. 2023 var et år [1]! Se (kilde) [2]."
    assert CLAIM_BREAK.split(reply) == [
        "Nalokson reverserer overdoser [1].",
        "«Det virker raskt» [2]. 2023 var et år [1]!",
        "Se (kilde) [2].",
    ]


def test_a_text_line_may_end_its_sentence_in_a_footnote_number_a_pdf_row_may_not() -> None:
    for line in ("Tiltaket er nytt.", "Regjeringen vil:", "som «rusreform».  ", "(se kap. 4)"):
        assert ends_sentence(line) and LINE_END.search(line), line
    for line in ("tannhelsetjeneste.59", "jf. [3]"):
        assert ends_sentence(line) and not LINE_END.search(line), line
    for line in ("og videre", "2024–2025 Meld. St. 5", "tannhelsetjeneste 59"):
        assert not ends_sentence(line) and not LINE_END.search(line), line
