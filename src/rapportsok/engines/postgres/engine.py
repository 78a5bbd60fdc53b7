"""The PostgreSQL engine: passages, sentences and vectors in tables; pgvector HNSW for dense search,
the built-in `norwegian` full-text configuration for lexical search, generations for atomic builds.

A document's passages are stored once per content (a "part") and a generation lists the parts
it is made of, so a one-document change writes one part and a new generation row; the new
generation becomes current in the same transaction that writes its list, so a reader never sees
half a build, and a killed build leaves only unreferenced parts that the next build removes.
Any number of servers can read one database; each notices a new current generation by itself.

Lexical search reads an inverted index kept beside the passages: for each of a document's
lexemes (PostgreSQL's `norwegian` stems), the passages holding it and how often, packed in
one row. A query reads only its words' rows, and BM25 is summed over them in numpy, so a
search costs the same few milliseconds whether a word occurs in ten passages or in most.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import re
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from functools import lru_cache

import numpy as np

from ...errors import BuildLocked, DatabaseError, DatabaseUnavailable, IndexMissing, WriteFailed
from ...records import Passage
from ...text.bm25 import compound_splitter, count_words
from ...text.tokens import Decompounder
from ..base import CANDIDATES, BuildMeta, Built, FollowupEvidence, document_runs, scattered
from .terms import PostgresTerms

LOCK_KEY = 0x7261_7070  # advisory lock id for builders ("rapp")
POOL_SIZE = 8  # connections per process and database: a search holds two at once (lexical, dense)
POOL_WAIT_S = 5.0  # a search waits this long for a free connection, then gets 503
CONNECT_TIMEOUT_S = 3  # a database host that does not answer is reported as away after this long
EXACT_UP_TO = 1000  # passages; up to this every passage and sentence is scored: HNSW missed a dev answer's sentence
HNSW = "USING hnsw (embedding vector_ip_ops) WITH (m = 16, ef_construction = 64)"
POSTINGS_CHUNK = 128  # passages per postings row (6 bytes each): rows stay small enough for a btree index
LONGEST_LEXEME = 256  # longer "words" (a URL, a run of digits) are not indexed: no query asks for them
# how a generation is stored; 2: lexemes in rs_postings, no sentence HNSW; 3: a part's passages, their lengths and
# sentence spans in its rs_parts row (a load reads a row per document); 2 is still read, older ones are rebuilt
STORAGE = 3
READABLE = (2, STORAGE)


def _connect(url: str):  # noqa: ANN202  (psycopg is an optional dependency)
    """A connection of its own (the builder's lock), set up as every pooled one."""
    try:
        import pgvector.psycopg  # noqa: F401  (checked here with the pool, so a missing extra says so at once)
        import psycopg
        import psycopg_pool  # noqa: F401
    except ImportError:
        raise DatabaseError("the PostgreSQL engine needs `pip install 'rapportsok[postgres]'`") from None
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S)
        conn.execute("SET client_min_messages = warning")
        # only where missing: a hot standby refuses CREATE EXTENSION even with IF NOT EXISTS, and
        # serving from a read replica is the way to scale searches
        if not conn.execute("SELECT 1 FROM pg_extension WHERE extname = 'vector'").fetchone():
            conn.execute("CREATE EXTENSION IF NOT EXISTS vector")
        _configure(conn)
    except psycopg.ProgrammingError as exc:  # libpq quotes the URL, or the part it stumbled on: the password too
        raise DatabaseError(
            "cannot read the database URL; write it as postgresql://user:password@host:port/database "
            "(percent-encode @, /, : and spaces in the password)"
        ) from exc
    except psycopg.OperationalError as exc:  # no server, refused, lost, timed out
        raise _unavailable(exc, url) from exc
    except psycopg.Error as exc:  # connected, but something it needs is missing (pgvector, rights)
        raise DatabaseError(f"cannot use the database: {(str(exc).splitlines() or [''])[0]}") from exc
    return conn


