"""Retrieval-core benchmark: query latency, indexing throughput, cold start and memory.

Everything runs on a fresh temporary data dir (SQLite, bundled model, the seed document):

    .venv/bin/python -m benchmarks.query            # ~2-4 minutes on 2 cores
    .venv/bin/python -m benchmarks.query --rounds 3 --paragraphs 60 --cold-runs 1   # quick look

Prints a Markdown report and writes it to benchmarks/results/query.md.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import benchlib, synthetic
from benchmarks.benchlib import REPO, CpuMeter, md_table, ms, p50, p95, secs, verdict

if TYPE_CHECKING:
    from acuerdo.index import Embedder, Library

CHILD = Path(__file__).resolve().parent / "coldstart_child.py"
TARGET_ASK_OVER_EMBED = 1.3
TARGET_INDEX_RATIO = 0.90
TARGET_COLD_START_S = 1.5
TARGET_RSS_MIB = 300.0


# -- query latency --------------------------------------------------------------------------------


@dataclass
class QueryResult:
    samples: dict[str, list[float]]
    passages: int
    cpu_others: str
    profile_rows: list[tuple[str, int, float, float]] = field(default_factory=list)
    attribution: list[tuple[str, int, float]] = field(default_factory=list)
    asks_profiled: int = 0
    log_note: str = ""


def _timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def bench_queries(
    library: Library, questions: Sequence[str], *, rounds: int, warmup: int
) -> QueryResult:
    """ask() next to the bare query encodings and the search without the log write."""
    primary = library.embedder
    # Direct attribute reads: a benchmark whose subject moved must fail, not skip quietly.
    retriever = library.retriever
    corpus = library.corpus()
    lexical = corpus.lexical
    flush_log = library.flush_log

    def one_pass(samples: dict[str, list[float]] | None) -> None:
        for question in questions:
            timings = {"ask": _timed(lambda q=question: library.ask(q, channel="bench"))}
            # The row is inserted behind the answer; wait for it here, untimed in `ask`, so
            # that the insert does not overlap (and slow) the bare encoder timings below.
            timings["log_write"] = _timed(flush_log)
            timings["embed_primary"] = _timed(lambda q=question: primary.embed_queries([q]))
            timings["search"] = _timed(
                lambda q=question: retriever.search(library.corpus(), q, k=5)
            )
            timings["lexical"] = _timed(lambda q=question: lexical.search(q, 100))
            if samples is not None:
                for key, value in timings.items():
                    samples[key].append(value)

    def logged() -> int | None:
        return library.stats().questions

    for _ in range(warmup):
        one_pass(None)
    logged_before = logged()
    samples: dict[str, list[float]] = defaultdict(list)
    with CpuMeter() as meter:
        for _ in range(rounds):
            one_pass(samples)
    # The query log is written behind the answers: check it kept up and lost nothing.
    pending = library.health()["query_log_pending"]  # KeyError, not a "?", if it moves
    logged_after = logged()
    log_note = ""
    if logged_before is not None and logged_after is not None:
        log_note = (
            f"Query log: {logged_after - logged_before} rows for the {len(samples['ask'])} timed "
            f"asks; {pending} were still queued when the loop "
            "ended."
        )

    # Where does ask() spend its time? One profiled pass (not part of the timings above).
    profiler = cProfile.Profile()
    profiler.enable()
    for question in questions:
        library.ask(question, channel="bench")
    profiler.disable()
    return QueryResult(
        dict(samples),
        len(corpus),
        meter.describe(),
        _top_functions(profiler, 10),
        _attribution(profiler, library),
        len(questions),
        log_note,
    )


EVAL_SETS = {
    "dev": benchlib.DEV_QA,
    "paraphrase": Path(__file__).resolve().parent / "eval" / "paraphrase_qa.jsonl",
}


def report_trade_off(library: Library, result: QueryResult) -> str:
    """Latency ratio next to retrieval quality (the second encoder, once compared here, is
    gone: README)."""
    ask50, emb50 = p50(result.samples["ask"]), p50(result.samples["embed_primary"])
    rows = [["e5 (shipped)", ms(ask50), ms(emb50), f"{ask50 / emb50:.2f}", *_quality(library)]]
    sets = " / ".join(EVAL_SETS)
    return "\n\n".join(
        [
            f"Latency next to quality on the {sets} sets (`benchmarks/eval/README.md`):",
            md_table(
                [
                    "configuration",
                    "ask p50",
                    "e5 embed p50",
                    "ratio (≤ 1.3)",
                    f"Recall@1 {sets} (dev ≥ 0.90)",
                    f"MRR {sets}",
                    f"abstention accuracy {sets}",
                ],
                rows,
            ),
        ]
    )


def _quality(library: Library) -> list[str]:
    keys = benchlib.DEV_QA.with_name("dev_keys.json")
    if not keys.is_file():
        return ["(no dev keys)"] * 3
    from acuerdo.index.evaluation import evaluate

    reports = [evaluate(library, path, keys) for path in EVAL_SETS.values() if path.is_file()]
    return [
        " / ".join(f"{r.recall_at(1):.3f}" for r in reports),
        " / ".join(f"{r.mrr:.3f}" for r in reports),
        " / ".join(f"{r.abstention_accuracy:.3f}" for r in reports),
    ]


def _attribution(profiler: cProfile.Profile, library: Library) -> list[tuple[str, int, float]]:
    """Cumulative time of the steps of `ask`, found by their code objects (label, calls, s)."""
    import importlib

    from acuerdo.index.library import Library as LibraryClass

    def find(module: str, name: str) -> Any:
        return getattr(importlib.import_module(module), name)  # missing: fail, never skip

    lexical_index = find("acuerdo.index.lexical", "LexicalIndex")
    vector_index = find("acuerdo.index.vectors", "VectorIndex")

    targets: list[tuple[str, object]] = [
        ("`Library.ask` (total)", LibraryClass.ask),
        ("primary encoder `embed_queries`", type(library.embedder).embed_queries),
    ]
    retriever = type(library.retriever)
    targets += [
        ("`Retriever.search`", retriever.search),
        ("`Retriever.highlight`", retriever.highlight),
        ("`VectorIndex.search` (FAISS)", vector_index.search),
        ("`LexicalIndex.search` (BM25)", lexical_index.search),
        ("`LexicalIndex.term_overlap`", lexical_index.term_overlap),
        (
            "`QueryLogWriter.record` (query id + queue the row; inserted on the writer's thread)",
            find("acuerdo.index.querylog", "QueryLogWriter").record,
        ),
    ]
    raw: dict[Any, Any] = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    rows = []
    for label, function in targets:
        code = function.__code__  # type: ignore[attr-defined]
        entry = raw.get((code.co_filename, code.co_firstlineno, code.co_name))
        if entry is not None:
            rows.append((label, int(entry[1]), float(entry[3])))
    return rows


def _top_functions(profiler: cProfile.Profile, count: int) -> list[tuple[str, int, float, float]]:
    stats = pstats.Stats(profiler)
    raw: dict[Any, Any] = stats.stats  # type: ignore[attr-defined]
    rows = []
    for (filename, line, name), (_cc, calls, tottime, cumtime, _callers) in raw.items():
        where = filename
        for marker in ("site-packages/", str(REPO) + "/"):
            if marker in where:
                where = where.split(marker, 1)[1]
        label = f"{where}:{line}({name})" if line else name
        rows.append((label, int(calls), float(tottime), float(cumtime)))
    rows.sort(key=lambda r: -r[2])
    return rows[:count]


def report_queries(
    result: QueryResult, questions: int, rounds: int, source: str, encoders: str
) -> str:
    s = result.samples
    ask50, emb50 = p50(s["ask"]), p50(s["embed_primary"])
    ratio = ask50 / emb50 if emb50 else float("nan")
    rows: list[list[object]] = [
        ["`library.ask(q)`", ms(ask50), ms(p95(s["ask"])), ""],
        [
            "primary encoder `embedder.embed_queries([q])`",
            ms(emb50),
            ms(p95(s["embed_primary"])),
            "",
        ],
    ]
    rows.append(
        [
            "**p50(ask) / p50(primary embed)**",
            f"**{ratio:.2f}**",
            "",
            f"≤ {TARGET_ASK_OVER_EMBED} {verdict(ratio <= TARGET_ASK_OVER_EMBED)}",
        ]
    )
    breakdown: list[list[object]] = []
    if "search" in s:
        breakdown.append(
            [
                "`Retriever.search` (query encoder + FAISS + BM25 + fusion + highlight)",
                ms(p50(s["search"])),
                ms(p95(s["search"])),
            ]
        )
        breakdown.append(
            [
                "ask − search (query id, queue the log row, answer object)",
                ms(ask50 - p50(s["search"])),
                "",
            ]
        )
        if "log_write" in s:
            breakdown.append(
                [
                    "query-log INSERT + commit, after the answer on the writer's thread "
                    "(waited for between timings, not part of `ask`)",
                    ms(p50(s["log_write"])),
                    ms(p95(s["log_write"])),
                ]
            )
        rest = p50(s["search"]) - emb50
        breakdown.append(["search − query embed (FAISS, BM25, fusion, highlight)", ms(rest), ""])
    if "lexical" in s:
        breakdown.append(
            ["BM25 `corpus.lexical.search(q, 100)`", ms(p50(s["lexical"])), ms(p95(s["lexical"]))]
        )

    total = next((t for label, _, t in result.attribution if "(total)" in label), 0.0)
    attribution = md_table(
        ["step (cProfile, one pass)", "calls", "ms per ask", "share of ask"],
        [
            [
                label,
                calls,
                f"{seconds * 1000 / max(1, result.asks_profiled):.2f}",
                f"{seconds / total:.0%}" if total else "",
            ]
            for label, calls, seconds in result.attribution
        ],
    )
    profile = md_table(
        ["function (one profiled pass of ask over the questions)", "calls", "tottime", "cumtime"],
        [
            [f"`{label}`", calls, f"{tt * 1000:.1f} ms", f"{ct * 1000:.1f} ms"]
            for label, calls, tt, ct in result.profile_rows
        ],
    )
    return "\n\n".join(
        [
            "## Query latency (in-process, after warm-up)",
            f"{questions} questions ({source}) × {rounds} rounds = {len(s['ask'])} samples "
            "per row; "
            f"corpus of {result.passages} passages; encoders: {encoders}. "
            f"Other processes used {result.cpu_others} meanwhile.",
            md_table(["measure", "p50", "p95", "target"], rows),
            result.log_note,
            "Breakdown of `ask` (p50; differences of medians, so approximate):",
            md_table(["part", "p50", "p95"], breakdown),
            "Where `ask` spends its time, by step (one profiled pass over the questions; "
            "cProfile slows pure-Python steps more than the C encoder; steps nest, e.g. "
            "`Retriever.search` includes `highlight`):",
            attribution,
            "<details><summary>Profile: top functions by own time</summary>\n\n"
            + profile
            + "\n\n</details>",
        ]
    )


# -- indexing throughput --------------------------------------------------------------------------


@dataclass
class IndexRun:
    passages: int
    reused: int
    add_s: float
    before_encode_s: float
    encode_s: float
    after_encode_s: float
    raw_s: dict[str, float]
    cpu_others: str


def _encode_all(encoder: Embedder, texts: Sequence[str], batch_size: int) -> float:
    started = time.perf_counter()
    for start in range(0, len(texts), batch_size):
        encoder.embed_passages(list(texts[start : start + batch_size]))
    return time.perf_counter() - started


def bench_indexing(
    library: Library,
    *,
    paragraphs: int,
    repeats: int,
    batch_size: int,
    seed: int,
    deadline: float = float("inf"),
) -> tuple[list[IndexRun], list[str], float]:
    """add_document of synthetic documents vs the raw encoders on the same texts and batches.

    Runs after the first are skipped when they would end past `deadline` (time.monotonic()).
    """
    from acuerdo.index.ingest import prepare_document

    encoders: list[tuple[str, Embedder]] = [("primary", library.embedder)]
    seen: set[str] = set()
    warm = synthetic.paragraphs(batch_size, seed=seed + 10_000, seen=seen)
    for _, encoder in encoders:
        encoder.embed_passages(warm)

    runs: list[IndexRun] = []
    first_started = time.monotonic()
    for i in range(repeats):
        run_started = time.monotonic()
        if runs and run_started + (run_started - first_started) / len(runs) > deadline:
            print(
                f"[query] time budget: stopping after {len(runs)} indexing run(s)", file=sys.stderr
            )
            break
        name = f"sintetico-{seed + i}.txt"
        data = synthetic.document(paragraphs, seed=seed + i, seen=seen).encode("utf-8")
        texts = [c.text for c in prepare_document(name, data).chunks]
        marks: list[float] = []

        def progress(done: int, total: int, marks: list[float] = marks) -> None:
            marks.append(time.perf_counter())

        def add(name: str = name, data: bytes = data, progress: Any = progress) -> Any:
            title = f"Informe sintético {name}"
            return library.add_document(name, data, title=title, progress=progress)

        def raw_rates(texts: list[str] = texts) -> dict[str, float]:
            return {role: _encode_all(encoder, texts, batch_size) for role, encoder in encoders}

        with CpuMeter() as meter:
            raw = raw_rates() if i % 2 == 0 else {}  # alternate the order: drift hits both sides
            started = time.perf_counter()
            result = add()
            finished = time.perf_counter()
            raw = raw or raw_rates()
        runs.append(
            IndexRun(
                passages=result.document.passages,
                reused=result.reused_embeddings,
                add_s=finished - started,
                before_encode_s=marks[0] - started,
                encode_s=marks[-1] - marks[0],
                after_encode_s=finished - marks[-1],
                raw_s=raw,
                cpu_others=meter.describe(),
            )
        )
    refresh = [_timed(lambda: library.refresh(force=True)) for _ in range(3)]
    return runs, [role for role, _ in encoders], p50(refresh)


def report_indexing(
    runs: list[IndexRun],
    roles: list[str],
    names: dict[str, str],
    batch_size: int,
    refresh_s: float,
    corpus_after: int,
) -> str:
    def rate(count: int, seconds: float) -> str:
        return f"{count / seconds:.1f} passages/s" if seconds > 0 else "n/a"

    n = p50([r.passages for r in runs])
    add_s = p50([r.add_s for r in runs])
    raw_total = p50([sum(r.raw_s.values()) for r in runs])
    ratio = raw_total / add_s if add_s else float("nan")
    rows: list[list[object]] = [
        [
            "`library.add_document` (parse → chunk → embed → store → reload index)",
            secs(add_s),
            rate(int(n), add_s),
            "",
        ],
        [
            "  of which before encoding (load, chunk, hash lookups)",
            secs(p50([r.before_encode_s for r in runs])),
            "",
            "",
        ],
        [
            "  of which encoding (first → last progress callback)",
            secs(p50([r.encode_s for r in runs])),
            rate(int(n), p50([r.encode_s for r in runs])),
            "",
        ],
        [
            "  of which after encoding (INSERT, commit, FAISS save, BM25 + index reload)",
            secs(p50([r.after_encode_s for r in runs])),
            "",
            "",
        ],
    ]
    for role in roles:
        seconds = p50([r.raw_s[role] for r in runs])
        rows.append(
            [
                f"raw {role} `embed_passages` ({names[role]})",
                secs(seconds),
                rate(int(n), seconds),
                "",
            ]
        )
    if len(roles) > 1:
        rows.append(["raw encoders together (sum)", secs(raw_total), rate(int(n), raw_total), ""])
    rows.append(
        [
            "**throughput ratio add / raw encoding**",
            f"**{ratio:.2f}**",
            "",
            f"≥ {TARGET_INDEX_RATIO:.2f} {verdict(ratio >= TARGET_INDEX_RATIO)}",
        ]
    )
    per_run = md_table(
        [
            "run",
            "passages",
            "reused embeddings",
            "add",
            "raw (sum)",
            "ratio",
            "other processes' CPU",
        ],
        [
            [
                i + 1,
                r.passages,
                r.reused,
                secs(r.add_s),
                secs(sum(r.raw_s.values())),
                f"{sum(r.raw_s.values()) / r.add_s:.2f}",
                r.cpu_others,
            ]
            for i, r in enumerate(runs)
        ],
    )
    return "\n\n".join(
        [
            "## Indexing throughput",
            f"{len(runs)} synthetic Spanish documents of {int(n)} unique paragraphs "
            f"(300–500 chars), batch size {batch_size}; medians over the runs. Raw rates encode "
            "the very same passage texts in the same batches; the ratio is against the sum of "
            "every encoder the library uses during ingestion.",
            md_table(["measure", "time", "rate", "target"], rows),
            per_run,
            f"Full index reload (`library.refresh(force=True)`, {corpus_after} passages): "
            f"{ms(refresh_s)} p50 — paid once per add/remove, by every process that serves.",
        ]
    )


# -- cold start and memory ------------------------------------------------------------------------


@dataclass
class ChildRun:
    spawn_to_answer_s: float
    spawn_to_exit_s: float
    data: dict[str, Any]
    stderr: str


def run_child(
    data_dir: Path,
    seeds: Path,
    questions_file: Path,
    count: int,
    *,
    python_flags: Sequence[str] = (),
    split: bool = False,
) -> ChildRun:
    command = [
        sys.executable,
        *python_flags,
        str(CHILD),
        str(data_dir),
        str(seeds),
        str(questions_file),
        str(count),
        *(["split"] if split else []),
    ]
    spawn_wall = time.time()
    started = time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, cwd=data_dir.parent, timeout=600)
    finished = time.perf_counter()
    line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
    if proc.returncode != 0 or line is None:
        raise RuntimeError(f"cold-start child failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    data = json.loads(line[len("RESULT ") :])
    return ChildRun(data["answer_wall"] - spawn_wall, finished - started, data, proc.stderr)


def run_cli(data_dir: Path, seeds: Path, question: str) -> float:
    script = Path(sys.executable).parent / "acuerdo"
    command = [str(script)] if script.exists() else [sys.executable, "-m", "acuerdo.bot.cli"]
    env = dict(os.environ, ACUERDO_DATA_DIR=str(data_dir), ACUERDO_SEEDS_DIR=str(seeds))
    started = time.perf_counter()
    proc = subprocess.run(
        [*command, "ask", question],
        capture_output=True,
        text=True,
        env=env,
        cwd=data_dir.parent,
        timeout=600,
    )
    elapsed = time.perf_counter() - started
    if proc.returncode != 0:
        raise RuntimeError(f"acuerdo ask failed ({proc.returncode}): {proc.stderr[-2000:]}")
    return elapsed


def span(values: Sequence[float]) -> str:
    return f"{secs(min(values))}–{secs(max(values))}" if values else ""


def report_cold(runs: list[ChildRun], split: ChildRun, cli: list[float], cpu: str) -> str:
    def col(key: str) -> list[float]:
        return [r.data[key] for r in runs]

    answer = p50([r.spawn_to_answer_s for r in runs])
    rows: list[list[object]] = [
        [
            "**process spawn → first answer (parent's wall clock)**",
            f"**{secs(answer)}**",
            span([r.spawn_to_answer_s for r in runs]),
            f"< {TARGET_COLD_START_S} s {verdict(answer < TARGET_COLD_START_S)}",
        ],
        [
            "in-process: kernel process start → answer (/proc starttime, ±10 ms)",
            secs(p50(col("answer_since_process_start_s"))),
            span(col("answer_since_process_start_s")),
            "",
        ],
        [
            "in-process: `perf_counter()` at top of script → answer",
            secs(p50(col("answer_since_top_s"))),
            span(col("answer_since_top_s")),
            "",
        ],
        ["  `from acuerdo.index import Library, Settings`", secs(p50(col("import_s"))), "", ""],
        ["  `Library.open(settings)`", secs(p50(col("open_s"))), "", ""],
        ["  first `library.ask(q)`", secs(p50(col("first_ask_s"))), "", ""],
        [
            "process spawn → exit (includes interpreter teardown)",
            secs(p50([r.spawn_to_exit_s for r in runs])),
            "",
            "",
        ],
    ]
    if cli:
        rows.append(
            [
                f'CLI `acuerdo ask "…"` end to end ({len(cli)} runs)',
                secs(p50(cli)),
                span(cli),
                "(info)",
            ]
        )
    first_calls = split.data.get("first_calls_s", {})
    split_rows: list[list[object]] = [
        [f"first `{role}.embed_queries(['hola'])`", secs(seconds)]
        for role, seconds in first_calls.items()
    ]
    split_rows.append(["then the first `library.ask(q)`", secs(split.data["first_ask_s"])])
    return "\n\n".join(
        [
            "## Cold start to first answer",
            "Fresh `python` processes opening the already-initialised data dir (after one "
            f"unmeasured run to warm the OS page cache); median of {len(runs)} runs. Other "
            f"processes used {cpu} meanwhile.",
            md_table(["measure", "p50", "range", "target"], rows),
            "What the first `ask` pays for (one more process, the encoder called once on its "
            "own first; the model loads lazily on first use):",
            md_table(["step", "time"], split_rows),
        ]
    )


def report_memory(serve: ChildRun) -> str:
    d = serve.data
    peak = d["maxrss_end_kib"] / 1024
    later = d["later_asks_s"]
    rows: list[list[object]] = [
        [
            "RSS after `from acuerdo.index import …` only (VmRSS; `ru_maxrss` "
            f"{d['maxrss_after_import_kib'] / 1024:.0f} MiB)",
            f"{d['rss_after_import_kib'] / 1024:.0f} MiB",
            "",
        ],
        [
            f"**peak RSS after answering {d['asked']} questions (`ru_maxrss`)**",
            f"**{peak:.0f} MiB** ({peak * 1.048576:.0f} MB)",
            f"< {TARGET_RSS_MIB:.0f} MB {verdict(peak * 1.048576 < TARGET_RSS_MIB)}",
        ],
        [
            "peak RSS of the process's own memory map (VmHWM)",
            f"{d['hwm_end_kib'] / 1024:.0f} MiB",
            "",
        ],
        ["current RSS at the end (VmRSS)", f"{d['rss_end_kib'] / 1024:.0f} MiB", ""],
    ]
    return "\n\n".join(
        [
            "## Memory of a serving process",
            f"One fresh process: import, open, then {d['asked']} questions "
            f"(ask p50 {ms(p50(later))}, p95 {ms(p95(later))} in that process). It is spawned "
            "before the benchmark loads any model itself, because Linux carries the parent's "
            "peak RSS into a child's `ru_maxrss`.",
            md_table(["measure", "value", "target"], rows),
        ]
    )


# -- OpenMP settings of the primary encoder ------------------------------------------------------

OMP_PROBE = """
import json, sys, time
from acuerdo.index import Settings
from acuerdo.index.embedding import load_embedder
questions = json.loads(open(sys.argv[1], encoding="utf-8").read())
passages = json.loads(open(sys.argv[2], encoding="utf-8").read())
embedder = load_embedder(Settings(_env_file=None).embedding_model)
if sys.argv[4] == "1":  # a second long-lived thread uses the encoder (like the bot's worker)
    from concurrent.futures import ThreadPoolExecutor
    other = ThreadPoolExecutor(1)  # stays alive, and so does its libgomp thread pool
    other.submit(embedder.embed_queries, ["hola"]).result()
