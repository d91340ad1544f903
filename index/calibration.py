"""From evidence about the best passage to a calibrated confidence and one of three outcomes.

A hard cut on a raw cosine withholds right answers to English questions and paraphrases (their
cosines run lower) and lets short junk passages through. Instead, a few signals that mean the
same thing for every question (see `index/evidence.py`) go through two small logistic models
fitted on labelled questions (`benchmarks/calibrate.py`):

- `top`: the probability that the first passage answers the question. This is the
  `confidence` users and the JSON output see; a confident quote needs it high.
- `shown`: the probability that one of the passages offered (the first or the alternatives one
  tap away) answers it. A tentative quote needs this one; below it the bot says it found nothing.

Each embedder has its own fitted weights (`calibrations/<model>.json`); a model never fitted
uses the generic ones, fitted on features that do not depend on a model's cosine scale.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources

import numpy as np
import numpy.typing as npt


class Outcome(StrEnum):
    """What the bot does with a question."""

    CONFIDENT = "confident"  # quote the passage as the answer
    TENTATIVE = "tentative"  # "no lo encontré dicho así; esto es lo más cercano"
    NOTHING = "nothing"  # "no encontré…"


@dataclass(frozen=True)
class LogisticModel:
    """p = sigmoid(bias + Σ weight·(x − mean)/scale), over named features."""

    features: tuple[str, ...]
    weights: tuple[float, ...]
    bias: float
    means: tuple[float, ...]
    scales: tuple[float, ...]

    def probability(self, values: Mapping[str, float]) -> float:
        z = self.bias
        for name, weight, mean, scale in zip(
            self.features, self.weights, self.means, self.scales, strict=True
        ):
            z += weight * (values[name] - mean) / scale
        return 1.0 / (1.0 + math.exp(-max(-60.0, min(60.0, z))))

    def to_dict(self) -> dict[str, object]:
        return {
            "features": list(self.features),
            "weights": list(self.weights),
            "bias": self.bias,
            "means": list(self.means),
            "scales": list(self.scales),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, object]) -> LogisticModel:
        def floats(key: str) -> tuple[float, ...]:
            return tuple(float(v) for v in data[key])  # type: ignore[attr-defined]

        return cls(
            features=tuple(str(f) for f in data["features"]),  # type: ignore[attr-defined]
            weights=floats("weights"),
            bias=float(data["bias"]),  # type: ignore[arg-type]
            means=floats("means"),
            scales=floats("scales"),
        )


@dataclass(frozen=True)
class Calibration:
    """The two models and the two cuts that turn evidence into an `Outcome`."""

    top: LogisticModel
    shown: LogisticModel
    confident_at: float
    tentative_at: float
    fitted_on: str = ""
    ranker: LogisticModel | None = None  # orders the fused head (index/reranking.py)

    def decide(
        self, values: Mapping[str, float], *, at_most_tentative: bool = False
    ) -> tuple[Outcome, float]:
        """The outcome and the confidence (probability that the first passage is right).

        `at_most_tentative` caps the outcome whatever the confidence, for what the models were
        not fitted to judge: a keyword search ("México", "2025", "seguridad": a topic, not a
        question; `index/question_text.py`), where a country, a year or a generic word sits
        close to many passages; and a first passage that is an English aside in a Spanish
        document (`index/language.py`), offered but never quoted as the answer. The calibration
        benchmark applies the keyword cap, so its tables are what ships for it.
        """
        confidence = self.top.probability(values)
        if confidence >= self.confident_at:
            return (Outcome.TENTATIVE if at_most_tentative else Outcome.CONFIDENT), confidence
        if self.shown.probability(values) >= self.tentative_at:
            return Outcome.TENTATIVE, confidence
        return Outcome.NOTHING, confidence

    def to_json(self) -> str:
        return json.dumps(
            {
                "top": self.top.to_dict(),
                "shown": self.shown.to_dict(),
                "confident_at": self.confident_at,
                "tentative_at": self.tentative_at,
                "fitted_on": self.fitted_on,
                "ranker": self.ranker.to_dict() if self.ranker else None,
            },
            indent=1,
            ensure_ascii=False,
        )

    @classmethod
    def from_json(cls, text: str) -> Calibration:
        data = json.loads(text)
        return cls(
            top=LogisticModel.from_dict(data["top"]),
            shown=LogisticModel.from_dict(data["shown"]),
            confident_at=float(data["confident_at"]),
            tentative_at=float(data["tentative_at"]),
            fitted_on=str(data.get("fitted_on", "")),
            ranker=LogisticModel.from_dict(data["ranker"]) if data.get("ranker") else None,
        )


GENERIC = "generic"


def calibration_name(model_id: str) -> str:
    """The file stem a model's calibration is stored under: its id without version or prompts."""
    base = model_id.split("@", 1)[0].split("|", 1)[0]
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in base)


def load_calibration(model_id: str) -> Calibration:
    """The calibration fitted for this model, else the generic one."""
    folder = resources.files("acuerdo.index") / "calibrations"
    for name in (calibration_name(model_id), GENERIC):
        resource = folder / f"{name}.json"
        if resource.is_file():
            return Calibration.from_json(resource.read_text(encoding="utf-8"))
    raise FileNotFoundError("index/calibrations/generic.json is missing from the package")


def fit_logistic(
    rows: Sequence[Mapping[str, float]],
    labels: Sequence[bool],
    features: Sequence[str],
    *,
    l2: float = 1.0,
    iterations: int = 50,
) -> LogisticModel:
    """L2-regularised logistic regression by Newton's method on standardised features.

    Small and deterministic: a few hundred questions and fewer than a dozen features.
    """
    x = np.array([[row[f] for f in features] for row in rows], dtype=np.float64)
    y = np.asarray(labels, dtype=np.float64)
    means = x.mean(axis=0)
    scales = x.std(axis=0)
    scales[scales < 1e-9] = 1.0
    design = np.hstack([np.ones((len(x), 1)), (x - means) / scales])
    theta = np.zeros(design.shape[1])
    penalty = np.full(design.shape[1], l2)
    penalty[0] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = _sigmoid(design @ theta)
        gradient = design.T @ (p - y) + penalty * theta
        hessian = (design * (p * (1 - p))[:, None]).T @ design + np.diag(penalty + 1e-9)
        step = np.linalg.solve(hessian, gradient)
        theta -= step
        if float(np.max(np.abs(step))) < 1e-8:
            break
    return LogisticModel(
        features=tuple(features),
        weights=tuple(float(w) for w in theta[1:]),
        bias=float(theta[0]),
        means=tuple(float(m) for m in means),
        scales=tuple(float(s) for s in scales),
    )


def _sigmoid(z: npt.NDArray[np.float64]) -> npt.NDArray[np.float64]:
    return 1.0 / (1.0 + np.exp(-np.clip(z, -60, 60)))
