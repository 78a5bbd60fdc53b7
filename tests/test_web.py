"""The web page in headless Chromium: search with the keyboard, filter by document, read a hit in context, no XSS."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote_plus, urlencode

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
        focused = page.evaluate("document.activeElement && document.activeElement.textContent") or ""
        if focused.strip().startswith(text):
            return
    pytest.fail(f"could not reach {text!r} with Tab")


def test_keyboard_search_finds_the_nalokson_passage_and_opens_it_in_context(page) -> None:
    page.goto("/")
    assert page.evaluate("document.activeElement.id") == "q"  # the search box has the focus
    page.keyboard.type("Hva er nalokson?")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.hits")
    hit = page.locator("li.hit", has_text="Nalokson er et legemiddel").first
    assert hit.locator(".snippet mark", has_text="alokson").count() >= 1  # the query word is marked in the snippet
    assert hit.locator(".where").inner_text().strip()  # section / page shown
    assert 1 <= page.locator("li.hit").count() <= 10

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
    tab_to(page, "Dokumenter og valg")
    page.keyboard.press("Enter")  # opens the folded filters
    page.locator(f'input[name="doc"][value="{WHITE_PAPER}"]').focus()
    page.keyboard.press("Space")
    page.locator("#q").focus()
    page.keyboard.type("behandling")
    page.keyboard.press("Enter")
    page.wait_for_selector("ol.hits")
    assert page.locator("li.hit").count() > 1
    assert page.locator(f'input[name="doc"][value="{WHITE_PAPER}"]').is_checked()
    assert "doc=" + WHITE_PAPER in page.url
    hits = httpx.get(server.url + "/search", params={"q": "behandling", "doc": WHITE_PAPER}).json()["hits"]
    shown = [t.split(". ", 1)[1] for t in page.locator("li.hit h2").all_text_contents()]
    assert shown and set(shown) == {hit["source"].split(", ")[0] for hit in hits} == {"Meld. St. 5 (2024–2025)"}


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


STOLTENBERG = "stoltenberg-rapporten-2010"
DESKTOP, PHONE = {"width": 1280, "height": 800}, {"width": 390, "height": 844}
SHOTS = Path(os.environ.get("RAPPORTSOK_SCREENSHOTS") or "/tmp/rapportsok-screenshots")


def _open(browser, server: Server, viewport: dict, path: str):
    context = browser.new_context(base_url=server.url, viewport=viewport)
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url) else route.abort())
    page.goto(path)
    return context, page


def _shot(page, name: str) -> None:
    """Kept for a person to look at (RAPPORTSOK_SCREENSHOTS, else /tmp/rapportsok-screenshots)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_a_nonsense_query_says_ingen_treff(page) -> None:
    page.goto("/?q=xyzzyqwerty&mode=lexical")
    assert page.locator("li.hit").count() == 0
    assert "Ingen treff" in page.locator('[role="status"]').inner_text()
    page.goto("/?q=xyzzyqwerty")
    assert page.locator("li.hit").count() == 0 and "Ingen treff" in page.inner_text("main")


@pytest.mark.parametrize("query", ["hva sier rapporten om nalokson", "behandling av rusavhengige i fengsel"])
def test_ten_hits_fit_a_desktop_and_the_first_is_above_the_fold_on_a_phone(browser, server: Server, query: str) -> None:
    path = "/?" + urlencode({"q": query, "k": 10})
    context, desk = _open(browser, server, DESKTOP, path)
    assert desk.locator("li.hit").count() >= 1
    assert desk.evaluate("document.documentElement.scrollHeight") <= 2500
    _shot(desk, f"desktop-{query.split()[0]}")
    context.close()
    context, phone = _open(browser, server, PHONE, path)
    first = phone.locator("li.hit").first.locator(".snippet").bounding_box()
    assert first["y"] + first["height"] <= PHONE["height"]  # the first hit's snippet shows without scrolling
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # nothing sticks out
    ask = phone.get_by_role("button", name="Spør").bounding_box()
    assert ask["x"] + ask["width"] <= PHONE["width"]
    _shot(phone, f"phone-{query.split()[0]}")
    context.close()


def test_weaker_hits_are_folded_and_a_hit_expands_to_its_whole_passage(page) -> None:
    page.goto("/?" + urlencode({"q": "behandling av rusavhengige i fengsel"}))
    weaker = page.locator("details.weaker")
    assert weaker.count() == 1 and not weaker.locator("li.hit").first.is_visible()
    weaker.locator("> summary").click()
    assert weaker.locator("li.hit").first.is_visible()
    hit = page.locator("ol.hits li.hit").first
    whole = hit.locator("details.full p.text")
    assert not whole.is_visible()
    hit.locator("details.full summary").click()
    assert whole.is_visible() and len(whole.inner_text()) > len(hit.locator(".snippet").inner_text())


