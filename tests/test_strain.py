"""A server under strain, on real servers over a real index: idle sockets by the thousand, requests that
try to pass as light, a PostgreSQL server that goes away and comes back, a current build it cannot load,
and database URLs whose password must not be shown."""

from __future__ import annotations

import dataclasses
import json
import resource
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from serving import Server, clone_index, serve, shared, wait_for

import rapportsok
from rapportsok.indexing.build import build
from rapportsok.serving.connections import HEAD_TIMEOUT_S
from rapportsok.serving.limits import is_heavy
from rapportsok.settings import Settings

IDLE_SOCKETS = 1200
OPEN_FILES = 1024  # the common soft limit the server is started under (hard limit too: it cannot raise it)
PASSWORD = "hemmelig-Passord-42"


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    return clone_index(shared("small", tmp_path_factory), tmp_path_factory.mktemp("strain"))


@pytest.fixture(scope="module")
def tight(small: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A server started with at most OPEN_FILES open files, hard limit included."""
    limit = ("sh", "-c", f'ulimit -n {OPEN_FILES} && exec "$@"', "sh")
    with serve(small, tmp_path_factory.mktemp("logs") / "serve.log", prefix=limit) as server:
        yield server


def open_files_for(count: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < count:
        pytest.skip(f"this machine allows {hard} open files per process; the test needs {count}")
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, count), hard))


def test_idle_connections_beyond_the_open_file_limit_do_not_starve_health(tight: Server) -> None:
    open_files_for(IDLE_SOCKETS + 200)
    port = int(tight.url.rsplit(":", 1)[1])
    idle = []
    try:
        for _ in range(IDLE_SOCKETS):
            idle.append(socket.create_connection(("127.0.0.1", port), timeout=5))
        time.sleep(1)  # let the server accept them all
        health = httpx.get(tight.url + "/health", timeout=1)  # within 1 s, or this raises
        assert health.status_code == 200
    finally:
        for sock in idle:
            sock.close()
    time.sleep(1)
    assert httpx.get(tight.url + "/search", params={"q": "nalokson"}, timeout=10).status_code == 200
    log = tight.output()
    assert "Too many open files" not in log
    assert len(log) < 100_000, "the log grew with the flood"


def test_a_connection_that_never_sends_a_whole_request_is_closed(tight: Server) -> None:
    port = int(tight.url.rsplit(":", 1)[1])
    silent = socket.create_connection(("127.0.0.1", port), timeout=HEAD_TIMEOUT_S + 10)
    slow = socket.create_connection(("127.0.0.1", port), timeout=HEAD_TIMEOUT_S + 10)
    slow.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\n")  # and the rest never comes
    started = time.monotonic()
    try:
        assert silent.recv(1) == b""  # closed by the server
        assert slow.recv(1) == b""
        assert time.monotonic() - started < HEAD_TIMEOUT_S + 5
    finally:
        silent.close()
        slow.close()


def test_a_long_query_cannot_pass_as_light_and_comparisons_are_heavy() -> None:
    def scope(path: str, query: str) -> dict:
        return {"type": "http", "path": path, "query_string": query.encode()}

    long = "nalokson " * 40
    assert not is_heavy(scope("/search", "q=nalokson"))
    assert is_heavy(scope("/search", f"q=kort&q={long}"))  # the route reads the last q
    assert is_heavy(scope("/search", "q=kort&k=5&k=100"))
    assert is_heavy(scope("/compare", "q=nalokson"))
    assert is_heavy(scope("/per-rapport", "q=nalokson"))


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(["rapportsok", *args], capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize(
    "url",
    [
        f"postgresql:/ola:{PASSWORD}@localhost/rapporter",  # one slash: libpq quotes it as a conninfo string
        f"postgresql://ola:{PASSWORD} x@localhost/rapporter",  # a space: libpq quotes the password
        f"postgresql://ola:{PASSWORD}@127.0.0.1:1/rapporter",  # well formed, nobody listening
    ],
)
def test_a_database_password_is_never_shown(url: str, small: Settings, tmp_path: Path) -> None:
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[postgres]')")
    given = cli("--database", url, "search", "nalokson", "--corpus", str(small.corpus), "--index", str(small.index))
    secret_file = tmp_path / "database-url"
    secret_file.write_text(url + "\n")
    from_file = cli("--database-file", str(secret_file), "search", "nalokson", "--index", str(small.index))
    for run in (given, from_file):
        assert run.returncode != 0
        assert "database" in run.stderr
        assert PASSWORD not in run.stderr + run.stdout
        assert len(run.stderr.strip().splitlines()) == 1


@pytest.fixture
def database(tmp_path: Path) -> Iterator:
    """A PostgreSQL server of this test's own, since the test stops and starts it."""
    pgserver = pytest.importorskip("pgserver", reason="pgserver is not installed (pip install -e '.[test]')")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[postgres]')")
    try:
        pg = pgserver.get_server(tmp_path / "pg", cleanup_mode="stop")
    except Exception as exc:  # noqa: BLE001  (any failure to start means: no server on this machine)
        pytest.skip(f"no PostgreSQL server could be started: {exc}")
    yield pg
    pg.cleanup()


def test_a_database_outage_gives_503_at_once_and_service_resumes(
    database, small: Settings, tmp_path: Path  # noqa: ANN001
) -> None:
    import pgserver

    name = "t" + uuid.uuid4().hex[:12]
    database.psql(f"CREATE DATABASE {name};")
    settings = dataclasses.replace(
        clone_index(small, tmp_path), database=database.get_uri().replace("/postgres?", f"/{name}?")
    )
    build(settings)
    env = {"RAPPORTSOK_DATABASE_URL": settings.database}
    with serve(settings, tmp_path / "serve.log", env=env) as server, httpx.Client(base_url=server.url) as http:
        assert http.get("/search", params={"q": "nalokson"}).status_code == 200
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=database.pgdata, user=database.system_user)

        searched = http.get("/search", params={"q": "nalokson narkotika"}, timeout=10)
        assert searched.status_code == 503
        assert "Retry-After" in searched.headers
        assert "database" in searched.json()["detail"]
        wait_for(lambda: http.get("/health", timeout=1).status_code == 503, 5)  # the server's next look says so

        database.ensure_postgres_running()
        wait_for(lambda: http.get("/search", params={"q": "nalokson"}, timeout=10).status_code == 200, 15)
        assert http.get("/health", timeout=1).status_code == 200