for q in questions[:5]:
    embedder.embed_queries([q])
times = []
for i in range(int(sys.argv[3])):
    started = time.perf_counter()
    embedder.embed_queries([questions[i % len(questions)]])
    times.append(time.perf_counter() - started)
started = time.perf_counter()
embedder.embed_passages(passages)
batch = time.perf_counter() - started
print("RESULT " + json.dumps({"query": times, "batch": batch, "n": len(passages)}))
"""

OMP_VARIANTS: tuple[tuple[str, dict[str, str]], ...] = (
    ("default (as configured)", {}),
    ("default, after a second (still running) thread called the encoder", {"_TWO_THREADS": "1"}),
    ("OMP_WAIT_POLICY=PASSIVE", {"OMP_WAIT_POLICY": "PASSIVE"}),
    ("GOMP_SPINCOUNT=10000 (libgomp: spin less before sleeping)", {"GOMP_SPINCOUNT": "10000"}),
    ("OMP_NUM_THREADS=1", {"OMP_NUM_THREADS": "1"}),
)


def bench_omp(root: Path, questions_file: Path, passages: list[str], reps: int) -> str:
    """The e5 engine's OpenMP team under each setting, in fresh processes (it is read at load)."""
    passages_file = root / "omp-passages.json"
    passages_file.write_text(json.dumps(passages, ensure_ascii=False), encoding="utf-8")
    rows: list[list[object]] = []
    for label, variant in OMP_VARIANTS:
        extra = {k: v for k, v in variant.items() if not k.startswith("_")}
        env = dict(os.environ, **extra)
        command = [
            sys.executable,
            "-c",
            OMP_PROBE,
            str(questions_file),
            str(passages_file),
            str(reps),
            variant.get("_TWO_THREADS", "0"),
        ]
        with CpuMeter() as meter:
            proc = subprocess.run(command, capture_output=True, text=True, env=env, timeout=600)
        line = next((ln for ln in proc.stdout.splitlines() if ln.startswith("RESULT ")), None)
        if proc.returncode != 0 or line is None:
            rows.append([label, "failed", "", "", proc.stderr.strip().splitlines()[-1:]])
            continue
        data = json.loads(line[len("RESULT ") :])
        rows.append(
            [
                label,
                ms(p50(data["query"])),
                ms(p95(data["query"])),
                f"{data['n'] / data['batch']:.1f} passages/s",
                meter.describe(),
            ]
        )
    return "\n\n".join(
        [
            "## Primary encoder vs OpenMP settings (fresh processes)",
            f"`embed_queries([q])` × {reps} and one `embed_passages` batch of {len(passages)}, per "
            "setting. The engine's OpenMP (libgomp) workers spin between parallel regions. Once a "
            "second thread has called the engine, libgomp manages more threads than there are "
            "cores and throttles that spinning to almost nothing, which costs as much as PASSIVE; "
            "conversely, while another process keeps the cores busy, spinning is what makes the "
            "default slow (see the other processes' CPU column).",
            md_table(
                ["setting", "query p50", "query p95", "batch rate", "other processes' CPU"], rows
            ),
        ]
    )


