"""Follow delivery benchmark: N subscribers on one topic, then a matching document.

The real application polls tests/fake_telegram.py's fake Bot API (as tests/botkit.py does) with
the rate limits the bot applies in production (PTB's AIORateLimiter, ~30 messages/s overall,
plus bulk sends paced at ACUERDO_NOTIFY_PER_SECOND and one per chat per second). Measures the
time from the document's commit until every notification is recorded as sent, and the reply time
of questions asked by other users meanwhile (push → the fake receives sendMessage).

    .venv/bin/python -m benchmarks.follow_delivery                      # 10,000 subscribers
    .venv/bin/python -m benchmarks.follow_delivery --subscribers 500    # a quick look

Prints a Markdown report and writes it to benchmarks/results/follow_delivery.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from pathlib import Path

from acuerdo.index.embedding import E5SmallEmbedder
from acuerdo.index.models import Subscription
from acuerdo.index.subscriptions import topic_key
from benchmarks.benchlib import REPO, p50, p95
from tests.botkit import make_settings, running_bot
from tests.fake_telegram import PROXY_ENV_VARS, FakeTelegram

TOPIC = "tráfico ilícito de armas de fuego"
DOCUMENT = (
    "Nuevo comunicado sobre seguridad fronteriza.\n\n"
    "Ambos gobiernos acordaron redoblar los esfuerzos contra el tráfico ilícito de armas de fuego "
    "desde Estados Unidos hacia México, con más inspecciones en los cruces fronterizos.\n\n"
    "La reunión concluyó con el compromiso de volver a reunirse en seis meses.\n"
)
QUESTIONS = ("¿Qué dijeron sobre el fentanilo?", "¿Qué harán con los cárteles?")


async def run(subscribers: int, question_every: float) -> dict[str, float]:
    data = Path(tempfile.mkdtemp(prefix="follow-bench-"))
    e5 = E5SmallEmbedder()
    with FakeTelegram() as fake:
        settings = make_settings(data / "data", REPO / "seeds", fake)
        async with running_bot(settings, e5, fake) as bot:
            with bot.library.sessions() as session, session.begin():
                session.add_all(
                    Subscription(chat_id=10_000_000 + i, topic=TOPIC, topic_key=topic_key(TOPIC))
                    for i in range(subscribers)
                )
            started = time.perf_counter()
            result = await asyncio.to_thread(
                bot.library.add_document, "frontera.txt", DOCUMENT.encode(), title="Seguimiento"
            )
            committed = time.perf_counter()
            assert result.notifications == subscribers, result
            latencies: list[float] = []
            asker = 500
            while True:
                counts = await asyncio.to_thread(bot.library.outbox().counts)
                if counts.get("sent", 0) >= subscribers:
                    break
                asker += 1
                pushed = time.time()
                call = await bot.reply_to(QUESTIONS[asker % 2], user_id=asker, timeout=120)
                latencies.append(call.timestamp - pushed)
                await asyncio.sleep(question_every)
            delivered = time.perf_counter()
    shutil.rmtree(data, ignore_errors=True)
    return {
        "subscribers": subscribers,
        "matching_and_commit_s": committed - started,
        "delivery_s": delivered - committed,
        "rate_per_s": subscribers / (delivered - committed),
        "questions": len(latencies),
        "reply_p50_s": p50(latencies),
        "reply_p95_s": p95(latencies),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--subscribers", type=int, default=10_000)
    parser.add_argument("--question-every", type=float, default=2.0)
    args = parser.parse_args()
    for name in PROXY_ENV_VARS:  # the fake is on 127.0.0.1: never through a proxy
        os.environ.pop(name, None)
    figures = asyncio.run(run(args.subscribers, args.question_every))
    report = "\n".join(
        [
            "# Follow delivery",
            "",
            f"Run {time.strftime('%Y-%m-%d %H:%M')}, SQLite, fake Bot API on 127.0.0.1, "
            "ACUERDO_NOTIFY_PER_SECOND=25 (default).",
            "",
            "| figure | value |",
            "|---|---|",
            *(
                f"| {k} | {v:.2f} |" if isinstance(v, float) else f"| {k} | {v} |"
                for k, v in figures.items()
            ),
            "",
        ]
    )
    print(report)
    out = REPO / "benchmarks" / "results" / "follow_delivery.md"
    out.write_text(report, encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
