"""Rules of the quality benchmarks on fixed inputs: the calibration's cuts under the keyword cap,
and the growth benchmark's steps reaching their size when a source runs out."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from benchmarks import calibrate
from benchmarks import library_growth as growth


def test_capped_keyword_searches_do_not_count_as_confident_when_cuts_are_chosen() -> None:

    def row(question: str, rank: int | None, kind: str = "own") -> object:
        return calibrate.Row(question=question, kind=kind, split="fit", rank=rank, evidence={})

    # Twenty questions answered right with p = 0.9, and two keyword searches whose first
    # passage is wrong with p = 0.95 (2/22 = 9 % wrong: above the 6 % the cut allows).
    rows = [row(f"¿pregunta {i}?", 1) for i in range(20)] + [row("México", 3), row("2025", 4)]
    top = [0.9] * 20 + [0.95, 0.95]
    shown = [0.9] * 22
    uncapped, _ = calibrate.choose_cuts(rows, top, shown)
    capped, _ = calibrate.choose_cuts(rows, top, shown, capped=[r.keyword for r in rows])
    assert uncapped > 0.95  # only a cut above both wrong ones keeps within 6 %
    assert capped == pytest.approx(0.01)  # capped, they can never be quoted with confidence
    assert [r.keyword for r in rows[-3:]] == [False, True, True]


def test_the_keyword_form_is_read_from_the_question_itself() -> None:
    row = calibrate.Row(
        question="lavado\x1b[31m de dinero", kind="own", split="fit", rank=1, evidence={"cos": 0.9}
    )
    assert calibrate.with_form(row).evidence == {"cos": 0.9, "keyword": 1.0}
    asked = calibrate.Row(
        question="¿lavado de dinero?", kind="own", split="fit", rank=1, evidence={}
    )
    assert calibrate.with_form(asked).evidence == {"keyword": 0.0}


@dataclass(frozen=True)
class _Document:
    id: int
    passages: int


@dataclass(frozen=True)
class _Added:
    document: _Document


class _Library:
    """Counts what is added: each distractor document holds 100 passages."""

    def __init__(self) -> None:
        self.paths: list[Path] = []

    def add_path(self, path: Path, *, title: str) -> _Added:
        self.paths.append(path)
        return _Added(_Document(len(self.paths), 100))


def test_a_step_reaches_its_size_from_other_sources_when_one_runs_out(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(growth, "SHARES", {"small": 0.5, "large": 0.5})

    def documents(source: str, count: int) -> Iterator[object]:
        return iter(growth.Distractor(source, f"/{source}/{i}", "t") for i in range(count))

    pending = {"small": documents("small", 2), "large": documents("large", 50)}
    added = {"small": 0, "large": 0}
    library = _Library()
    count = growth.add_step(library, pending, added, 1000, {})
    # "small" gives its 200 passages and runs out; "large" makes up the other 300.
    assert added == {"small": 200, "large": 800}
    assert count == 10 and sum(added.values()) == 1000
    # A step larger than everything left stops when every source is empty.
    assert growth.add_step(library, pending, added, 100_000, {}) == 42
    assert added == {"small": 200, "large": 5000}