# -- import time ----------------------------------------------------------------------------------


@dataclass
class ImportEntry:
    self_us: int
    cumulative_us: int
    depth: int
    name: str
    parent: int | None = None


def parse_importtime(stderr: str) -> list[ImportEntry]:
    entries: list[ImportEntry] = []
    for line in stderr.splitlines():
        if not line.startswith("import time:"):
            continue
        parts = line[len("import time:") :].split("|")
        if len(parts) != 3:
            continue
        try:
            self_us, cumulative_us = int(parts[0]), int(parts[1])
        except ValueError:
            continue  # the header line
        raw = parts[2].rstrip()
        depth = (len(raw) - len(raw.lstrip()) - 1) // 2
        entries.append(ImportEntry(self_us, cumulative_us, depth, raw.strip()))
    # -X importtime prints children before their parent (post-order): walk it backwards.
    stack: list[int] = []
    for i in range(len(entries) - 1, -1, -1):
        while stack and entries[stack[-1]].depth >= entries[i].depth:
            stack.pop()
        entries[i].parent = stack[-1] if stack else None
        stack.append(i)
    return entries


def our_import_names() -> tuple[str, set[str]]:
    """The core's import name and the top-level names of our packages (as -X importtime shows
    them), from the packages themselves rather than spelled here."""
    import acuerdo.bot as adapters
    import acuerdo.index as core

    return core.__name__, {core.__name__.split(".")[0], adapters.__name__.split(".")[0]}


