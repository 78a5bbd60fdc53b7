"""Follow-up links on the shipped corpus with the real model: what became of each proposal, kept incremental."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from serving import WHITE_PAPER, clone_index

from rapportsok.engines.local.engine import FOLLOWUPS, current_build
from rapportsok.errors import IndexMissing, NotFound, QueryError
from rapportsok.querying.followup import followup, followups
from rapportsok.querying.index import Index
from rapportsok.settings import Settings

STOLTENBERG = "stoltenberg-rapporten-2010"
WHITE_PAPER_DOC = WHITE_PAPER.removesuffix(".txt")
HIT_FIELDS = {"rank", "score", "passage_id", "doc", "title", "section", "page", "proposal", "text", "source"}


@pytest.fixture(scope="module")
def index(full: Settings) -> Index:
    return Index.load(full)


def _cli(settings: Settings, *args: str) -> subprocess.CompletedProcess:
    where = ["--corpus", str(settings.corpus), "--index", str(settings.index)]
    return subprocess.run(["rapportsok", *args, *where], capture_output=True, text=True, timeout=120)


def test_proposal_9_is_followed_up_first_by_the_white_papers_mo_centre_passage(index: Index) -> None:
    result = followup(index, STOLTENBERG, 9, k=5)
    first = result.links[0].hit.passage
    assert first.doc == WHITE_PAPER_DOC
    assert "Mottaks- og oppfølgingssentre (MO-sentre)" in first.text
    assert result.headline.startswith("Etabler mottaks- og oppfølgingssentre")
    assert result.links[0].year == 2024 and {"mottaks", "oppfølgingssentre"} <= set(result.links[0].shared)
    assert result.year == 2010 and result.links[0].after
    scores = [link.hit.score for link in result.links]
    assert scores == sorted(scores, reverse=True) and [link.hit.rank for link in result.links] == [1, 2, 3, 4, 5]


def test_no_proposal_links_to_its_own_document_and_every_one_has_links(index: Index) -> None:
    every = followups(index, STOLTENBERG, k=5)
    assert [f.proposal for f in every] == list(range(1, 23))
    for result in every:
        assert len(result.links) == 5
        assert all(link.hit.passage.doc != STOLTENBERG for link in result.links)
        assert all(link.hit.passage.kind != "footnote" for link in result.links)


def test_one_report_does_not_take_every_place(index: Index) -> None:
    """Proposal 3's best passages are all in the white paper; others' best still get a place."""
    result = followup(index, STOLTENBERG, 3, k=5)
    assert len({link.hit.passage.doc for link in result.links}) >= 2
    for result in followups(index, STOLTENBERG, k=8):  # ranked by the score they show
        scores = [link.hit.score for link in result.links]
        assert scores == sorted(scores, reverse=True)


def test_links_reach_before_and_after_the_proposal(index: Index) -> None:
    """Proposal 19 (medication when needed) is taken up by the 2004 reform and the 2024 white paper."""
    years = {link.year for link in followup(index, STOLTENBERG, 19, k=5).links}
    assert {2004, 2024} <= years


@pytest.mark.parametrize(
    ("doc", "number", "k", "error"),
    [
        (STOLTENBERG, 99, 5, NotFound),
        ("finnes-ikke", 9, 5, NotFound),
        (STOLTENBERG, 9, 0, QueryError),
        (STOLTENBERG, 9, 101, QueryError),
    ],
)
def test_bad_requests_are_refused(index: Index, doc: str, number: int, k: int, error: type) -> None:
    with pytest.raises(error):
        followup(index, doc, number, k)


def test_cli_prints_the_interface_shape_for_one_and_for_all(full: Settings) -> None:
    one = _cli(full, "followup", "9", "-k", "3", "--json")
    assert one.returncode == 0, one.stderr
    data = json.loads(one.stdout)
    assert data.keys() >= {"doc", "proposal", "headline", "links"} and data["doc"] == STOLTENBERG
    assert len(data["links"]) == 3 and all(link.keys() >= HIT_FIELDS | {"year", "shared"} for link in data["links"])
    assert "MO-sentre" in data["links"][0]["text"]
    every = _cli(full, "followup", "--doc", STOLTENBERG, "--json")
    assert every.returncode == 0, every.stderr
    rows = json.loads(every.stdout)
    assert [r["proposal"] for r in rows] == list(range(1, 23)) and all(len(r["links"]) == 3 for r in rows)
    text = _cli(full, "followup", "9", "-k", "1")
    assert text.returncode == 0 and "Forslag 9" in text.stdout and "MO-sentre" in text.stdout


@pytest.mark.parametrize("args", [["99"], ["9", "--doc", "finnes-ikke"], ["9", "-k", "0"], ["ni"]])
def test_cli_bad_input_is_one_line_and_a_failure(full: Settings, args: list[str]) -> None:
    result = _cli(full, "followup", *args)
    assert result.returncode != 0 and result.stdout == ""
    assert len(result.stderr.strip().splitlines()) == 1 and "rapportsok: feil: " in result.stderr


def test_a_build_without_readable_links_says_how_to_get_them(full: Settings, tmp_path: Path) -> None:
    settings = clone_index(full, tmp_path)
    links = current_build(settings.index) / FOLLOWUPS
    links.write_text(links.read_text(encoding="utf-8")[:1000], encoding="utf-8")  # truncated
    with pytest.raises(IndexMissing, match="cannot be read"):
        followup(Index.load(settings), STOLTENBERG, 9)
    links.write_text(json.dumps({"version": 1, "proposals": []}), encoding="utf-8")  # an older version's
    with pytest.raises(IndexMissing, match="another version; update the index"):
        followup(Index.load(settings), STOLTENBERG, 9)
    links.unlink()  # a build from before follow-up links
    with pytest.raises(IndexMissing, match="has no follow-up links"):
        followup(Index.load(settings), STOLTENBERG, 9)


def test_followed_up_in_lists_only_later_reports_the_one_that_tells_what_happened_first(index: Index) -> None:
    """«Fulgt opp i» never lists a report older than the proposal; the passage that says what became of
    it («Forslaget ble ikke fulgt opp») leads; the earlier reports stand apart, each link with a sentence."""
    for result in followups(index, STOLTENBERG, k=8):
        assert all(link.year is None or link.year >= result.year for link in result.after())
        assert all(link.year < result.year for link in result.before())
        assert len(result.after()) + len(result.before()) == len(result.links)
        for link in result.links:
            start, end = link.sentence
            assert link.hit.passage.text[start:end].strip() and end - start < len(link.hit.passage.text)
    mo = followup(index, STOLTENBERG, 9, k=8)
    assert mo.after()[0].outcome and "Forslaget ble ikke fulgt opp." in mo.after()[0].sentence_text()
    assert {link.hit.passage.doc for link in mo.before()} >= {"rusreformen-2004"}
    heroin = followup(index, STOLTENBERG, 22, k=8)  # a passage telling the fate of several proposals: this one's
    told = next(link for link in heroin.links if link.outcome)
    assert "heroin" in told.sentence_text() and "ble ikke realisert" in told.sentence_text()


def test_json_marks_each_link_before_or_after_and_the_cli_groups_them(full: Settings) -> None:
    data = json.loads(_cli(full, "followup", "9", "-k", "8", "--json").stdout)
    assert data["year"] == 2010
    assert {link["when"] for link in data["links"]} == {"before", "after"}
    assert all((link["when"] == "after") == (link["year"] >= 2010) for link in data["links"])
    assert all(link["sentence"] and link["sentence"] in " ".join(link["text"].split()) for link in data["links"])
    text = _cli(full, "followup", "9", "-k", "8").stdout
    after, before = text.split("Fulgt opp i")[1].split("Omtalt før forslaget")
    assert "(2004)" not in after and "(2009)" not in after and "(2004)" in before
    assert after.index("Forslaget ble ikke fulgt opp") < after.index("Et sentralt forslag i rapporten")
    assert "score" not in text  # the sentence that matches, not a raw score


def test_a_change_stored_as_a_part_ranks_and_links_as_the_whole_build_written_anew(
    full: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One changed report (not the one with proposals): stored as a part, with BM25 counted only for the
    evidence that changed, it ranks and links follow-ups as `index --rewrite` (every document read, BM25
    over every passage, every follow-up pair computed anew) does."""
    from rapportsok.engines.local import engine as local
    from rapportsok.engines.local.files import DELTAS
    from rapportsok.indexing.build import build
    from rapportsok.querying.search import search

    part, whole = clone_index(full, tmp_path / "part"), clone_index(full, tmp_path / "whole")
    build(part, rewrite=True)  # a build that stores its word counts (the shipped one may predate them)
    for settings in (part, whole):
        path = settings.corpus / "mandat-stoltenberg-utvalget-2009.txt"
        path.write_text(path.read_text(encoding="utf-8") + "\nKvasirenselsesprogrammet skal evalueres.\n")
    monkeypatch.setattr(local, "DELTA_SHARE", 10.0)  # five reports: a change is otherwise written whole
    assert build(part).changed == 1
    assert (current_build(part.index) / DELTAS).exists()
    build(whole, rewrite=True)
    a, b = Index.load(part), Index.load(whole)
    for query in ("kvasirenselsesprogrammet", "sprøyterom i Oslo", "straff for bruk av narkotika"):
        assert [h.passage.passage_id for h in search(a, query, k=10).hits] == [
            h.passage.passage_id for h in search(b, query, k=10).hits
        ]
    def linked(index: Index) -> list[list[str]]:
        return [[link.hit.passage.passage_id for link in f.links] for f in followups(index, STOLTENBERG, k=5)]

    assert any(linked(a)) and linked(a) == linked(b)
