"""What every engine must do, whichever stores the builds (haystack style): a test class that
tests/engines/test_<engine>.py subclasses, giving the fixture `to_engine` (a corpus folder and
its index folder's embedding cache -> Settings whose builds go to that engine, nothing built there)."""

from __future__ import annotations

import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
from serving import WHITE_PAPER, clone_index, shared

from rapportsok.engines import engine_for
from rapportsok.engines.base import CANDIDATES, FOLLOWUP_VERSION, BuildMeta, Built, FollowupEvidence, Vectors
from rapportsok.errors import BuildLocked
from rapportsok.indexing.build import FORMAT, build
from rapportsok.querying.followup import followup
from rapportsok.querying.index import Index
from rapportsok.querying.search import search
from rapportsok.records import Document, Passage
from rapportsok.settings import DEFAULT_MODEL, Settings
from rapportsok.text.bm25 import Lexical

REPO = Path(__file__).resolve().parents[2]
MANDATE = "mandat-stoltenberg-utvalget-2009.txt"
RESPONSE = "hoeringsinnspill-narkotikapolitiforening.txt"
NEW_SENTENCE = "Kvasirenselsesprogrammet skal evalueres av utvalget hvert tredje år."
QUERIES = ("Kvasirenselsesprogrammet", "utvalget skal vurdere narkotikapolitikken", "politiets erfaringer", "forslag 3")
STOLTENBERG = "stoltenberg-rapporten-2010"
MO_CENTRES = (
    "\nMottaks- og oppfølgingssentre (MO-sentre) er nå etablert i alle landets fylker, slik "
    "Stoltenberg-utvalget foreslo: sentrene gir rask tilgang til hjelp og samler mottak, behandling "
    "og langsiktig individuell oppfølging i ett tverrfaglig miljø.\n"
)

ToEngine = Callable[[Settings], Settings]


def append(settings: Settings, name: str, text: str) -> None:
    path = settings.corpus / name
    path.write_text(path.read_text(encoding="utf-8") + "\n\n" + text + "\n", encoding="utf-8")


def cache_rows(settings: Settings) -> int:
    """Vectors in the embedding cache (the index folder's, whichever engine stores the builds)."""
    return sum(
        sqlite3.connect(path).execute("SELECT COUNT(*) FROM vectors").fetchone()[0]
        for path in (settings.index / "cache").glob("*.sqlite")
    )


def blank(settings: Settings, root: Path) -> Settings:
    """The same corpus and embedding cache, and no build."""
    shutil.copytree(settings.corpus, root / "corpus")
    shutil.copytree(settings.index / "cache", root / "index" / "cache")
    return Settings.resolve(root / "corpus", root / "index", settings.model)


