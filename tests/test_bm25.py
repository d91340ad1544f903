"""Our incremental BM25 against bm25s, the reference implementation of the same formula."""

from __future__ import annotations

import random

import bm25s
import numpy as np

from acuerdo.index.bm25 import BM25
from acuerdo.index.lexical import LexicalIndex


def _corpus(n: int, seed: int = 0) -> list[list[str]]:
    rng = random.Random(seed)
    vocabulary = [f"t{i}" for i in range(60)]
    return [[rng.choice(vocabulary) for _ in range(rng.randint(3, 25))] for _ in range(n)]


def _reference(documents: list[list[str]], query: list[str]) -> np.ndarray:
    reference = bm25s.BM25(method="lucene", k1=1.2, b=0.75)
    reference.index(documents, show_progress=False)
    known = [t for t in query if t in reference.vocab_dict]
    return np.asarray(reference.get_scores(known), dtype=np.float32)


def test_scores_match_bm25s_lucene() -> None:
    documents = _corpus(200)
    ours = BM25.build(documents)
    for query in (["t1"], ["t2", "t3", "t3"], ["t5", "nope"], ["t59", "t0", "t10"]):
        assert np.allclose(ours.scores(query), _reference(documents, query), rtol=1e-5, atol=1e-6)


def test_appending_and_removing_equals_building_from_scratch() -> None:
    documents = _corpus(120, seed=1)
    grown = BM25.build(documents[:100]).appended(documents[100:])
    shrunk = grown.without(range(10, 40))
    kept = documents[:10] + documents[40:]
    for query in (["t7", "t8"], ["t30"]):
        assert np.allclose(grown.scores(query), _reference(documents, query), atol=1e-6)
        expected = _reference(kept, query)
        alive_scores = shrunk.scores(query)[shrunk.alive]
        assert np.allclose(alive_scores, expected, atol=1e-6)
        assert not shrunk.scores(query)[10:40].any()
    compacted, old_rows = shrunk.compacted()
    assert len(compacted) == compacted.row_count == 90
    assert old_rows.tolist() == list(range(10)) + list(range(40, 120))
    assert np.allclose(compacted.scores(["t7"]), _reference(kept, ["t7"]), atol=1e-6)


def test_lexical_updates_leave_the_original_untouched() -> None:
    index = LexicalIndex()
    index.build([1, 2], ["robo de combustible", "tráfico de armas"])
    changed = index.updated(
        removed=[1], added_ids=[3], added_texts=["combustible robado en ductos"]
    )
    assert index.search("combustible", 5)[0].tolist() == [1]
    assert changed.search("combustible", 5)[0].tolist() == [3]
    assert len(changed) == 2 and len(index) == 2
    assert changed.passage_terms(1) == frozenset()
    assert "combust" in changed.passage_terms(3)
    many = changed
    for pid in range(10, 30):
        many = many.updated(added_ids=[pid], added_texts=[f"documento número {pid} sobre aduanas"])
    many = many.updated(removed=range(10, 25))  # triggers compaction on a later update
    many = many.updated(added_ids=[99], added_texts=["aduanas del norte"])
    ids, _ = many.search("aduanas", 50)
    assert sorted(ids.tolist()) == [*range(25, 30), 99]
