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


def _undeclared(spec: dict, schema: dict, value: object, path: str) -> list[str]:
    """The keys in value (recursively) that the OpenAPI schema does not declare."""
    while "$ref" in schema:
        schema = spec["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    kind = {dict: "object", list: "array"}.get(type(value))
    if kind is None:
        return []
    if "anyOf" in schema:
        return min((_undeclared(spec, s, value, path) for s in schema["anyOf"]), key=len)
    if schema.get("type") != kind:
        return [f"{path}: {kind} where the schema says {schema.get('type')}"]
    if isinstance(value, list):
        return [
            miss for i, item in enumerate(value) for miss in _undeclared(spec, schema["items"], item, f"{path}[{i}]")
        ]
    properties = schema.get("properties", {})
    misses = [f"{path}.{key}" for key in value if key not in properties]
    return misses + [
        miss
        for key, item in value.items()
        if key in properties
        for miss in _undeclared(spec, properties[key], item, f"{path}.{key}")
    ]


def test_openapi_declares_every_field_the_json_routes_answer_with(server: Server) -> None:
    """/openapi.json lists every key of every JSON route's real answers, nested ones included."""
    spec = httpx.get(f"{server.url}/openapi.json", timeout=30).json()
    hit = httpx.get(f"{server.url}/search", params={"q": "nalokson", "k": 1}, timeout=30).json()["hits"][0]
    calls = [
        ("/search", "/search", {"q": "nalokson legemiddelassistert behandling", "k": 20}),
        ("/ask", "/ask", {"q": "Hva er nalokson?"}),
        ("/documents", "/documents", {}),
        ("/documents/{doc}", f"/documents/{STOLTENBERG}", {}),
        ("/passages/{passage_id}", f"/passages/{hit['passage_id']}", {}),
        ("/proposals", "/proposals", {}),
        ("/proposals/{doc}/{n}/followup", f"/proposals/{STOLTENBERG}/9/followup", {}),
        ("/compare", "/compare", {"q": "legemiddelassistert behandling"}),
        ("/health", "/health", {}),
    ]
    json_routes = {
        path
        for path, methods in spec["paths"].items()
        if "application/json" in methods["get"]["responses"]["200"].get("content", {})
    }
    assert json_routes == {route for route, _, _ in calls}  # every JSON route is checked
    misses = []
    for route, url, params in calls:
        response = httpx.get(server.url + url, params=params, timeout=60)
        assert response.status_code == 200, (url, response.text)
        schema = spec["paths"][route]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
        misses += _undeclared(spec, schema, response.json(), route)
    assert not misses, misses
