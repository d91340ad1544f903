"""Scale benchmark: the shipped library over a synthetic corpus of 100,000 passages.

The corpus (vectors from the bundled e5, Spanish texts, a SQLite database) is built once and
cached by `benchmarks/scale_corpus.py`. The library runs as shipped: `Settings()` with no
overrides but the data folder, the real `Library.open` / `Library.ask` / `Library.add_document`,
each start in a fresh process so its memory and time are those of a real start. Measured in one run:

* first start (no index files: vectors read from the database, IVF trained, BM25 built, files
  written) and restart (index files saved), split into stages, with RSS and index file sizes;
* `ask` p50/p95 against the bare e5 query embedding interleaved with it (the ratio is the
  target: ≤ 1.25 at 100,000 passages), split into stages, RSS while serving (target < 600 MB);
* recall@10 of the shipped IVF index against exact search;
* adding one 10-paragraph document (twice), split into embedding and the rest.

One-off sweeps (nprobe, IVF training options, where exact search stops being cheap) were
measured by earlier versions of this script; their results are in benchmarks/results/
scale-sweeps-2026-11-25.md.

    .venv/bin/python -m benchmarks.scale                      # ~5 min (+ ~2 min the first time)
    .venv/bin/python -m benchmarks.scale --passages 20000 --output scale-20k
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from benchmarks import benchlib
from benchmarks.benchlib import REPO, CpuMeter, md_table, ms, percentile, secs

ASK_TARGET = 1.25  # ask p50 / bare e5 query embedding p50
RSS_TARGET_MB = 600
RESTART_TARGET_S = 3.0
ADD_REST_TARGET_S = 2.0

# -- the child process: one start of the library ------------------------------------------


class Timers:
    """Seconds per label, collected by wrappers patched onto the library's internals."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = defaultdict(float)

    def timed(self, label: str, func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                self.seconds[label] += time.perf_counter() - started

        return wrapper


@contextlib.contextmanager
def instrumented(timers: Timers) -> Iterator[None]:
    """Time the stages of loading and updating a corpus by wrapping the functions doing them.

    Every name must exist: a rename in the library fails here loudly instead of showing 0 s.
    """
    import acuerdo.index.cached_indexes as cached
    import acuerdo.index.corpus as corpus_module
    import acuerdo.index.reembedding as reembedding_module
    import acuerdo.index.served_corpus as served_module
    import acuerdo.index.vectors as vectors_module
    import acuerdo.index.writer as writer_module
    from acuerdo.index.lexical import LexicalIndex
    from acuerdo.index.vectors import VectorIndex

    saved: list[tuple[Any, str, Any]] = []

    def patch(owner: Any, name: str, label: str) -> None:
        original = vars(owner)[name]  # KeyError: the library changed, update this list
        if isinstance(original, classmethod):
            wrapped: Any = classmethod(timers.timed(label, original.__func__))
        else:
            wrapped = timers.timed(label, original)
        saved.append((owner, name, original))
        setattr(owner, name, wrapped)

    patch(served_module, "load_corpus", "load_corpus")
    patch(served_module, "update_corpus", "update_corpus")
    patch(served_module, "save_corpus", "write index files (background)")
    patch(cached, "stored_vectors", "read stored vectors from the database")
    patch(VectorIndex, "build", "FAISS build")
    patch(vectors_module, "trained_ivf", "IVF training")
    patch(VectorIndex, "load", "read vector file")
    patch(VectorIndex, "save", "write vector file")
    patch(VectorIndex, "copy", "copy vector index")
    patch(cached, "load_lexical", "read BM25 file")
    patch(cached, "save_lexical", "write BM25 file")
    patch(LexicalIndex, "build", "BM25 build (analyse every passage)")
    patch(LexicalIndex, "updated", "BM25 update")
    patch(corpus_module, "previous_passages", "previous-passage map")
    patch(writer_module, "embed_passages", "embedding")
    patch(reembedding_module, "embed_passages", "embedding")
    try:
        yield
    finally:
        for owner, name, original in reversed(saved):
            setattr(owner, name, original)


def memory_mib() -> dict[str, float]:
    """Current (VmRSS) and peak (VmHWM) resident memory of this process, MiB."""
    values = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(("VmRSS:", "VmHWM:")):
            key, amount = line.split(":", 1)
            values[key] = int(amount.split()[0]) / 1024
    return {"rss": values["VmRSS"], "peak": values["VmHWM"]}


def child(phase: str, data_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
    """One start of the library on `data_dir`; with phase "restart", also serve and change it."""
    from acuerdo.index import Library, Settings
    from acuerdo.index.embedding import load_embedder
    from benchmarks import scale_corpus

    settings = Settings(_env_file=None, ACUERDO_DATA_DIR=data_dir)  # type: ignore[call-arg]
    started = time.perf_counter()
    embedder = load_embedder(
        settings.embedding_model,
        query_prompt=settings.query_prompt,
        passage_prompt=settings.passage_prompt,
        batch_size=settings.embed_batch_size,
    )
    embedder.embed_queries(["hola"])
    result: dict[str, Any] = {
        "model": embedder.model_id,
        "model_load": time.perf_counter() - started,
        "memory_before_open": memory_mib(),
    }
    timers = Timers()
    with CpuMeter() as meter, instrumented(timers):
        started = time.perf_counter()
        library = Library.open(settings, embedder=embedder)
        result["open"] = time.perf_counter() - started
    corpus = library.corpus()
    result |= {
        "open_stages": dict(timers.seconds),
        "open_cpu": meter.describe(),
        "passages": len(corpus),
        "approximate": corpus.vectors.approximate,
        "memory_after_open": memory_mib(),
        "files": {p.name: p.stat().st_size for p in sorted(data_dir.iterdir()) if p.is_file()},
    }
    if phase == "first":
        library.close()
        return result

    asked = scale_corpus.questions(options["questions_per_topic"], options["seed"])
    result["questions"] = len(asked)
    result["quiet"] = benchlib.wait_for_quiet(options["wait_quiet"])
    for question in asked[:5]:
        library.ask(question, channel="bench")
    asks: list[float] = []
    embeds: list[float] = []
    with CpuMeter() as meter:
        for i in range(options["asks"]):
            question = asked[i % len(asked)]
            started = time.perf_counter()
            embedder.embed_queries([question])
            embeds.append(time.perf_counter() - started)
            started = time.perf_counter()
            library.ask(question, channel="bench")
            asks.append(time.perf_counter() - started)
    result |= {"asks": asks, "embeds": embeds, "ask_cpu": meter.describe()}
    result["stages"] = stage_split(library, asked[:100])
    result["memory_serving"] = memory_mib()

    adds = []
    for seed in (101, 102):
        timers.seconds.clear()
        with CpuMeter() as meter, instrumented(timers):
            started = time.perf_counter()
            library.add_document(
                f"nuevo_{seed}.txt", synthetic_document(seed), title=f"Nuevo {seed}"
            )
            total = time.perf_counter() - started
            library.wait_for_files()
        adds.append({"total": total, "stages": dict(timers.seconds), "cpu": meter.describe()})
    result["adds"] = adds
    library.close()
    result["recall"] = ivf_recall(library, Path(options["cache"]))
    return result


def synthetic_document(seed: int, paragraphs: int = 10) -> bytes:
    from benchmarks import synthetic

    return synthetic.document(paragraphs, seed=seed).encode()


def stage_split(library: Any, asked: Sequence[str]) -> dict[str, list[float]]:
    """Each stage of a search, timed apart on the same snapshot."""
    corpus = library.corpus()
    stages: dict[str, list[float]] = defaultdict(list)

    def clock(name: str, func: Callable[[], Any]) -> Any:
        started = time.perf_counter()
        value = func()
        stages[name].append(time.perf_counter() - started)
        return value

    for question in asked:
        query = clock("e5 query embedding", lambda q=question: library.embedder.embed_queries([q]))
        clock("FAISS search (k=100)", lambda v=query[0]: corpus.vectors.search(v, 100))
        clock("BM25 search (k=100)", lambda q=question: corpus.lexical.search(q, 100))
        clock("whole `Retriever.search`", lambda q=question: library.retriever.search(corpus, q))
    parts = ["e5 query embedding", "FAISS search (k=100)", "BM25 search (k=100)"]
    stages["fusion, cosines, features, highlight (rest)"] = [
        total - sum(stages[p][i] for p in parts)
        for i, total in enumerate(stages["whole `Retriever.search`"])
    ]
    return dict(stages)


def ivf_recall(library: Any, cache: Path) -> dict[str, float]:
    """recall@10 of the served index against exact search (real questions / held-out)."""
    corpus = library.corpus()
    if not corpus.vectors.approximate:
        return {}
    vectors = np.load(cache / "e5.npy", mmap_mode="r")
    stored = np.load(cache / "queries.npz")
    queries, real = stored["queries"], int(stored["real_queries"])
    exact = np.zeros((len(queries), 10), dtype=np.int64)
    best = np.full((len(queries), 10), -np.inf, dtype=np.float32)
    for start in range(0, len(vectors), 20_000):  # passage id = row + 1
        sims = queries @ np.asarray(vectors[start : start + 20_000]).T
        ids = np.broadcast_to(np.arange(start + 1, start + 1 + sims.shape[1]), sims.shape)
        merged = np.concatenate([best, sims], axis=1)
        merged_ids = np.concatenate([exact, ids], axis=1)
        top = np.argsort(-merged, axis=1, kind="stable")[:, :10]
        best = np.take_along_axis(merged, top, axis=1)
        exact = np.take_along_axis(merged_ids, top, axis=1)
    hits = [
        len(set(corpus.vectors.search(q, 10)[0].tolist()) & set(exact[i].tolist())) / 10
        for i, q in enumerate(queries)
    ]
    return {"questions": float(np.mean(hits[:real])), "held_out": float(np.mean(hits[real:]))}


# -- the parent: corpus, two starts, report -------------------------------------------------


def start(phase: str, data_dir: Path, options: dict[str, Any]) -> dict[str, Any]:
    print(f"[scale] {phase}: a fresh process opens the library…", file=sys.stderr)
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "benchmarks.scale",
            "--child",
            phase,
            str(data_dir),
            json.dumps(options),
        ],
        check=True,
        cwd=REPO,
        stdout=subprocess.PIPE,
        text=True,
    )
    line = next(x for x in done.stdout.splitlines() if x.startswith("RESULT "))
    return dict(json.loads(line.removeprefix("RESULT ")))


