"""Lexical ranking: Norwegian stemming, stop words and compound splitting."""

import numpy as np
import pytest

from rapportsok.querying.index import Index
from rapportsok.text.bm25 import K1, B, Lexical
from rapportsok.text.tokens import PART_WEIGHT, Decompounder

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


def test_bm25_is_bm25s_lucene_over_the_same_tokens(full):
    """Lexical's scores are bm25s's (Lucene variant, k1 1.5, b .75) over the tokens its analyzer
    gives the shipped passages; a query's compound parts count PART_WEIGHT, in bm25s as here."""
    bm25s = pytest.importorskip("bm25s", reason="bm25s is not installed (pip install -e '.[test]')")
    passages = Index.load(full).passages
    lexical = Lexical.build(p.context() for p in passages)
    analyzer = lexical.analyzer
    reference = bm25s.BM25(method="lucene", k1=K1, b=B)
    reference.index([analyzer.tokens(p.context()) for p in passages], show_progress=False)
    known = reference.vocab_dict

    def expected(tokens: list[str]) -> np.ndarray:
        ids = [known[t] for t in tokens if t in known]
        return reference.get_scores(ids) if ids else np.zeros(len(passages))

    queries = ["nalokson", "sprøyterom", "forslag 9", "police", "hva sier rapporten om LAR",
               "overdosedødsfall blant unge", "heroinassistert behandling og LAR", "rusreform straff straff"]
    for query in queries:
        whole, parts = analyzer.split(query)
        ours = lexical.scores(query)
        assert ours.any() or query == "police"
        np.testing.assert_allclose(ours, expected(whole) + PART_WEIGHT * expected(parts), rtol=0, atol=1e-5)
