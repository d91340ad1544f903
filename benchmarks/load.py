"""Load benchmark: 200 users × 10 questions pushed at once through the fake Bot API server.

The real application (`bot.app.build_application`) polls tests/fake_telegram.py's FakeTelegram
over HTTP on 127.0.0.1, as tests/botkit.py's `running_bot` does, with the real bundled encoder
(e5) and the seed communiqué, on SQLite and/or PostgreSQL. Every update is pushed at once;
the script then waits until every chat has one `sendMessage` per question and reports:

* replies per kind (quote, "nothing found", encoder queue full, flood limit, failed sends);
* reply latency p50/p95/p99/max: push time → the fake's `Call.timestamp` of the reply
  (`time.time()` on both ends; replies in private chats do not quote the question, so the k-th
  reply of a chat is paired with its k-th push: off by at most the push span, reported, which
  is well under a second against latencies of seconds);
* throughput, time inside `library.ask`, the deepest encoder queue seen, and the Bot API request
  rate (python-telegram-bot's `AIORateLimiter` caps requests carrying a chat_id at 30/s).

When the encoder queue refuses questions ("Hay muchas preguntas en cola"), the run is repeated
with the bound lifted (`--unbounded auto`) to measure the queue depth that answering everyone
would have needed.

    .venv/bin/python -m benchmarks.load                      # both databases, ~12 minutes
    .venv/bin/python -m benchmarks.load --database sqlite --users 20 --per-user 3

PostgreSQL: 127.0.0.1:5432, user postgres, database test; the run uses schema `bench_load`,
created fresh and dropped afterwards.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import logging
import random
import shutil
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from benchmarks import benchlib
from benchmarks.benchlib import REPO, CpuMeter, md_table, ms, percentile, secs

if TYPE_CHECKING:
    from acuerdo.index import Library
    from acuerdo.index.embedding import E5SmallEmbedder
    from tests.fake_telegram import FakeTelegram

POSTGRES_ADMIN_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
SCHEMA = "bench_load"

BUSY_TEXT = "muchas preguntas en cola"  # bot.worker.BusyError
FLOOD_TEXT = "muchas preguntas seguidas"  # bot.handlers: the per-user rate limit
NOTHING_TEXT = "No encontré"  # bot.render.nothing_found_html
PTB_CONCURRENT_UPDATES = 256  # ApplicationBuilder.concurrent_updates(True)
PTB_OVERALL_RATE = 30  # AIORateLimiter's default overall_max_rate (requests/s with a chat_id)

# Varied questions a user could ask about the seed communiqué (wordings differ from the text),
# keyword-only and English ones, and out-of-scope questions the bot must decline.
IN_SCOPE = (
    "¿Qué dijeron sobre el fentanilo?",
    "¿Qué autoridades van a cooperar?",
    "¿Qué harán con el cruce ilegal de personas?",
    "¿Van a dar seguimiento a los acuerdos?",
    "¿Qué harán con los cárteles?",
    "¿Qué pasará con los flujos financieros ilícitos?",
    "¿Qué dijeron de la coordinación entre ambos gobiernos?",
    "¿Quién se reunió con Claudia Sheinbaum?",
    "¿Qué nombre tiene el programa de cooperación?",
    "¿Qué presentaría el equipo de Sheinbaum?",
    "¿Hubo conferencia de prensa?",
    "¿Qué hará Rubio por la tarde?",
    "¿Cómo piensan frenar el tráfico de armas?",
    "¿Qué van a hacer con los túneles en la frontera?",
    "¿Se habló del robo de combustible?",
    "¿Quién acompañó a Rubio en la conferencia?",
    "¿Dónde fue la reunión entre Rubio y Sheinbaum?",
    "¿Cada cuánto se reunirá el grupo de alto nivel?",
    "¿Qué significa colaboración sin subordinación?",
    "¿Se respetará la soberanía de México?",
    "¿Qué logros en seguridad iba a presentar México?",
    "¿Cómo describió Sheinbaum la reunión?",
    "¿Con quién se reunirá Rubio en la embajada?",
    "¿Qué acciones hay contra el crimen organizado transnacional?",
    "¿Van a compartir inteligencia?",
    "¿Qué dijeron del lavado de dinero y los flujos ilícitos?",
    "¿Qué instituciones participan en la cooperación reforzada?",
    "¿Qué se acordó sobre las investigaciones y los procesos judiciales?",
    "¿A qué hora se reúne con los empleados de la embajada?",
    "¿Qué dijo el comunicado sobre los marcos legales?",
    "fentanilo",
    "armas",
    "soberania",
    "túneles clandestinos",
    "grupo de alto nivel",
    "What did they agree about organized crime?",
    "Where did Rubio meet Sheinbaum?",
    "Did they talk about fentanyl trafficking?",
)
OUT_OF_SCOPE = (
    "¿Cuál es la capital de Australia?",
    "¿Qué opinan del precio del petróleo?",
    "Dame una receta de tacos",
    "¿Quién ganó el mundial de fútbol?",
    "¿Cómo se prepara una paella valenciana?",
    "¿Qué temperatura hará mañana en Madrid?",
    "¿Cuánto cuesta el boleto del metro?",
    "¿Cuál es la mejor serie de televisión del año?",
)


@dataclass
class RunResult:
    """One flood of questions against one running bot."""

    label: str
    users: int
    per_user: int
    pushed: list[float] = field(default_factory=list)  # push times (time.time())
    push_span: float = 0.0
    latencies: list[float] = field(default_factory=list)  # every reply
    answer_latencies: list[float] = field(default_factory=list)  # quote or nothing-found
    kinds: Counter[str] = field(default_factory=Counter)
    missing: int = 0  # questions without a reply when the wait ended
    extra: int = 0  # replies beyond one per question (a retried send delivered twice)
    makespan: float = float("nan")  # first push → last reply
    ask_seconds: list[float] = field(default_factory=list)
    max_pending: int = 0
    bot_requests: int = 0  # sendMessage + sendChatAction to the users' chats
    chat_actions: int = 0
    cpu: str = "n/a"
    timed_out: bool = False

    @property
    def replies(self) -> int:
        return sum(self.kinds.values())

    @property
    def answered(self) -> int:
        return self.kinds["quote"] + self.kinds["nothing found"]


class AskTimer:
    """Wraps `library.ask` on the instance to time it on the encoder thread."""

    def __init__(self, library: Library) -> None:
        self.seconds: list[float] = []
        self._lock = threading.Lock()
        original = library.ask

        @functools.wraps(original)
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return original(*args, **kwargs)
            finally:
                with self._lock:
                    self.seconds.append(time.perf_counter() - started)

        library.ask = timed  # type: ignore[method-assign]

    def take(self) -> list[float]:
        with self._lock:
            taken, self.seconds = self.seconds, []
        return taken


def question_plan(users: Sequence[int], per_user: int, seed: int) -> dict[int, list[str]]:
    """Each user's questions: mostly in scope, about one in eight out of scope, shuffled."""
    rng = random.Random(seed)
    plan: dict[int, list[str]] = {}
    for user in users:
        asked = []
        for _ in range(per_user):
            pool = OUT_OF_SCOPE if rng.random() < 0.125 else IN_SCOPE
            asked.append(rng.choice(pool))
        plan[user] = asked
    return plan


