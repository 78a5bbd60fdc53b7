"""An index that follows the corpus: the server swaps in new builds, `watch` makes them, no request fails meanwhile."""

from __future__ import annotations

import os
import shutil
import threading
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest
from serving import clone_index, serve, shared, watch

from rapportsok.indexing.build import build
from rapportsok.indexing.watch import watch as watch_loop
from rapportsok.querying.index import Index
from rapportsok.querying.search import search
from rapportsok.serving.app import LiveIndex
from rapportsok.settings import Settings

MANDATE = "mandat-stoltenberg-utvalget-2009.txt"


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return shared("small", tmp_path_factory)


@pytest.fixture
def settings(built: Settings, tmp_path: Path) -> Settings:
    """A private copy per test, so tests may edit the corpus (embedding cache included: rebuilds are quick)."""
    return clone_index(built, tmp_path)


def append(settings: Settings, name: str, text: str) -> None:
    path = settings.corpus / name
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + text + "\n", encoding="utf-8")


def lexical_texts(index: Index, word: str) -> list[str]:
    return [h.passage.text for h in search(index, word, k=5, mode="lexical").hits]


def test_live_index_swaps_in_a_new_build_and_the_old_one_keeps_answering(settings: Settings) -> None:
    live = LiveIndex(Index.load(settings))
    old = live.current
    assert not live.refresh()  # nothing new on disk

    append(settings, MANDATE, "Kvasirenselsesprogrammet skal evalueres av utvalget hvert tredje år.")
    build(settings, embedder=old.embedder)
    assert live.refresh()
    assert live.current is not old and live.current.embedder is old.embedder
    assert any("Kvasirenselsesprogrammet" in t for t in lexical_texts(live.current, "Kvasirenselsesprogrammet"))
    assert search(old, "utvalget", k=3).hits  # a request still holding the old build is unharmed
    assert not live.refresh()


def test_watch_loop_rebuilds_after_changes_and_stops(settings: Settings) -> None:
    index = Index.load(settings)
    stop = threading.Event()
    reports = []
    thread = threading.Thread(
        target=watch_loop,
        args=(settings,),
        kwargs={"on_build": reports.append, "stop": stop, "embedder": index.embedder},
    )
    thread.start()
    try:
        deadline = time.monotonic() + 30
        while not reports and time.monotonic() < deadline:  # the first, catching-up build
            time.sleep(0.1)
        assert reports and reports[0].embedded == 0
        time.sleep(0.3)  # let the file watcher settle before the change
        (settings.corpus / "ny-rapport-2025.txt").write_text(
            "Ny rapport\n\nSnøskredsikring av lavterskeltilbud er et nytt tema i denne rapporten.\n", encoding="utf-8"
        )
        while len(reports) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert len(reports) >= 2 and reports[-1].added == 1
        assert lexical_texts(Index.load(settings, embedder=index.embedder), "Snøskredsikring")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


class Traffic:
    """Clients searching without pause while the corpus changes; every answer is recorded."""

    QUERIES = ["utvalget", "narkotika og politi", "rusavhengige", "mandat", "behandling", "ruskoordinator"]

    def __init__(self, url: str, clients: int = 3, limit_seconds: float = 120) -> None:
        self.url, self.statuses, self.failures = url, Counter(), []
        self._stop = threading.Event()
        self._deadline = time.monotonic() + limit_seconds
        self._threads = [threading.Thread(target=self._run, args=(n,)) for n in range(clients)]

    def _run(self, n: int) -> None:
        with httpx.Client(base_url=self.url, timeout=30) as http:
            i = n
            while not self._stop.is_set() and time.monotonic() < self._deadline:
                path = "/health" if i % 5 == 0 else "/search"
                params = {"q": f"{self.QUERIES[i % len(self.QUERIES)]} {i}", "k": 5} if path == "/search" else None
                try:
                    response = http.get(path, params=params)
                    self.statuses[response.status_code] += 1
                    if response.status_code == 200:
                        response.json()
                except httpx.HTTPError as exc:
                    self.failures.append(repr(exc))
                i += 1

    def __enter__(self) -> Traffic:
        for thread in self._threads:
            thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()


