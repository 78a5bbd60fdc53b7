"""One question over the years, on the shipped corpus with the real model: only the reports that discuss it, by year."""

from __future__ import annotations

import json
import subprocess

import pytest

from rapportsok.errors import QueryError
from rapportsok.querying.compare import compare
from rapportsok.querying.index import Index
from rapportsok.settings import Settings

WHITE_PAPER = "meld-st-5-2024-2025"
LAR_WORDS = ("legemiddelassistert", "lar", "metadon", "substitusjon", "legemidler", "medikamentell")


@pytest.fixture(scope="module")
def index(full: Settings) -> Index:
    return Index.load(full)


def test_nalokson_is_discussed_only_in_the_white_paper(index: Index) -> None:
    """Only the 2024 white paper mentions naloxone; the other reports are left out, not padded in."""
    result = compare(index, "nalokson")
    assert [c.document.doc for c in result.documents] == [WHITE_PAPER]
    column = result.documents[0]
    assert "nalokson" in column.headline.lower()
    assert all("nalokson" in hit.passage.text.lower() for hit in column.hits)


def test_lar_over_the_years_lists_the_reports_that_discuss_it_in_year_order(index: Index) -> None:
    result = compare(index, "legemiddelassistert behandling", per_doc=3)
    docs = [c.document.doc for c in result.documents]
    assert {"rusreformen-2004", "stoltenberg-rapporten-2010", WHITE_PAPER} <= set(docs)
    assert "mandat-stoltenberg-utvalget-2009" not in docs  # the mandate does not discuss LAR
    years = [c.document.year for c in result.documents]
    assert years == sorted(years)
    for column in result.documents:
        assert 1 <= len(column.hits) <= 3
        assert any(word in column.headline.lower() for word in LAR_WORDS), column.headline
        assert any(word in column.hits[0].passage.text.lower() for word in LAR_WORDS)
        assert column.headline in " ".join(" ".join(h.passage.text.split()) for h in column.hits)  # verbatim
        assert all(h.passage.doc == column.document.doc and h.passage.kind != "footnote" for h in column.hits)


@pytest.mark.parametrize(("query", "per_doc"), [("", 3), ("?!", 3), ("nalokson", 0), ("nalokson", 21)])
def test_bad_requests_are_refused(index: Index, query: str, per_doc: int) -> None:
    with pytest.raises(QueryError):
        compare(index, query, per_doc)


def test_cli_prints_the_interface_shape(full: Settings) -> None:
    where = ["--corpus", str(full.corpus), "--index", str(full.index)]
    run = subprocess.run(
        ["rapportsok", "compare", "nalokson", "-k", "2", "--json", *where], capture_output=True, text=True, timeout=120
    )
    assert run.returncode == 0, run.stderr
    data = json.loads(run.stdout)
    assert data["query"] == "nalokson" and [d["doc"] for d in data["documents"]] == [WHITE_PAPER]
    column = data["documents"][0]
    assert column.keys() >= {"doc", "title", "year", "headline", "hits"} and column["year"] == 2024
    assert 1 <= len(column["hits"]) <= 2 and column["hits"][0]["rank"] == 1
    bad = subprocess.run(["rapportsok", "compare", "   ", *where], capture_output=True, text=True, timeout=120)
    assert bad.returncode != 0 and len(bad.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("query", ["kvantefysikk i rommet", "oppskrift på pannekaker", "fotball VM 2026"])
def test_a_question_no_report_discusses_gets_no_columns(index: Index, query: str) -> None:
    assert compare(index, query).documents == []


def test_a_single_mention_is_enough_when_it_is_on_topic(index: Index) -> None:
    """The 2009 mandate asks once whether heroin-assisted treatment should be offered: it gets its column."""
    result = compare(index, "heroinassistert behandling")
    columns = {c.document.doc: c for c in result.documents}
    assert "mandat-stoltenberg-utvalget-2009" in columns
    assert "heroinassistert" in columns["mandat-stoltenberg-utvalget-2009"].hits[0].passage.text
    assert [c.document.year for c in result.documents] == sorted(c.document.year for c in result.documents)