URL_SECRET = re.compile(r"^[^:]*:/*[^:/@]*:(?P<password>.+)@[^@]*$")  # what stands where a URL's password does


def _unavailable(exc: Exception, url: str) -> DatabaseUnavailable:
    """The driver's first line, with the URL's password masked wherever the driver quoted it."""
    first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    password = URL_SECRET.match(url)
    if password:
        first = first.replace(password["password"], "***")
    return DatabaseUnavailable(f"cannot use the database: {first}")


def _configure(conn) -> None:  # noqa: ANN001
    from pgvector.psycopg import register_vector

    conn.execute("SET client_min_messages = warning")
    conn.execute(f"SET hnsw.ef_search = {CANDIDATES}")  # per session: queries stay single statements
    register_vector(conn)


_pools: dict[str, object] = {}
_pools_lock = threading.Lock()


def _pool(url: str):  # noqa: ANN202
    """One pool of connections per database and process, shared by every engine object on it
    (a server opens an Index per build), so a server's threads do not queue behind one connection."""
    with _pools_lock:
        if url not in _pools:
            from psycopg_pool import ConnectionPool

            _connect(url).close()  # a database that cannot be used fails here, at once and saying why
            pool = ConnectionPool(url, min_size=1, max_size=POOL_SIZE, timeout=POOL_WAIT_S,
                                  kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
                                  configure=_configure, check=ConnectionPool.check_connection,
                                  name="rapportsok", open=True)
            atexit.register(pool.close)
            _pools[url] = pool
        return _pools[url]


def _drop_pool(url: str) -> None:
    """After a lost connection: the next use connects afresh (failing at once while the database is
    away, succeeding the moment it is back) instead of waiting out the pool's reconnect backoff."""
    with _pools_lock:
        pool = _pools.pop(url, None)
    if pool is not None:
        pool.close(timeout=0)


def _schema(dim: int) -> str:
    return f"""
    CREATE TABLE IF NOT EXISTS rs_parts (
        id bigserial PRIMARY KEY, key text UNIQUE NOT NULL, passages int NOT NULL, sentences int NOT NULL);
    CREATE TABLE IF NOT EXISTS rs_passages (
        part bigint NOT NULL REFERENCES rs_parts ON DELETE CASCADE, seq int NOT NULL, passage jsonb,
        len int NOT NULL DEFAULT 0, embedding vector({dim}) NOT NULL, PRIMARY KEY (part, seq));
    CREATE TABLE IF NOT EXISTS rs_sentences (
        part bigint NOT NULL REFERENCES rs_parts ON DELETE CASCADE, seq int NOT NULL, passage_seq int NOT NULL,
        start_at int NOT NULL, end_at int NOT NULL, embedding vector({dim}) NOT NULL, PRIMARY KEY (part, seq));
    CREATE INDEX IF NOT EXISTS rs_sentences_passage ON rs_sentences (part, passage_seq);
    -- per document and lexeme, POSTINGS_CHUNK passages a row: their seq (int4) and the lexeme's count in each
    -- (int2), packed big-endian; all of it in the lexeme index too, so a query reads a few index pages in a row
    -- (index-only) instead of a heap page for every document
    CREATE TABLE IF NOT EXISTS rs_postings (
        part bigint NOT NULL REFERENCES rs_parts ON DELETE CASCADE, lexeme text NOT NULL, chunk int NOT NULL,
        seqs bytea NOT NULL, tfs bytea NOT NULL, PRIMARY KEY (part, lexeme, chunk));
    CREATE INDEX IF NOT EXISTS rs_postings_lexeme ON rs_postings (lexeme) INCLUDE (part, chunk, seqs, tfs);
    CREATE TABLE IF NOT EXISTS rs_generations (
        id bigserial PRIMARY KEY, meta jsonb NOT NULL, compounds jsonb NOT NULL, parts bigint[] NOT NULL,
        passages int NOT NULL, avg_len real NOT NULL, followups jsonb, storage int NOT NULL DEFAULT 1);
    ALTER TABLE rs_generations ADD COLUMN IF NOT EXISTS followups jsonb;
    ALTER TABLE rs_generations ADD COLUMN IF NOT EXISTS storage int NOT NULL DEFAULT 1;
    -- each word's count (text.bm25.count_words) in a part and in a generation: a change works out the
    -- compound splitter from the parts it adds and drops, not by counting every passage
    ALTER TABLE rs_parts ADD COLUMN IF NOT EXISTS words jsonb;
    ALTER TABLE rs_generations ADD COLUMN IF NOT EXISTS words jsonb;
    -- a part's passages as one JSON array (stored as it is, not compressed: a load reads them all), each passage's
    -- length in lexemes (int4) with their sum, and the (passage seq, start, end) of each sentence (int4), packed
    -- big-endian: a build is loaded, or read for a change, from a row per document, not a row per passage
    ALTER TABLE rs_parts ADD COLUMN IF NOT EXISTS content bytea;
    ALTER TABLE rs_parts ALTER COLUMN content SET STORAGE EXTERNAL;
    ALTER TABLE rs_parts ADD COLUMN IF NOT EXISTS lengths bytea;
    ALTER TABLE rs_parts ADD COLUMN IF NOT EXISTS length_sum bigint;
    ALTER TABLE rs_parts ADD COLUMN IF NOT EXISTS spans bytea;
    ALTER TABLE rs_passages DROP COLUMN IF EXISTS tsv;  -- storage 1's text search column and its GIN index
    -- storage 2's passages and lengths, a row each: read (PART_ROWS) until a build stores the parts anew
    ALTER TABLE rs_passages ALTER COLUMN passage DROP NOT NULL;
    DROP INDEX IF EXISTS rs_sentences_hnsw;
    CREATE TABLE IF NOT EXISTS rs_current (
        one boolean PRIMARY KEY DEFAULT true CHECK (one), generation bigint NOT NULL REFERENCES rs_generations);
    """


