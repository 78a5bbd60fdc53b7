"""The engine contract for the local engine (a folder of build folders), changes stored as parts."""

from __future__ import annotations

import errno
import json
from pathlib import Path

import numpy as np
import pytest
from serving import clone_index, shared

from rapportsok.engines.base import Columns
from rapportsok.engines.local import engine as local
from rapportsok.engines.local import files
from rapportsok.indexing.build import build
from rapportsok.querying.index import Index
from rapportsok.querying.search import search
from rapportsok.settings import Settings
from rapportsok.text.bm25 import WORDS_FILE, compound_splitter
from rapportsok.text.tokens import words

from .contract import MANDATE, NEW_SENTENCE, QUERIES, RESPONSE, EngineContract, ToEngine, append, ranking


class TestLocalEngine(EngineContract):
    @pytest.fixture
    def to_engine(self, monkeypatch: pytest.MonkeyPatch) -> ToEngine:
        """Builds stay in the index folder; a change is stored as a part of its own even in a small
        corpus (where one document is more than DELTA_SHARE of the rows), so the contract covers parts."""
        monkeypatch.setattr(local, "DELTA_SHARE", 10.0)
        return lambda settings: settings

    @pytest.fixture
    def older(self, full: Settings, tmp_path: Path) -> Settings:
        """A copy of the shipped index: written before BuildMeta and FollowupEvidence (the files are the same)."""
        return clone_index(full, tmp_path)


def test_a_build_never_deletes_what_it_did_not_make(settings_local: Settings) -> None:
    builds = settings_local.index / "builds"
    kept = builds / "kopi-før-oppdatering"
    kept.mkdir()
    (kept / "notat.txt").write_text("mitt\n")
    (builds / "20250101T000000-abcdefg").mkdir()  # looks like a build name, is not one
    for sentence in ("Første endring i mandatet.", "Andre endring i mandatet."):
        append(settings_local, MANDATE, sentence)
        build(settings_local)
    assert (kept / "notat.txt").read_text() == "mitt\n"
    assert (builds / "20250101T000000-abcdefg").is_dir()
    assert len([p for p in builds.iterdir() if local.BUILD_NAME.fullmatch(p.name)]) == 2  # current and previous


def test_a_build_keeps_the_build_current_before_it_whatever_its_name(settings_local: Settings) -> None:
    """Readers still on the previous build read its passages lazily: it stays, even where a leftover
    of the same second sorts after it by its random suffix (which was kept instead of it)."""
    builds = settings_local.index / "builds"
    previous = local.current_build(settings_local.index).name
    leftover = builds / (previous.split("-")[0] + "-ffffff")
    leftover.mkdir()
    append(settings_local, MANDATE, "En endring i mandatet.")
    build(settings_local)
    assert (builds / previous).is_dir() and not leftover.exists()


