"""The PostgreSQL engine against a real server that the tests start (pgserver: PostgreSQL 16 + pgvector):
the engine contract, and what only this engine does."""

from __future__ import annotations

import dataclasses
import os
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import httpx
import numpy as np
import pytest
from serving import clone_index, serve, shared

from rapportsok.errors import IndexMissing
from rapportsok.indexing.build import build
from rapportsok.querying.index import Index
from rapportsok.querying.search import search
from rapportsok.settings import Settings
from rapportsok.text.bm25 import compound_splitter, count_words
from rapportsok.text.tokens import STOPWORDS, words

from .contract import MANDATE, REPO, EngineContract, ToEngine, append

# (no "forslag 3": the small corpus has no proposals, and a query naming one it lacks has no hits)
QUERIES = ["heroinassistert behandling", "hva skal utvalget vurdere", "politiets arbeid med narkotika", "forslagene"]
BEFORE_TYPED_META = "0df449f"  # a commit whose code wrote generations before BuildMeta and FollowupEvidence


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory):
    """One PostgreSQL server for the session, stopped at the end; skipped only when none can start."""
    pgserver = pytest.importorskip("pgserver", reason="pgserver is not installed (pip install -e '.[test]')")
    pytest.importorskip("psycopg", reason="psycopg is not installed (pip install -e '.[postgres]')")
    try:
        pg = pgserver.get_server(tmp_path_factory.mktemp("pg"), cleanup_mode="stop")
    except Exception as exc:  # noqa: BLE001  (any failure to start means: no server on this machine)
        pytest.skip(f"no PostgreSQL server could be started: {exc}")
    yield pg
    pg.cleanup()


@pytest.fixture
def to_engine(server) -> ToEngine:
    """Builds go to a database of their own per call (the index folder keeps the embedding cache)."""

    def to_database(settings: Settings) -> Settings:
        name = "t" + uuid.uuid4().hex[:12]
        server.psql(f"CREATE DATABASE {name};")
        return dataclasses.replace(settings, database=server.get_uri().replace("/postgres?", f"/{name}?"))

    return to_database


class TestPostgresEngine(EngineContract):
    @pytest.fixture
    def older(self, to_engine: ToEngine, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Settings:
        """A database the code of BEFORE_TYPED_META built (taken from the repository's history)."""
        settings = to_engine(clone_index(shared("small", tmp_path_factory), tmp_path))
        code = tmp_path / "code"
        code.mkdir()
        archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE_TYPED_META, "src"], capture_output=True)
        if archive.returncode != 0:
            pytest.skip(f"the repository's history has no commit {BEFORE_TYPED_META} to build with")
        subprocess.run(["tar", "-x", "-C", str(code)], input=archive.stdout, check=True)
        subprocess.run(
            [sys.executable, "-m", "rapportsok", "--database", settings.database, "index",
             "--corpus", str(settings.corpus), "--index", str(settings.index)],
            env=os.environ | {"PYTHONPATH": str(code / "src")}, check=True, capture_output=True, timeout=600,
        )
        return settings


@pytest.fixture
def settings(to_engine: ToEngine, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path) -> Settings:
    """The two small documents, with a local embedding cache that knows their text; builds go to the database."""
    return to_engine(clone_index(shared("small", tmp_path_factory), tmp_path))


def parts(settings: Settings) -> int:
    import psycopg

    with psycopg.connect(settings.database) as conn:
        return conn.execute("SELECT count(*) FROM rs_parts").fetchone()[0]


