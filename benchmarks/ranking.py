"""Ranking candidates side by side on the held-out questions (issue 11).

Builds the library of all four evaluation documents, asks every labelled question once, and
re-ranks offline with each candidate signal, reporting Recall@1, Recall@3 and MRR per kind of
question (own words, other words, English) on the fit part and on the held-out part:

- `shipped`: what `Library.ask` ranks first (English questions without BM25's vote, BM25's vote
  weighted by the share of the question's rarity its first passage holds);
- `fusion as shipped before`: equal-weight reciprocal rank fusion of the dense and lexical lists,
  recomputed here (it reproduces the ranking shipped before exactly);
- `+ sentence max list`: a third list scoring each passage by its best sentence's cosine;
- `sentence mix`: the dense list scored by a mix of the passage's and its best sentence's cosine;
- `english: no BM25` / `BM25 × 0.3`: the lexical list silenced or down-weighted for questions
  that look English;
- `... rare-term share`: BM25's vote times the share of the question's rarity its first passage
  holds (floor 0 or 0.5);
- `dense PRF`: the dense query moved towards its first passages (Rocchio), searched again;
- `dense ×w`, and a weighted fusion whose weights are chosen by cross-validation on the fit part;
- `+ heading-context list`: a third list, the same e5 query against each passage embedded with
  its headings above its text (`heading\ntext`), and `heading-context vectors only`, that list
  in place of the plain dense one.

    .venv/bin/python -m benchmarks.ranking [--out benchmarks/results/ranking.md]
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from acuerdo.index.chunking import sentence_spans
from acuerdo.index.evaluation import load_labelled, relevant_rank
from acuerdo.index.fusion import RankedList
from acuerdo.index.language import looks_english
from acuerdo.index.ordering import ties_by_coverage, with_lead_in
from benchmarks.benchlib import REPO
from benchmarks.calibrate import HELDOUT_KEYS, HELDOUT_QA, build_library

KINDS = ("own", "other", "english")


@dataclass
class Asked:
    question: str
    kind: str
    split: str
    english: bool
    relevant: frozenset[int]
    shipped_rank: int | None
    query: np.ndarray
    terms: frozenset[str]
    lexical: RankedList


def _collapse(text: str) -> str:
    return " ".join(text.split())


def rank_of(order: Sequence[int], relevant: frozenset[int], depth: int = 5) -> int | None:
    for position, pid in enumerate(order[:depth], start=1):
        if pid in relevant:
            return position
    return None


def table(rows: Sequence[tuple[Asked, int | None]]) -> dict[str, tuple[int, float, float, float]]:
    out = {}
    for kind in (*KINDS, "all"):
        part = [r for a, r in rows if kind == "all" or a.kind == kind]
        if not part:
            continue
        r1 = sum(r == 1 for r in part) / len(part)
        r3 = sum(r is not None and r <= 3 for r in part) / len(part)
        mrr = sum(1 / r for r in part if r) / len(part)
        out[kind] = (len(part), r1, r3, mrr)
    return out


GRID = {
    "w_dense": (1.0, 1.5, 2.0, 3.0),
    "w_lex_en": (0.0, 0.3, 1.0),
}


def _grid() -> list[dict[str, float]]:
    return [{"w_dense": d, "w_lex_en": e} for d in GRID["w_dense"] for e in GRID["w_lex_en"]]


def _score(rows: Sequence[Asked], run: Callable[[Asked], list[int]]) -> tuple[float, float]:
    ranks = [rank_of(run(a), a.relevant) for a in rows]
    return (sum(r == 1 for r in ranks) / len(rows), sum(1 / r for r in ranks if r) / len(rows))


def choose_weights(
    rows: Sequence[Asked], make: Callable[..., Callable[[Asked], list[int]]], folds: int = 5
) -> tuple[dict[str, float], list[tuple[Asked, int | None]]]:
    """The grid point best on the fit part, and out-of-fold ranks of choosing that way."""
    order = sorted(range(len(rows)), key=lambda i: rows[i].question)
    fold_of = {i: n % folds for n, i in enumerate(order)}
    cv: list[tuple[Asked, int | None]] = []
    for fold in range(folds):
        train = [a for i, a in enumerate(rows) if fold_of[i] != fold]
        best = max(_grid(), key=lambda g: _score(train, make(**g)))
        run = make(**best)
        cv += [(a, rank_of(run(a), a.relevant)) for i, a in enumerate(rows) if fold_of[i] == fold]
    chosen = max(_grid(), key=lambda g: _score(rows, make(**g)))
    return chosen, cv


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "benchmarks/results/ranking.md")
    args = parser.parse_args(argv)

    tmp = tempfile.TemporaryDirectory()
    library = build_library(Path(tmp.name), documents=("M", "A", "C", "S"))
    corpus = library.corpus()
    embedder = library.embedder
    ids = sorted(corpus.records)
    matrix = np.stack([corpus.vectors.vector(pid) for pid in ids]).astype(np.float32)
    row_of = {pid: i for i, pid in enumerate(ids)}

    # Sentence vectors: every sentence of every passage, embedded as a passage.
    started = time.perf_counter()
    sentence_owner: list[int] = []
    sentence_texts: list[str] = []
    for pid in ids:
        text = corpus.records[pid].text
        spans = sentence_spans(text) or [(0, len(text))]
        for s, e in spans:
            sentence_owner.append(pid)
            sentence_texts.append(text[s:e])
    sentence_matrix = embedder.embed_passages(sentence_texts).astype(np.float32)
    sentence_seconds = time.perf_counter() - started
    owner = np.array([row_of[p] for p in sentence_owner])

    # Passages embedded with their headings above them: the context a reader sees.
    started = time.perf_counter()
    headed_matrix = embedder.embed_passages(
        [
            f"{corpus.records[pid].heading}\n{corpus.records[pid].text}"
            if corpus.records[pid].heading
            else corpus.records[pid].text
            for pid in ids
        ]
    ).astype(np.float32)
    headed_seconds = time.perf_counter() - started

    raw = [json.loads(line) for line in HELDOUT_QA.read_text(encoding="utf-8").splitlines() if line]
    asked: list[Asked] = []
    for item, labelled in zip(raw, load_labelled(HELDOUT_QA, HELDOUT_KEYS), strict=True):
        if not labelled.needles:
            continue
        relevant = frozenset(
            pid
            for pid in ids
            if any(n in _collapse(corpus.records[pid].text) for n in labelled.needles)
        )
        answer = library.ask(labelled.question, k=5, channel="eval")
        terms = corpus.lexical.analyzer.terms(labelled.question)
        lexical_ids, lexical_scores = corpus.lexical.search_terms(terms, 100)
        asked.append(
            Asked(
                question=labelled.question,
                kind=item["kind"],
                split=item.get("split", "fit"),
                english=looks_english(labelled.question),
                relevant=relevant,
                shipped_rank=relevant_rank(answer, labelled.needles),
                query=embedder.embed_queries([labelled.question])[0].astype(np.float32),
                terms=frozenset(terms),
                lexical=RankedList.of(lexical_ids.tolist(), lexical_scores.tolist()),
            )
        )

    def dense_list(scores: np.ndarray) -> RankedList:
        order = np.argsort(-scores, kind="stable")[:100]
        return RankedList.of([ids[i] for i in order], [float(scores[i]) for i in order])

    def sentence_best(q: np.ndarray) -> np.ndarray:
        cos = sentence_matrix @ q
        best = np.full(len(ids), -1.0, dtype=np.float32)
        np.maximum.at(best, owner, cos)
        return best

    def finish(a: Asked, fused: dict[int, float], cosine: np.ndarray) -> list[int]:
        cos = {pid: float(cosine[row_of[pid]]) for pid in fused}
        ordered = sorted(fused, key=lambda pid: (-fused[pid], -cos[pid], pid))
        ordered = ties_by_coverage(corpus, a.terms, ordered, fused, cos, depth=5)
        return with_lead_in(corpus, a.terms, ordered)

    def weighted(lists: Sequence[tuple[RankedList, float]], k: int = 60) -> dict[int, float]:
        fused: dict[int, float] = {}
        for ranked, weight in lists:
            if weight == 0:
                continue
            for rank, pid in enumerate(ranked.ids, start=1):
                fused[pid] = fused.get(pid, 0.0) + weight / (k + rank)
        return fused

    Variant = Callable[[Asked], list[int]]

    def fusion(
        w_dense: float = 1.0,
        w_lex: float = 1.0,
        w_lex_en: float | None = None,
        w_sent: float = 0.0,
        lex_trust: float | None = None,
        mix: float = 0.0,
        prf: float = 0.0,
        prf_k: int = 3,
        w_head: float = 0.0,
        plain: bool = True,
    ) -> Variant:
        def run(a: Asked) -> list[int]:
            q = a.query
            cosine = matrix @ q
            if prf:
                top = np.argsort(-cosine)[:prf_k]
                moved = q + prf * matrix[top].mean(axis=0)
                moved /= np.linalg.norm(moved)
                cosine = matrix @ moved
            scores = cosine
            sentence = None
            if mix or w_sent:
                sentence = sentence_best(q)
            if mix:
                assert sentence is not None
                scores = (1 - mix) * cosine + mix * sentence
            lists = [(dense_list(scores), w_dense if plain else 0.0)]
            if w_head:
                lists.append((dense_list(headed_matrix @ q), w_head))
            if w_sent:
                assert sentence is not None
                lists.append((dense_list(sentence), w_sent))
            lex_weight = w_lex_en if (a.english and w_lex_en is not None) else w_lex
            if lex_trust is not None and a.lexical.ids:
                # BM25's vote weighted by how much of the question's rarity its first passage holds.
                rarity = corpus.lexical.rarity(a.terms)
                total = sum(rarity.values()) or 1.0
                held = corpus.lexical.passage_terms(a.lexical.ids[0])
                share = sum(v for t, v in rarity.items() if t in held) / total
                lex_weight *= lex_trust + (1 - lex_trust) * share
            lists.append((a.lexical, lex_weight))
            return finish(a, weighted(lists), matrix @ q)

        return run

    variants: dict[str, Variant] = {
        "fusion as shipped before (recomputed)": fusion(),
        "+ sentence max list": fusion(w_sent=1.0),
        "sentence mix 0.5": fusion(mix=0.5),
        "sentence mix 0.3": fusion(mix=0.3),
        "english: no BM25": fusion(w_lex_en=0.0),
        "english: BM25 × 0.3": fusion(w_lex_en=0.3),
        "dense PRF 0.3 top-3": fusion(prf=0.3),
        "dense PRF 0.6 top-3": fusion(prf=0.6),
        "dense ×1.5": fusion(w_dense=1.5),
        "dense ×2": fusion(w_dense=2.0),
        "english no BM25 + sentence max": fusion(w_lex_en=0.0, w_sent=1.0),
        "english no BM25 + sentence mix 0.3": fusion(w_lex_en=0.0, mix=0.3),
        "english no BM25 + BM25 weighted by its top's rare-term share": fusion(
            w_lex_en=0.0, lex_trust=0.0
        ),
        "english no BM25 + BM25 × (0.5 + 0.5 rare-term share)": fusion(w_lex_en=0.0, lex_trust=0.5),
        "english no BM25 + heading-context list": fusion(w_lex_en=0.0, w_head=1.0),
        "english no BM25 + heading-context list × 0.5": fusion(w_lex_en=0.0, w_head=0.5),
        "english no BM25, heading-context vectors only": fusion(
            w_lex_en=0.0, w_head=1.0, plain=False
        ),
        "dense only": fusion(w_lex=0.0),
        "lexical only (dense as tie-break)": fusion(w_dense=1e-6),
    }
    fit_part = [a for a in asked if a.split == "fit"]
    chosen, cv_ranks = choose_weights(fit_part, fusion)
    variants[f"weighted fusion, CV-chosen on fit: {chosen}"] = fusion(**chosen)

    lines = [
        "# Ranking candidates side by side (issue 11)",
        "",
        f"Library: all four evaluation documents, {len(ids)} passages, {len(sentence_texts)} "
        f"sentences (embedding them took {sentence_seconds:.1f} s, "
        f"{sentence_matrix.nbytes / 1024:.0f} KiB of float32 vectors); heading-context vectors "
        f"for every passage took {headed_seconds:.1f} s. "
        f"{sum(a.split == 'fit' for a in asked)} answerable fit questions, "
        f"{sum(a.split == 'heldout' for a in asked)} held out.",
        "",
        "| candidate | part | own R@1/R@3/MRR | other R@1/R@3/MRR | English R@1/R@3/MRR "
        "| all R@1/R@3/MRR |",
        "|---|---|---|---|---|---|",
    ]

    def add(name: str, ranks: dict[str, list[tuple[Asked, int | None]]]) -> None:
        for part in ("fit", "heldout"):
            t = table(ranks[part])
            cells = [
                f"{t[k][1]:.3f} / {t[k][2]:.3f} / {t[k][3]:.3f}" if k in t else "—"
                for k in (*KINDS, "all")
            ]
            lines.append(f"| {name} | {part} | " + " | ".join(cells) + " |")

    cv_table = table(cv_ranks)
    plain = variants["fusion as shipped before (recomputed)"]
    plain_fit = table([(a, rank_of(plain(a), a.relevant)) for a in fit_part])
    cv_line = (
        "Weighted fusion, chosen by 5-fold cross-validation on the fit part over the grid "
        f"{GRID}: out-of-fold Recall@1 on the fit part {cv_table['all'][1]:.3f} "
        f"(fusion {plain_fit['all'][1]:.3f}); "
        f"chosen on the whole fit part: {chosen}."
    )
    shipped = {
        part: [(a, a.shipped_rank) for a in asked if a.split == part] for part in ("fit", "heldout")
    }
    add("shipped", shipped)
    for name, variant in variants.items():
        ranks = {
            part: [(a, rank_of(variant(a), a.relevant)) for a in asked if a.split == part]
            for part in ("fit", "heldout")
        }
        add(name, ranks)
        print(name, table(ranks["heldout"])["all"], file=sys.stderr)

    lines += ["", cv_line]
    text = "\n".join(lines) + "\n"
    print(text)
    args.out.write_text(text, encoding="utf-8")
    library.close()
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
