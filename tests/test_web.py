"""The web page in headless Chromium: search with the keyboard, filter by document, read a hit in context, no XSS."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import Server, serve, shared

from rapportsok.settings import Settings

CHROMIUM = os.environ.get("RAPPORTSOK_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
WHITE_PAPER = "meld-st-5-2024-2025"


def _missing(reason: str) -> None:
    """In CI a missing browser is a failure, on a developer's machine a skip."""
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="session")
def full(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return shared("full", tmp_path_factory)


@pytest.fixture(scope="session")
def server(full: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(full, tmp_path_factory.mktemp("web-logs") / "serve.log") as running:
        yield running


@pytest.fixture(scope="session")
def browser():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        _missing("the playwright package is not installed (pip install playwright)")
    if not Path(CHROMIUM).exists():
        _missing(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser, server: Server):
    context = browser.new_context(base_url=server.url, java_script_enabled=True)
    page = context.new_page()
    page.dialogs = []
    page.on("dialog", lambda dialog: (page.dialogs.append(dialog.message), dialog.dismiss()))
    # Offline: the page must not reach for anything but this server.
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url) else route.abort())
    yield page
    context.close()


def tab_to(page, text: str, limit: int = 60) -> None:
    """Presses Tab until the focused element's text is `text`, as a keyboard user would."""
    for _ in range(limit):
        page.keyboard.press("Tab")
        if (page.evaluate("document.activeElement && document.activeElement.textContent") or "").strip().startswith(text):
            return
    pytest.fail(f"could not reach {text!r} with Tab")


def test_keyboard_search_finds_the_nalokson_passage_and_opens_it_in_context(page) -> None:
    page.goto("/")
    assert page.evaluate("document.activeElement.id") == "q"  # the search box has the focus
    page.keyboard.type("Hva er nalokson?")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.hits")
    assert "Nalokson er et legemiddel" in page.inner_text("ol.hits")
    hit = page.locator("li.hit", has_text="Nalokson er et legemiddel").first
    assert hit.locator("mark", has_text="Nalokson").count() >= 1  # the query word is marked
    assert hit.locator(".where").inner_text().strip()  # section / page shown
    assert page.locator("li.hit").count() == 10

    tab_to(page, "Vis i sammenheng")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "/passasje/" in page.url
    current = page.locator('[aria-current="true"]')
    assert current.count() == 1
    assert page.locator("section.passage").count() > 1  # neighbours shown around it
    assert page.locator(".pager a").count() >= 1
    assert page.dialogs == []


def test_asking_on_the_page_shows_an_answer_with_numbered_quoted_sources(page) -> None:
    page.goto("/")
    page.locator("#q").fill("Hva sier rapporten om nalokson?")
    with page.expect_navigation():
        page.get_by_role("button", name="Spør").click()
    answer = page.locator("section.answer")
    assert "[1]" in answer.locator("p.text").inner_text()
    assert "nalokson" in answer.inner_text().lower()
    sources = answer.locator("ol.sources li")
    assert sources.count() >= 1
    assert sources.first.locator("a").get_attribute("href").startswith("/passasje/")
    assert sources.first.locator("blockquote").inner_text().strip()
    assert page.locator("li.hit").count() >= 1  # the passages still follow the answer


def test_filter_by_document(page, server: Server) -> None:
    page.goto("/")
    page.locator(f'input[name="doc"][value="{WHITE_PAPER}"]').focus()
    page.keyboard.press("Space")
    page.locator("#q").focus()
    page.keyboard.type("behandling")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.hits")
    assert page.locator("li.hit").count() > 1
    assert page.locator(f'input[name="doc"][value="{WHITE_PAPER}"]').is_checked()
    assert "doc=" + WHITE_PAPER in page.url
    titles = {d["doc"]: d["title"] for d in httpx.get(server.url + "/documents").json()}
    shown = [t.split(". ", 1)[1] for t in page.locator("li.hit h2").all_inner_texts()]
    assert shown and set(shown) == {titles[WHITE_PAPER]}


def test_query_markup_is_shown_as_text_not_run(page, server: Server) -> None:
    attack = '"><img src=x onerror=alert(1)><script>alert(2)</script>'
    page.goto("/")
    page.locator("#q").fill(attack)
    page.keyboard.press("Enter")
    page.wait_for_selector("p.summary")
    assert page.locator("#q").input_value() == attack
    assert attack in page.inner_text("p.summary")
    assert page.locator("main img, main script").count() == 0
    assert page.dialogs == []
    html = httpx.get(server.url + "/", params={"q": attack}).text
    assert "<script>alert" not in html and "<img src=x" not in html
    assert "'self'" in httpx.get(server.url + "/").headers["content-security-policy"]


def test_bad_input_on_the_page_is_a_message_not_a_crash(page, server: Server) -> None:
    response = page.goto("/?q=nalokson&k=abc")
    assert response.status == 422 and page.locator('[role="alert"]').count() == 1
    response = page.goto("/?q=nalokson&doc=finnes-ikke")
    assert response.status == 404 and "finnes-ikke" in page.locator('[role="alert"]').inner_text()
    response = page.goto("/passasje/finnes-ikke")
    assert response.status == 404
    assert httpx.get(server.url + "/?q=nalokson&mode=x").status_code == 422


# ---------------------------------------------------------------- across the reports (issue 12)


def test_proposal_view_shows_where_it_was_followed_up_by_document_and_year(page) -> None:
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


def test_per_rapport_view_shows_one_column_per_report_in_year_order(page) -> None:
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
