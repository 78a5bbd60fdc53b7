"""Sentence spans: verbatim, not fooled by abbreviations, and quotable ones long enough and cut sensibly."""

from __future__ import annotations

from rapportsok.text.sentences import MAX_QUOTE_CHARS, MIN_SENTENCE_CHARS, quotable, split_sentences


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
    assert all(a[1] <= b[0] for a, b in zip(spans, spans[1:]))
    assert [text[s:e] for s, e in spans] == ["Første setning her.", "Andre setning, med komma.", "Tredje   setning?", "Ja."]


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
