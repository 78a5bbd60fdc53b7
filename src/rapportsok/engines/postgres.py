"""The PostgreSQL engine: passages, sentences and vectors in tables; pgvector HNSW for dense search,
the built-in `norwegian` full-text configuration for lexical search, generations for atomic builds.

A document's passages are stored once per content (a "part") and a generation lists the parts
it is made of, so a one-document change writes one part and a new generation row; the new
generation becomes current in the same transaction that writes its list, so a reader never sees
half a build, and a killed build leaves only unreferenced parts that the next build removes.
Any number of servers can read one database; each notices a new current generation by itself.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from functools import cached_property

import numpy as np

from ..errors import BuildLocked, IndexMissing, RapportsokError
from ..lexical import PART_WEIGHT, STOPWORDS, Decompounder, Lexical, words
from ..records import Passage
from . import Built, scattered

LOCK_KEY = 0x7261_7070  # advisory lock id for builders ("rapp")
CANDIDATES = 200  # nearest passages and sentences asked of HNSW (its ef_search): dev MRR .700 (.695 at 1000, 6x slower)
K1, B = 1.5, 0.75  # BM25 as bm25s computes it (Lucene variant), over PostgreSQL's Norwegian stems
HNSW = "USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 64)"


class DatabaseError(RapportsokError):
    """The database cannot be reached or lacks what the engine needs (pgvector)."""

    status = 503


def _connect(url: str):  # noqa: ANN202  (psycopg is an optional dependency)
    try:
        import psycopg
        from pgvector.psycopg import register_vector
    except ImportError:
        raise DatabaseError("the PostgreSQL engine needs `pip install 'rapportsok[postgres]'`") from None
    try:
        conn = psycopg.connect(url, autocommit=True)
        conn.execute("SET client_min_messages = warning")
        conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        conn.execute(f"SET hnsw.ef_search = {CANDIDATES}")  # per session: queries stay single statements
        register_vector(conn)
    except psycopg.Error as exc:
        raise DatabaseError(f"cannot use the database: {str(exc).splitlines()[0] if str(exc) else exc}") from exc
    return conn


def _schema(dim: int) -> str:
    return f"""
    CREATE TABLE IF NOT EXISTS rs_parts (
        id bigserial PRIMARY KEY, key text UNIQUE NOT NULL, passages int NOT NULL, sentences int NOT NULL);
    CREATE TABLE IF NOT EXISTS rs_passages (
        part bigint NOT NULL REFERENCES rs_parts ON DELETE CASCADE, seq int NOT NULL, passage jsonb NOT NULL,
        tsv tsvector NOT NULL DEFAULT '', len int NOT NULL DEFAULT 0, embedding vector({dim}) NOT NULL, PRIMARY KEY (part, seq));
    CREATE TABLE IF NOT EXISTS rs_sentences (
        part bigint NOT NULL REFERENCES rs_parts ON DELETE CASCADE, seq int NOT NULL, passage_seq int NOT NULL,
        start_at int NOT NULL, end_at int NOT NULL, embedding vector({dim}) NOT NULL, PRIMARY KEY (part, seq));
    CREATE TABLE IF NOT EXISTS rs_generations (
        id bigserial PRIMARY KEY, meta jsonb NOT NULL, compounds jsonb NOT NULL, parts bigint[] NOT NULL,
        passages int NOT NULL, avg_len real NOT NULL, followups jsonb);
    ALTER TABLE rs_generations ADD COLUMN IF NOT EXISTS followups jsonb;
    CREATE TABLE IF NOT EXISTS rs_current (
        one boolean PRIMARY KEY DEFAULT true CHECK (one), generation bigint NOT NULL REFERENCES rs_generations);
    CREATE INDEX IF NOT EXISTS rs_passages_tsv ON rs_passages USING gin (tsv);
    """


# made after the first build's rows are in: building a graph at once is many times faster than row by row
VECTOR_INDEXES = f"""
    SET maintenance_work_mem = '2GB';
    CREATE INDEX IF NOT EXISTS rs_passages_hnsw ON rs_passages {HNSW};
    CREATE INDEX IF NOT EXISTS rs_sentences_hnsw ON rs_sentences {HNSW};
    RESET maintenance_work_mem;
    """


def _part_key(model: str, passages: list[Passage]) -> str:
    """Identifies a document's passages by content, so an unchanged document is stored once."""
    digest = hashlib.sha256(model.encode())
    for passage in passages:
        digest.update(json.dumps(asdict(passage), ensure_ascii=False, sort_keys=True).encode())
    return digest.hexdigest()