def test_ask_honours_the_ticked_document(page, server: Server) -> None:
    page.goto("/")
    page.get_by_text("Dokumenter og valg").click()
    page.locator(f'input[name="doc"][value="{STOLTENBERG}"]').check()
    page.locator("#q").fill("hva sier rapporten om sprøyterom")
    with page.expect_navigation():
        page.get_by_role("button", name="Spør").click()
    sources = page.locator("ol.sources li > a").all_inner_texts()
    _shot(page, "ask-stoltenberg")
    body = httpx.get(server.url + "/ask", params={"q": "hva sier rapporten om sprøyterom", "doc": STOLTENBERG}).json()
    assert body["citations"] and {c["doc"] for c in body["citations"]} == {STOLTENBERG}
    cited = {c["source"] for c in body["citations"]}  # the references of that report's quotes
    assert sources and set(sources) <= cited


def test_links_keep_the_search_and_a_citation_marks_its_sentence(page) -> None:
    state = {"q": "sprøyterom", "doc": STOLTENBERG, "mode": "lexical", "k": "5", "svar": "1"}
    page.goto("/?" + urlencode(state))
    quote = " ".join(page.locator("ol.sources li").first.locator("blockquote").inner_text().split())
    with page.expect_navigation():
        page.locator("section.answer a.ref").first.click()  # [1] in the answer text
    assert "/passasje/" in page.url
    marked = page.locator("mark.sitat")
    assert marked.count() == 1 and " ".join(marked.inner_text().split()) == quote
    assert marked.is_visible() and marked.bounding_box()["y"] < 800  # scrolled to it
    _shot(page, "context-citation")
    with page.expect_navigation():
        page.locator(".pager a").first.click()  # browsing the document keeps the search too
    with page.expect_navigation():
        page.get_by_text("← Tilbake til søket").click()
    assert page.locator("#q").input_value() == "sprøyterom"
    assert page.locator(f'input[name="doc"][value="{STOLTENBERG}"]').is_checked()
    assert page.locator("#mode").input_value() == "lexical" and page.locator("#k").input_value() == "5"
    assert page.locator("section.answer").count() == 1  # it was an ask, and is again
    with page.expect_navigation():
        page.locator("li.hit a", has_text="Vis i sammenheng").first.click()
    assert page.locator('[aria-current="true"]').count() == 1 and page.locator("mark.sitat").count() == 0
    for key, value in state.items():
        assert f"{key}={quote_plus(value)}" in page.url


def test_a_browser_gets_norwegian_pages_and_an_api_client_json(page, server: Server) -> None:
    response = page.goto("/finnes-ikke")
    assert response.status == 404 and "finnes ikke" in page.inner_text("main")
    assert page.evaluate("document.documentElement.lang") == "nb"
    response = page.goto("/search?q=")
    assert response.status == 422 and "Ugyldig" in page.inner_text("main")
    response = page.goto("/?q=nalokson&doc=finnes-ikke")
    assert "Finner ikke dokumentet" in page.locator('[role="alert"]').inner_text()
    assert httpx.get(server.url + "/finnes-ikke").json()["detail"]  # JSON for API clients
    page.goto("/docs")
    assert "`" not in page.inner_text("main") and page.locator("main code").count() > 0
    for english in ("Not Found", "hits for", "sentences", "Show", "unknown"):
        page.goto("/?q=nalokson")
        assert english not in page.inner_text("body")

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
    years = [int(re.search(r"\((\d{4})", title)[1]) for title in groups]  # each report's one name, with its year
    assert min(years) >= 2010 and 2024 in years  # «Fulgt opp i» lists no report older than the proposal
    earlier = page.locator('section[aria-labelledby="omtalt-for"]')
    assert earlier.locator("h2").inner_text() == "Omtalt før forslaget"
    assert all(int(re.search(r"\((\d{4})", t)[1]) < 2010 for t in earlier.locator("h3").all_inner_texts())
    told = followed.locator("li.link").first  # the passage that says what became of the proposal leads
    assert "Forslaget ble ikke fulgt opp." in told.locator(".text").inner_text()
    assert "sier hva som skjedde" in told.inner_text()
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


# ---------------------------------------------------------------- citable, no dead ends, one language (issue 19)


def _copied(page, button) -> str:
    """What «Kopier kilde» put on the clipboard."""
    from playwright.sync_api import expect

    expected = button.get_attribute("data-source")
    button.click()
    expect(button).to_have_text("Kopiert")
    assert page.evaluate("navigator.clipboard.readText()") == expected
    return expected


