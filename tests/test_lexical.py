from __future__ import annotations

import math

import pytest

from acuerdo.index.lexical import LexicalIndex, SpanishAnalyzer, fold


def test_fold_removes_accents_and_case() -> None:
    assert fold("Soberanía ÁRBOL Niño") == "soberania arbol nino"


def test_analyzer_stems_drops_stop_words_and_matches_without_accents() -> None:
    analyzer = SpanishAnalyzer()
    assert analyzer.terms("soberanía") == analyzer.terms("soberania")
    terms = analyzer.terms("¿Qué dijeron sobre el fentanilo?")
    assert "fentanil" in terms
    assert not {"que", "sobre", "el"} & set(terms)
    assert analyzer.terms("fentanilos") == analyzer.terms("fentanilo")
    assert analyzer.terms("the and of") == []


def test_bm25_ranks_the_passage_with_the_term_first() -> None:
    index = LexicalIndex()
    index.build([10, 20, 30], ["El tráfico de armas.", "Robo de combustible.", "Reunión cordial."])
    ids, scores = index.search("combustibles robados", 5)
    assert ids.tolist()[0] == 20
    assert scores[0] > 0
    ids, _ = index.search("receta de tacos", 5)
    assert ids.tolist() == []


def test_term_overlap_and_empty_index() -> None:
    index = LexicalIndex()
    assert index.search("algo", 3)[0].tolist() == []
    index.build([1, 2], ["tráfico de fentanilo y armas", "reunión en Palacio Nacional"])
    assert index.term_overlap("fentanilo y armas", 1) == 1.0
    assert index.term_overlap("fentanilo en Palacio", 2) == 0.5
    assert index.term_overlap("de la el", 1) == 0.0


def test_rarity_is_one_for_a_term_in_one_passage_and_zero_in_every_passage() -> None:
    index = LexicalIndex()
    index.build(
        [1, 2, 3, 4],
        [
            "El tráfico de armas en la frontera.",
            "La frontera y el agua.",
            "La frontera y el comercio.",
            "La frontera y la salud.",
        ],
    )
    terms = index.analyzer.terms("armas frontera agua inexistente")
    arm, frontera, agua, unknown = terms
    rarity = index.rarity(terms)
    assert rarity[arm] == 1.0 and rarity[unknown] == 1.0
    assert rarity[frontera] == 0.0
    assert rarity[agua] == 1.0
    index = index.updated(added_ids=[5], added_texts=["Armas y agua."])
    rarity = index.rarity(terms)
    assert 0.0 < rarity[arm] < 1.0 and rarity[arm] == pytest.approx(math.log(5 / 2) / math.log(5))
    assert rarity[frontera] < rarity[arm]