def open_table(runs: dict[str, dict[str, Any]]) -> str:
    labels = {
        "read stored vectors from the database": "read stored vectors from the database",
        "FAISS build": "FAISS build (incl. IVF training)",
        "IVF training": "  of which IVF training",
        "write vector file": "write vector file",
        "read vector file": "read vector file (checksum + FAISS)",
        "BM25 build (analyse every passage)": "BM25 build (analyse every passage)",
        "write BM25 file": "write BM25 file",
        "read BM25 file": "read BM25 file (checksum + arrays)",
        "previous-passage map": "previous-passage map",
    }
    parts = [k for k in labels if k != "IVF training"]

    def db_read(run: dict[str, Any]) -> float:
        stages = run["open_stages"]
        return stages["load_corpus"] - sum(stages.get(k, 0.0) for k in parts)

    rows: list[list[object]] = [
        ["**total `Library.open`**", *[f"**{secs(r['open'])}**" for r in runs.values()]],
        ["passages and titles from the database (rest of `load_corpus`)"]
        + [secs(db_read(r)) for r in runs.values()],
    ]
    for key, label in labels.items():
        rows.append([label, *[secs(r["open_stages"].get(key, 0.0)) for r in runs.values()]])
    rows += [
        [
            "open DB, state, query-log ids (rest of `Library.open`)",
            *[secs(r["open"] - r["open_stages"]["load_corpus"]) for r in runs.values()],
        ],
        ["IVF index", *["yes" if r["approximate"] else "no (exact)" for r in runs.values()]],
        [
            "RSS after open / peak (MiB)",
            *[
                f"{r['memory_after_open']['rss']:.0f} / {r['memory_after_open']['peak']:.0f}"
                for r in runs.values()
            ],
        ],
        ["e5 model load (before `open`, not in the total)"]
        + [secs(r["model_load"]) for r in runs.values()],
        ["other processes' CPU", *[r["open_cpu"] for r in runs.values()]],
    ]
    return md_table(["stage", *runs], rows)