def _doc_ranges(passages: list[Passage]) -> list[tuple[int, int]]:
    """(first row, end row) of each document's run of passages, in order."""
    ranges: list[tuple[int, int]] = []
    for row, passage in enumerate(passages):
        if row == 0 or passage.doc != passages[row - 1].doc:
            ranges.append((row, row))
        ranges[-1] = (ranges[-1][0], row + 1)
    return ranges


class PostgresEngine:
    """Builds as generations in one PostgreSQL database; an advisory lock keeps builders apart."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = "the database"

    @cached_property
    def conn(self):  # noqa: ANN201
        return _connect(self.url)

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Held on a connection of its own, so the server releases it if the builder dies."""
        conn = _connect(self.url)
        try:
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
                raise BuildLocked("another build is writing to the database; try again when it has finished")
            yield
        finally:
            conn.close()

    def _current(self) -> tuple[int, dict] | None:
        if not self._has_tables():
            return None
        row = self.conn.execute(
            "SELECT g.id, g.meta FROM rs_current c JOIN rs_generations g ON g.id = c.generation"
        ).fetchone()
        return (row[0], row[1]) if row else None

    def _has_tables(self) -> bool:
        return self.conn.execute("SELECT to_regclass('rs_current') IS NOT NULL").fetchone()[0]

    def has_build(self) -> bool:
        return self._current() is not None

    def current_meta(self) -> dict | None:
        current = self._current()
        return current[1] if current else None

    def readable(self) -> tuple[dict | None, list[Passage]]:
        current = self._current()
        if current is None:
            return None, []
        return current[1], _passages(self.conn, current[0])

    def repair(self) -> list[str]:
        """Nothing to clear: a generation is made current inside one transaction."""
        return []

    def current_followups(self) -> dict | None:
        current = self._current()
        if current is None:
            return None
        return self.conn.execute("SELECT followups FROM rs_generations WHERE id = %s", (current[0],)).fetchone()[0]

    def write(self, built: Built) -> str:
        """Stores the parts the database lacks, then lists them in a generation made current at once.

        `built.lexical` is not stored: the database ranks words with its own text search."""
        meta, passages, table = built.meta, built.passages, built.table
        vectors, sentences = built.vectors, built.sentences
        conn = self.conn
        conn.execute(_schema(vectors.shape[1]))
        sentence_bounds = np.searchsorted(table[:, 0], [start for start, _ in _doc_ranges(passages)] + [len(passages)])
        parts: list[int] = []
        for i, (start, end) in enumerate(_doc_ranges(passages)):
            key = _part_key(meta["model"], passages[start:end])
            found = conn.execute("SELECT id FROM rs_parts WHERE key = %s", (key,)).fetchone()
            if found is None:
                rows = slice(sentence_bounds[i], sentence_bounds[i + 1])
                found = (_write_part(conn, key, passages[start:end], vectors[start:end], sentences[rows],
                                     table[rows] - [start, 0, 0]),)
            parts.append(found[0])
        conn.execute(VECTOR_INDEXES)
        compounds = Decompounder.from_texts(p.context() for p in passages).counts
        with conn.transaction():
            generation = conn.execute(
                "INSERT INTO rs_generations (meta, compounds, parts, passages, avg_len, followups)"
                " SELECT %s, %s, %s, %s, coalesce(avg(len), 0), %s FROM rs_passages WHERE part = ANY(%s) RETURNING id",
                (json.dumps(meta), json.dumps(compounds), parts, len(passages), json.dumps(built.links), parts),
            ).fetchone()[0]
            name = str(generation)
            conn.execute("UPDATE rs_generations SET meta = meta || %s WHERE id = %s",
                         (json.dumps({"build": name}), generation))
            conn.execute(
                "INSERT INTO rs_current (generation) VALUES (%s) ON CONFLICT (one) DO UPDATE SET generation = %s",
                (generation, generation),
            )
        _remove_old(conn, generation)
        return name

    def load(self) -> PostgresBuild:
        current = self._current()
        if current is None:
            raise IndexMissing("no index in the database; build one with `rapportsok --database URL index`")
        return PostgresBuild(self, current[0])