def classify(text: str) -> str:
    if BUSY_TEXT in text:
        return "queue full (busy)"
    if FLOOD_TEXT in text:
        return "flood limit"
    if NOTHING_TEXT in text:
        return "nothing found"
    return "quote"


def push_all(fake: FakeTelegram, plan: dict[int, list[str]]) -> dict[int, list[float]]:
    """Push every question (round-robin over users, like simultaneous users); push times."""
    pushed: dict[int, list[float]] = {user: [] for user in plan}
    rounds = max(len(q) for q in plan.values())
    for index in range(rounds):
        for user, questions in plan.items():
            if index < len(questions):
                pushed[user].append(time.time())
                fake.message(questions[index], user_id=user, first_name=f"U{user}", username=None)
    return pushed


async def flood(
    fake: FakeTelegram,
    library: Library,
    worker: Any,
    timer: AskTimer,
    *,
    label: str,
    first_user: int,
    users: int,
    per_user: int,
    timeout: float,
    seed: int,
) -> RunResult:
    """Push users × per_user questions at once and wait until every chat has all its replies."""
    user_ids = list(range(first_user, first_user + users))
    wanted = set(user_ids)
    plan = question_plan(user_ids, per_user, seed)
    result = RunResult(label, users, per_user)
    timer.take()
    peak = 0
    stop = asyncio.Event()

    async def sample_queue() -> None:
        nonlocal peak
        while not stop.is_set():
            peak = max(peak, int(worker.pending))
            await asyncio.sleep(0.005)

    sampler = asyncio.create_task(sample_queue())
    total = users * per_user
    with CpuMeter() as meter:
        started = time.time()
        pushed = await asyncio.to_thread(push_all, fake, plan)
        result.push_span = time.time() - started
        deadline = time.monotonic() + timeout
        while True:
            replies = [
                c for c in fake.calls("sendMessage") if c.status is not None and _chat(c) in wanted
            ]
            per_chat = Counter(_chat(c) for c in replies)
            if len(replies) >= total and all(per_chat[u] >= per_user for u in user_ids):
                break
            if time.monotonic() >= deadline:
                result.timed_out = True
                break
            await asyncio.sleep(0.2)
    stop.set()
    await sampler
    result.cpu = meter.describe()
    result.max_pending = peak
    result.ask_seconds = timer.take()

    by_chat: dict[int, list[Any]] = {user: [] for user in user_ids}
    for call in replies:
        by_chat[_chat(call)].append(call)
    last_reply = 0.0
    for user in user_ids:
        calls = sorted(by_chat[user], key=lambda c: c.timestamp)
        times = sorted(pushed[user])
        result.missing += max(0, len(times) - len(calls))
        result.extra += max(0, len(calls) - len(times))
        for push_time, call in zip(times, calls, strict=False):
            latency = call.timestamp - push_time
            kind = classify(str(call.get("text", ""))) if call.ok else "send failed"
            result.kinds[kind] += 1
            result.latencies.append(latency)
            if kind in ("quote", "nothing found"):
                result.answer_latencies.append(latency)
            last_reply = max(last_reply, call.timestamp)
        result.pushed.extend(times)
    result.makespan = last_reply - min(result.pushed) if last_reply else float("nan")
    actions = [c for c in fake.calls("sendChatAction") if _chat(c) in wanted]
    result.chat_actions = len(actions)
    result.bot_requests = len(replies) + len(actions)
    return result