@pytest.fixture
def clipboard(browser, server: Server):
    context = browser.new_context(base_url=server.url, permissions=["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url) else route.abort())
    yield page
    context.close()


def test_kopier_kilde_on_every_view_copies_quote_source_and_link(clipboard, server: Server) -> None:
    """Hit, answer, context, proposal and «Per rapport»: each copies «the quote», its source (the report's
    name with its year, never lines of our file) and the address that shows it; the link opens it."""
    views = {
        "/?q=nalokson": "li.hit button.copy",
        "/?q=nalokson&svar=1": ".sources button.copy",
        "/forslag/stoltenberg-rapporten-2010/9": "li.link button.copy",
        "/per-rapport?q=nalokson": "section.column button.copy",
    }
    for path, selector in views.items():
        clipboard.goto(path)
        quote, source, link = _copied(clipboard, clipboard.locator(selector).first).split("\n")
        assert quote.startswith("«") and quote.endswith("»") and len(quote) > 20, path
        assert re.search(r"\(\d{4}", source) and "linje" not in source, (path, source)
        assert link.startswith(server.url + "/passasje/"), (path, link)
        clipboard.goto(link)
        shown = " ".join(clipboard.locator("mark.sitat").inner_text().split())
        assert shown == quote[1:-1] or quote[1:-1].startswith(shown), path  # the link marks the quote
        copied = _copied(clipboard, clipboard.locator(".passage.current button.copy"))  # the context view
        assert copied.split("\n")[:2] == [quote, source], path
    clipboard.goto("/forslag/stoltenberg-rapporten-2010/9")
    quote, source, link = _copied(clipboard, clipboard.locator(".proposal button.copy")).split("\n")
    assert quote == "«Etabler mottaks- og oppfølgingssentre over hele landet (MO-sentre)»"
    assert source.startswith("Stoltenberg-utvalget, Rapport om narkotika (2010)") and "forslag 9" in source
    assert link == server.url + "/forslag/stoltenberg-rapporten-2010/9"


def test_hit_headers_name_the_report_with_its_year_and_sources_never_cite_lines(page) -> None:
    page.goto("/?q=nalokson&svar=1")
    headers = page.locator("li.hit h2").all_inner_texts()
    assert headers and all(re.match(r"\d+\. .*\(\d{4}", h) for h in headers)
    assert headers[0] == "1. Meld. St. 5 (2024–2025)"
    assert "linje" not in page.inner_text("main")
    page.goto("/?q=" + quote_plus("behandling av rusavhengige i fengsel") + "&k=20")
    for source in page.locator("li.hit .where").all_inner_texts():
        assert "linje" not in source


def test_start_page_lists_the_reports_and_examples_that_answer(page) -> None:
    page.goto("/")
    reports = page.locator("ul.reports li").all_inner_texts()
    assert len(reports) == 5 and "2010 Rapport fra Stoltenberg-utvalget: Narkotikapolitikk" in reports
    years = [int(r.split()[0]) for r in reports]
    assert years == sorted(years, reverse=True)
    examples = page.locator("ul.examples a")
    assert examples.count() >= 3
    for i in range(examples.count()):
        page.goto("/")
        with page.expect_navigation():
            page.locator("ul.examples a").nth(i).click()
        main = page.inner_text("main")
        assert "Ingen treff" not in main and "Fant ikke" not in main and "Ingen av rapportene" not in main, page.url


def test_an_empty_result_names_the_filter_and_offers_all_reports_and_ask(page) -> None:
    page.goto("/?q=nalokson&doc=rusreformen-2004")
    status = page.locator(".empty").inner_text()
    assert "Ingen treff for «nalokson» i Helsedepartementet, Rusreformen (2004)" in status
    with page.expect_navigation():
        page.get_by_role("link", name="Søk i alle rapporter").click()
    assert page.locator("li.hit").count() >= 1 and "doc=" not in page.url
    page.goto("/?q=nalokson&doc=rusreformen-2004")
    with page.expect_navigation():
        page.get_by_role("link", name="Spør", exact=True).click()
    assert "Nalokson" in page.locator("section.answer").inner_text()


def test_a_query_naming_a_proposal_links_to_its_page(page) -> None:
    page.goto("/?q=forslag+15")
    lead = page.locator(".lead-proposal a")
    assert lead.count() == 1 and lead.inner_text().startswith("Forslag 15: Sikre oppfølging av narkotikaavhengige")
    with page.expect_navigation():
        lead.click()
    assert page.url.endswith("/forslag/stoltenberg-rapporten-2010/15")
    assert page.locator("h1").inner_text().startswith("Forslag 15:")
    page.goto("/?q=forslag+15")
    linked = page.locator("li.hit a", has_text="Forslag 15:")
    assert linked.count() >= 1


def test_api_docs_are_norwegian(page) -> None:
    page.goto("/docs")
    text = page.inner_text("main")
    for english in ("Successful Response", "Validation Error", "the query", "number of", "document ids",
                    "higher is better", "human-readable", "what is wrong", "search Norwegian"):
        assert english not in text, english
    assert "Vellykket svar" in text and "søket" in text and '"before"' in text