def _write_part(conn, key: str, passages: list[Passage], vectors: np.ndarray, sentences: np.ndarray,
                table: np.ndarray) -> int:
    """One document's passages and sentences, with their vectors, in one transaction."""
    from psycopg.types.json import Jsonb

    with conn.transaction():
        part = conn.execute(
            "INSERT INTO rs_parts (key, passages, sentences) VALUES (%s, %s, %s) RETURNING id",
            (key, len(passages), len(table)),
        ).fetchone()[0]
        # binary COPY: vectors as text cost 30x more (33 s against 1 s for 20k rows)
        with conn.cursor().copy("COPY rs_passages (part, seq, passage, embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["bigint", "integer", "jsonb", "vector"])
            for seq, (passage, vector) in enumerate(zip(passages, vectors)):
                copy.write_row((part, seq, Jsonb(asdict(passage)), vector))
        contexts = [p.context() for p in passages]
        conn.execute(
            "UPDATE rs_passages p SET tsv = to_tsvector('norwegian', c.text) FROM unnest(%s::text[]) WITH ORDINALITY"
            " AS c(text, n) WHERE p.part = %s AND p.seq = c.n - 1",
            (contexts, part),
        )
        conn.execute(
            "UPDATE rs_passages SET len = coalesce((SELECT sum(cardinality(positions)) FROM unnest(tsv)), 0)"
            " WHERE part = %s",
            (part,),
        )
        with conn.cursor().copy(
            "COPY rs_sentences (part, seq, passage_seq, start_at, end_at, embedding) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["bigint", "integer", "integer", "integer", "integer", "vector"])
            for seq, ((row, start, end), vector) in enumerate(zip(table.tolist(), sentences)):
                copy.write_row((part, seq, row, start, end, vector))
    return part


def _remove_old(conn, generation: int) -> None:
    """Keeps the new and the previous generation (readers may still be on it) and the parts they use."""
    with conn.transaction():
        conn.execute("DELETE FROM rs_generations WHERE id < (SELECT max(id) FROM rs_generations WHERE id < %s)",
                     (generation,))
        conn.execute("DELETE FROM rs_parts WHERE id NOT IN (SELECT unnest(parts) FROM rs_generations)")


def _passages(conn, generation: int) -> list[Passage]:
    rows = conn.execute(
        "SELECT p.passage FROM rs_generations g, unnest(g.parts) WITH ORDINALITY AS u(part, position)"
        " JOIN rs_passages p ON p.part = u.part WHERE g.id = %s ORDER BY u.position, p.seq",
        (generation,),
    )
    return [Passage(**passage) for (passage,) in rows]


class PostgresBuild:
    """One generation, loaded: passages and sentence positions in memory, vectors and text in the database."""

    def __init__(self, engine: PostgresEngine, generation: int) -> None:
        self.engine = engine
        self.generation = generation
        conn = engine.conn
        self.meta, compounds, self.parts, self.avg_len = conn.execute(
            "SELECT meta, compounds, parts, avg_len FROM rs_generations WHERE id = %s", (generation,)
        ).fetchone()
        self.passages = _passages(conn, generation)
        counts = {part: (n, m) for part, n, m in conn.execute(
            "SELECT id, passages, sentences FROM rs_parts WHERE id = ANY(%s)", (self.parts,))}
        offsets = np.cumsum([0] + [counts[p][0] for p in self.parts])
        sentence_offsets = np.cumsum([0] + [counts[p][1] for p in self.parts])
        self._passage_offset = dict(zip(self.parts, offsets.tolist()))
        self._sentence_offset = dict(zip(self.parts, sentence_offsets.tolist()))
        rows = conn.execute(
            "SELECT s.part, s.passage_seq, s.start_at, s.end_at FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(part, n)"
            " JOIN rs_sentences s ON s.part = u.part ORDER BY u.n, s.seq",
            (self.parts,),
        ).fetchall()
        self.sentence_table = np.array(
            [(self._passage_offset[part] + seq, start, end) for part, seq, start, end in rows], dtype=np.int32
        ).reshape(-1, 3)
        self.lexical = PostgresTerms(self, Decompounder(compounds))

    def is_current(self) -> bool:
        return self.engine._current()[0] == self.generation

    def followups(self) -> dict:
        """The generation's follow-up evidence; IndexMissing when it has none."""
        found = self.engine.conn.execute(
            "SELECT followups FROM rs_generations WHERE id = %s", (self.generation,)
        ).fetchone()
        if not found or not isinstance(found[0], dict):
            raise IndexMissing("the index in the database has no follow-up links; update it with `rapportsok index`")
        return found[0]

    def passage_scores(self, query_vector: np.ndarray) -> np.ndarray:
        return self._nearest("rs_passages", query_vector, self._passage_offset, len(self.passages))

    def sentence_scores(self, query_vector: np.ndarray) -> np.ndarray:
        return self._nearest("rs_sentences", query_vector, self._sentence_offset, len(self.sentence_table))

    def _nearest(self, table: str, query_vector: np.ndarray, offsets: dict[int, int], total: int) -> np.ndarray:
        """Cosine of the nearest rows by HNSW; the others get the lowest cosine found (they rank below)."""
        rows = self.engine.conn.execute(
            f"SELECT part, seq, -(embedding <#> %s) FROM {table} ORDER BY embedding <#> %s LIMIT {CANDIDATES}",
            (query_vector, query_vector),
        ).fetchall()
        found = [(offsets[part] + seq, score) for part, seq, score in rows if part in offsets]
        return scattered(total, np.array([r for r, _ in found], dtype=np.int64),
                         np.array([s for _, s in found], dtype=np.float32))


class PostgresTerms(Lexical):
    """BM25 computed in SQL over PostgreSQL's Norwegian stems; compound parts split on the query side."""

    def __init__(self, build: PostgresBuild, decompounder: Decompounder) -> None:
        super().__init__(None, decompounder)
        self.build = build

    @cached_property
    def _rows_by_token(self) -> dict[str, np.ndarray]:
        """Which passages hold each of our tokens (for the relevance floor), from the passages in memory."""
        rows: dict[str, list[int]] = {}
        for row, passage in enumerate(self.build.passages):
            for token in set(self.tokens(passage.context())):
                rows.setdefault(token, []).append(row)
        return {token: np.array(found, dtype=np.int64) for token, found in rows.items()}

    def containing(self, tokens: list[str]) -> np.ndarray:
        """Per token, which passages contain it (as Lexical.containing)."""
        present = np.zeros((len(tokens), len(self.build.passages)), dtype=bool)
        for i, token in enumerate(tokens):
            present[i, self._rows_by_token.get(token, [])] = True
        return present

    def _weighted(self, query: str) -> tuple[list[str], list[float], int]:
        """Query words with their weights (compound parts count PART_WEIGHT), and how many are whole words."""
        kept = [w for w in words(query) if w not in STOPWORDS]
        parts = [part for w in kept for part in self.decompounder.parts(w)]
        return kept + parts, [1.0] * len(kept) + [PART_WEIGHT] * len(parts), len(kept)

    def scores(self, query: str) -> np.ndarray:
        terms, weights, _ = self._weighted(query)
        scores = np.zeros(len(self.build.passages), dtype=np.float32)
        if not terms:
            return scores
        rows = self.build.engine.conn.execute(
            f"""
            WITH q AS (
                SELECT lexeme, sum(w) AS w FROM unnest(%(terms)s::text[], %(weights)s::float8[]) AS u(t, w),
                     LATERAL unnest(to_tsvector('norwegian', t)) AS v GROUP BY lexeme),
            wanted AS (
                SELECT array_agg(lexeme) AS lexemes, string_agg(quote_literal(lexeme), ' | ')::tsquery AS query FROM q),
            m AS (  -- the query's lexemes of each matching passage, picked out in C: mark them, keep the marked
                SELECT p.part, p.seq, p.len, v.lexeme, q.w, cardinality(v.positions) AS tf
                FROM wanted JOIN rs_passages p ON p.tsv @@ wanted.query AND p.part = ANY(%(parts)s),
                     LATERAL unnest(ts_filter(setweight(p.tsv, 'A', wanted.lexemes), '{{a}}')) AS v
                     JOIN q ON q.lexeme = v.lexeme),
            df AS (SELECT lexeme, count(*) AS n FROM m GROUP BY lexeme)
            SELECT m.part, m.seq, sum(m.w * ln(1 + (%(n)s - df.n + 0.5) / (df.n + 0.5))
                   * m.tf * {K1 + 1} / (m.tf + {K1} * (1 - {B} + {B} * m.len / %(avg)s)))
            FROM m JOIN df USING (lexeme) GROUP BY m.part, m.seq
            """,
            {"terms": terms, "weights": weights, "parts": self.build.parts, "n": len(self.build.passages),
             "avg": max(self.build.avg_len, 1.0)},
        ).fetchall()
        offsets = self.build._passage_offset
        for part, seq, value in rows:
            scores[offsets[part] + seq] = value
        return scores

    def coverage(self, query: str) -> float:
        """Share of the query's words whose stem occurs in a passage of this build."""
        terms, _, whole = self._weighted(query)
        if not whole:
            return 0.0
        known = self.build.engine.conn.execute(
            """
            SELECT count(*) FROM unnest(%s::text[]) AS u(t)
            WHERE EXISTS (SELECT 1 FROM unnest(to_tsvector('norwegian', t)) AS v
                          JOIN rs_passages p ON p.tsv @@ quote_literal(v.lexeme)::tsquery
                          WHERE p.part = ANY(%s))
            """,
            (terms[:whole], self.build.parts),
        ).fetchone()[0]
        return known / whole