def _chat(call: Any) -> int:
    try:
        return int(call.get("chat_id"))
    except (TypeError, ValueError):
        return -1


def fix_applies(bound: int) -> bool:
    """Whether the shipped bot still refuses below PTB's limit (it no longer sends "typing…"
    per question: the other half of the proposed fix is shipped)."""
    return bound < PTB_CONCURRENT_UPDATES


async def simulated_fix(
    flood_at: Callable[..., Awaitable[RunResult]], worker: Any, args: argparse.Namespace
) -> RunResult:
    """The flood again with the remaining proposed change imitated inside this process: no
    encoder-queue refusals (the bot already sends no "typing…"); bot/ itself is not modified.
    """
    original_bound = worker.max_pending  # AttributeError, not a silent skip, if it moves
    worker.max_pending = 10**9
    try:
        return await flood_at(
            label="simulated fix: no refusals",
            first_user=30_001,
            users=args.users,
            timeout=args.timeout,
        )
    finally:
        worker.max_pending = original_bound


@dataclass
class DatabaseRun:
    """Everything measured on one database."""

    database: str
    open_seconds: float
    baseline: list[float]
    runs: list[RunResult]
    logged_questions: int
    default_bound: int


def make_schema() -> str:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 5})
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
        connection.execute(text(f'CREATE SCHEMA "{SCHEMA}"'))
    admin.dispose()
    return f"{POSTGRES_ADMIN_URL}?options=-csearch_path%3D{SCHEMA}"


