"""Retrieval-core benchmark: query latency, indexing throughput, cold start and memory.

Everything runs on a fresh temporary data dir (SQLite, bundled model, the seed document):

    .venv/bin/python benchmarks/query.py            # ~2-4 minutes on 2 cores
    .venv/bin/python benchmarks/query.py --rounds 3 --paragraphs 60 --cold-runs 1   # quick look

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

import benchlib
import synthetic
from benchlib import REPO, CpuMeter, md_table, ms, p50, p95, secs, verdict

if TYPE_CHECKING:
    from index import Embedder, Library

sys.path.insert(0, str(REPO))

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


def _timed(func: Callable[[], object]) -> float:
    started = time.perf_counter()
    func()
    return time.perf_counter() - started


def bench_queries(
    library: Library, questions: Sequence[str], *, rounds: int, warmup: int
) -> QueryResult:
    """ask() next to the bare query encodings and the search without the log write."""
    primary = library.embedder
    secondary: Embedder | None = getattr(library, "secondary", None)
    retriever = getattr(library, "_retriever", None)  # private: only for the breakdown
    corpus = library.corpus()

    def one_pass(samples: dict[str, list[float]] | None) -> None:
        for question in questions:
            timings = {
                "ask": _timed(lambda q=question: library.ask(q, channel="bench")),
                "embed_primary": _timed(lambda q=question: primary.embed_queries([q])),
            }
            if secondary is not None:
                timings["embed_secondary"] = _timed(lambda q=question: secondary.embed_queries([q]))
            if retriever is not None and hasattr(retriever, "search"):
                timings["search"] = _timed(
                    lambda q=question: retriever.search(library.corpus(), q, k=5)
                )
            timings["lexical"] = _timed(lambda q=question: corpus.lexical.search(q, 100))
            if samples is not None:
                for key, value in timings.items():
                    samples[key].append(value)

    for _ in range(warmup):
        one_pass(None)
    samples: dict[str, list[float]] = defaultdict(list)
    with CpuMeter() as meter:
        for _ in range(rounds):
            one_pass(samples)

    # Where does ask() spend its time? One profiled pass (not part of the timings above).
    profiler = cProfile.Profile()
    profiler.enable()
    for question in questions:
        library.ask(question, channel="bench")
    profiler.disable()
    return QueryResult(dict(samples), len(corpus), meter.describe(), _top_functions(profiler, 10))


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
    all_embed = list(s["embed_primary"])
    if "embed_secondary" in s:
        rows.append(
            [
                "second encoder `secondary.embed_queries([q])`",
                ms(p50(s["embed_secondary"])),
                ms(p95(s["embed_secondary"])),
                "",
            ]
        )
        all_embed = [a + b for a, b in zip(s["embed_primary"], s["embed_secondary"], strict=True)]
    rows.append(
        [
            "**p50(ask) / p50(primary embed)**",
            f"**{ratio:.2f}**",
            "",
            f"≤ {TARGET_ASK_OVER_EMBED} {verdict(ratio <= TARGET_ASK_OVER_EMBED)}",
        ]
    )
    if "embed_secondary" in s:
        both = ask50 / p50(all_embed)
        rows.append(["p50(ask) / p50(both encoders' query embeds)", f"{both:.2f}", "", "(info)"])
    breakdown: list[list[object]] = []
    if "search" in s:
        breakdown.append(
            [
                "`Retriever.search` (both encoders + FAISS + BM25 + fusion + highlight)",
                ms(p50(s["search"])),
                ms(p95(s["search"])),
            ]
        )
        breakdown.append(
            [
                "ask − search (question log INSERT + commit, session)",
                ms(ask50 - p50(s["search"])),
                "",
            ]
        )
        rest = p50(s["search"]) - p50(all_embed)
        breakdown.append(["search − query embeds (FAISS, BM25, fusion, highlight)", ms(rest), ""])
    breakdown.append(
        ["BM25 `corpus.lexical.search(q, 100)`", ms(p50(s["lexical"])), ms(p95(s["lexical"]))]
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
            "Breakdown of `ask` (p50; differences of medians, so approximate):",
            md_table(["part", "p50", "p95"], breakdown),
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
    library: Library, *, paragraphs: int, repeats: int, batch_size: int, seed: int
) -> tuple[list[IndexRun], list[str], float]:
    """add_document of synthetic documents vs the raw encoders on the same texts and batches."""
    from index.ingest import prepare_document

    encoders: list[tuple[str, Embedder]] = [("primary", library.embedder)]
    secondary = getattr(library, "secondary", None)
    if secondary is not None:
        encoders.append(("secondary", secondary))
    seen: set[str] = set()
    warm = synthetic.paragraphs(batch_size, seed=seed + 10_000, seen=seen)
    for _, encoder in encoders:
        encoder.embed_passages(warm)

    runs: list[IndexRun] = []
    for i in range(repeats):
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
            "  of which encoding (both encoders, first → last progress callback)",
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
) -> ChildRun:
    command = [
        sys.executable,
        *python_flags,
        str(CHILD),
        str(REPO),
        str(data_dir),
        str(seeds),
        str(questions_file),
        str(count),
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
    command = [str(script)] if script.exists() else [sys.executable, "-m", "bot.cli"]
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


def report_cold(runs: list[ChildRun], cli: list[float], cpu: str) -> str:
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
            "",
            "",
        ],
        [
            "in-process: `perf_counter()` at top of script → answer",
            secs(p50(col("answer_since_top_s"))),
            "",
            "",
        ],
        ["  `from index import Library, Settings`", secs(p50(col("import_s"))), "", ""],
        ["  `Library.open(settings)` (DB, models, corpus load)", secs(p50(col("open_s"))), "", ""],
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
    return "\n\n".join(
        [
            "## Cold start to first answer",
            "Fresh `python` processes opening the already-initialised data dir (after one "
            f"unmeasured run to warm the OS page cache); median of {len(runs)} runs. Other "
            f"processes used {cpu} meanwhile.",
            md_table(["measure", "p50", "range", "target"], rows),
        ]
    )


def report_memory(serve: ChildRun) -> str:
    d = serve.data
    peak = d["maxrss_end_kib"] / 1024
    later = d["later_asks_s"]
    rows: list[list[object]] = [
        [
            "peak RSS after import only (`ru_maxrss`)",
            f"{d['maxrss_after_import_kib'] / 1024:.0f} MiB",
            "",
        ],
        [
            f"**peak RSS after answering {d['asked']} questions (`ru_maxrss`)**",
            f"**{peak:.0f} MiB**",
            f"< {TARGET_RSS_MIB:.0f} MB {verdict(peak * 1.048576 < TARGET_RSS_MIB)}",
        ],
        ["current RSS at the end (VmRSS)", f"{d['rss_end_kib'] / 1024:.0f} MiB", ""],
    ]
    return "\n\n".join(
        [
            "## Memory of a serving process",
            f"One fresh process: import, open, then {d['asked']} questions "
            f"(ask p50 {ms(p50(later))}, p95 {ms(p95(later))} in that process).",
            md_table(["measure", "value", "target"], rows),
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


def importtime_table(entries: list[ImportEntry], top: int = 12) -> str:
    def package(name: str) -> str:
        return name.split(".", 1)[0]

    own = {"index", "bot"}
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
                slot["via"].add(entries[via].name if via is not None else "(script)")
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
    parser.add_argument("--seed", type=int, default=1, help="seed of the synthetic documents (1)")
    parser.add_argument(
        "--seeds-dir", type=Path, default=REPO / "seeds", help="seed documents folder"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary data dir")
    parser.add_argument(
        "--output", default="query", help="report name under benchmarks/results (query)"
    )
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    from index import Library, Settings

    questions, source = benchlib.load_questions(args.questions)
    facts = benchlib.machine_facts()
    root = Path(tempfile.mkdtemp(prefix="acuerdo-bench-"))
    data_dir = root / "data"
    sections: list[str] = []
    try:
        settings = Settings(  # type: ignore[call-arg]
            _env_file=None, ACUERDO_DATA_DIR=data_dir, ACUERDO_SEEDS_DIR=args.seeds_dir
        )
        print(f"[query] opening a fresh library in {data_dir} (seeding)…", file=sys.stderr)
        started = time.perf_counter()
        library = Library.open(settings)
        first_open = time.perf_counter() - started
        names = {"primary": library.embedder.model_id}
        secondary = getattr(library, "secondary", None)
        if secondary is not None:
            names["secondary"] = secondary.model_id
        encoders = " + ".join(f"`{v}`" for v in names.values())
        facts.append(("encoders", encoders))
        facts.append(
            ("first `Library.open` (create DB, load models, embed seed)", secs(first_open))
        )

        print("[query] query latency…", file=sys.stderr)
        result = bench_queries(library, questions, rounds=args.rounds, warmup=args.warmup)
        sections.append(report_queries(result, len(questions), args.rounds, source, encoders))

        print("[query] cold start and memory…", file=sys.stderr)
        questions_file = root / "questions.json"
        questions_file.write_text(json.dumps(questions, ensure_ascii=False), encoding="utf-8")
        run_child(data_dir, args.seeds_dir, questions_file, 1)  # warm the page cache
        with CpuMeter() as meter:
            cold = [
                run_child(data_dir, args.seeds_dir, questions_file, 1)
                for _ in range(args.cold_runs)
            ]
            cli = [run_cli(data_dir, args.seeds_dir, questions[0]) for _ in range(args.cli_runs)]
        sections.append(report_cold(cold, cli, meter.describe()))
        serve = run_child(data_dir, args.seeds_dir, questions_file, args.serve_questions)
        sections.append(report_memory(serve))
        cold_p50 = p50([r.spawn_to_answer_s for r in cold])
        if args.importtime == "always" or (
            args.importtime == "auto" and cold_p50 >= TARGET_COLD_START_S
        ):
            print("[query] -X importtime…", file=sys.stderr)
            traced = run_child(
                data_dir, args.seeds_dir, questions_file, 1, python_flags=("-X", "importtime")
            )
            entries = parse_importtime(traced.stderr)
            index_entry = next((e for e in entries if e.name == "index" and e.depth == 0), None)
            index_note = (
                f"`import index` itself: {index_entry.cumulative_us / 1e6:.2f} s cumulative "
                f"(under -X importtime, which inflates it a little)."
                if index_entry
                else ""
            )
            sections.append(
                "\n\n".join(
                    [
                        "## Import time (python -X importtime, whole cold start)",
                        "Top-level packages by cumulative import time over the whole child "
                        "process "
                        f"(imports done lazily inside `Library.open`/`ask` included). {index_note}",
                        importtime_table(entries),
                    ]
                )
            )

        print("[query] indexing throughput…", file=sys.stderr)
        runs, roles, refresh_s = bench_indexing(
            library,
            paragraphs=args.paragraphs,
            repeats=args.index_runs,
            batch_size=settings.embed_batch_size,
            seed=args.seed,
        )
        sections.insert(
            1,
            report_indexing(
                runs, roles, names, settings.embed_batch_size, refresh_s, len(library.corpus())
            ),
        )
    finally:
        if args.keep:
            print(f"[query] data kept in {root}", file=sys.stderr)
        else:
            shutil.rmtree(root, ignore_errors=True)

    header = "\n\n".join(
        [
            "# Retrieval core benchmark (`benchmarks/query.py`)",
            md_table(["machine", "value"], facts),
        ]
    )
    benchlib.write_report(args.output, header + "\n\n" + "\n\n".join(sections))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