# made after the first build's rows are in: building a graph at once is many times faster than row by row
VECTOR_INDEXES = f"""
    SET maintenance_work_mem = '2GB';
    CREATE INDEX IF NOT EXISTS rs_passages_hnsw ON rs_passages {HNSW};
    RESET maintenance_work_mem;
    """


def _part_key(model: str, passages: list[Passage]) -> str:
    """Identifies a document's passages by content, so an unchanged document is stored once."""
    digest = hashlib.sha256(f"{STORAGE}:{model}".encode())
    for passage in passages:
        digest.update(repr(passage).encode())  # every field; a fifth of the cost of asdict and json
    return digest.hexdigest()


class PostgresEngine:
    """Builds as generations in one PostgreSQL database; an advisory lock keeps builders apart."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.where = "the database"
        # the parts `readable` handed out, by their first passage's identity, with their keys: a build writing
        # them again (its unchanged documents) finds them without hashing every passage
        self._read: dict[int, tuple[str, list[Passage]]] = {}

    @contextmanager
    def connection(self) -> Iterator:
        """A connection of the process's pool for this database, for one query or one write; a
        database that is away or goes away raises DatabaseError (503) at once, never a driver error."""
        import psycopg

        try:
            with _pool(self.url).connection() as conn:
                yield conn
        except psycopg.OperationalError as exc:  # the server went away, or no connection in POOL_WAIT_S
            _drop_pool(self.url)
            raise _unavailable(exc, self.url) from exc

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Held on a connection of its own, so the server releases it if the builder dies."""
        conn = _connect(self.url)
        try:
            if conn.execute("SELECT pg_is_in_recovery()").fetchone()[0]:
                raise WriteFailed("the database is a read-only replica: build on its primary, the replica follows")
            if not conn.execute("SELECT pg_try_advisory_lock(%s)", (LOCK_KEY,)).fetchone()[0]:
                raise BuildLocked("another build is writing to the database; try again when it has finished")
            yield
        finally:
            conn.close()

    def current(self) -> tuple[int, BuildMeta] | None:
        """The current generation and its meta; None when there is none or it is stored as an older
        version wrote it (a build then reads every document again, embedding nothing new)."""
        if not self._has_tables():
            return None
        with self.connection() as conn:
            row = conn.execute(
                "SELECT g.id, g.meta FROM rs_current c JOIN rs_generations g ON g.id = c.generation"
                " WHERE g.storage = ANY(%s)", (list(READABLE),),
            ).fetchone()
        return (row[0], BuildMeta.model_validate(row[1])) if row else None

    def _has_tables(self) -> bool:
        """rs_postings is made in the same statement as every table and column this version reads."""
        with self.connection() as conn:
            return conn.execute("SELECT to_regclass('rs_postings') IS NOT NULL").fetchone()[0]

    def current_meta(self) -> BuildMeta | None:
        current = self.current()
        return current[1] if current else None

    def readable(self) -> tuple[BuildMeta | None, list[Passage]]:
        current = self.current()
        if current is None:
            return None, []
        with self.connection() as conn:
            parts = _parts(conn, current[0])
        self._read = {id(passages[0]): (key, passages) for _, key, passages, _, _ in parts if passages}
        return current[1], [passage for _, _, passages, _, _ in parts for passage in passages]

    def repair(self) -> list[str]:
        """Nothing to clear: a generation is made current inside one transaction."""
        return []

    def current_followups(self) -> FollowupEvidence | None:
        """The current generation's follow-up evidence; None when it has none of this version."""
        current = self.current()
        if current is None:
            return None
        try:
            return self.followups(*current)
        except IndexMissing:
            return None

    def followups(self, generation: int, meta: BuildMeta) -> FollowupEvidence:
        """A generation's follow-up evidence; IndexMissing when it has none, or none of this version."""
        with self.connection() as conn:
            found = conn.execute("SELECT followups FROM rs_generations WHERE id = %s", (generation,)).fetchone()
        if not found or found[0] is None:
            raise IndexMissing("the index in the database has no follow-up links; update it with `rapportsok index`")
        return FollowupEvidence.read(found[0], meta.build)

    def write(self, built: Built) -> str:
        """Stores the parts the database lacks, then lists them in a generation made current at once.

        `built.lexical` is not used: the database ranks words with its own text search, and the
        compound splitter comes from the word counts stored with each part."""
        with self.connection() as conn:
            return _write(conn, built, self._read)

    def load(self) -> PostgresBuild:
        current = self.current()
        if current is None:
            raise IndexMissing("no index in the database; build one with `rapportsok --database URL index`")
        return PostgresBuild(self, current[0])