def test_without_hard_links_a_change_is_stored_by_copying(
    settings_local: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some file systems (FAT, some network shares) refuse hard links: the part is copied instead."""

    def refuse(*_args: object) -> None:
        raise OSError(errno.EPERM, "Operation not permitted")

    monkeypatch.setattr(local, "DELTA_SHARE", 10.0)  # a change is stored as a part even in a small corpus
    monkeypatch.setattr(local.os, "link", refuse)
    append(settings_local, MANDATE, NEW_SENTENCE)
    build(settings_local)
    hits = search(Index.load(settings_local), "Kvasirenselsesprogrammet", k=1).hits
    assert NEW_SENTENCE[:30] in hits[0].passage.text
    assert (local.current_build(settings_local.index) / local.DELTAS).is_file()  # stored as a part, copied


@pytest.fixture
def settings_local(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Settings:
    return clone_index(shared("small", tmp_path_factory), tmp_path)


def test_a_change_that_splits_a_compound_otherwise_ranks_as_a_whole_build(
    settings_local: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """A new word that is the head of a known compound changes how a whole build splits that compound:
    the change is still a part, and the kept passages holding the compound are added to it again,
    split anew (their old rows retired), so every row is split as in a whole build."""
    monkeypatch.setattr(local, "DELTA_SHARE", 10.0)  # else a small corpus is always written whole
    counts = json.loads((local.current_build(settings_local.index) / "lexical" / WORDS_FILE).read_text())
    splitter = compound_splitter(counts)
    kept = set(words((settings_local.corpus / RESPONSE).read_text(encoding="utf-8")))  # the document not changed
    compound, head = next(
        (word, word[:cut])
        for word in sorted(kept, key=len, reverse=True)
        for cut in range(6, len(word) - 4)
        if word.isalpha() and word[:cut] not in counts and word[cut:] in splitter.counts
        and compound_splitter(counts | {word[:cut]: 50}).parts(word) != splitter.parts(word)
    )
    append(settings_local, MANDATE, " ".join([head] * 50) + ".")
    old = Index.load(settings_local)
    report = build(settings_local, embedder=old.embedder)
    assert (report.changed, report.embedded) == (1, 1)
    holding = {p.passage_id for p in old.passages if p.doc == Path(RESPONSE).stem and compound in words(p.context())}
    assert holding
    added = local.current_build(settings_local.index) / "deltas"
    (part,) = added.iterdir()  # stored as a part, with the passages split anew
    again = {json.loads(line)["passage_id"] for line in (part / "passages.jsonl").read_text().splitlines()}
    assert holding <= again

    whole = clone_index(settings_local, tmp_path / "whole")
    build(whole, rewrite=True, embedder=old.embedder)
    changed, fresh = Index.load(settings_local, embedder=old.embedder), Index.load(whole, embedder=old.embedder)
    assert changed.lexical.analyzer.decompounder.counts == fresh.lexical.analyzer.decompounder.counts
    assert sorted(p.passage_id for p in changed.passages) == sorted(p.passage_id for p in fresh.passages)
    for query in (compound, head, f"{head} {compound}"):
        for mode in ("lexical", "hybrid"):
            assert ranking(changed, query, mode) == ranking(fresh, query, mode), (query, mode)


def test_a_small_change_is_a_part_that_ranks_as_a_whole_build(
    settings_local: Settings, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(local, "DELTA_SHARE", 10.0)
    append(settings_local, MANDATE, NEW_SENTENCE + " Utvalget skal vurdere narkotikapolitikken og politiets arbeid.")
    old = Index.load(settings_local)
    build(settings_local, embedder=old.embedder)
    assert (local.current_build(settings_local.index) / local.DELTAS).exists()  # stored as a part
    whole = clone_index(settings_local, tmp_path / "whole")
    report = build(whole, rewrite=True, embedder=old.embedder)
    assert (report.embedded, report.sentences) == (0, 0)  # a rewrite embeds nothing known
    assert not (local.current_build(whole.index) / local.DELTAS).exists()
    changed, fresh = Index.load(settings_local, embedder=old.embedder), Index.load(whole, embedder=old.embedder)
    assert changed.lexical.analyzer.decompounder.counts == fresh.lexical.analyzer.decompounder.counts
    for query in (*QUERIES, "narkotikapolitikken", "politiets arbeid", "utvalget vurdere"):
        for mode in ("lexical", "hybrid"):
            assert ranking(changed, query, mode) == ranking(fresh, query, mode), (query, mode)


def test_a_build_found_sound_is_served_and_changed_without_parsing_every_passage(settings_local: Settings) -> None:
    """A build checked whole once is stamped (files.BUILD_CHECKED): a server takes what search needs of
    every passage from the parts' columns and reads passages where asked, a change reads only the
    documents it touches; both give what a full parse gives."""
    append(settings_local, MANDATE, NEW_SENTENCE)
    build(settings_local)
    build_dir = local.current_build(settings_local.index)
    assert (build_dir / files.BUILD_CHECKED).is_file()
    lazy = Index.load(settings_local)
    assert isinstance(lazy.store.passages, files.StoredPassages)
    parsed = files.read_build(build_dir)  # the same build parsed and checked line by line
    assert list(lazy.store.passages) == parsed.passages
    assert _by_passage(lazy.store.columns) == _by_passage(parsed.columns)
    parsed_index = Index(settings_local, _parsed(build_dir))
    for query in QUERIES:
        for mode in ("hybrid", "lexical"):
            assert ranking(lazy, query, mode) == ranking(parsed_index, query, mode)
    doc = lazy.documents[0].doc
    assert lazy.doc_passages(doc) == [p for p in parsed.passages if p.doc == doc]


def test_a_stamped_build_written_again_is_checked_whole(settings_local: Settings) -> None:
    """Writing a file of a stamped build (even keeping its size) changes its stamp: the next build checks
    the build whole, finds the damage and rebuilds from the cache instead of trusting it."""
    build_dir = local.current_build(settings_local.index)
    passages = build_dir / "passages.jsonl"
    text = passages.read_text(encoding="utf-8")
    passages.write_text(text.replace('"page": null', '"page": "x"', 1), encoding="utf-8")
    report = build(settings_local)
    assert report.unchanged == 0 and (report.embedded, report.sentences) == (0, 0)
    assert local.current_build(settings_local.index) != build_dir


def _parsed(build_dir: Path) -> local.LocalBuild:
    """The build loaded with every passage parsed (as before stamps): its columns made from the passages."""
    store = local.LocalBuild(build_dir.parent.parent, build_dir)
    checked = files.read_build(build_dir)
    store.passages, store.columns = checked.passages, checked.columns
    return store


def _by_passage(columns: Columns) -> tuple:
    """The columns as plain values, each passage's document by name (a build's list of names may hold retired ones)."""
    docs = np.array(columns.doc_names, dtype=object)[columns.doc_codes].tolist()
    arrays = ("ids", "footnote", "proposal", "line_start", "sheet", "paged")
    return docs, columns.reports, *(getattr(columns, name).tolist() for name in arrays)