def test_a_current_build_the_server_cannot_load_is_reported_not_served_around(small: Settings, tmp_path: Path) -> None:
    settings = clone_index(small, tmp_path)
    with serve(settings, tmp_path / "serve.log") as server, httpx.Client(base_url=server.url, timeout=10) as http:
        assert http.get("/search", params={"q": "nalokson"}).status_code == 200
        current = (settings.index / "CURRENT").read_text().strip()
        builds = settings.index / "builds"
        other = f"{current}-annen-modell"
        shutil.copytree(builds / current, builds / other)
        meta = json.loads((builds / other / "meta.json").read_text())
        (builds / other / "meta.json").write_text(json.dumps(meta | {"model": "en-annen-modell"}))
        (settings.index / "CURRENT").write_text(other + "\n")

        wait_for(lambda: http.get("/search", params={"q": "nalokson"}).status_code == 503, 5)
        refused = http.get("/search", params={"q": "nalokson"})
        assert "Retry-After" in refused.headers
        assert str(settings.index) not in refused.text and str(settings.index.resolve()) not in refused.text
        assert http.get("/health").status_code == 503

        (settings.index / "CURRENT").write_text(current + "\n")
        wait_for(lambda: http.get("/search", params={"q": "nalokson"}).status_code == 200, 5)


def test_escape_sequences_in_a_file_name_never_reach_the_terminal(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "notat.txt").write_text("Nalokson deles ut i kommunene.\n", encoding="utf-8")
    (corpus / "rapport-\x1b[8mskjult\x1b]0;tittel\x07.txt").write_bytes(b"\x00\x01 binary")
    for color in ("never", "always"):
        run = cli("index", "--corpus", str(corpus), "--index", str(tmp_path / "index"), "--color", color)
        shown = run.stdout + run.stderr
        assert "skjult" in shown  # the file is named in a warning ...
        assert "\x1b[8m" not in shown and "\x1b]0" not in shown  # ... with its escape sequences made visible
        assert "␛[8m" in shown or "\\x1b[8m" in shown