def _write(conn, built: Built, known: dict[int, tuple[str, list[Passage]]]) -> str:  # noqa: ANN001
    """The parts the database lacks, then the generation listing them, made current at once. `known`:
    the parts read by this engine, by their first passage's identity (their keys need no hashing)."""
    meta, passages = built.meta, built.passages
    _ensure_schema(conn, meta.dim)
    runs = document_runs(passages)
    keys = [_known_key(known, passages[start:end]) or _part_key(meta.model, passages[start:end])
            for _, start, end in runs]
    stored = dict(conn.execute("SELECT key, id FROM rs_parts WHERE key = ANY(%s)", (sorted(set(keys)),)).fetchall())
    parts: list[int | None] = [stored.get(key) for key in keys]
    missing = [i for i, part in enumerate(parts) if part is None]
    # the vectors of the documents the database lacks only (a change: its own), their rows one after the other
    vectors = built.vectors(np.concatenate([np.arange(*runs[i][1:]) for i in missing] or [np.zeros(0, int)]))
    firsts = np.cumsum([0] + [runs[i][2] - runs[i][1] for i in missing])
    bounds = np.searchsorted(vectors.table[:, 0], firsts)
    for k, i in enumerate(missing):
        _, start, end = runs[i]
        at, rows = firsts[k], slice(bounds[k], bounds[k + 1])
        parts[i] = _write_part(conn, keys[i], passages[start:end], vectors.passages[at : at + end - start],
                               vectors.sentences[rows], vectors.table[rows] - [at, 0, 0])
    conn.execute(VECTOR_INDEXES)
    counts = _generation_words(conn, parts, passages)
    compounds = compound_splitter(counts).counts
    with conn.transaction():
        generation = conn.execute(  # the average length from the parts' sums: no passage row is read
            "INSERT INTO rs_generations (meta, compounds, parts, passages, avg_len, followups, storage, words)"
            " SELECT %s, %s, %s, %s, coalesce(sum(p.length_sum)::real / nullif(sum(p.passages), 0), 0), %s, %s, %s"
            " FROM unnest(%s::bigint[]) AS u(part) JOIN rs_parts p ON p.id = u.part RETURNING id",
            (json.dumps(meta.model_dump()), json.dumps(compounds), parts, len(passages),
             json.dumps(built.links.model_dump()), STORAGE, json.dumps(counts, ensure_ascii=False), parts),
        ).fetchone()[0]
        name = str(generation)
        conn.execute("UPDATE rs_generations SET meta = meta || %s WHERE id = %s",
                     (json.dumps({"build": name}), generation))
        conn.execute(
            "INSERT INTO rs_current (generation) VALUES (%s) ON CONFLICT (one) DO UPDATE SET generation = %s",
            (generation, generation),
        )
    _remove_old(conn, generation)
    # marks the new rows visible to all, so lexemes are read from the index alone; pages all-visible before are
    # skipped, and the indexes are not swept for the rows of removed parts (autovacuum does that in the background):
    # after a one-document change this touches that document's pages, not the corpus'
    conn.execute("VACUUM (INDEX_CLEANUP OFF) rs_postings")
    return name