def drop_schema() -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(POSTGRES_ADMIN_URL, connect_args={"connect_timeout": 5})
    with admin.begin() as connection:
        connection.execute(text(f'DROP SCHEMA IF EXISTS "{SCHEMA}" CASCADE'))
    admin.dispose()


async def run_database(
    database: str,
    args: argparse.Namespace,
    e5: E5SmallEmbedder,
) -> DatabaseRun:
    from acuerdo.bot.app import build_application
    from acuerdo.index import Library, Settings
    from tests.botkit import polling
    from tests.fake_telegram import TOKEN, FakeTelegram

    root = Path(tempfile.mkdtemp(prefix=f"acuerdo-load-{database}-"))
    url = make_schema() if database == "postgresql" else None
    try:
        with FakeTelegram() as fake:
            values: dict[str, object] = {
                "ACUERDO_DATA_DIR": root / "data",
                "ACUERDO_SEEDS_DIR": args.seeds_dir,
                "TELEGRAM_BOT_TOKEN": TOKEN,
                "TELEGRAM_API_BASE_URL": fake.base_url,
                "TELEGRAM_FILE_BASE_URL": fake.base_file_url,
                "ACUERDO_QUESTIONS_PER_MINUTE": args.per_minute,
            }
            if url is not None:
                values["DATABASE_URL"] = url
            settings = Settings(_env_file=None, **values)  # type: ignore[call-arg]
            print(f"[load:{database}] opening the library (seeding)…", file=sys.stderr)
            started = time.perf_counter()
            library = await asyncio.to_thread(Library.open, settings, embedder=e5)
            open_seconds = time.perf_counter() - started
            questions = list(IN_SCOPE + OUT_OF_SCOPE)
            for question in questions[:10]:
                library.ask(question, channel="bench")
            baseline = []
            for question in questions:
                t0 = time.perf_counter()
                library.ask(question, channel="bench")
                baseline.append(time.perf_counter() - t0)

            timer = AskTimer(library)
            app = build_application(settings, library)
            worker = app.bot_data.services.worker
            default_bound = int(worker.max_pending)
            runs: list[RunResult] = []
            async with polling(app):
                print(f"[load:{database}] warm-up through the bot…", file=sys.stderr)
                flood_at = functools.partial(
                    flood, fake, library, worker, timer, per_user=args.per_user, seed=args.seed
                )
                await flood_at(label="warm-up", first_user=900, users=4, timeout=60, per_user=2)
                await asyncio.sleep(1.0)  # let the rate limiter's bucket refill
                total = args.users * args.per_user
                print(f"[load:{database}] flood: {total} questions at once…", file=sys.stderr)
                bounded = await flood_at(
                    label=f"default bound (max_pending={default_bound})",
                    first_user=10_001,
                    users=args.users,
                    timeout=args.timeout,
                )
                runs.append(bounded)
                busy = bounded.kinds["queue full (busy)"]
                if args.unbounded == "always" or (args.unbounded == "auto" and busy):
                    await asyncio.sleep(2.0)
                    worker.max_pending = 10**9
                    print(f"[load:{database}] again with the bound lifted…", file=sys.stderr)
                    lifted = await flood_at(
                        label="bound lifted (max_pending=∞)",
                        first_user=20_001,
                        users=args.users,
                        timeout=args.timeout,
                    )
                    runs.append(lifted)
                    worker.max_pending = default_bound
                if args.simulate_fix in (database, "both") and fix_applies(default_bound):
                    await asyncio.sleep(2.0)
                    print(f"[load:{database}] simulated fix…", file=sys.stderr)
                    runs.append(await simulated_fix(flood_at, worker, args))
            logged = library.stats().questions
    finally:
        shutil.rmtree(root, ignore_errors=True)
        if url is not None:
            drop_schema()
    return DatabaseRun(database, open_seconds, baseline, runs, logged, default_bound)


def _p(values: Sequence[float], q: float) -> str:
    return ms(percentile(values, q)) if values else "n/a"


