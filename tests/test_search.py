"""Ranking on the shipped corpus and index, with the real model."""

from pathlib import Path

import numpy as np
import pytest

from rapportsok.errors import NotFound, QueryError
from rapportsok.indexing.freshness import is_stale
from rapportsok.querying.glossary import translated
from rapportsok.querying.index import PASSAGE_SHARE, Index
from rapportsok.querying.search import asked_proposals, search
from rapportsok.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SHIPPED = Settings.resolve(REPO / "corpus", REPO / "index")


@pytest.fixture(scope="module")
def index() -> Index:
    return Index.load(SHIPPED)


def test_the_shipped_index_matches_the_shipped_corpus_and_code():
    """Fails when corpus/, the ingestion code or passage size changed without `rapportsok index`."""
    assert not is_stale(SHIPPED), "index/ is stale: run `rapportsok index` and commit index/"


def test_nalokson_question_finds_the_nalokson_passage(index):
    hits = search(index, "hva sier rapporten om nalokson", k=3).hits
    assert any(h.passage.text.startswith("Nalokson er et legemiddel") for h in hits)


@pytest.mark.parametrize(
    ("query", "number"),
    [
        ("Hva går forslag 14 i Stoltenberg-rapporten ut på?", 14),
        ("forslag nr. 9", 9),
        ("What is proposal 21 about?", 21),
    ],
)
def test_a_proposal_asked_for_by_number_comes_first_with_its_headline(index, query, number):
    first = search(index, query, k=3).hits[0].passage
    assert first.proposal == number
    assert first.text.startswith(f"Forslag {number}: {first.headline}")


def test_asked_proposals_reads_numbers_not_years():
    assert asked_proposals("Forslag 3 og proposal no. 12") == {3, 12}
    assert asked_proposals("forslagene fra 2010") == set()


def test_doc_filter_is_honoured(index):
    docs = ["rusreformen-2004", "hoeringsinnspill-narkotikapolitiforening"]
    hits = search(index, "legemiddelassistert rehabilitering", k=20, docs=docs).hits
    assert hits and {h.passage.doc for h in hits} <= set(docs)
    assert {h.passage.doc for h in hits} == set(docs)
    with pytest.raises(NotFound):
        search(index, "nalokson", docs=["no-such-report"])


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_every_mode_ranks_best_first_and_never_ranks_footnotes(index, mode):
    result = search(index, "overdosedødsfall i Norge", k=10, mode=mode)
    scores = [h.score for h in result.hits]
    assert len(result.hits) == 10 and scores == sorted(scores, reverse=True)
    assert [h.rank for h in result.hits] == list(range(1, 11))
    assert all(h.passage.kind == "text" for h in result.hits)


def test_a_compound_part_finds_the_compound_lexically(index):
    hits = search(index, "dødsfall overdose", k=10, mode="lexical").hits
    assert any("overdosedødsfall" in h.passage.text.lower() for h in hits)


def test_an_english_question_finds_norwegian_text(index):
    hits = search(index, "How many people died of overdoses in Norway in 2023?", k=5).hits
    assert any("363" in h.passage.text for h in hits)


def test_a_hit_says_where_it_comes_from(index):
    hit = search(index, "Ny handlingsplan mot overdoser", k=1).hits[0].as_dict()
    assert hit["doc"] == "meld-st-5-2024-2025" and hit["section"].startswith("4.3")
    assert hit["source"].startswith("Meld. St. 5 (2024–2025), kap. 4.3") and hit["section"] in hit["source"]
    assert set(hit) >= {"rank", "score", "passage_id", "doc", "title", "section", "page", "proposal", "text", "source"}


@pytest.mark.parametrize(
    ("query", "k", "mode"),
    [("", 10, "hybrid"), ("   ", 10, "hybrid"), ("x" * 10_000, 10, "hybrid"), ("nalokson", 0, "hybrid"),
     ("nalokson", 101, "hybrid"), ("nalokson", 10, "semantic")],
)
def test_bad_queries_are_refused(index, query, k, mode):
    with pytest.raises(QueryError):
        search(index, query, k=k, mode=mode)



def test_a_passage_is_credited_with_its_best_sentence(index):
    """A passage on heroin treatment that states the yearly drug deaths in one sentence answers
    for them: its dense score blends its own cosine with its best sentence's."""
    query = "Hvor mange dør av narkotika i Norge hvert år?"
    query_vector = index.query_vector(query)
    row = next(i for i, p in enumerate(index.passages) if "Årlig dør om lag 200 personer" in p.text)
    passage = index.passages[row]
    spans = index.sentences(passage.passage_id)
    assert [passage.text[start:end] for _, start, end in spans if "Årlig dør" in passage.text[start:end]]
    own = float(index.store.passage_scores(query_vector)[row])
    best = max(float(index.sentence_scores(query_vector)[r]) for r, _, _ in spans)
    assert best > own
    assert index.dense_scores(query_vector)[row] == pytest.approx(PASSAGE_SHARE * own + (1 - PASSAGE_SHARE) * best)
    assert passage.passage_id in [h.passage.passage_id for h in search(index, query, k=5, mode="dense").hits]