def test_an_unchanged_document_is_stored_once_and_ranks_as_in_the_local_engine(settings: Settings, monkeypatch) -> None:
    from rapportsok.engines.postgres import engine as postgres

    report = build(settings)
    assert report.added == 2 and report.embedded == 0  # vectors come from the local cache
    index = Index.load(settings)
    local = Index.load(dataclasses.replace(settings, database=None))
    assert [p.passage_id for p in index.passages] == [p.passage_id for p in local.passages]
    assert len(index.sentence_table) == len(local.sentence_table)
    for query in QUERIES:  # the same blend over the same passages: the same best hits
        ours = [h.passage.passage_id for h in search(index, query, k=3).hits]
        theirs = [h.passage.passage_id for h in search(local, query, k=3).hits]
        assert ours[0] == theirs[0] and len(set(ours) & set(theirs)) >= 2, query

    before = parts(settings)
    append(settings, MANDATE, "Kvasirenselsesprogrammet skal evalueres av utvalget hvert tredje år.")
    hashed: list[str] = []  # the documents whose passages are hashed to find their part
    key = postgres._part_key
    monkeypatch.setattr(postgres, "_part_key", lambda model, rows: hashed.append(rows[0].doc) or key(model, rows))
    assert build(settings, embedder=index.embedder).changed == 1
    assert hashed == [MANDATE.removesuffix(".txt")]  # the unchanged document's part is known as read
    assert parts(settings) == before + 1  # the unchanged document is not written again
    changed = Index.load(settings)  # its compound splitter, from the parts' stored word counts, is a whole count's
    whole = compound_splitter(count_words(p.context() for p in changed.passages))
    assert changed.lexical.analyzer.decompounder.counts == whole.counts
    # the average length in lexemes, summed from the parts' rows, is that of the passages
    assert changed.store.avg_len == pytest.approx(changed.store.lengths.mean(), rel=1e-6)
    assert len(changed.store.lengths) == len(changed.passages) and changed.store.lengths.min() > 0
    (settings.corpus / MANDATE).unlink()
    assert build(settings, embedder=index.embedder).removed == 1
    assert parts(settings) <= 3  # generations older than the previous one are gone with their parts


def test_readers_see_one_whole_generation_while_a_build_commits(settings: Settings) -> None:
    build(settings)
    index = Index.load(settings)
    append(settings, MANDATE, "Kvasirenselsesprogrammet skal evalueres av utvalget hvert tredje år.")
    errors: list[Exception] = []
    seen: set[tuple[str, int]] = set()
    stop = threading.Event()

    def read() -> None:
        while not stop.is_set():
            try:
                current = Index.load(settings, embedder=index.embedder)
                hits = search(current, "Kvasirenselsesprogrammet utvalget", k=5).hits
                new = any("Kvasirenselsesprogrammet" in h.passage.text for h in hits)
                seen.add((current.build_id, new))
            except Exception as exc:  # noqa: BLE001  (any failure is the test's finding)
                errors.append(exc)

    readers = [threading.Thread(target=read) for _ in range(2)]
    for reader in readers:
        reader.start()
    time.sleep(1)
    build(settings, embedder=index.embedder)
    time.sleep(2)
    stop.set()
    for reader in readers:
        reader.join(timeout=30)
    assert not errors
    assert {new for _, new in seen} == {False, True}
    assert all(new == (build_id != index.build_id) for build_id, new in seen)  # never half a build


def test_two_servers_on_one_database_answer_from_a_new_build(settings: Settings, tmp_path: Path) -> None:
    build(settings)
    env = {"RAPPORTSOK_DATABASE_URL": settings.database}
    with serve(settings, tmp_path / "a.log", env) as one, serve(settings, tmp_path / "b.log", env) as two:
        first = httpx.get(one.url + "/health").json()["build"]
        assert httpx.get(two.url + "/health").json()["build"] == first
        append(settings, MANDATE, "Kvasirenselsesprogrammet skal evalueres av utvalget hvert tredje år.")
        build(settings)
        for server in (one, two):
            deadline = time.monotonic() + 20
            while httpx.get(server.url + "/health").json()["build"] == first and time.monotonic() < deadline:
                time.sleep(0.2)
            hits = httpx.get(server.url + "/search", params={"q": "Kvasirenselsesprogrammet", "k": 3}).json()["hits"]
            assert hits and "Kvasirenselsesprogrammet" in hits[0]["text"], server.output()