def ask_table(run: dict[str, Any]) -> tuple[str, float]:
    ratio = percentile(run["asks"], 50) / percentile(run["embeds"], 50)
    rows = [
        [
            f"`library.ask` ({len(run['asks'])} calls over {run['questions']} questions)",
            ms(percentile(run["asks"], 50)),
            ms(percentile(run["asks"], 95)),
        ],
        ["bare e5 `embed_queries([q])`, interleaved", *_p50_p95(run["embeds"])],
        [
            f"**ask / e5 (p50)** (target ≤ {ASK_TARGET})",
            f"**{ratio:.2f}×** {benchlib.verdict(ratio <= ASK_TARGET)}",
            "",
        ],
    ]
    rows += [[f"stage: {name}", *_p50_p95(values)] for name, values in run["stages"].items()]
    return md_table(["", "p50", "p95"], rows), ratio


def _p50_p95(values: Sequence[float]) -> list[str]:
    return [ms(percentile(values, 50)), ms(percentile(values, 95))]


def add_table(adds: Sequence[dict[str, Any]]) -> str:
    def rest(add: dict[str, Any]) -> float:
        return float(add["total"] - add["stages"]["embedding"])

    labels = [
        "embedding",
        "update_corpus",
        "copy vector index",
        "BM25 update",
        "previous-passage map",
        "write index files (background)",
    ]
    rows: list[list[object]] = [
        ["**total `add_document`**", *[f"**{secs(a['total'])}**" for a in adds]],
        [
            f"**all but embedding** (target ≤ {ADD_REST_TARGET_S:.0f} s)",
            *[
                f"**{secs(rest(a))}** {benchlib.verdict(rest(a) <= ADD_REST_TARGET_S)}"
                for a in adds
            ],
        ],
    ]
    rows += [[label, *[secs(a["stages"].get(label, 0.0)) for a in adds]] for label in labels]
    rows.append(["other processes' CPU", *[a["cpu"] for a in adds]])
    return md_table(["stage", "1st document", "2nd document"], rows)


