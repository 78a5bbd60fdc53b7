"""Answers with citations: the acceptance questions on the real corpus and index,
not-found answers, and the OpenAI-compatible wire format against a fake LLM server on loopback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
import pytest
from serving import serve

from rapportsok.errors import QueryError
from rapportsok.querying.answer import NOT_FOUND, Answer, answer
from rapportsok.querying.index import Index
from rapportsok.settings import LLMSettings, Settings

MARKER = re.compile(r"\[(\d+)\]")
CITATION_KEYS = {"n", "passage_id", "doc", "title", "section", "page", "proposal", "quote"}


# ---------------------------------------------------------------- the real corpus and index


@pytest.fixture(scope="module")
def index(full: Settings) -> Index:
    return Index.load(full)


def assert_well_cited(result: Answer) -> None:
    """Every quote stands verbatim in its passage, every citation is referred to, every marker has a citation."""
    data = result.as_dict()
    assert set(data) >= {"question", "answer", "citations", "hits"}
    assert result.citations, result.text
    markers = {int(n) for n in MARKER.findall(result.text)}
    numbers = [c["n"] for c in data["citations"]]
    assert numbers == list(range(1, len(numbers) + 1))
    assert markers == set(numbers)
    for citation, shown in zip(result.citations, data["citations"], strict=True):
        assert set(shown) >= CITATION_KEYS
        assert shown["quote"] and shown["quote"] in citation.passage.text
        assert shown["passage_id"] == citation.passage.passage_id
    hit_ids = {h["passage_id"] for h in data["hits"]}
    assert {c["passage_id"] for c in data["citations"]} <= hit_ids
    json.dumps(data)


def test_nalokson(index: Index) -> None:
    result = answer(index, "hva sier rapporten om nalokson", llm=None)
    assert_well_cited(result)
    assert result.found
    assert "nesesprayform" in result.text and "lekpersoner" in result.text
    assert any("nesesprayform" in c.quote for c in result.citations)


def test_proposal_14_is_its_headline(index: Index) -> None:
    result = answer(index, "Hva går forslag 14 i Stoltenberg-rapporten ut på?", llm=None)
    assert_well_cited(result)
    first = result.citations[0]
    assert first.passage.proposal == 14 and first.passage.doc == "stoltenberg-rapporten-2010"
    assert "trygg bo-situasjon til en del av behandlingen" in first.quote


def test_overdose_deaths_2023(index: Index) -> None:
    result = answer(index, "Hvor mange døde av overdose i Norge i 2023?", llm=None)
    assert_well_cited(result)
    assert "363" in result.text
    assert any("363" in c.quote and c.passage.doc == "meld-st-5-2024-2025" for c in result.citations)


@pytest.mark.parametrize(
    "question",
    ["Hva sier rapporten om kryptovaluta?", "What is the capital of France?", "Hva går forslag 99 ut på?"],
)
def test_unanswerable_question_gets_a_plain_not_found(index: Index, question: str) -> None:
    result = answer(index, question, llm=None)
    assert not result.found
    assert result.text == NOT_FOUND == "Fant ikke noe svar på dette i rapportene."
    assert result.as_dict()["citations"] == []


@pytest.mark.parametrize("question", ["", "   ", "x" * 5000])
def test_bad_questions_are_query_errors(index: Index, question: str) -> None:
    with pytest.raises(QueryError):
        answer(index, question, llm=None)


def test_bad_k_is_a_query_error(index: Index) -> None:
    with pytest.raises(QueryError):
        answer(index, "nalokson", k=0, llm=None)


def test_cli_ask_json(index: Index) -> None:
    settings = index.settings
    out = subprocess.run(
        ["rapportsok", "ask", "Hvor mange døde av overdose i Norge i 2023?", "-k", "3", "--json",
         "--corpus", str(settings.corpus), "--index", str(settings.index)],
        capture_output=True, text=True, timeout=300, env={k: v for k, v in os.environ.items() if "LLM" not in k},
    )
    assert out.returncode == 0, out.stderr
    data = json.loads(out.stdout)
    assert data["question"] == "Hvor mange døde av overdose i Norge i 2023?"
    assert "363" in data["answer"] and data["citations"]
    assert all(set(c) >= CITATION_KEYS for c in data["citations"])


def test_cli_ask_bad_question_is_one_line_error(index: Index) -> None:
    settings = index.settings
    out = subprocess.run(["rapportsok", "ask", " ", "--corpus", str(settings.corpus), "--index", str(settings.index)],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode != 0 and "rapportsok: feil: " in out.stderr and out.stderr.count("\n") == 1


# ---------------------------------------------------------------- generated answers (a fake LLM on loopback)


class FakeLLM:
    """A tiny OpenAI-compatible /v1/chat/completions server on 127.0.0.1 that answers a set reply."""

    def __init__(self) -> None:
        self.reply = ""
        self.requests: list[dict] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                fake.requests.append({"path": self.path, "headers": dict(self.headers), "body": body})
                if self.path != "/v1/chat/completions":
                    self.send_response(404)
                    self.end_headers()
                    return
                payload = json.dumps({
                    "id": "chatcmpl-1", "object": "chat.completion", "model": body["model"],
                    "choices": [{"index": 0, "finish_reason": "stop",
                                 "message": {"role": "assistant", "content": fake.reply}}],
                }).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def llm() -> Iterator[FakeLLM]:
    fake = FakeLLM()
    yield fake
    fake.close()


QUESTION = "hva sier rapporten om nalokson"


def nalokson_position(result: Answer) -> int:
    """The 1-based position of the passage with the nasal-spray sentence among the hits given to the model."""
    return next(i for i, h in enumerate(result.hits, start=1) if "nesesprayform" in h.passage.text)


def test_generated_answer_wire_format_and_checked_citations(index: Index, llm: FakeLLM) -> None:
    n = nalokson_position(answer(index, QUESTION, llm=None))
    llm.reply = (f"Med nalokson som nesespray kan lekfolk gi motgift ved overdose [{n}]. "
                 f"Meldingen sier at «lekpersoner uten helsefaglig kompetanse gi motgift» [{n}].")
    settings = LLMSettings(llm.url, "test-model", key="secret")
    result = answer(index, QUESTION, llm=settings)

    request = llm.requests[-1]
    assert request["path"] == "/v1/chat/completions"
    assert request["headers"]["Authorization"] == "Bearer secret"
    assert request["body"]["model"] == "test-model" and request["body"]["stream"] is False
    roles = [m["role"] for m in request["body"]["messages"]]
    assert roles == ["system", "user"] and QUESTION in request["body"]["messages"][1]["content"]
    assert "nesesprayform" in request["body"]["messages"][1]["content"]  # the passages, and only those, are sent

    assert result.method == "llm:test-model"
    assert result.text.startswith("Med nalokson som nesespray")
    assert_well_cited(result)
    assert result.citations[0].quote == "lekpersoner uten helsefaglig kompetanse gi motgift"


def test_marker_pointing_at_no_passage_is_removed(index: Index, llm: FakeLLM) -> None:
    n = nalokson_position(answer(index, QUESTION, llm=None))
    llm.reply = f"Nalokson kan gis som nesespray [{n}]. Nalokson ble oppfunnet på månen [42]."
    result = answer(index, QUESTION, llm=LLMSettings(llm.url, "m"))
    assert result.method == "llm:m"
    assert "månen" not in result.text and "[42]" not in result.text
    assert_well_cited(result)


def test_quote_not_in_the_passage_falls_back_to_the_extractive_answer(index: Index, llm: FakeLLM) -> None:
    n = nalokson_position(answer(index, QUESTION, llm=None))
    llm.reply = f"Rapporten sier at «nalokson skal selges på bensinstasjoner» [{n}]."
    result = answer(index, QUESTION, llm=LLMSettings(llm.url, "m"))
    assert result.method == "extractive" and "bensinstasjoner" not in result.text
    assert result.notes and "quotation not found" in result.notes[0]
    assert_well_cited(result)


def test_reply_without_valid_markers_falls_back(index: Index, llm: FakeLLM) -> None:
    llm.reply = "Nalokson er en motgift [0]. Det vet alle."
    result = answer(index, QUESTION, llm=LLMSettings(llm.url, "m"))
    assert result.method == "extractive"
    assert_well_cited(result)


def test_unreachable_endpoint_falls_back(index: Index, llm: FakeLLM) -> None:
    url = llm.url
    llm.close()
    result = answer(index, QUESTION, llm=LLMSettings(url, "m", timeout=5))
    assert result.method == "extractive" and result.notes
    assert_well_cited(result)


def test_nothing_is_sent_without_the_setting(index: Index, llm: FakeLLM) -> None:
    settings = Settings.resolve(environ={"RAPPORTSOK_LLM_MODEL": "m"})  # a model but no URL
    assert settings.llm is None
    result = answer(index, QUESTION, llm=settings.llm)
    assert result.method == "extractive" and answer(index, QUESTION).method == "extractive" and llm.requests == []


def test_environment_selects_the_endpoint(index: Index, llm: FakeLLM) -> None:
    """`rapportsok ask` passes the endpoint that RAPPORTSOK_LLM_URL and RAPPORTSOK_LLM_MODEL name."""
    n = nalokson_position(answer(index, QUESTION, llm=None))
    llm.reply = f"Nalokson kan gis som nesespray av lekpersoner [{n}]."
    environment = {k: v for k, v in os.environ.items() if "LLM" not in k}
    environment |= {"RAPPORTSOK_LLM_URL": llm.url.removesuffix("/v1"), "RAPPORTSOK_LLM_MODEL": "env-model"}
    out = subprocess.run(
        ["rapportsok", "ask", QUESTION, "--json", "--corpus", str(index.settings.corpus), "--index",
         str(index.settings.index)],
        capture_output=True, text=True, timeout=300, env=environment,
    )
    assert out.returncode == 0, out.stderr
    result = json.loads(out.stdout)
    assert result["method"] == "llm:env-model" and llm.requests[-1]["body"]["model"] == "env-model"
    assert "Authorization" not in llm.requests[-1]["headers"]


def test_a_server_asks_the_endpoint_its_environment_names(index: Index, llm: FakeLLM, tmp_path: Path) -> None:
    """`rapportsok serve` reads RAPPORTSOK_LLM_* once and its /ask and web answer go through that model."""
    n = nalokson_position(answer(index, QUESTION, llm=None))
    llm.reply = f"Nalokson kan gis som nesespray av lekpersoner [{n}]."
    environment = {"RAPPORTSOK_LLM_URL": llm.url, "RAPPORTSOK_LLM_MODEL": "served-model"}
    with serve(index.settings, tmp_path / "serve.log", environment) as server:
        body = httpx.get(server.url + "/ask", params={"q": QUESTION}, timeout=120).json()
        assert body["method"] == "llm:served-model" and llm.requests[-1]["body"]["model"] == "served-model"
        asked = len(llm.requests)
        page = httpx.get(server.url + "/", params={"q": QUESTION, "svar": "1"}, timeout=120)
        assert page.status_code == 200 and len(llm.requests) == asked + 1


def test_no_answer_from_the_model_is_not_found(index: Index, llm: FakeLLM) -> None:
    llm.reply = "IKKE_FUNNET"
    result = answer(index, QUESTION, llm=LLMSettings(llm.url, "m"))
    assert not result.found and result.text == NOT_FOUND and result.citations == []