def test_lexical_scores_are_bm25_over_postgres_norwegian_stems(settings: Settings) -> None:
    """The stored postings give the scores BM25 gives over each passage's own to_tsvector, a query
    lexeme matching also the corpus' compounds with a part of that stem (as local passages hold parts)."""
    import psycopg

    append(settings, MANDATE, "Et sykehus kan gi opphold. Sykehus og sykehus gir opphold. Sykehusopphold for"
                              " rusavhengige er ofte korte, og sykehusopphold bør planlegges.")
    build(settings)
    index = Index.load(settings)
    lexical = index.lexical
    decompounder = lexical.analyzer.decompounder
    texts = [p.context() for p in index.passages]
    with psycopg.connect(settings.database) as conn:
        counts: dict[str, dict[int, int]] = {}
        for row, lexeme, tf in conn.execute(
            "SELECT c.n - 1, v.lexeme, cardinality(v.positions) FROM unnest(%s::text[]) WITH ORDINALITY AS c(t, n),"
            " unnest(to_tsvector('norwegian', c.t)) AS v", (texts,)):
            counts.setdefault(lexeme, {})[row] = tf

        def stems(word: str) -> list[str]:
            return [x for (x,) in conn.execute("SELECT lexeme FROM unnest(to_tsvector('norwegian', %s))", (word,))]

        compounds: dict[str, set[str]] = {}
        for word in decompounder.counts:
            for part in decompounder.parts(word):
                for stem in stems(part):
                    compounds.setdefault(stem, set()).update(set(stems(word)) - {stem})
        lengths = np.zeros(len(texts))
        for rows in counts.values():
            for row, tf in rows.items():
                lengths[row] += tf
        n, avg = len(texts), lengths.mean()
        compound = "sykehusopphold"
        assert decompounder.parts(compound) == ("sykehus", "opphold")
        assert stems(compound)[0] in compounds[stems("sykehus")[0]]
        for query in [*QUERIES, compound, decompounder.parts(compound)[0], "Kvasirenselsesprogrammet"]:
            whole = [w for w in words(query) if w not in STOPWORDS]
            terms = [(w, 1.0) for w in whole] + [(x, 0.5) for w in whole for x in decompounder.parts(w)]
            expected = np.zeros(n)
            for word, weight in terms:
                for lexeme in stems(word):
                    tf = np.zeros(n)
                    for x in {lexeme} | compounds.get(lexeme, set()):
                        for row, count in counts.get(x, {}).items():
                            tf[row] += count
                    df = (tf > 0).sum()
                    idf = np.log(1 + (n - df + 0.5) / (df + 0.5))
                    expected += weight * idf * tf * 2.5 / (tf + 1.5 * (0.25 + 0.75 * lengths / avg))
            assert np.allclose(lexical.scores(query), expected, rtol=1e-4), query
            assert (expected > 0).any() or query == "Kvasirenselsesprogrammet"


def test_a_generation_stored_by_an_older_version_is_rebuilt(settings: Settings) -> None:
    import psycopg

    build(settings)
    with psycopg.connect(settings.database, autocommit=True) as conn:
        conn.execute("UPDATE rs_generations SET storage = 1")  # as the version before rs_postings left it
    with pytest.raises(IndexMissing):
        Index.load(settings)
    report = build(settings)
    assert report.added == 2 and report.embedded == 0  # read again, embedded from the cache
    index = Index.load(settings)
    assert search(index, "heroinassistert behandling", k=3).hits


def test_big_generations_score_the_sentences_of_the_nearest_passages(settings: Settings, monkeypatch) -> None:
    """Past EXACT_UP_TO passages the HNSW's nearest passages and their sentences are scored, nothing else."""
    from rapportsok.engines.postgres import engine as postgres

    build(settings)
    exact = Index.load(settings)
    monkeypatch.setattr(postgres, "EXACT_UP_TO", 0)
    monkeypatch.setattr(postgres, "CANDIDATES", 5)
    nearest = Index.load(settings, embedder=exact.embedder)
    assert not nearest.store.exact
    for query in QUERIES:
        vector = exact.query_vector(query)
        passages, sentences = exact.store.passage_scores(vector), exact.store.sentence_scores(vector)
        top = set(np.argsort(-passages)[:5].tolist())
        scored = nearest.store.passage_scores(vector)
        assert set(np.flatnonzero(scored > scored.min()).tolist()) <= top  # (the fifth is the floor)
        owners = nearest.sentence_table[:, 0]
        at = np.isin(owners, list(top))
        assert np.allclose(nearest.store.sentence_scores(vector)[at], sentences[at], atol=1e-5)
        assert (nearest.store.sentence_scores(vector)[~at] <= sentences[at].min() + 1e-6).all()
        assert search(nearest, query, k=1).hits[0].passage == search(exact, query, k=1).hits[0].passage