def importtime_table(entries: list[ImportEntry], top: int = 12) -> str:
    def package(name: str) -> str:
        return name.split(".", 1)[0]

    own = our_import_names()[1]
    totals: dict[str, dict[str, Any]] = {}
    for entry in entries:
        pkg = package(entry.name)
        slot = totals.setdefault(pkg, {"self": 0, "cumulative": 0, "via": set()})
        slot["self"] += entry.self_us
        parent = entry.parent
        if parent is None or package(entries[parent].name) != pkg:
            slot["cumulative"] += entry.cumulative_us  # outermost import of this package
            via = parent
            while via is not None and package(entries[via].name) not in own:
                via = entries[via].parent
            if pkg not in own:
                slot["via"].add(entries[via].name if via is not None else "(lazily, at run time)")
    ranked = sorted(totals.items(), key=lambda kv: -kv[1]["cumulative"])[:top]
    rows = [
        [
            f"`{pkg}`",
            f"{v['cumulative'] / 1e6:.3f} s",
            f"{v['self'] / 1e6:.3f} s",
            ", ".join(f"`{x}`" for x in sorted(v["via"])[:3]) or "—",
        ]
        for pkg, v in ranked
    ]
    return md_table(
        ["package", "cumulative (with its deps)", "own modules", "first imported by"], rows
    )


