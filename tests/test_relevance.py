"""The relevance floor and snippets on the shipped corpus and index, with the real model."""

from pathlib import Path

import pytest

from rapportsok.querying.index import Index
from rapportsok.querying.relevance import content_tokens
from rapportsok.querying.search import search
from rapportsok.querying.snippets import SNIPPET_WORDS, snippet_span
from rapportsok.settings import Settings
from rapportsok.text.tokens import WORD

REPO = Path(__file__).resolve().parent.parent
OFF_TOPIC = [
    "xyzzyqwerty",
    "asdf qwer zxcv",
    "What is the capital of France?",
    "Hva sier rapportene om klimaendringer og havnivå?",
]


@pytest.fixture(scope="module")
def index() -> Index:
    return Index.load(Settings.resolve(REPO / "corpus", REPO / "index"))


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
@pytest.mark.parametrize("query", OFF_TOPIC)
def test_a_query_with_nothing_relevant_has_no_hits(index, query, mode):
    assert search(index, query, k=10, mode=mode).hits == []
    assert len(search(index, query, k=10, mode=mode, all_hits=True).hits) == 10  # k stays the maximum


def test_lexical_mode_returns_only_passages_with_a_query_word(index):
    hits = search(index, "hva sier rapporten om nalokson", k=10, mode="lexical").hits
    assert hits and len(hits) < 10
    assert all("nalokson" in h.passage.context().lower() for h in hits)


def test_the_nalokson_question_shows_the_nalokson_passage_and_no_filler(index):
    hits = search(index, "hva sier rapporten om nalokson", k=10).hits
    assert any(h.passage.text.startswith("Nalokson er et legemiddel") and not h.weak for h in hits)
    assert all("nalokson" in h.passage.context().lower() or h.weak for h in hits)


def test_weaker_hits_are_flagged_not_hidden(index):
    hits = search(index, "behandling av rusavhengige i fengsel", k=10).hits
    assert len(hits) == 10
    weak = [h for h in hits if h.weak]
    assert weak and len(weak) < len(hits)
    # the first weak hit lacks most of the query's content words; the ones after it are the tail
    found = {t for t in content_tokens(index, "behandling av rusavhengige i fengsel")
             if t in index.lexical.analyzer.tokens(weak[0].passage.context())}
    assert len(found) <= 1


def test_a_named_proposal_is_never_below_the_floor(index):
    first = search(index, "What is proposal 21 about?", k=3).hits[0]
    assert first.passage.proposal == 21 and not first.weak


def test_json_keeps_the_whole_text_and_adds_snippet_and_weak(index):
    for hit in search(index, "sprøyterom i Oslo", k=5).hits:
        data = hit.as_dict()
        assert data["text"] == hit.passage.text
        assert data["snippet"] and data["snippet"] == " ".join(hit.passage.text[slice(*hit.snippet)].split())
        assert isinstance(data["weak"], bool)


def test_a_snippet_is_the_sentences_around_the_matched_words(index):
    hit = next(h for h in search(index, "hva sier rapporten om nalokson", k=5).hits if "Nalokson er" in h.passage.text)
    assert "nalokson" in hit.snippet_text().lower()
    assert len(hit.snippet_text().split()) <= 2 * SNIPPET_WORDS
    assert len(hit.snippet_text()) < len(" ".join(hit.passage.text.split()))


def test_snippet_spans_whole_sentences_and_crops_an_overlong_one():
    text = "Første setning handler om noe annet. Her står nalokson midt i setningen. Tredje setning følger."
    start, end = snippet_span(text, {"nalokson"})
    assert text[start:end].startswith("Første") or text[start:end].startswith("Her står")
    assert "Her står nalokson midt i setningen." in text[start:end]
    long = " ".join(["ord"] * 150 + ["nalokson"] + ["ord"] * 150) + "."
    start, end = snippet_span(long, {"nalokson"})
    words = [m.group() for m in WORD.finditer(long[start:end])]
    assert "nalokson" in words and len(words) <= 60


REAL_WORD_NONSENSE = [
    "kvantefysikk i rommet",
    "oppskrift på sjokoladekake",
    "Hva mener utvalget om ulveforvaltning?",
    "how do I repair a bicycle tyre",
]


@pytest.mark.parametrize("query", REAL_WORD_NONSENSE)
def test_off_topic_questions_in_real_words_have_no_hits(index, query):
    assert search(index, query, k=10).hits == []


def test_question_words_of_every_language_are_not_search_words(index):
    for query in ["kva seier rapportane om sprøyterom", "hva sier rapporten om sprøyterom"]:
        assert content_tokens(index, query) == content_tokens(index, "sprøyterom")
    english = "what does the report say about drug consumption rooms"
    assert content_tokens(index, english) == content_tokens(index, "drug consumption rooms")
    hits = search(index, "kva seier rapportane om sprøyterom", k=10).hits
    assert hits and not hits[0].weak and "sprøyterom" in hits[0].passage.context().lower()


@pytest.mark.parametrize(
    "query", ["behandling av rusavhengige i fengsel", "kva seier rapportane om sprøyterom", "police", "naloxone",
              "What did the Stoltenberg committee propose about heroin-assisted treatment?"],
)
def test_weaker_hits_are_the_tail_of_the_ranking(index, query):
    flags = [h.weak for h in search(index, query, k=10).hits]
    assert flags == sorted(flags)  # strong hits first, then weak ones: numbered without gaps on the web


def test_a_snippet_is_a_sentence_never_a_row_of_table_numbers():
    text = ("Tabell 4.1 Beslag 2019 2020 2021 beslag 120 340 560 beslag 7,5 8,1 9,9. "
            "Politiet gjorde flere beslag i perioden enn før.")
    start, end = snippet_span(text, {"beslag"})
    assert text[start:end] == "Politiet gjorde flere beslag i perioden enn før."