def test_top_rows_is_the_head_of_a_stable_argsort():
    """Ranking a million passages partitions instead of sorting them all: same rows, same tie order."""
    from rapportsok.querying.search import top_rows

    rng = np.random.default_rng(0)
    for _ in range(2000):
        n = int(rng.integers(1, 60))
        scores = rng.integers(0, 5, size=n).astype(float)  # many ties
        scores[rng.random(n) < 0.2] = -np.inf  # filtered out
        k = int(rng.integers(0, n + 1))
        assert top_rows(scores, k).tolist() == np.argsort(-scores, kind="stable")[:k].tolist()


NALOKSON = "Nalokson er et legemiddel"


@pytest.mark.parametrize("query", ["naloxone", "what does the report say about naloxone", "naloxon"])
def test_english_and_misspelled_naloxone_find_the_nalokson_passage_first(index, query):
    hits = search(index, query, k=10).hits
    assert hits and hits[0].passage.text.startswith(NALOKSON)


@pytest.mark.parametrize(("query", "stem"), [("police", "politi"), ("user rooms", "bruker")])
def test_english_words_the_reports_lack_still_find_their_norwegian_passages(index, query, stem):
    hits = search(index, query, k=10).hits
    assert hits and any(stem in h.passage.context().lower() for h in hits[:3])


@pytest.mark.parametrize(
    ("query", "stem"),
    [("prisoners", "innsatte"), ("decriminalisation", "avkriminaliser"), ("injection rooms", "sprøyterom"),
     ("What does the report say about opioid substitution treatment?", "legemiddelassistert")],
)
def test_english_words_are_read_in_bokmal_through_the_glossary(index, query, stem):
    hits = search(index, query, k=10).hits
    assert hits and stem in hits[0].passage.context().lower()
    assert any(stem in word for word in hits[0].marked)  # the translation is what is highlighted


def test_the_glossary_reads_a_two_word_term_before_its_words():
    assert translated(["injection", "rooms", "oslo"]) == (["sprøyterom", "oslo"], {"injection rooms": "sprøyterom"})
    assert translated(["injection", "rooms"], only={"rooms"})[0] == ["injection", "rom"]
    assert "innsatte" in translated(["prisoners"])[0][0].split() and translated(["smartphone"])[1] == {}


def test_a_misspelled_word_gets_a_suggestion_from_the_corpus_and_its_hits(index):
    result = search(index, "naloxon")
    assert result.corrections == {"naloxon": "nalokson"}
    assert result.suggestion == "nalokson"
    data = result.as_dict()
    assert data["suggestion"] == "nalokson" and data["corrections"] == {"naloxon": "nalokson"}
    assert search(index, "Naloxon i Norge").suggestion == "nalokson i Norge"  # the rest of the query as typed
    assert search(index, "nalokson").suggestion is None


def test_an_english_question_gets_no_suggestion_of_norwegian_false_friends(index):
    assert search(index, "prisoners with drug problems").suggestion is None


@pytest.mark.parametrize("query", ["forslag 15", "forslag nr. 15", "Forslag 15"])
def test_a_proposal_asked_for_alone_gives_that_proposal_and_nothing_that_merely_holds_its_number(index, query):
    result = search(index, query, k=10)
    assert result.proposals == [15]
    assert result.hits and all(h.passage.proposal == 15 for h in result.hits)
    assert result.hits[0].passage.text.startswith("Forslag 15")


def test_a_proposal_with_words_leads_with_the_proposal(index):
    hits = search(index, "forslag 15 fengsel", k=10).hits
    assert hits[0].passage.proposal == 15
    assert not any("15–16" in h.snippet_text() or "§ 15-1" in h.snippet_text() for h in hits)


def test_an_empty_result_says_whether_the_document_filter_is_why(index):
    filtered = search(index, "nalokson", docs=["stoltenberg-rapporten-2010"])
    assert filtered.hits == [] and filtered.empty == "filter"
    assert filtered.as_dict()["empty"] == "filter"
    nothing = search(index, "kvantefysikk i rommet")
    assert nothing.hits == [] and nothing.empty == "nothing"
    assert search(index, "nalokson").empty is None


def test_nynorsk_words_are_searched_for_as_the_reports_spell_them(index):
    result = search(index, "Kva vil Stoltenberg-utvalet gjere med sprøyterommet i Oslo?", k=5)
    assert result.corrections["utvalet"] == "utvalget"
    assert "Stoltenberg-utvalget" in result.suggestion
    top = result.hits[:2]  # «Fra sprøyterom til brukersteder» and the rest of its discussion
    assert all("sprøyterom" in h.passage.context().lower() for h in top)
    assert any(h.passage.proposal == 5 for h in top)


def test_a_four_letter_word_is_never_suggested(index):
    assert search(index, "user rooms").suggestion is None  # "uker" is one edit away, and wrong


@pytest.mark.parametrize("query", ["subutex-behandling", "subutex"])
def test_a_name_given_only_in_a_footnote_finds_the_passage_the_note_stands_under(index, query):
    """«Subutex» is named only in a footnote of the 2010 report's LAR section: footnotes are not
    ranked, but their words count for the passage they belong to."""
    hits = search(index, query).hits
    assert hits and hits[0].passage.doc == "stoltenberg-rapporten-2010"
    assert "Behandling med legemidler" in (hits[0].passage.section or "")
