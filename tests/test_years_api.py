"""Follow-ups and compare over HTTP, on a real server on loopback with the shipped corpus and index."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from serving import Server, serve, shared

from rapportsok.settings import Settings

STOLTENBERG = "stoltenberg-rapporten-2010"
WHITE_PAPER = "meld-st-5-2024-2025"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    full: Settings = shared("full", tmp_path_factory)
    with serve(full, tmp_path_factory.mktemp("years-logs") / "serve.log") as running:
        yield running


def test_followup_route_answers_the_followup_object(server: Server) -> None:
    response = httpx.get(f"{server.url}/proposals/{STOLTENBERG}/9/followup", params={"k": 3}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert body["doc"] == STOLTENBERG and body["proposal"] == 9 and len(body["links"]) == 3
    assert body["links"][0]["doc"] == WHITE_PAPER and "MO-sentre" in body["links"][0]["text"]
    assert all(link["doc"] != STOLTENBERG and "year" in link and "shared" in link for link in body["links"])


def test_compare_route_lists_documents_by_year(server: Server) -> None:
    body = httpx.get(f"{server.url}/compare", params={"q": "legemiddelassistert behandling"}, timeout=30).json()
    years = [d["year"] for d in body["documents"]]
    assert len(years) >= 3 and years == sorted(years)
    assert all(d["hits"] and d["headline"] for d in body["documents"])


@pytest.mark.parametrize(
    ("path", "params", "status"),
    [
        (f"/proposals/{STOLTENBERG}/99/followup", {}, 404),
        ("/proposals/finnes-ikke/9/followup", {}, 404),
        (f"/proposals/{STOLTENBERG}/ni/followup", {}, 422),
        (f"/proposals/{STOLTENBERG}/9/followup", {"k": 0}, 422),
        ("/compare", {}, 422),
        ("/compare", {"q": "?!"}, 422),
        ("/compare", {"q": "nalokson", "k": 21}, 422),
        ("/forslag/finnes-ikke/9", {}, 404),
        ("/per-rapport", {"q": "nalokson", "k": "x"}, 422),
    ],
)
def test_bad_input_is_a_4xx(server: Server, path: str, params: dict, status: int) -> None:
    assert httpx.get(server.url + path, params=params, timeout=30).status_code == status