def test_a_search_does_not_wait_for_another_threads_query(settings: Settings) -> None:
    """A server's threads share a pool of connections: one busy connection holds no other reader up."""
    import psycopg

    from rapportsok.engines import engine_for

    build(settings)
    index = Index.load(settings)
    search(index, "narkotika", k=3)  # the model and the relevance floor's tables loaded
    busy = threading.Event()
    pids: list[int] = []

    def hold() -> None:
        with engine_for(settings).connection() as conn:
            pids.append(conn.info.backend_pid)
            busy.set()
            with pytest.raises(psycopg.errors.QueryCanceled):
                conn.execute("SELECT pg_sleep(60)")

    holder = threading.Thread(target=hold)
    holder.start()
    assert busy.wait(30)
    try:
        for query in QUERIES:  # a new query each: nothing answered from a cache
            assert search(index, query, k=3).hits
        assert index.is_current()
        assert holder.is_alive()  # all of it while the other connection was still busy
    finally:
        with psycopg.connect(settings.database, autocommit=True) as conn:
            conn.execute("SELECT pg_cancel_backend(%s)", (pids[0],))
        holder.join(30)


def test_a_pdf_with_control_characters_indexes_without_a_traceback(
    to_engine: ToEngine, tmp_path_factory: pytest.TempPathFactory, tmp_path: Path
) -> None:
    """A PDF whose strings draw NUL and other C0 control characters (a math script drew 527 NULs;
    PostgreSQL refuses a NUL in text and jsonb) is indexed by the command line: no traceback, and
    no stored passage holds a control character but newline and tab."""
    import json

    import hostile
    import psycopg

    settings = to_engine(clone_index(shared("small", tmp_path_factory), tmp_path))
    sentence = (
        "Styre\x00tegn\x01 i rusreformen\x07 ga bedre\x1b behandling\x0c og\x00\x00 oppfølging\x7f av "
        "rusmiddelavhengige."
    )
    places = ("kommunene", "fengslene", "skolene", "sykehusene", "politiet", "barnevernet", "domstolene")
    pages = [  # rows that differ in words from page to page (rows recurring at one height are furniture)
        b"".join(hostile.text_op(f"{sentence} Det gjelder {places[(p + k) % 7]}.", y=700 - 14 * k) for k in range(6))
        for p in range(2)
    ]
    (settings.corpus / "styretegn.pdf").write_bytes(hostile.pages_pdf(pages))
    run = subprocess.run(
        [sys.executable, "-m", "rapportsok", "--database", settings.database, "index",
         "--corpus", str(settings.corpus), "--index", str(settings.index)],
        capture_output=True, text=True, timeout=600,
    )
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr + run.stdout
    with psycopg.connect(settings.database) as conn:
        stored = [p for (content,) in conn.execute("SELECT content FROM rs_parts") for p in json.loads(content)]

    def strings(value) -> list[str]:  # noqa: ANN001
        if isinstance(value, str):
            return [value]
        items = value.values() if isinstance(value, dict) else value if isinstance(value, list) else []
        return [s for item in items for s in strings(item)]

    ours = [p for p in stored if "Styretegn" in json.dumps(p, ensure_ascii=False)]
    assert ours, "the PDF's passages are stored"
    assert "Styretegn i rusreformen ga bedre behandling og oppfølging av rusmiddelavhengige." in ours[0]["text"]
    assert not [s for p in stored for s in strings(p) if any(ord(c) < 0x20 and c not in "\n\t" for c in s)]
