"""Telegram bot benchmark: question → answer round trip through the fake Bot API server.

The real application (`bot.app.build_application`) polls tests/fake_telegram.py's FakeTelegram
over HTTP on 127.0.0.1, exactly as tests/botkit.py's `running_bot` does. Latency is measured from
the moment a message is pushed to the fake until the fake receives the bot's `sendMessage`
(`Call.timestamp`); both ends use `time.time()`.

    .venv/bin/python -m benchmarks.bot_roundtrip            # ~1 minute on 2 cores
    .venv/bin/python -m benchmarks.bot_roundtrip --count 30 --users 5 --per-user 4

Prints a Markdown report and writes it to benchmarks/results/bot_roundtrip.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from telegram.ext import BaseRateLimiter

from benchmarks import benchlib
from benchmarks.benchlib import REPO, CpuMeter, md_table, ms, p50, p95, secs

if TYPE_CHECKING:
    from telegram.ext import Application

    from acuerdo.index import Library, Settings
    from tests.fake_telegram import Call, FakeTelegram

T = TypeVar("T")


class SwitchableLimiter(BaseRateLimiter[int]):
    """The bot's own rate limiter, passed by while `off`: calls then go straight to the Bot API,
    as PTB sends them with no rate limiter at all."""

    def __init__(self, inner: BaseRateLimiter[int]) -> None:
        self.inner = inner
        self.off = False

    async def initialize(self) -> None:
        await self.inner.initialize()

    async def shutdown(self) -> None:
        await self.inner.shutdown()

    async def process_request(
        self,
        callback: Callable[..., Coroutine[Any, Any, Any]],
        args: Any,
        kwargs: dict[str, Any],
        endpoint: str,
        data: dict[str, Any],
        rate_limit_args: int | None,
    ) -> Any:
        if self.off:
            return await callback(*args, **kwargs)
        return await self.inner.process_request(
            callback, args, kwargs, endpoint, data, rate_limit_args
        )


BUSY_TEXT = "muchas preguntas en cola"  # bot.worker.BusyError
FLOOD_TEXT = "muchas preguntas seguidas"  # the per-user rate limit
NOTHING_TEXT = "No encontré ningún pasaje"


@dataclass
class Sample:
    """One question through the bot."""

    user_id: int
    push: float  # time.time() just before the update was queued in the fake
    reply: float = float("nan")  # Call.timestamp of the bot's sendMessage (time.time())
    action: float = float("nan")  # Call.timestamp of the sendChatAction ("typing…")
    ask_start: float = float("nan")
    ask_end: float = float("nan")
    text: str = ""

    @property
    def latency(self) -> float:
        return self.reply - self.push

    @property
    def kind(self) -> str:
        if BUSY_TEXT in self.text:
            return "refused: encoder queue full"
        if FLOOD_TEXT in self.text:
            return "refused: per-user flood limit"
        if NOTHING_TEXT in self.text:
            return "nothing found"
        return "answered with a quote"


@dataclass
class AskLog:
    """Times of every library.ask made by the bot (a wrapper on the library instance)."""

    records: list[tuple[float, float, object]] = field(default_factory=list)

    def wrap(self, library: Library) -> None:
        original = library.ask

        def timed_ask(question: str, **kwargs: Any) -> Any:
            started = time.time()
            try:
                return original(question, **kwargs)
            finally:
                self.records.append((started, time.time(), kwargs.get("user_id")))

        library.ask = timed_ask  # type: ignore[method-assign]

    def for_user(self, user_id: int) -> list[tuple[float, float]]:
        return [(s, e) for s, e, u in self.records if u == user_id]


def _chat_calls(fake: FakeTelegram, method: str, chat_id: int) -> list[Call]:
    return [c for c in fake.calls(method) if str(c.get("chat_id")) == str(chat_id)]


async def _await_replies(
    fake: FakeTelegram, chat_id: int, count: int, timeout: float
) -> list[Call]:
    return await fake.await_call(
        "sendMessage",
        lambda c: str(c.get("chat_id")) == str(chat_id),
        timeout=timeout,
        count=count,
    )


def _fill(samples: list[Sample], fake: FakeTelegram, asks: AskLog, user_id: int) -> None:
    """Pair this user's pushes with replies, typing actions and asks, in order."""
    mine = sorted((s for s in samples if s.user_id == user_id), key=lambda s: s.push)
    replies = sorted(_chat_calls(fake, "sendMessage", user_id), key=lambda c: c.timestamp)
    actions = sorted(_chat_calls(fake, "sendChatAction", user_id), key=lambda c: c.timestamp)
    timed = sorted(asks.for_user(user_id))
    for i, sample in enumerate(mine):
        if i < len(replies):
            sample.reply = replies[i].timestamp
            sample.text = str(replies[i].get("text", ""))
        if i < len(actions):
            sample.action = actions[i].timestamp
        if i < len(timed):
            sample.ask_start, sample.ask_end = timed[i]


