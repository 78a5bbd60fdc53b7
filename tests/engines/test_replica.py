"""Searches served from a streaming hot standby while builds are made on the primary: PostgreSQL's own
way to scale reads, with real servers (the pgserver wheel's programs) on loopback ports."""

from __future__ import annotations

import dataclasses
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from pgreplica import Cluster, primary_and_standby
from serving import Server, clone_index, serve, shared, wait_for

from rapportsok.indexing.build import build

from .contract import MANDATE

DATABASE = "rapporter"
NEW_WORD = "Snøskredsikring"


@pytest.fixture(scope="module")
def clusters(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[Cluster, Cluster]]:
    pytest.importorskip("pgserver", reason="pgserver is not installed (pip install -e '.[test]')")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[postgres]')")
    root = tmp_path_factory.mktemp("replica")
    root.chmod(0o755)
    try:
        with primary_and_standby(root / "pg") as pair:
            pair[0].psql(f"CREATE DATABASE {DATABASE}")
            yield pair
    except RuntimeError as exc:
        pytest.skip(f"no primary and standby could be started: {exc}")


def current_generation(cluster: Cluster) -> str:
    return cluster.psql("SELECT generation FROM rs_current", DATABASE).strip()


class Traffic:
    """Searches against a server in a thread, counting statuses and the document totals it saw."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.statuses: Counter = Counter()
        self.totals: set[int] = set()
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run)

    def run(self) -> None:
        with httpx.Client(base_url=self.server.url, timeout=30) as client:
            while not self.stop.is_set():
                searched = client.get("/search", params={"q": f"{NEW_WORD} utvalget"})
                self.statuses[searched.status_code] += 1
                documents = client.get("/documents")
                self.statuses[documents.status_code] += 1
                if documents.status_code == 200:
                    self.totals.add(sum(d["passages"] for d in documents.json()))

    def __enter__(self) -> Traffic:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop.set()
        self.thread.join(timeout=60)


def test_a_server_on_the_standby_follows_builds_on_the_primary(
    clusters: tuple[Cluster, Cluster], tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    primary, standby = clusters
    settings = dataclasses.replace(
        clone_index(shared("small", tmp_path_factory), tmp_path), database=primary.url(DATABASE)
    )
    build(settings)
    wait_for(lambda: current_generation(standby) == current_generation(primary), 30)
    env = {"RAPPORTSOK_DATABASE_URL": standby.url(DATABASE)}
    with serve(settings, tmp_path / "serve.log", env=env) as server:
        health = httpx.get(server.url + "/health").json()
        before = health["passages"]
        assert not httpx.get(server.url + "/search", params={"q": NEW_WORD, "mode": "lexical"}).json()["hits"]

        with Traffic(server) as traffic:
            mandate = settings.corpus / MANDATE
            mandate.write_text(mandate.read_text(encoding="utf-8") + f"\n\n{NEW_WORD} er et nytt tema.\n", "utf-8")
            build(settings)  # on the primary
            committed = time.monotonic()
            wait_for(lambda: current_generation(standby) == current_generation(primary), 30)
            replicated = time.monotonic() - committed
            served = wait_for(lambda: httpx.get(server.url + "/health").json()["build"] != health["build"], 30)
            time.sleep(1)
        print(f"replication lag {replicated * 1000:.0f} ms; served from the standby after {served:.2f} s")
        assert set(traffic.statuses) == {200}, traffic.statuses
        after = httpx.get(server.url + "/health").json()["passages"]
        assert traffic.totals <= {before, after}  # one whole generation or the other, never a mix
        hits = httpx.get(server.url + "/search", params={"q": NEW_WORD, "mode": "lexical"}).json()["hits"]
        assert hits and NEW_WORD in hits[0]["text"]

        with Traffic(server) as traffic:  # the primary restarts: the standby keeps answering
            primary.stop()
            time.sleep(2)
            primary.start()
            time.sleep(1)
        assert set(traffic.statuses) == {200} and sum(traffic.statuses.values()) > 4, traffic.statuses

        served_build = httpx.get(server.url + "/health").json()["build"]
        (settings.corpus / MANDATE).write_text(mandate.read_text(encoding="utf-8") + "\n\nEnda et tema.\n", "utf-8")
        build(settings)  # and replication resumes
        wait_for(lambda: httpx.get(server.url + "/health").json()["build"] != served_build, 60)


def test_a_build_on_the_standby_is_refused_in_one_line(
    clusters: tuple[Cluster, Cluster], tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    import subprocess

    _, standby = clusters
    settings = clone_index(shared("small", tmp_path_factory), tmp_path)
    run = subprocess.run(
        ["rapportsok", "--database", standby.url(DATABASE), "index", "--corpus", str(settings.corpus),
         "--index", str(settings.index)],
        capture_output=True, text=True, timeout=300,
    )
    assert run.returncode != 0 and "replica" in run.stderr and "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1


