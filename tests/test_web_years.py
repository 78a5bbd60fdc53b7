"""Follow-ups and «Per rapport» over HTTP and in headless Chromium, on a real server with the shipped corpus."""

from __future__ import annotations

import httpx
import pytest
from test_web import browser, full, page, server  # noqa: F401  (fixtures: one server and browser for this module)

from serving import Server

STOLTENBERG = "stoltenberg-rapporten-2010"
WHITE_PAPER = "meld-st-5-2024-2025"


def test_followup_route_answers_what_the_cli_prints(server: Server) -> None:  # noqa: F811
    response = httpx.get(f"{server.url}/proposals/{STOLTENBERG}/9/followup", params={"k": 3}, timeout=30)
    assert response.status_code == 200
    body = response.json()
    assert body["doc"] == STOLTENBERG and body["proposal"] == 9 and len(body["links"]) == 3
    assert body["links"][0]["doc"] == WHITE_PAPER and "MO-sentre" in body["links"][0]["text"]
    assert all(link["doc"] != STOLTENBERG and "year" in link and "shared" in link for link in body["links"])


def test_compare_route_lists_documents_by_year(server: Server) -> None:  # noqa: F811
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
def test_bad_input_is_a_4xx(server: Server, path: str, params: dict, status: int) -> None:  # noqa: F811
    assert httpx.get(server.url + path, params=params, timeout=30).status_code == status


def test_proposal_view_shows_where_it_was_followed_up_by_document_and_year(page) -> None:  # noqa: F811
    page.goto("/")
    with page.expect_navigation():
        page.get_by_role("link", name="Forslag", exact=True).click()
    with page.expect_navigation():
        page.get_by_role("link", name="Forslag 9:").click()
    assert page.locator("h1").inner_text().startswith("Forslag 9: Etabler mottaks- og oppfølgingssentre")
    followed = page.locator('section[aria-labelledby="fulgt-opp"]')
    assert followed.locator("h2").inner_text() == "Fulgt opp i"
    groups = followed.locator("section.followed h3").all_inner_texts()
    years = [int(title.rsplit("(", 1)[1].rstrip(")")) for title in groups]
    assert years == sorted(years) and 2024 in years
    white_paper = followed.locator("section.followed", has_text="Meld. St. 5")
    assert "Mottaks- og oppfølgingssentre (MO-sentre)" in white_paper.inner_text()
    assert white_paper.locator("mark").count() >= 1  # the shared words are marked
    with page.expect_navigation():
        white_paper.get_by_role("link", name="Vis i sammenheng").first.click()
    assert "/passasje/" in page.url and page.locator('[aria-current="true"]').count() == 1
    assert page.dialogs == []


def test_per_rapport_view_shows_one_column_per_report_in_year_order(page) -> None:  # noqa: F811
    page.goto("/per-rapport")
    page.locator("#q").fill("legemiddelassistert behandling")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    columns = page.locator("section.column")
    assert columns.count() >= 3
    years = [int(y) for y in page.locator("section.column .year").all_inner_texts()]
    assert years == sorted(years)
    for i in range(columns.count()):
        assert columns.nth(i).locator(".headline").inner_text().strip()
        assert columns.nth(i).locator("ol.column-hits li").count() >= 1
    assert "Stoltenberg" in columns.nth(years.index(2010)).locator("h2").inner_text()
    page.goto("/per-rapport?q=nalokson")
    assert page.locator("section.column").count() == 1 and "2024" in page.locator("section.column .year").inner_text()
