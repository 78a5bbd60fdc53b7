"""Lexical ranking: Norwegian stemming, stop words and compound splitting."""

from rapportsok.text.bm25 import Lexical
from rapportsok.text.tokens import Decompounder

TEXTS = [
    "Antallet overdosedødsfall har vært høyt i mange år.",
    "Personer med spilleproblemer kan få hjelp i kommunen.",
    "Dødsfall blant unge rusbrukere skal reduseres.",
    "Kommunene skal ha et lavterskeltilbud for rusavhengige.",
]


def test_compounds_split_into_known_words():
    parts = Decompounder({"overdose": 5, "dødsfall": 4, "spille": 3, "spill": 3, "problemer": 9, "helse": 9,
                          "tjenesten": 7, "kommunene": 40, "kommu": 2, "nene": 2})
    assert parts.parts("overdosedødsfall") == ("overdose", "dødsfall")
    assert parts.parts("spillproblemer") == ("spill", "problemer")
    assert parts.parts("helsetjenesten") == ("helse", "tjenesten")  # linking "s"-free split
    assert parts.parts("kommunene") == ()  # commoner as a whole word than its fragments
    assert parts.parts("dødsfall") == ()


def test_a_part_of_a_compound_finds_the_compound():
    lexical = Lexical.build(TEXTS, Decompounder({"overdose": 3, "dødsfall": 3, "spill": 2, "problemer": 2}))
    scores = lexical.scores("dødsfall")
    assert scores[0] > 0 and scores[2] > 0
    # "spillproblemer" and "spilleproblemer" stem to different words, but share their parts
    assert lexical.scores("spillproblemer")[1] > 0


def test_stop_words_and_unknown_words_score_nothing():
    lexical = Lexical.build(TEXTS)
    assert not lexical.scores("hva er det som").any()
    assert not lexical.scores("kryptovaluta").any()


def test_inflected_forms_match_by_stem():
    lexical = Lexical.build(TEXTS)
    assert lexical.scores("kommune")[3] > 0
    assert lexical.matching_words("kommune", TEXTS[3]) == {"kommunene"}