def _ensure_schema(conn, dim: int) -> None:  # noqa: ANN001
    """The tables as this version writes them, altered only when they are not (an ALTER TABLE waits for
    every reader of the table and holds the next ones up, on a replica too, even when it changes nothing)."""
    ready = conn.execute(
        "SELECT to_regclass('rs_current') IS NOT NULL"
        " AND EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass('rs_parts') AND attname = 'spans')"
        " AND NOT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass('rs_passages') AND attname = 'passage'"
        " AND attnotnull)"
    ).fetchone()[0]
    if not ready:
        conn.execute(_schema(dim))


def _known_key(known: dict[int, tuple[str, list[Passage]]], passages: list[Passage]) -> str | None:
    """The key of a part this engine read, when passages are that part's very objects (frozen, so
    unchanged): an unchanged document of a change is not hashed again."""
    found = known.get(id(passages[0])) if passages else None
    if found is None or len(found[1]) != len(passages):
        return None
    return found[0] if all(a is b for a, b in zip(found[1], passages, strict=True)) else None


def _generation_words(conn, parts: list[int], passages: list[Passage]) -> dict[str, int]:  # noqa: ANN001
    """Each word's count over the new generation's passages: the current generation's counts with
    those of the parts it drops taken off and of the parts it adds put on; counted over every
    passage only when some of those parts (or the current generation) were stored without counts."""
    current = conn.execute(
        "SELECT g.parts, g.words FROM rs_current c JOIN rs_generations g ON g.id = c.generation"
        " WHERE g.storage = %s AND g.words IS NOT NULL", (STORAGE,),
    ).fetchone()
    if current is not None:
        before, new = set(current[0]), set(parts)
        changed = conn.execute(
            "SELECT id, words FROM rs_parts WHERE id = ANY(%s)", (sorted(before ^ new),)
        ).fetchall()
        if all(found is not None for _, found in changed):
            counts = Counter(current[1])
            for part, found in changed:
                (counts.update if part in new else counts.subtract)(found)
            return {word: n for word, n in counts.items() if n > 0}
    return dict(count_words(p.context() for p in passages))