def report_imports(entries: list[ImportEntry]) -> str:
    core = our_import_names()[0]
    # -X importtime lists a module once, where it was first imported.
    index_entry = next((e for e in entries if e.name == core), None)
    note = (
        f"`import {core}` itself: {index_entry.cumulative_us / 1e6:.2f} s cumulative (under "
        "-X importtime, which inflates it a little)."
        if index_entry
        else ""
    )
    return "\n\n".join(
        [
            "## Import time (python -X importtime, whole cold start)",
            "Top-level packages by cumulative import time over the whole child process (imports "
            f"done lazily inside `Library.open`/`ask` included). {note}",
            importtime_table(entries),
        ]
    )


# -- main -----------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--questions",
        type=Path,
        default=benchlib.DEV_QA,
        help="JSONL with a 'question' field (default: %(default)s; built-in list if absent)",
    )
    parser.add_argument(
        "--rounds", type=int, default=10, help="measured passes over the questions (10)"
    )
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured passes first (2)")
    parser.add_argument(
        "--paragraphs", type=int, default=200, help="paragraphs per synthetic document (200)"
    )
    parser.add_argument("--index-runs", type=int, default=2, help="synthetic documents to add (2)")
    parser.add_argument(
        "--budget",
        type=float,
        default=240.0,
        help="seconds after which no further indexing run starts (240): a busy machine "
        "makes encoding several times slower",
    )
    parser.add_argument("--cold-runs", type=int, default=3, help="cold-start processes to time (3)")
    parser.add_argument(
        "--cli-runs", type=int, default=2, help="`acuerdo ask` runs to time (2; 0 skips)"
    )
    parser.add_argument(
        "--serve-questions", type=int, default=50, help="questions in the RSS process (50)"
    )
    parser.add_argument(
        "--importtime",
        choices=("auto", "always", "never"),
        default="auto",
        help="profile imports with -X importtime (auto: when cold start misses its target)",
    )
    parser.add_argument(
        "--omp-reps",
        type=int,
        default=40,
        help="query embeds per OpenMP setting in the OpenMP comparison (40; 0 skips it)",
    )
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic documents (1)")
    parser.add_argument(
        "--seeds-dir", type=Path, default=REPO / "seeds", help="seed documents folder"
    )
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30.0,
        help="wait up to this many seconds for other processes to go idle (30)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument(
        "--output", default="query", help="report name under benchmarks/results (query)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    questions, source = benchlib.load_questions(args.questions)
    facts = benchlib.machine_facts()
    facts.append(("machine before start", benchlib.wait_for_quiet(args.wait_quiet)))
    budget_start = time.monotonic()
    root = Path(tempfile.mkdtemp(prefix="acuerdo-bench-"))
    data_dir = root / "data"
    questions_file = root / "questions.json"
    questions_file.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
    seeds = args.seeds_dir
    sections: dict[str, str] = {}
    try:
        # Subprocesses first, while this process is still small: Linux carries a parent's peak
        # RSS into a forked child's ru_maxrss, so spawning them from a process holding the
        # models would inflate the memory figures.
        print(f"[query] initialising {data_dir} in a child (seeding)…", file=sys.stderr)
        init = run_child(data_dir, seeds, questions_file, 1)
        facts.append(
            (
                "first `Library.open` on an empty data dir (create DB, embed the seed)",
                secs(init.data["open_s"]),
            )
        )
        print("[query] cold start and memory…", file=sys.stderr)
        run_child(data_dir, seeds, questions_file, 1)  # warm the OS page cache
        with CpuMeter() as meter:
            cold = [run_child(data_dir, seeds, questions_file, 1) for _ in range(args.cold_runs)]
            split = run_child(data_dir, seeds, questions_file, 1, split=True)
            cli = [run_cli(data_dir, seeds, questions[0]) for _ in range(args.cli_runs)]
        sections["cold"] = report_cold(cold, split, cli, meter.describe())
        serve = run_child(data_dir, seeds, questions_file, args.serve_questions)
        sections["memory"] = report_memory(serve)
        cold_p50 = p50([r.spawn_to_answer_s for r in cold])
        if args.importtime == "always" or (
            args.importtime == "auto" and cold_p50 >= TARGET_COLD_START_S
        ):
            print("[query] -X importtime…", file=sys.stderr)
            traced = run_child(
                data_dir, seeds, questions_file, 1, python_flags=("-X", "importtime")
            )
            sections["imports"] = report_imports(parse_importtime(traced.stderr))
        if args.omp_reps > 0:
            print("[query] OpenMP settings…", file=sys.stderr)
            batch = synthetic.paragraphs(32, seed=args.seed + 20_000)
            sections["omp"] = bench_omp(root, questions_file, batch, args.omp_reps)

        from acuerdo.index import Library, Settings

        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, ACUERDO_DATA_DIR=data_dir, ACUERDO_SEEDS_DIR=seeds
        )
        library = Library.open(settings)
        names = {"primary": library.embedder.model_id}
        encoders = " + ".join(f"`{v}`" for v in names.values())
        facts.append(("encoders", encoders))

        print("[query] query latency…", file=sys.stderr)
        result = bench_queries(library, questions, rounds=args.rounds, warmup=args.warmup)
        sections["query"] = report_queries(result, len(questions), args.rounds, source, encoders)
        sections["query"] += "\n\n" + report_trade_off(library, result)

        print("[query] indexing throughput…", file=sys.stderr)
        runs, roles, refresh_s = bench_indexing(
            library,
            paragraphs=args.paragraphs,
            repeats=args.index_runs,
            batch_size=settings.embed_batch_size,
            seed=args.seed,
            deadline=budget_start + args.budget,
        )
        sections["index"] = report_indexing(
            runs, roles, names, settings.embed_batch_size, refresh_s, len(library.corpus())
        )
    finally:
        if args.keep:
            print(f"[query] data kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)

    facts.append(
        ("benchmark run time (after the quiet wait)", secs(time.monotonic() - budget_start))
    )
    order = ("query", "index", "cold", "memory", "imports", "omp")
    header = "\n\n".join(
        [
            "# Retrieval core benchmark (`benchmarks/query.py`)",
            md_table(["machine", "value"], facts),
        ]
    )
    body = "\n\n".join(sections[key] for key in order if key in sections)
    benchlib.write_report(args.output, header + "\n\n" + body)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