async def sequential(
    fake: FakeTelegram, asks: AskLog, questions: Sequence[str], user_id: int, timeout: float
) -> list[Sample]:
    """One user, one question at a time: push, wait for the reply, next."""
    samples: list[Sample] = []
    for question in questions:
        before = len(_chat_calls(fake, "sendMessage", user_id))
        samples.append(Sample(user_id, time.time()))
        fake.message(question, user_id=user_id)
        await _await_replies(fake, user_id, before + 1, timeout)
    _fill(samples, fake, asks, user_id)
    return samples


async def burst(
    fake: FakeTelegram,
    asks: AskLog,
    questions: Sequence[str],
    users: Sequence[int],
    per_user: int,
    timeout: float,
) -> tuple[list[Sample], float]:
    """Every user's questions pushed at once (round robin), then wait for every reply."""
    samples: list[Sample] = []
    k = 0
    for _ in range(per_user):
        for user_id in users:
            samples.append(Sample(user_id, time.time()))
            fake.message(questions[k % len(questions)], user_id=user_id)
            k += 1
    await asyncio.gather(*(_await_replies(fake, u, per_user, timeout) for u in users))
    for user_id in users:
        _fill(samples, fake, asks, user_id)
    makespan = max(s.reply for s in samples) - min(s.push for s in samples)
    return samples, makespan


async def closed_loop(
    fake: FakeTelegram,
    asks: AskLog,
    questions: Sequence[str],
    users: Sequence[int],
    per_user: int,
    timeout: float,
) -> tuple[list[Sample], float]:
    """Every user asks its next question as soon as its previous one is answered."""
    started = time.time()

    async def user_loop(n: int, user_id: int) -> list[Sample]:
        mine = [questions[(n * per_user + j) % len(questions)] for j in range(per_user)]
        return await sequential(fake, asks, mine, user_id, timeout)

    results = await asyncio.gather(*(user_loop(n, u) for n, u in enumerate(users)))
    samples = [s for group in results for s in group]
    return samples, max(s.reply for s in samples) - started


def _latency_row(label: str, samples: Sequence[Sample]) -> list[object]:
    latencies = [s.latency for s in samples if s.reply == s.reply]
    return [label, len(latencies), ms(p50(latencies)), ms(p95(latencies)), ms(max(latencies))]