def wait_for(check, seconds: float) -> float:
    """Seconds until check() held; fails after the limit."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < seconds, f"not seen within {seconds} s"
        time.sleep(0.2)
    return time.monotonic() - started


def test_serve_and_watch_follow_corpus_edits_without_a_failed_request(settings: Settings, tmp_path: Path) -> None:
    with watch(settings, tmp_path / "watch.log"), serve(settings, tmp_path / "serve.log") as server:
        http = httpx.Client(base_url=server.url, timeout=30)
        first_build = http.get("/health").json()["build"]

        def found(word: str) -> bool:
            hits = http.get("/search", params={"q": word, "mode": "lexical", "k": 3}).json()["hits"]
            return any(word in h["text"] for h in hits)

        def documents() -> set[str]:
            return {d["doc"] for d in http.get("/documents").json()}

        with Traffic(server.url) as traffic:
            # An edited file: the new sentence is searchable once watch has rebuilt and serve has swapped.
            append(settings, MANDATE, "Kvasirenselsesprogrammet skal evalueres av utvalget hvert tredje år.")
            edited = wait_for(lambda: found("Kvasirenselsesprogrammet"), 60)
            # An added file, then a removed one.
            (settings.corpus / "ny-rapport-2025.txt").write_text(
                "Ny rapport\n\nSnøskredsikring av lavterskeltilbud er et nytt tema.\n", encoding="utf-8"
            )
            wait_for(lambda: "ny-rapport-2025" in documents() and found("Snøskredsikring"), 60)
            (settings.corpus / MANDATE).unlink()
            wait_for(lambda: "mandat-stoltenberg-utvalget-2009" not in documents(), 60)
            assert not found("Kvasirenselsesprogrammet")
        assert http.get("/health").json()["build"] != first_build
        http.close()
        print(f"edit visible after {edited:.1f} s; {sum(traffic.statuses.values())} requests during the swaps")

    assert not traffic.failures, traffic.failures[:3]
    assert set(traffic.statuses) == {200}, traffic.statuses
    assert sum(traffic.statuses.values()) > 20
    assert "serving build" in server.output()


def test_watch_survives_a_file_whose_name_is_not_utf8(settings: Settings) -> None:
    index = Index.load(settings)
    stop = threading.Event()
    reports = []
    options = {"on_build": reports.append, "stop": stop, "embedder": index.embedder}
    thread = threading.Thread(target=watch_loop, args=(settings,), kwargs=options)
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while not reports and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.3)
        name = os.fsdecode(b"navn-\xe6\xf8\xe5.txt")  # as copied from an old Windows share
        (settings.corpus / name).write_text("Kort notat\n\nKvasikrystallinsk nalokson i nesespray.\n", encoding="utf-8")
        while not any(r.added for r in reports) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert any(r.added == 1 for r in reports), reports
        assert {d.doc for d in Index.load(settings).documents} >= {"navn-æøå"}
        (settings.corpus / "ny-rapport-2025.txt").write_text(
            "Ny rapport\n\nSnøskredsikring av lavterskeltilbud er et nytt tema.\n", encoding="utf-8"
        )  # and it still follows the corpus
        while not lexical_texts(Index.load(settings), "Snøskredsikring") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert thread.is_alive() and lexical_texts(Index.load(settings), "Snøskredsikring")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_watch_follows_a_corpus_folder_that_is_removed_and_made_again(settings: Settings, tmp_path: Path) -> None:
    """As a sync tool or `rm -r corpus && cp -r backup corpus` does: the old folder's watch would be deaf."""
    index = Index.load(settings)
    stop = threading.Event()
    reports = []
    options = {"on_build": reports.append, "stop": stop, "embedder": index.embedder}
    thread = threading.Thread(target=watch_loop, args=(settings,), kwargs=options)
    thread.start()
    try:
        deadline = time.monotonic() + 90
        while not reports and time.monotonic() < deadline:
            time.sleep(0.1)
        copy = tmp_path / "kopi"
        shutil.copytree(settings.corpus, copy)
        shutil.rmtree(settings.corpus)
        time.sleep(2.5)  # the watcher sees the folder gone
        copy.rename(settings.corpus)
        time.sleep(2.5)
        (settings.corpus / "ny-rapport-2025.txt").write_text(
            "Ny rapport\n\nSnøskredsikring av lavterskeltilbud er et nytt tema.\n", encoding="utf-8"
        )
        while not lexical_texts(Index.load(settings), "Snøskredsikring") and time.monotonic() < deadline:
            time.sleep(0.2)
        assert thread.is_alive() and lexical_texts(Index.load(settings), "Snøskredsikring")
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
