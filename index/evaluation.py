"""Retrieval quality on a question set (format of shared/eval): recall, MRR and the three outcomes.

A question set is JSON lines `{"question", "relevant": [key…], "lang", "kind"?}` plus a keys file
mapping each key to a distinctive substring of the passage that answers it; an empty `relevant`
list marks an out-of-scope question. `kind` (own words, other words, English, out of scope) is
optional; reports are broken down by it when present.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from acuerdo.index.errors import AcuerdoError
from acuerdo.index.hits import Answer
from acuerdo.index.library import Library

_SPACES = re.compile(r"\s+")
# A tentative reply offers the first passage and the next ones one tap away; counting the first
# three as "shown" keeps the figure honest (users rarely tap further).
SHOWN_ALTERNATIVES = 3


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class LabelledQuestion:
    question: str
    needles: tuple[str, ...]  # substrings of the passages that answer it; empty: out of scope
    lang: str = "es"
    kind: str = ""


@dataclass(frozen=True)
class QuestionResult:
    """How one question went: the rank of its first relevant passage (None if absent)."""

    question: str
    in_scope: bool
    rank: int | None
    outcome: str  # "confident", "tentative" or "nothing"
    kind: str = ""
    confidence: float = 0.0

    @property
    def answered(self) -> bool:
        """Quoted as the answer (a confident quote)."""
        return self.outcome == "confident"

    @property
    def decision_correct(self) -> bool:
        return self.answered == self.in_scope

    @property
    def confident_right(self) -> bool:
        return self.outcome == "confident" and self.rank == 1

    @property
    def confident_wrong(self) -> bool:
        return self.outcome == "confident" and self.rank != 1

    @property
    def shown_right(self) -> bool:
        """The right passage was quoted as the answer or offered among the closest ones."""
        if self.rank is None:
            return False
        return self.confident_right or (
            self.outcome == "tentative" and self.rank <= SHOWN_ALTERNATIVES
        )


@dataclass(frozen=True)
class EvalReport:
    """Aggregate figures; recall and MRR over in-scope questions only."""

    results: tuple[QuestionResult, ...]

    @property
    def in_scope(self) -> list[QuestionResult]:
        return [r for r in self.results if r.in_scope]

    @property
    def out_of_scope(self) -> list[QuestionResult]:
        return [r for r in self.results if not r.in_scope]

    def recall_at(self, k: int) -> float:
        scoped = self.in_scope
        return (
            sum(1 for r in scoped if r.rank is not None and r.rank <= k) / len(scoped)
            if scoped
            else 0.0
        )

    @property
    def mrr(self) -> float:
        scoped = self.in_scope
        return sum(1.0 / r.rank for r in scoped if r.rank) / len(scoped) if scoped else 0.0

    @property
    def abstention_accuracy(self) -> float:
        return (
            sum(r.decision_correct for r in self.results) / len(self.results)
            if self.results
            else 0.0
        )

    def count(self, outcome: str, *, in_scope: bool | None = None) -> int:
        return sum(
            1
            for r in self.results
            if r.outcome == outcome and (in_scope is None or r.in_scope == in_scope)
        )

    def kinds(self) -> list[str]:
        return sorted({r.kind for r in self.results if r.kind})

    def of_kind(self, kind: str) -> EvalReport:
        return EvalReport(tuple(r for r in self.results if r.kind == kind))


def load_labelled(qa_path: Path, keys_path: Path) -> list[LabelledQuestion]:
    """The questions of a set with their relevant substrings; AcuerdoError naming the line."""
    try:
        keys = json.loads(keys_path.read_text(encoding="utf-8"))
        lines = qa_path.read_text(encoding="utf-8").splitlines()
    except (OSError, ValueError) as exc:
        raise AcuerdoError(f"No puedo leer el conjunto de evaluación: {exc}") from exc
    if not isinstance(keys, dict) or not all(
        isinstance(v, str) and v.strip() for v in keys.values()
    ):
        raise AcuerdoError(
            f"{keys_path.name} debe ser un objeto JSON que asocie cada clave a un texto no vacío "
            "del pasaje que responde."
        )
    labelled = []
    for number, line in enumerate(lines, start=1):
        if line.strip():
            try:
                labelled.append(_labelled(line, keys))
            except ValueError as exc:
                raise AcuerdoError(f"{qa_path.name}, línea {number}: {exc}") from None
    return labelled


def _labelled(line: str, keys: dict[str, str]) -> LabelledQuestion:
    """One line of a question set; ValueError (in Spanish) saying what is wrong with it."""
    try:
        item = json.loads(line)
    except ValueError:
        raise ValueError("no es JSON válido.") from None
    if not isinstance(item, dict):
        raise ValueError('debe ser un objeto JSON {"question": …, "relevant": […]}.')
    question = item.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ValueError("«question» debe ser un texto no vacío.")
    relevant = item.get("relevant")
    if not isinstance(relevant, list):
        raise ValueError("«relevant» debe ser una lista de claves (vacía si no hay respuesta).")
    for key in relevant:
        if not isinstance(key, str) or not key.strip():
            shown = json.dumps(key, ensure_ascii=False)
            raise ValueError(f"«relevant» tiene {shown}: cada clave debe ser un texto no vacío.")
        if key not in keys:
            raise ValueError(f"la clave «{key}» no está en el archivo de claves.")
    optional = {name: item.get(name) for name in ("lang", "kind")}
    for name, value in optional.items():
        if value is not None and not isinstance(value, str):
            raise ValueError(f"«{name}», si se indica, debe ser un texto.")
    return LabelledQuestion(
        question=question,
        needles=tuple(_collapse(keys[key]) for key in relevant),
        lang=optional["lang"] or "es",
        kind=optional["kind"] or "",
    )


def relevant_rank(answer: Answer, needles: Sequence[str]) -> int | None:
    """1-based position of the first hit holding one of the needles."""
    for position, hit in enumerate(answer.hits, start=1):
        if any(needle in _collapse(hit.text) for needle in needles):
            return position
    return None


def judge(item: LabelledQuestion, answer: Answer) -> QuestionResult:
    return QuestionResult(
        question=item.question,
        in_scope=bool(item.needles),
        rank=relevant_rank(answer, item.needles),
        outcome=answer.outcome,
        kind=item.kind,
        confidence=answer.confidence,
    )


def evaluate(library: Library, qa_path: Path, keys_path: Path, *, k: int = 5) -> EvalReport:
    """Ask every question through the same `Library.ask` users get."""
    results = [
        judge(item, library.ask(item.question, k=k, channel="eval"))
        for item in load_labelled(qa_path, keys_path)
    ]
    return EvalReport(tuple(results))


def _outcome_line(report: EvalReport) -> str:
    scoped, oos = report.in_scope, report.out_of_scope
    parts = []
    if scoped:
        parts.append(
            f"in scope {len(scoped)}: confident-right {sum(r.confident_right for r in scoped)}, "
            f"confident-wrong {sum(r.confident_wrong for r in scoped)}, "
            f"tentative {sum(r.outcome == 'tentative' for r in scoped)}, "
            f"nothing {sum(r.outcome == 'nothing' for r in scoped)}; "
            f"right passage shown {sum(r.shown_right for r in scoped)}/{len(scoped)}"
        )
    if oos:
        parts.append(
            f"out of scope {len(oos)}: confident {report.count('confident', in_scope=False)}, "
            f"tentative {report.count('tentative', in_scope=False)}, "
            f"nothing {report.count('nothing', in_scope=False)}"
        )
    return "; ".join(parts)


def format_report(report: EvalReport, *, verbose: bool = False) -> str:
    """A short table; with `verbose`, one line per question first."""
    lines = []
    if verbose:
        for r in report.results:
            mark = "ok" if (r.rank == 1 if r.in_scope else r.outcome == "nothing") else "--"
            lines.append(
                f"{mark} rank={r.rank} {r.outcome} confidence={r.confidence:.2f} {r.question}"
            )
    scoped, oos = report.in_scope, report.out_of_scope
    lines += [
        f"Questions: {len(report.results)} ({len(scoped)} in scope, {len(oos)} out of scope)",
        f"Recall@1: {report.recall_at(1):.3f}",
        f"Recall@3: {report.recall_at(3):.3f}",
        f"MRR: {report.mrr:.3f}",
        f"Outcomes: {_outcome_line(report)}",
        f"Abstention accuracy: {report.abstention_accuracy:.3f} "
        f"(out of scope not answered {sum(not r.answered for r in oos)}/{len(oos)}, "
        f"in scope answered {sum(r.answered for r in scoped)}/{len(scoped)})",
    ]
    for kind in report.kinds():
        part = report.of_kind(kind)
        recall = (
            f"Recall@1 {part.recall_at(1):.3f}, Recall@3 {part.recall_at(3):.3f}, "
            f"MRR {part.mrr:.3f}; "
            if part.in_scope
            else ""
        )
        lines.append(f"  {kind}: {recall}{_outcome_line(part)}")
    return "\n".join(lines)