def _kinds(samples: Sequence[Sample]) -> str:
    counts: dict[str, int] = {}
    for sample in samples:
        counts[sample.kind] = counts.get(sample.kind, 0) + 1
    return ", ".join(f"{v} {k}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))


def _stage(samples: Sequence[Sample], start: str, end: str) -> list[float]:
    values = [getattr(s, end) - getattr(s, start) for s in samples]
    return [v for v in values if v == v]


@contextlib.asynccontextmanager
async def running(
    settings: Settings, library: Library, limiter: SwitchableLimiter
) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """The production application polling the fake, as tests/botkit.py's `running_bot` does,
    its rate limiter behind `limiter`'s switch."""
    from acuerdo.bot.app import build_application
    from tests.botkit import polling

    async with polling(build_application(settings, library, rate_limiter=limiter)) as app:
        yield app


def initialise_data_dir(data_dir: Path, seeds: Path) -> None:
    """Create and seed a data dir in a child process (so this one never runs the encoder)."""
    code = (
        "import sys; from acuerdo.index import Library, Settings; "
        "Library.open(Settings(_env_file=None, ACUERDO_DATA_DIR=sys.argv[1], "
        "ACUERDO_SEEDS_DIR=sys.argv[2]))"
    )
    subprocess.run(
        [sys.executable, "-c", code, str(data_dir), str(seeds)],
        check=True,
        timeout=600,
    )


def measure_asks(
    ask: Callable[..., Any], warmup: Sequence[str], questions: Sequence[str]
) -> list[float]:
    """Seconds per `ask` call, after unmeasured warm-up calls."""
    for question in warmup:
        ask(question, channel="bench")
    times = []
    for question in questions:
        started = time.perf_counter()
        ask(question, channel="bench")
        times.append(time.perf_counter() - started)
    return times


async def on_encoder_thread(app: Application, func: Callable[..., T], *args: Any) -> T:  # type: ignore[type-arg]
    """Run `func` on the bot's own encoder thread (bot.worker.EncoderWorker), like `ask`."""
    return cast(T, await app.bot_data.services.worker.run(func, *args))


def _stage_rows(seq: Sequence[Sample]) -> list[list[object]]:
    """Where one question's round trip goes, from the timestamps we have."""

    def row(label: str, values: Sequence[float]) -> list[object]:
        return [label, ms(p50(values)), ms(p95(values))]

    rows: list[list[object]] = []
    if _stage(seq, "push", "action"):  # the bot shows "typing…" first
        rows.append(
            row(
                "push → `sendChatAction` arrives (update delivery, dispatch)",
                _stage(seq, "push", "action"),
            )
        )
        rows.append(
            row(
                "`sendChatAction` → `library.ask` starts (worker hand-off)",
                _stage(seq, "action", "ask_start"),
            )
        )
    else:
        rows.append(
            row(
                "push → `library.ask` starts (getUpdates wake-up, PTB dispatch, worker hand-off)",
                _stage(seq, "push", "ask_start"),
            )
        )
    rows.append(
        row("`library.ask` on the encoder worker thread", _stage(seq, "ask_start", "ask_end"))
    )
    rows.append(
        row(
            "ask returns → `sendMessage` arrives (render, rate limiter, HTTP)",
            _stage(seq, "ask_end", "reply"),
        )
    )
    return rows


def _scenario_row(label: str, samples: Sequence[Sample], span: float, cpu: str) -> list[object]:
    return [*_latency_row(label, samples), secs(span), f"{len(samples) / span:.1f} q/s", cpu]


async def run(args: argparse.Namespace) -> str:
    benchlib.strip_proxy_env()
    from acuerdo.bot.app import rate_limiter_for
    from acuerdo.index import Library, Settings
    from tests.fake_telegram import TOKEN, FakeTelegram

    questions, source = benchlib.load_questions(args.questions)
    facts = benchlib.machine_facts()
    facts.append(("machine before start", benchlib.wait_for_quiet(args.wait_quiet)))
    sequence = [questions[i % len(questions)] for i in range(args.count)]
    users = [2001 + i for i in range(args.users)]
    root = Path(tempfile.mkdtemp(prefix="acuerdo-bot-bench-"))
    scenarios: list[list[object]] = []
    notes: list[str] = []
    threads_check: tuple[list[float], list[float]] | None = None
    try:
        with FakeTelegram() as fake:
            settings = Settings(  # type: ignore[call-arg]
                _env_file=None,
                ACUERDO_DATA_DIR=root / "data",
                ACUERDO_SEEDS_DIR=args.seeds_dir,
                TELEGRAM_BOT_TOKEN=TOKEN,
                TELEGRAM_API_BASE_URL=fake.base_url,
                TELEGRAM_FILE_BASE_URL=fake.base_file_url,
                ACUERDO_QUESTIONS_PER_MINUTE=args.per_minute,
            )
            # Seed the data dir in a child process, so that this process never runs the encoder
            # outside the bot's encoder thread (see `measure_asks`).
            print("[bot] initialising the data dir in a child (seeding)…", file=sys.stderr)
            initialise_data_dir(root / "data", args.seeds_dir)
            if args.open_in == "thread":  # as tests/botkit.py's running_bot does
                library = await asyncio.to_thread(Library.open, settings)
            else:  # as `acuerdo bot` (bot.app.run_bot) does
                library = Library.open(settings)
            facts.append(("encoder", f"`{library.embedder.model_id}`"))
            plain_ask = library.ask
            asks = AskLog()
            asks.wrap(library)
            limiter = SwitchableLimiter(rate_limiter_for(settings))
            async with running(settings, library, limiter) as app:
                facts.append(("PTB rate limiter", type(limiter.inner).__name__))
                print("[bot] warm-up through the bot…", file=sys.stderr)
                await sequential(fake, asks, questions[:5], 900, args.timeout)
                print("[bot] in-process baseline on the encoder thread…", file=sys.stderr)
                with CpuMeter() as base_cpu:
                    baseline = await on_encoder_thread(
                        app, measure_asks, plain_ask, questions * args.warmup, sequence
                    )
                print(f"[bot] {args.count} sequential questions…", file=sys.stderr)
                with CpuMeter() as seq_cpu:
                    seq = await sequential(fake, asks, sequence, 1001, args.timeout)
                seq_span = max(s.reply for s in seq) - seq[0].push
                print(f"[bot] burst: {args.users} users × {args.per_user}…", file=sys.stderr)
                await asyncio.sleep(1.5)  # let the rate limiter's bucket refill
                with CpuMeter() as cpu:
                    pushed, span = await burst(
                        fake, asks, questions, users, args.per_user, args.timeout
                    )
                scenarios.append(_scenario_row("burst", pushed, span, cpu.describe()))
                notes.append(f"Burst replies: {_kinds(pushed)}.")
                inside = [s.ask_end - s.ask_start for s in pushed if s.ask_end == s.ask_end]
                notes.append(
                    f"Time inside `library.ask` during the burst: p50 {ms(p50(inside))}; "
                    f"{len(pushed)} of them back to back on the one encoder thread take "
                    f"{secs(sum(inside))} of the {secs(span)} makespan."
                )
                print("[bot] closed loop…", file=sys.stderr)
                await asyncio.sleep(1.5)
                with CpuMeter() as cpu:
                    looped, span = await closed_loop(
                        fake,
                        asks,
                        questions,
                        [u + 1000 for u in users],
                        args.per_user,
                        args.timeout,
                    )
                scenarios.append(_scenario_row("closed loop", looped, span, cpu.describe()))
                notes.append(f"Closed-loop replies: {_kinds(looped)}.")
                scenarios.append(
                    _scenario_row("(one user in a row, above)", seq, seq_span, seq_cpu.describe())
                )
                if args.no_limiter_burst:
                    print("[bot] burst without PTB's rate limiter (diagnostic)…", file=sys.stderr)
                    limiter.off = True  # same app and encoder thread, limiter off
                    await asyncio.sleep(1.5)
                    with CpuMeter() as cpu:
                        pushed, span = await burst(
                            fake,
                            asks,
                            questions,
                            [u + 2000 for u in users],
                            args.per_user,
                            args.timeout,
                        )
                    scenarios.append(
                        _scenario_row(
                            "burst, rate limiter removed (diagnostic)", pushed, span, cpu.describe()
                        )
                    )
                if args.second_thread_check:
                    print("[bot] encoder used from a second thread (diagnostic)…", file=sys.stderr)
                    again = questions * 2
                    on_main = measure_asks(plain_ask, questions, again)
                    on_worker = await on_encoder_thread(app, measure_asks, plain_ask, [], again)
                    threads_check = (on_main, on_worker)
    finally:
        shutil.rmtree(root, ignore_errors=True)

    base50 = p50(baseline)
    seq_lat = [s.latency for s in seq]
    one_user = "\n\n".join(
        [
            f"## One user, {len(seq)} questions in a row",
            f"Questions: {source}, cycled. Each question is pushed once the previous answer "
            f"arrived. Other processes used {seq_cpu.describe()} meanwhile "
            f"({base_cpu.describe()} during the in-process baseline).",
            md_table(
                ["measure", "p50", "p95"],
                [
                    [
                        "**push → `sendMessage` reply (round trip)**",
                        f"**{ms(p50(seq_lat))}**",
                        f"**{ms(p95(seq_lat))}**",
                    ],
                    [
                        "in-process `library.ask`, same questions, on the bot's encoder thread "
                        "(bot idle)",
                        ms(base50),
                        ms(p95(baseline)),
                    ],
                    [
                        "**bot overhead: p50(round trip) − p50(in-process ask)**",
                        f"**{ms(p50(seq_lat) - base50)}**",
                        "",
                    ],
                    ["round trip / in-process ask (p50)", f"{p50(seq_lat) / base50:.2f}×", ""],
                ],
            ),
            "Where the round trip goes (per question, then p50/p95 of each stage):",
            md_table(["stage", "p50", "p95"], _stage_rows(seq)),
            f"Replies: {_kinds(seq)}.",
        ]
    )
    if threads_check is not None:
        on_main, on_worker = threads_check
        one_user += "\n\n" + "\n\n".join(
            [
                "Diagnostic, at the very end: once a *second* thread has run the e5 engine, "
                "libgomp manages more threads than cores and stops spinning between parallel "
                "regions, and every later `ask`, on any thread, pays for it:",
                md_table(
                    ["in-process `library.ask`", "p50", "p95"],
                    [
                        [
                            "only the encoder thread had used e5 (baseline above)",
                            ms(base50),
                            ms(p95(baseline)),
                        ],
                        ["then called from the main thread", ms(p50(on_main)), ms(p95(on_main))],
                        [
                            "then again on the encoder thread",
                            ms(p50(on_worker)),
                            ms(p95(on_worker)),
                        ],
                    ],
                ),
            ]
        )
    total = args.users * args.per_user
    many = "\n\n".join(
        [
            f"## {args.users} users at once",
            f"**Burst**: {total} questions ({args.users} users × {args.per_user}) pushed at "
            "once; replies paired with questions per user in order. **Closed loop**: "
            f"{args.users} users each asking {args.per_user} questions, the next one as soon "
            "as the previous is answered.",
            md_table(
                [
                    "scenario",
                    "replies",
                    "p50",
                    "p95",
                    "max",
                    "makespan",
                    "throughput",
                    "other processes' CPU",
                ],
                scenarios,
            ),
            " ".join(notes),
        ]
    )
    header = "\n\n".join(
        [
            "# Telegram bot round trip (`benchmarks/bot_roundtrip.py`)",
            md_table(["machine", "value"], facts),
        ]
    )
    return header + "\n\n" + one_user + "\n\n" + many


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--questions",
        type=Path,
        default=benchlib.DEV_QA,
        help="JSONL with a 'question' field (built-in list if absent)",
    )
    parser.add_argument("--count", type=int, default=100, help="sequential questions (100)")
    parser.add_argument("--users", type=int, default=10, help="concurrent users (10)")
    parser.add_argument("--per-user", type=int, default=10, help="questions per user (10)")
    parser.add_argument(
        "--warmup", type=int, default=1, help="unmeasured passes before the baseline (1)"
    )
    parser.add_argument(
        "--per-minute",
        type=int,
        default=100_000,
        help="ACUERDO_QUESTIONS_PER_MINUTE, high so the flood limit stays out",
    )
    parser.add_argument("--timeout", type=float, default=120.0, help="max wait for a reply (s)")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=30.0,
        help="wait up to this many seconds for other processes to go idle (30)",
    )
    parser.add_argument(
        "--open-in",
        choices=("thread", "main"),
        default="thread",
        help="open the library in a worker thread like tests/botkit.py (default) or in the main "
        "thread like `acuerdo bot`",
    )
    parser.add_argument(
        "--no-limiter-burst",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the burst with PTB's AIORateLimiter removed, to show its share (on)",
    )
    parser.add_argument(
        "--second-thread-check",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="finally call ask from a second thread to show libgomp's throttling (on)",
    )
    parser.add_argument("--seeds-dir", type=Path, default=REPO / "seeds")
    parser.add_argument("--output", default="bot_roundtrip", help="report name under results/")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    report = asyncio.run(run(args))
    benchlib.write_report(args.output, report)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