def run(args: argparse.Namespace) -> str:
    from acuerdo.index.embedding import E5SmallEmbedder
    from benchmarks import scale_corpus

    began = time.perf_counter()
    facts = benchlib.machine_facts()
    data = scale_corpus.prepare(
        E5SmallEmbedder(),
        passages=args.passages,
        per_topic=args.per_topic,
        questions_per_topic=args.questions_per_topic,
        recall_questions=args.recall_questions,
        held_out=args.held_out,
        passages_per_document=args.passages_per_document,
        seed=args.seed,
    )
    facts.append(("machine before start", benchlib.wait_for_quiet(args.wait_quiet)))
    options = {
        "asks": args.asks,
        "questions_per_topic": args.questions_per_topic,
        "seed": args.seed,
        "wait_quiet": args.wait_quiet,
        "cache": str(data.folder),
    }
    root = Path(tempfile.mkdtemp(prefix="acuerdo-scale-"))
    try:
        shutil.copyfile(data.database, root / "acuerdo.db")
        first = start("first", root, options)
        restart = start("restart", root, options)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    files = first["files"]
    facts += [
        ("encoder (shipped default)", f"`{first['model']}`"),
        (
            "corpus",
            f"{first['passages']:,} passages in {args.passages // args.passages_per_document:,} "
            f"documents; {len(data.sentences)} real sentences over {len(scale_corpus.TOPICS)} "
            f"topics (`benchmarks/.cache/scale-{data.key}/`)",
        ),
        ("index files", ", ".join(f"`{n}` {s / 2**20:.1f} MiB" for n, s in files.items())),
    ]
    ask_markdown, ratio = ask_table(restart)
    serving = restart["memory_serving"]
    recall = restart["recall"]
    summary = [
        [
            "`ask` p50 / bare e5 query embedding p50",
            f"{ratio:.2f}×",
            f"≤ {ASK_TARGET}×",
            benchlib.verdict(ratio <= ASK_TARGET),
        ],
        [
            "RSS while serving (after the asks) / peak of the process",
            f"{serving['rss']:.0f} / {serving['peak']:.0f} MiB",
            f"< {RSS_TARGET_MB} MB",
            benchlib.verdict(serving["rss"] * 2**20 < RSS_TARGET_MB * 1e6),
        ],
        [
            "restart (`Library.open`, index files saved)",
            secs(restart["open"]),
            f"< {RESTART_TARGET_S:.0f} s",
            benchlib.verdict(restart["open"] < RESTART_TARGET_S),
        ],
        ["first start (`Library.open`, no index files)", secs(first["open"]), "", ""],
        [
            "recall@10 of the IVF index vs exact (questions / held-out)",
            f"{recall['questions']:.3f} / {recall['held_out']:.3f}" if recall else "exact index",
            "≥ 0.95",
            benchlib.verdict(not recall or min(recall.values()) >= 0.95),
        ],
    ]
    sections = [
        "## Targets (one run)\n\n" + md_table(["figure", "measured", "target", ""], summary),
        "## Start: `Library.open` in a fresh process\n\n"
        + open_table({"first start (no index files)": first, "restart (files saved)": restart}),
        "## Questions\n\n"
        f"After 5 warm-up questions, each `library.ask` (which queues its query-log row) is "
        f"preceded by the bare e5 embedding of the same question; other processes' CPU "
        f"meanwhile: {restart['ask_cpu']} ({restart['quiet']} before). Stages: 100 questions "
        "timed apart on the same snapshot.\n\n" + ask_markdown,
        f"## Adding one 10-paragraph document to the {first['passages']:,}-passage library\n\n"
        "The index files are written behind the answer (background thread); its time is "
        "shown apart and is not part of the total.\n\n" + add_table(restart["adds"]),
        "## Notes\n\n* Synthetic corpus realism (e5 cosines):\n\n"
        + md_table(["statistic", "value"], data.realism)
        + f"\n\nTotal benchmark time: {secs(time.perf_counter() - began)}.",
    ]
    return "\n\n".join(
        [
            f"# Scale: {first['passages']:,} passages, shipped settings (`benchmarks/scale.py`)",
            md_table(["machine", "value"], facts),
            *sections,
        ]
    )


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--passages", type=int, default=100_000)
    parser.add_argument("--per-topic", type=int, default=30, help="real sentences per topic (30)")
    parser.add_argument("--questions-per-topic", type=int, default=10)
    parser.add_argument("--recall-questions", type=int, default=100)
    parser.add_argument("--held-out", type=int, default=100, help="held-out passages as queries")
    parser.add_argument("--asks", type=int, default=200, help="library.ask calls (200)")
    parser.add_argument("--passages-per-document", type=int, default=50)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--wait-quiet", type=float, default=60.0, help="seconds (60)")
    parser.add_argument("--output", default="scale", help="report name under results/")
    parser.add_argument("--child", nargs=3, metavar=("PHASE", "DATA_DIR", "OPTIONS"))
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.child:
        phase, data_dir, options = args.child
        result = child(phase, Path(data_dir), json.loads(options))
        print("RESULT " + json.dumps(result))
        return 0
    benchlib.write_report(args.output, run(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