def report(runs: Sequence[DatabaseRun], facts: list[tuple[str, str]], args: Any) -> str:
    total = args.users * args.per_user
    rows: list[list[object]] = []
    for db in runs:
        for run in db.runs:
            ok = run.replies == total and run.missing == 0
            rows.append(
                [
                    f"**{db.database}**",
                    run.label,
                    f"{run.replies}/{total} {benchlib.verdict(ok)}"
                    + (f" (+{run.extra} duplicate)" if run.extra else ""),
                    run.answered,
                    run.kinds["queue full (busy)"],
                    run.kinds["flood limit"] + run.kinds["send failed"],
                    _p(run.latencies, 50),
                    _p(run.latencies, 95),
                    _p(run.latencies, 99),
                    _p(run.latencies, 100),
                    secs(run.makespan),
                    f"{run.replies / run.makespan:.1f}",
                    f"{run.answered / run.makespan:.1f}",
                ]
            )
    main = md_table(
        [
            "database",
            "run",
            "replies",
            "answered",
            "busy",
            "flood/failed",
            "p50",
            "p95",
            "p99",
            "max",
            "makespan",
            "replies/s",
            "answers/s",
        ],
        rows,
    )
    detail_rows: list[list[object]] = []
    for db in runs:
        for run in db.runs:
            asks = run.ask_seconds
            detail_rows.append(
                [
                    db.database,
                    run.label,
                    f"{run.kinds['quote']} / {run.kinds['nothing found']}",
                    _p(run.answer_latencies, 50) + " / " + _p(run.answer_latencies, 95),
                    f"{len(asks)}",
                    _p(asks, 50) + " / " + _p(asks, 95),
                    f"{len(asks) / sum(asks):.1f}" if asks else "n/a",
                    run.max_pending,
                    f"{run.bot_requests / run.makespan:.1f} ({run.chat_actions} chat actions)",
                    secs(run.push_span),
                    run.cpu,
                ]
            )
    detail = md_table(
        [
            "database",
            "run",
            "quote / nothing found",
            "answer latency p50 / p95",
            "`library.ask` calls",
            "`ask` p50 / p95 (encoder thread)",
            "encoder capacity (asks/s)",
            "deepest encoder queue",
            "Bot API requests/s",
            "push span",
            "other processes' CPU",
        ],
        detail_rows,
    )
    setup_rows = [
        [
            db.database,
            secs(db.open_seconds),
            _p(db.baseline, 50),
            _p(db.baseline, 95),
            f"{1 / percentile(db.baseline, 50):.1f}",
            db.logged_questions,
        ]
        for db in runs
    ]
    setup = md_table(
        [
            "database",
            "Library.open (seed)",
            "in-process ask p50",
            "p95",
            "1/p50 (asks/s)",
            "questions in query_log at the end",
        ],
        setup_rows,
    )
    findings = _findings(runs, total)
    return "\n\n".join(
        [
            f"# Load: {args.users} users × {args.per_user} questions at once "
            "(`benchmarks/load.py`)",
            md_table(["machine", "value"], facts),
            f"{args.users} simulated users each send {args.per_user} questions; all "
            f"{total} updates are pushed to the fake Bot API at once (round-robin over users), "
            "and the real application (`bot.app.build_application`, real e5, seed "
            "communiqué) polls them. Latency: push → the fake's `Call.timestamp` of the "
            "`sendMessage` reply. `answered` = a quote or a reasoned «nothing found» (the "
            "questions include out-of-scope ones); `busy` = «Hay muchas preguntas en cola» "
            "(a reply, not an answer). "
            f"ACUERDO_QUESTIONS_PER_MINUTE={args.per_minute}.",
            main,
            "Where the time goes:",
            detail,
            "Before the flood (same process, bot not running):",
            setup,
            "## Findings",
            findings,
        ]
    )