def _write_part(conn, key: str, passages: list[Passage], vectors: np.ndarray, sentences: np.ndarray,
                table: np.ndarray) -> int:
    """One document's passages and sentences, with their vectors, in one transaction."""
    import orjson

    counts = json.dumps(count_words(p.context() for p in passages), ensure_ascii=False)
    with conn.transaction():
        part = conn.execute(
            "INSERT INTO rs_parts (key, passages, sentences, words, content, spans) VALUES (%s, %s, %s, %s, %s, %s)"
            " RETURNING id",
            (key, len(passages), len(table), counts, orjson.dumps(passages, default=list),  # a PageMark as a list
             table.astype(">i4").tobytes()),
        ).fetchone()[0]
        # binary COPY: vectors as text cost 30x more (33 s against 1 s for 20k rows)
        with conn.cursor().copy("COPY rs_passages (part, seq, embedding) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(["bigint", "integer", "vector"])
            for seq, vector in enumerate(vectors):
                copy.write_row((part, seq, vector))
        conn.execute(POSTINGS, {"texts": [p.context() for p in passages], "part": part, "count": len(passages)})
        with conn.cursor().copy(
            "COPY rs_sentences (part, seq, passage_seq, start_at, end_at, embedding) FROM STDIN (FORMAT BINARY)"
        ) as copy:
            copy.set_types(["bigint", "integer", "integer", "integer", "integer", "vector"])
            for seq, ((row, start, end), vector) in enumerate(zip(table.tolist(), sentences, strict=True)):
                copy.write_row((part, seq, row, start, end, vector))
    return part


# a part's lexemes: each passage's length in lexemes (and their sum), and per lexeme its passages and counts, packed
POSTINGS = f"""
    WITH v AS (
        SELECT c.n - 1 AS seq, t.lexeme, cardinality(t.positions) AS tf
        FROM unnest(%(texts)s::text[]) WITH ORDINALITY AS c(text, n), unnest(to_tsvector('norwegian', c.text)) AS t),
    lengths AS (
        UPDATE rs_parts SET lengths = l.packed, length_sum = l.total
        FROM (SELECT string_agg(int4send(coalesce(s.len, 0)::int), '' ORDER BY n.seq) AS packed,
                     coalesce(sum(s.len), 0) AS total
              FROM generate_series(0, %(count)s - 1) AS n(seq)
              LEFT JOIN (SELECT seq, sum(tf) AS len FROM v GROUP BY seq) AS s ON s.seq = n.seq) AS l
        WHERE id = %(part)s)
    INSERT INTO rs_postings (part, lexeme, chunk, seqs, tfs)
    SELECT %(part)s, lexeme, chunk, string_agg(int4send(seq::int), '' ORDER BY seq),
           string_agg(int2send(tf::int2), '' ORDER BY seq)
    FROM (SELECT *, (row_number() OVER (PARTITION BY lexeme ORDER BY seq) - 1) / {POSTINGS_CHUNK} AS chunk FROM v
          WHERE length(lexeme) <= {LONGEST_LEXEME}) AS c
    GROUP BY lexeme, chunk
    """


def _remove_old(conn, generation: int) -> None:
    """Keeps the new and the previous generation (readers may still be on it) and the parts they use."""
    with conn.transaction():
        conn.execute("DELETE FROM rs_generations WHERE id < (SELECT max(id) FROM rs_generations WHERE id < %s)",
                     (generation,))
        conn.execute("DELETE FROM rs_parts WHERE id NOT IN (SELECT unnest(parts) FROM rs_generations)")


# a generation's parts in order: id, key, passages (a JSON array), lengths, sentence spans; storage 2's put together
# from their rows in rs_passages and rs_sentences (its tables may lack the columns of rs_parts read for storage 3)
PARTS = """
    SELECT p.id, p.key, {columns}
    FROM rs_generations g, unnest(g.parts) WITH ORDINALITY AS u(part, position) JOIN rs_parts p ON p.id = u.part
    WHERE g.id = %s ORDER BY u.position
    """
PART_ROWS = {
    STORAGE: PARTS.format(columns="p.content, p.lengths, p.spans"),
    2: PARTS.format(columns="""
        (SELECT convert_to(json_agg(x.passage ORDER BY x.seq)::text, 'UTF8') FROM rs_passages x WHERE x.part = p.id),
        (SELECT string_agg(int4send(x.len), '' ORDER BY x.seq) FROM rs_passages x WHERE x.part = p.id),
        coalesce((SELECT string_agg(int4send(s.passage_seq) || int4send(s.start_at) || int4send(s.end_at), ''
                                    ORDER BY s.seq) FROM rs_sentences s WHERE s.part = p.id), '')"""),
}


def _parts(conn, generation: int) -> list[tuple[int, str, list[Passage], np.ndarray, np.ndarray]]:  # noqa: ANN001
    """Each part of a generation, in its order: id, key, passages, their lengths in lexemes, and the
    (passage seq, start, end) of their sentences; one row per part, read in binary (bytes as they are)."""
    import orjson

    storage = conn.execute("SELECT storage FROM rs_generations WHERE id = %s", (generation,)).fetchone()[0]
    rows = conn.execute(PART_ROWS[storage], (generation,), binary=True)
    return [(part, key, [Passage(**fields) for fields in orjson.loads(data)],
             np.frombuffer(lengths, dtype=">i4"), np.frombuffer(spans, dtype=">i4").reshape(-1, 3))
            for part, key, data, lengths, spans in rows]


# dense scoring in one statement, its rows packed as (part int8, seq int4, cosine float4) big-endian in one value for
# the passages and one for the sentences (numpy reads them at once; as rows, fetching cost a few ms): every row of a
# small generation, else the CANDIDATES passages nearest by HNSW and their sentences (as the local engine)
PACKED = "string_agg(int8send(part) || int4send(seq) || float4send(score::real), '')"
ROW = np.dtype([("part", ">i8"), ("seq", ">i4"), ("score", ">f4")])
EVERY_ROW = f"""
    SELECT (SELECT {PACKED} FROM (SELECT part, seq, -(embedding <#> %(q)s) AS score FROM rs_passages
                                  WHERE part = ANY(%(parts)s)) AS p),
           (SELECT {PACKED} FROM (SELECT part, seq, -(embedding <#> %(q)s) AS score FROM rs_sentences
                                  WHERE part = ANY(%(parts)s)) AS s)
    """
# the CANDIDATES passages nearest by HNSW (a literal LIMIT: plans stay on HNSW), then with their sentences
NEAREST_PASSAGES = ("SELECT part, seq, -(embedding <#> %(q)s) AS score FROM rs_passages"
                    " ORDER BY embedding <#> %(q)s LIMIT {n}")
NEAREST = "WITH c AS MATERIALIZED (" + NEAREST_PASSAGES + f""")
    SELECT (SELECT {PACKED} FROM c),
           (SELECT {PACKED} FROM (SELECT s.part, s.seq, -(s.embedding <#> %(q)s) AS score
                                  FROM c JOIN rs_sentences s ON s.part = c.part AND s.passage_seq = c.seq) AS s)
    """


class PostgresBuild:
    """One generation, loaded: passages, their lengths and sentence positions in memory, vectors and
    lexemes in the database."""

    def __init__(self, engine: PostgresEngine, generation: int) -> None:
        self.engine = engine
        self.generation = generation
        with engine.connection() as conn:
            self._load(conn)

    def _load(self, conn) -> None:  # noqa: ANN001
        meta, compounds, self.parts, self.avg_len = conn.execute(
            "SELECT meta, compounds, parts, avg_len FROM rs_generations WHERE id = %s", (self.generation,)
        ).fetchone()
        self.meta = BuildMeta.model_validate(meta)
        parts = _parts(conn, self.generation)
        self.passages = [passage for _, _, passages, _, _ in parts for passage in passages]
        self.lengths = np.concatenate([lengths for *_, lengths, _ in parts] or [np.zeros(0)]).astype(np.float32)
        self.exact = len(self.passages) <= EXACT_UP_TO
        self._scored = lru_cache(maxsize=4)(self._score)  # a search asks for sentences twice (ranking, marking)
        offsets = np.cumsum([0] + [len(passages) for _, _, passages, _, _ in parts])
        sentence_offsets = np.cumsum([0] + [len(spans) for *_, spans in parts])
        # to map a query's rows at once, sorted by part: (part ids, first passage row, first sentence row)
        order = np.argsort(self.parts)
        self._first = (np.array(self.parts, dtype=np.int64)[order], offsets[:-1][order], sentence_offsets[:-1][order])
        self.sentence_table = np.concatenate(
            [spans + [offset, 0, 0] for (*_, spans), offset in zip(parts, offsets.tolist(), strict=False)]
            or [np.zeros((0, 3))]
        ).astype(np.int32)
        self.lexical = PostgresTerms(self, Decompounder(compounds))

    def connection(self) -> AbstractContextManager:
        """A connection of the engine's pool, for one query."""
        return self.engine.connection()

    def first_rows(self, parts: np.ndarray, sentences: bool = False) -> np.ndarray:
        """Each part's first row among this generation's passages (or sentences); -1 for a part
        outside it (of an older generation, or of a killed build)."""
        ids, passage_rows, sentence_rows = self._first
        at = np.minimum(np.searchsorted(ids, parts), len(ids) - 1)
        return np.where(ids[at] == parts, (sentence_rows if sentences else passage_rows)[at], -1)

    def is_current(self) -> bool:
        current = self.engine.current()
        return current is not None and current[0] == self.generation

    def followups(self) -> FollowupEvidence:
        """The generation's follow-up evidence; IndexMissing when it has none, or none of this version."""
        return self.engine.followups(self.generation, self.meta)

    def passage_scores(self, query_vector: np.ndarray) -> np.ndarray:
        return self._scored(query_vector.astype(np.float32).tobytes())[0]

    def sentence_scores(self, query_vector: np.ndarray) -> np.ndarray:
        return self._scored(query_vector.astype(np.float32).tobytes())[1]

    def scored_passages(self, query_vector: np.ndarray) -> np.ndarray | None:
        return None if self.exact else self._scored(query_vector.astype(np.float32).tobytes())[2]

    def _score(self, query: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Cosines of the passages and sentences scored (any other row gets the lowest cosine found:
        it ranks below them), and the passages scored."""
        with self.engine.connection() as conn:
            return self.dense_arrays(self.dense_rows(conn, np.frombuffer(query, dtype=np.float32)))

    def dense_rows(self, conn, query: np.ndarray) -> tuple[np.ndarray, np.ndarray]:  # noqa: ANN001
        """The dense statement's passages and sentences: arrays of ROW."""
        statement = EVERY_ROW if self.exact else NEAREST.format(n=CANDIDATES)
        found = conn.execute(statement, {"q": query, "parts": self.parts}, binary=True).fetchone()
        return np.frombuffer(found[0] or b"", dtype=ROW), np.frombuffer(found[1] or b"", dtype=ROW)

    def dense_arrays(self, rows: tuple[np.ndarray, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per passage and per sentence row, the cosines of dense_rows, and the passage rows scored;
        rows of parts outside this generation are dropped."""
        scored, at = [], []
        for found, sentences in ((rows[0], False), (rows[1], True)):
            total = len(self.sentence_table) if sentences else len(self.passages)
            first = self.first_rows(found["part"].astype(np.int64), sentences=sentences)
            keep = first >= 0  # else a part of an older generation, or of a killed build
            at.append((first + found["seq"])[keep].astype(np.int64))
            scored.append(scattered(total, at[-1], found["score"][keep].astype(np.float32)))
        return scored[0], scored[1], at[0]
