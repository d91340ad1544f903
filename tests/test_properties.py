"""Property-based: arbitrary text, bytes and button data against the real CLI and the real bot.

Invariants: the CLI prints one valid JSON object per input line and never a traceback; the bot
answers each message once and each button press once, logs no handler error, and nothing an
attacker sends changes the stored documents, passages or feedback. Example counts are kept
modest: each CLI example is a process that loads the model.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import sqlite3
import threading
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from acuerdo.index.models import Document, Feedback, Passage
from tests.botkit import RunningBot
from tests.test_cli_boundaries import run_bytes

pytestmark = pytest.mark.slow

FIXTURE_OK = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    derandomize=True,
)

# One line of stdin: any bytes but the line break itself (universal newlines also split on \r).
LINE = st.one_of(
    st.binary(max_size=40),
    st.text(max_size=40).map(lambda t: t.encode("utf-8", "surrogatepass")),
).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" "))


def _stored(data_dir: Path) -> tuple[object, ...]:
    with sqlite3.connect(data_dir / "acuerdo.db") as connection:
        return (
            connection.execute("SELECT id, sha256 FROM documents ORDER BY id").fetchall(),
            connection.execute("SELECT count(*), max(id) FROM passages").fetchone(),
            connection.execute("SELECT count(*) FROM feedback").fetchone(),
            connection.execute("SELECT version FROM index_state").fetchone(),
        )


def _decodes(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def test_cli_ask_json_gives_one_object_per_line_whatever_the_bytes(seeded: Path) -> None:
    before = _stored(seeded / "data")

    @settings(FIXTURE_OK, max_examples=4)
    @given(st.lists(LINE, min_size=1, max_size=12))
    def check(lines: list[bytes]) -> None:
        result = run_bytes(seeded, "ask", "--json", "-", stdin=b"\n".join(lines) + b"\n")
        assert result.returncode == 0, result.stderr
        assert b"Traceback" not in result.stderr and b"inesperado" not in result.stderr
        records = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
        assert len(records) == len(lines)
        for line, record in zip(lines, records, strict=True):
            assert {"question", "answered", "results"} <= set(record)
            assert ("error" in record) == (not _decodes(line)), (line, record)
        assert _stored(seeded / "data") == before

    check()


def test_cli_ask_takes_any_argument_bytes_without_a_traceback(seeded: Path) -> None:
    before = _stored(seeded / "data")

    @settings(FIXTURE_OK, max_examples=3)
    @given(st.binary(min_size=1, max_size=30).filter(lambda b: b"\x00" not in b and b[:1] != b"-"))
    def check(argument: bytes) -> None:
        result = run_bytes(seeded, "ask", "--json", argument)
        assert result.returncode in (0, 1), result.stderr
        assert b"Traceback" not in result.stderr and b"inesperado" not in result.stderr
        [record] = [json.loads(line) for line in result.stdout.decode("utf-8").splitlines()]
        assert ("error" in record) == (not _decodes(argument)) or not argument.strip()
        assert _stored(seeded / "data") == before

    check()


def _library_state(bot: RunningBot) -> tuple[int, int, int, int]:
    with bot.library.sessions() as session:
        return (
            int(session.scalar(select(func.count(Document.id))) or 0),
            int(session.scalar(select(func.count(Passage.id))) or 0),
            int(session.scalar(select(func.max(Passage.id))) or 0),
            int(session.scalar(select(func.count(Feedback.id))) or 0),
        )


CALLBACK = st.one_of(
    st.text(max_size=64),
    st.builds(
        lambda kind, numbers: ":".join([kind, *map(str, numbers)]),
        st.sampled_from(["n", "f", "ex", "p", "del", "up", "x"]),
        st.lists(st.integers(min_value=-(2**70), max_value=2**70), max_size=4),
    ),
)


async def test_the_bot_answers_any_button_data_once_and_changes_nothing(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    owner = await bot.reply_to("¿qué dijeron sobre el fentanilo?", user_id=1001)
    assert owner.ok
    attacker = 6666
    await bot.reply_to("/ayuda", user_id=attacker)
    before = _library_state(bot)
    fake = bot.fake

    @settings(FIXTURE_OK, max_examples=40)
    @given(CALLBACK)
    def check(data: str) -> None:
        sent_before = len(bot.sent(attacker)) + len(bot.sent(attacker, "editMessageText"))
        update = fake.callback_query(data, user_id=attacker)
        query_id = update["callback_query"]["id"]
        fake.wait_for(
            "answerCallbackQuery", lambda c: c.get("callback_query_id") == query_id, timeout=20
        )
        answers = [
            c for c in fake.calls("answerCallbackQuery") if c.get("callback_query_id") == query_id
        ]
        assert len(answers) == 1
        after = len(bot.sent(attacker)) + len(bot.sent(attacker, "editMessageText"))
        assert after - sent_before <= 1
        assert _library_state(bot) == before

    await asyncio.to_thread(check)
    await asyncio.sleep(0.5)
    assert not [r for r in caplog.records if "error while handling" in r.getMessage()]


async def test_the_bot_replies_once_to_any_text(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR)
    before = _library_state(bot)
    users = itertools.count(20_000)
    lock = threading.Lock()

    @settings(FIXTURE_OK, max_examples=25)
    @given(st.text(max_size=300))
    def check(text: str) -> None:
        with lock:
            user = next(users)
        bot.fake.message(text, user_id=user)
        replies = bot.fake.wait_for(
            "sendMessage", lambda c: str(c.get("chat_id")) == str(user), timeout=20
        )
        assert len(replies) == 1 and replies[0].ok, replies[0].error
        assert len(replies[0].get("text")) <= 4096

    await asyncio.to_thread(check)
    await asyncio.sleep(1.0)
    per_chat: dict[str, int] = {}
    for call in bot.fake.calls("sendMessage"):
        per_chat[str(call.get("chat_id"))] = per_chat.get(str(call.get("chat_id")), 0) + 1
    assert all(count == 1 for chat, count in per_chat.items() if int(chat) >= 20_000)
    assert _library_state(bot) == before
    assert not [r for r in caplog.records if "error while handling" in r.getMessage()]