def test_index_waits_for_a_database_that_is_away(database, small: Settings, tmp_path: Path) -> None:  # noqa: ANN001
    import pgserver

    name = "t" + uuid.uuid4().hex[:12]
    database.psql(f"CREATE DATABASE {name};")
    settings = dataclasses.replace(
        clone_index(small, tmp_path), database=database.get_uri().replace("/postgres?", f"/{name}?")
    )
    build(settings)
    pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=database.pgdata, user=database.system_user)
    mandate = settings.corpus / "mandat-stoltenberg-utvalget-2009.txt"
    mandate.write_text(mandate.read_text(encoding="utf-8") + "\n\nSnøskredsikring er et nytt tema.\n", encoding="utf-8")
    args = ["--database", settings.database, "index", "--corpus", str(settings.corpus), "--index", str(settings.index)]
    process = subprocess.Popen(["rapportsok", *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    time.sleep(4)
    assert process.poll() is None  # still trying
    database.ensure_postgres_running()
    out, err = process.communicate(timeout=120)
    assert process.returncode == 0, err
    assert "prøver igjen" in err and "1 endret" in out
    assert "Traceback" not in err


def test_watch_outlives_a_database_outage(database, small: Settings, tmp_path: Path) -> None:  # noqa: ANN001
    import threading

    import pgserver

    from rapportsok.indexing.watch import watch as watch_loop
    from rapportsok.querying.index import Index

    name = "t" + uuid.uuid4().hex[:12]
    database.psql(f"CREATE DATABASE {name};")
    settings = dataclasses.replace(
        clone_index(small, tmp_path), database=database.get_uri().replace("/postgres?", f"/{name}?")
    )
    build(settings)
    embedder = Index.load(settings).embedder
    reports, errors, stop = [], [], threading.Event()
    options = {"on_build": reports.append, "on_error": errors.append, "stop": stop, "embedder": embedder}
    thread = threading.Thread(target=watch_loop, args=(settings,), kwargs=options)
    thread.start()
    try:
        wait_for(lambda: reports, 60)
        pgserver.pg_ctl(["-w", "-m", "fast", "stop"], pgdata=database.pgdata, user=database.system_user)
        mandate = settings.corpus / "mandat-stoltenberg-utvalget-2009.txt"
        mandate.write_text(mandate.read_text(encoding="utf-8") + "\n\nSnøskredsikring er nytt.\n", encoding="utf-8")
        wait_for(lambda: errors, 30)  # it says the database is away ...
        assert thread.is_alive()
        database.ensure_postgres_running()
        wait_for(lambda: any(r.changed for r in reports), 60)  # ... and builds the change once it is back
    finally:
        stop.set()
        thread.join(timeout=30)
    assert not thread.is_alive()


def test_a_read_only_index_with_a_pending_change_answers_from_the_current_build(
    small: Settings, tmp_path: Path
) -> None:
    """An index folder the user may not write (a shared copy, a read-only mount): one note, no crash."""
    import os

    settings = clone_index(small, tmp_path)
    mandate = settings.corpus / "mandat-stoltenberg-utvalget-2009.txt"
    mandate.write_text(mandate.read_text(encoding="utf-8") + "\n\nSnøskredsikring er nytt.\n", encoding="utf-8")
    as_reader: tuple[str, ...] = ()
    if os.geteuid() == 0:  # root writes anywhere: search as a user who may not
        if not shutil.which("setpriv"):
            pytest.skip("running as root without setpriv to search as another user")
        package = Path(rapportsok.__file__).resolve().parent
        if not all(folder.stat().st_mode & 0o001 for folder in (package, *package.parents)):
            pytest.skip(f"the installed package ({package}) is not readable by another user to search as")
        as_reader = ("setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups")
        subprocess.run(["chmod", "-R", "a+rX", str(tmp_path)], check=True)
        for parent in tmp_path.parents:
            parent.chmod(parent.stat().st_mode | 0o011)  # nobody may pass through to the copy
    else:
        subprocess.run(["chmod", "-R", "a-w", str(settings.index)], check=True)
    try:
        run = subprocess.run(
            [*as_reader, "rapportsok", "search", "nalokson", "--corpus", str(settings.corpus),
             "--index", str(settings.index)],
            capture_output=True, text=True, timeout=300, env={**os.environ, "HOME": str(tmp_path)},
        )
    finally:
        subprocess.run(["chmod", "-R", "u+w", str(settings.index)], check=True)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert "nalokson" in run.stdout.lower()
    assert len(run.stderr.strip().splitlines()) == 1  # the note that the index is behind the corpus