def _findings(runs: Sequence[DatabaseRun], total: int) -> str:
    lines: list[str] = []
    for db in runs:
        bounded = db.runs[0]
        busy = bounded.kinds["queue full (busy)"]
        asks = bounded.ask_seconds
        capacity = len(asks) / sum(asks) if asks else float("nan")
        per_question = bounded.bot_requests / max(1, bounded.replies)
        limiter_ceiling = PTB_OVERALL_RATE / per_question
        floor = total / limiter_ceiling
        line = (
            f"* **{db.database}**: {bounded.replies}/{total} replies, {bounded.answered} answers, "
            f"{busy} «queue full» replies, deepest encoder queue {bounded.max_pending} "
            f"(bound {db.default_bound}). Replies arrived at "
            f"{bounded.replies / bounded.makespan:.1f}/s. Ceilings: the encoder thread "
            f"{capacity:.1f} asks/s (1 / mean `ask`); AIORateLimiter {PTB_OVERALL_RATE} "
            f"requests/s ÷ {per_question:.2f} requests per question "
            f"({bounded.chat_actions} `sendChatAction`) = {limiter_ceiling:.1f} replies/s, i.e. "
            f"≥ {floor:.0f} s for {total} questions (measured {bounded.makespan:.0f} s). "
        )
        if limiter_ceiling < capacity:
            line += "**The Bot API rate limiter set the pace**, not the encoder."
        else:
            line += "**The single encoder thread set the pace**"
            line += (
                f" (the rate limiter's ceiling is only {limiter_ceiling / capacity - 1:.0%} "
                "higher)."
                if limiter_ceiling < 1.25 * capacity
                else "."
            )
        if len(db.runs) > 1:
            lifted = db.runs[1]
            line += (
                f" With the bound lifted: {lifted.answered}/{total} answers, deepest encoder "
                f"queue {lifted.max_pending} (PTB runs at most {PTB_CONCURRENT_UPDATES} handlers "
                f"at once, so no queue can exceed that), p50 {_p(lifted.latencies, 50)}, "
                f"p95 {_p(lifted.latencies, 95)}, p99 {_p(lifted.latencies, 99)}"
            )
            same = percentile(lifted.latencies, 95) <= 1.1 * percentile(bounded.latencies, 95)
            line += (
                ": refusing questions did not shorten the others' wait."
                if same
                else f" (bounded run p95 {_p(bounded.latencies, 95)})."
            )
        lines.append(line)
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--users", type=int, default=200, help="simulated users (200)")
    parser.add_argument("--per-user", type=int, default=10, help="questions per user (10)")
    parser.add_argument(
        "--per-minute",
        type=int,
        default=1000,
        help="ACUERDO_QUESTIONS_PER_MINUTE, high so the flood limit stays out (1000)",
    )
    parser.add_argument(
        "--unbounded",
        choices=("auto", "always", "never"),
        default="auto",
        help="repeat the flood with the encoder queue bound lifted (auto: if any was refused)",
    )
    parser.add_argument(
        "--simulate-fix",
        choices=("sqlite", "postgresql", "both", "none"),
        default="sqlite",
        help="one more flood imitating the proposed fix on this database (sqlite)",
    )
    parser.add_argument("--timeout", type=float, default=600.0, help="max wait per flood (s)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=60.0,
        help="wait up to this many seconds for other processes to go idle (60)",
    )
    parser.add_argument("--seeds-dir", type=Path, default=REPO / "seeds")
    parser.add_argument("--output", default="load", help="report name under results/")
    return parser.parse_args(argv)


async def run(args: argparse.Namespace) -> str:
    from acuerdo.index.embedding import E5SmallEmbedder

    benchlib.strip_proxy_env()
    facts = benchlib.machine_facts()
    e5 = E5SmallEmbedder()
    facts.append(("encoder", f"`{e5.model_id}`"))
    databases = ["sqlite", "postgresql"] if args.database == "both" else [args.database]
    results = []
    for database in databases:
        quiet = benchlib.wait_for_quiet(args.wait_quiet)
        facts.append((f"machine before {database}", quiet))
        results.append(await run_database(database, args, e5))
    return report(results, facts, args)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    markdown = asyncio.run(run(args))
    benchlib.write_report(args.output, markdown)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
