"""Retrieval quality on a question set (format of shared/eval): recall, MRR and abstention."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from index.errors import AcuerdoError
from index.library import Library

_SPACES = re.compile(r"\s+")


def _collapse(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


@dataclass(frozen=True)
class QuestionResult:
    """How one question went: the rank of its first relevant passage (None if absent)."""

    question: str
    in_scope: bool
    rank: int | None
    answered: bool

    @property
    def decision_correct(self) -> bool:
        return self.answered == self.in_scope


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


def load_questions(qa_path: Path, keys_path: Path) -> list[tuple[str, list[str]]]:
    """(question, relevant substrings) pairs; an empty list marks an out-of-scope question."""
    try:
        keys = json.loads(keys_path.read_text(encoding="utf-8"))
        items = [
            json.loads(line)
            for line in qa_path.read_text(encoding="utf-8").splitlines()
            if line.strip()
        ]
    except (OSError, ValueError) as exc:
        raise AcuerdoError(f"No puedo leer el conjunto de evaluación: {exc}") from exc
    try:
        return [
            (item["question"], [_collapse(keys[key]) for key in item["relevant"]]) for item in items
        ]
    except KeyError as exc:
        raise AcuerdoError(f"Falta la clave {exc} en el conjunto de evaluación.") from exc


def evaluate(library: Library, qa_path: Path, keys_path: Path, *, k: int = 5) -> EvalReport:
    """Ask every question through the same `Library.ask` users get."""
    results = []
    for question, needles in load_questions(qa_path, keys_path):
        answer = library.ask(question, k=k, channel="eval")
        rank = None
        for position, hit in enumerate(answer.hits, start=1):
            if any(needle in _collapse(hit.text) for needle in needles):
                rank = position
                break
        results.append(QuestionResult(question, bool(needles), rank, answer.answered))
    return EvalReport(tuple(results))


def format_report(report: EvalReport, *, verbose: bool = False) -> str:
    """A short table; with `verbose`, one line per question first."""
    lines = []
    if verbose:
        for r in report.results:
            mark = "ok" if (r.rank == 1 if r.in_scope else not r.answered) else "--"
            lines.append(f"{mark} rank={r.rank} answered={r.answered} {r.question}")
    scoped, oos = report.in_scope, report.out_of_scope
    lines += [
        f"Questions: {len(report.results)} ({len(scoped)} in scope, {len(oos)} out of scope)",
        f"Recall@1: {report.recall_at(1):.3f}",
        f"Recall@3: {report.recall_at(3):.3f}",
        f"MRR: {report.mrr:.3f}",
        f"Abstention accuracy: {report.abstention_accuracy:.3f} "
        f"(out of scope abstained {sum(not r.answered for r in oos)}/{len(oos)}, "
        f"in scope answered {sum(r.answered for r in scoped)}/{len(scoped)})",
    ]
    return "\n".join(lines)