def unit(rng: np.random.Generator, n: int) -> np.ndarray:
    vectors = rng.standard_normal((n, 384)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def random_build(n: int, rng: np.random.Generator) -> tuple[Built, np.ndarray, np.ndarray]:
    """n passages of three sentences in documents of 100 (every seventh passage a table without
    sentence vectors), with random unit vectors: what the engine stores, not what a model embeds.
    Also the sentence vectors and their table (passage row, start, end)."""
    passages, table = [], []
    for row in range(n):
        doc = f"d{row // 100:03d}"
        passages.append(Passage(f"{doc}:{row:06x}", doc, f"Rapport {doc}", "1 Kapittel", None, None,
                                "Første setning. Andre setning. Tredje setning."))
        table += [] if row % 7 == 0 else [(row, 0, 16), (row, 17, 32), (row, 33, 47)]
    table = np.array(table, dtype=np.int32)
    documents = [asdict(Document(d, f"Rapport {d}", 2025, "rapport", f"{d}.txt", d)) | {"passages": 100}
                 for d in dict.fromkeys(p.doc for p in passages)]
    meta = BuildMeta.model_validate({"format": FORMAT, "params": {}, "model": DEFAULT_MODEL, "dim": 384, "built_at": "",
                                     "documents": documents, "unreadable": {}, "warnings": []})
    sentences = unit(rng, len(table))
    vectors = Vectors(unit(rng, n), sentences, table)
    lexical = Lexical.build(p.context() for p in passages)
    links = FollowupEvidence(version=FOLLOWUP_VERSION, proposals=[])
    return Built(meta, passages, vectors.take, lambda: lexical, links, whole=True), sentences, table


def ranking(index: Index, query: str, mode: str) -> list[tuple[str, float]]:
    return [(h.passage.passage_id, round(h.score, 4)) for h in search(index, query, k=5, mode=mode).hits]


class EngineContract:
    """The scenarios; each starts from the small corpus (two short documents) or the shipped one,
    with an embedding cache that knows their text, so builds embed only what a test adds."""

    @pytest.fixture
    def settings(self, to_engine: ToEngine, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Settings:
        """The two short documents, built by the engine."""
        settings = to_engine(clone_index(shared("small", tmp_path_factory), tmp_path))
        build(settings)
        return settings

    def test_a_passage_scores_by_its_best_sentence_when_only_the_nearest_are_scored(
        self, to_engine: ToEngine, tmp_path: Path
    ) -> None:
        """Past a thousand passages a query scores only its nearest passages' sentences; a passage's
        dense score is still blended with its best sentence's cosine, as if every sentence had been
        scored, and a passage without sentences keeps its own."""
        (tmp_path / "corpus").mkdir()
        settings = to_engine(Settings.resolve(tmp_path / "corpus", tmp_path / "index", DEFAULT_MODEL))
        rng = np.random.default_rng(7)
        built, sentences, table = random_build(1500, rng)
        engine = engine_for(settings)
        with engine.lock():
            engine.write(built)
        index = Index(settings, engine.load())
        for query in unit(rng, 5):
            scored = index.store.scored_passages(query)
            assert scored is not None and len(scored) == CANDIDATES
            own = index.store.passage_scores(query)
            dense = index.dense_scores(query)
            every = sentences @ query  # every sentence's cosine, the passages it belongs to in `table`
            best = np.full(len(own), -np.inf, dtype=np.float32)
            np.maximum.at(best, table[:, 0], every)
            with_sentences = scored[np.isin(scored, table[:, 0])]
            without = scored[~np.isin(scored, table[:, 0])]
            assert len(with_sentences) and len(without)
            want = 0.5 * own[with_sentences] + 0.5 * best[with_sentences]
            assert np.allclose(dense[with_sentences], want, atol=2e-3)  # vectors may be stored as float16
            assert np.allclose(dense[without], own[without])
            # a passage with sentences, none of them scored: as if its best were the lowest sentence scored
            others = np.setdiff1d(np.unique(table[:, 0]), scored)
            lowest = every[np.isin(table[:, 0], scored)].min()
            assert np.allclose(dense[others], 0.5 * own[others] + 0.5 * lowest, atol=2e-3)

    def test_a_build_records_typed_meta_and_follow_up_evidence(self, settings: Settings) -> None:
        engine = engine_for(settings)
        meta, passages = engine.readable()
        assert isinstance(meta, BuildMeta) and meta.model == settings.model and meta.dim == 384
        assert {d.doc: d.passages for d in meta.documents} == {
            Path(n).stem: sum(p.doc == Path(n).stem for p in passages) for n in (MANDATE, RESPONSE)}
        index = Index.load(settings)
        assert index.meta == meta == engine.current_meta() and index.build_id == meta.build != ""
        assert isinstance(engine.current_followups(), FollowupEvidence)
        assert index.followups() == engine.current_followups()

    def test_two_builders_cannot_run_at_once(self, settings: Settings) -> None:
        append(settings, MANDATE, "Endret.")
        with engine_for(settings).lock():
            with pytest.raises(BuildLocked):
                build(settings)
        assert build(settings).changed == 1

    def test_a_killed_build_leaves_the_previous_build_in_use(self, settings: Settings) -> None:
        index = Index.load(settings)
        rows = cache_rows(settings)
        shutil.copy(REPO / "corpus" / "rusreformen-2004.txt", settings.corpus)
        database = ["--database", settings.database] if settings.database else []
        builder = subprocess.Popen(
            [sys.executable, "-m", "rapportsok", *database, "index",
             "--corpus", str(settings.corpus), "--index", str(settings.index)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while cache_rows(settings) < rows + 8 and time.monotonic() < deadline:  # some batches are embedded
            time.sleep(0.2)
        builder.send_signal(signal.SIGKILL)
        builder.wait()
        assert cache_rows(settings) > rows, "the build never got to embedding"

        again = Index.load(settings, embedder=index.embedder)
        assert again.build_id == index.build_id and {p.doc for p in again.passages} == {
            Path(MANDATE).stem, Path(RESPONSE).stem}
        assert search(again, "heroinassistert behandling", k=3).hits
        (settings.corpus / "rusreformen-2004.txt").unlink()
        append(settings, MANDATE, "Etter avbrutt bygging.")
        assert build(settings, embedder=index.embedder).changed == 1  # the dead builder's lock is free again

    def test_a_changed_document_ranks_as_in_a_whole_build(
        self, settings: Settings, to_engine: ToEngine, tmp_path: Path
    ) -> None:
        old = Index.load(settings)
        append(settings, MANDATE, NEW_SENTENCE)
        report = build(settings, embedder=old.embedder)
        assert (report.changed, report.unchanged, report.embedded) == (1, 1, 1)
        assert not old.is_current() and search(old, "utvalget", k=3).hits  # the old build still answers
        whole = to_engine(blank(settings, tmp_path / "whole"))
        assert build(whole, full=True, embedder=old.embedder).added == 2
        changed, fresh = Index.load(settings, embedder=old.embedder), Index.load(whole, embedder=old.embedder)
        assert [p.passage_id for p in changed.passages] == [p.passage_id for p in fresh.passages]
        for query in QUERIES:
            for mode in ("lexical", "hybrid", "dense"):
                assert ranking(changed, query, mode) == ranking(fresh, query, mode), (query, mode)
        assert NEW_SENTENCE in search(changed, "Kvasirenselsesprogrammet", k=1, mode="lexical").hits[0].passage.text

    def test_removed_documents_are_retired(self, settings: Settings) -> None:
        (settings.corpus / RESPONSE).unlink()
        assert build(settings).removed == 1
        index = Index.load(settings)
        mandate = Path(MANDATE).stem
        assert {p.doc for p in index.passages} == {d.doc for d in index.documents} == {mandate}
        assert len(index.lexical.scores("politiet")) == len(index.passages)
        assert not any(len(rows) for rows in index.lexical.holding(["narkotikapolitiforening"]))
        assert all(h.passage.doc == mandate for h in search(index, "narkotikapolitiforening politiet", k=5).hits)
        hits = search(index, "politiet", k=5, mode="lexical").hits
        assert hits and all(h.passage.doc == mandate for h in hits)

    def test_follow_up_evidence_survives_a_rebuild(
        self, to_engine: ToEngine, full: Settings, tmp_path: Path
    ) -> None:
        """Editing the white paper recomputes only the evidence that involves it."""
        settings = to_engine(clone_index(full, tmp_path))
        build(settings)
        before = _targets(engine_for(settings).current_followups(), 9)
        with (settings.corpus / WHITE_PAPER).open("a", encoding="utf-8") as handle:
            handle.write(MO_CENTRES)
        report = build(settings)
        assert report.changed == 1 and report.embedded <= 2 and report.sentences <= 3  # only the new text is embedded
        after = _targets(engine_for(settings).current_followups(), 9)

        first = followup(Index.load(settings), STOLTENBERG, 9, k=3).links[0].hit.passage
        assert "etablert i alle landets fylker" in first.text  # the new passage leads proposal 9's links
        white_paper = WHITE_PAPER.removesuffix(".txt")
        # links into the white paper were recomputed: even its unchanged passages' lexical evidence
        # moved with the corpus statistics ...
        old = {c[0]: c[2] for c in before[white_paper].candidates}
        new = {c[0]: c[2] for c in after[white_paper].candidates}
        assert any(old[pid] != new[pid] for pid in old.keys() & new.keys() if old[pid] > 0)
        # ... while the links into the unchanged documents were carried over as they were
        assert before.keys() == after.keys()
        for doc in before.keys() - {white_paper}:
            assert after[doc] == before[doc]

    def test_a_build_written_before_still_opens(self, older: Settings) -> None:
        """A build the code before this version wrote (`older`: the engine's) is served as it is,
        and an update reuses every passage and vector of it."""
        index = Index.load(older)
        assert index.passages and index.meta.build and search(index, "heroinassistert behandling", k=3).hits
        assert index.followups().proposals is not None
        assert build(older).embedded == 0


def _targets(evidence: FollowupEvidence | None, number: int) -> dict:
    assert evidence is not None
    return next(e for e in evidence.proposals if e.doc == STOLTENBERG and e.proposal == number).targets
