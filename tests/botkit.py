"""Run the real application against the fake Bot API, and talk to it like a user."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from telegram.ext import Application

from acuerdo.bot.app import build_application
from acuerdo.bot.polling import start_polling, stop_application
from acuerdo.index import Embedder, Library, Settings
from acuerdo.index.calibration import Calibration
from acuerdo.index.writer import Notice
from tests import pgschemas
from tests.fake_telegram import DEFAULT_USER_ID, TOKEN, Call, FakeTelegram

ADMIN_ID = 777

POSTGRES_TEMPLATE_MARKER = ".postgres-template"
"""In a template data dir: the PostgreSQL schema holding its database (instead of acuerdo.db)."""
DATABASE_MARKER = ".database-url"
"""In a data dir copied from such a template: the DATABASE_URL of its own clone of the schema."""


@dataclass
class RunningBot:
    """The fake server, the running application and the library behind it."""

    fake: FakeTelegram
    app: Application  # type: ignore[type-arg]
    library: Library
    settings: Settings

    async def say(
        self, text: str, *, user_id: int = DEFAULT_USER_ID, **kwargs: Any
    ) -> dict[str, Any]:
        """Push a message; returns the update."""
        return self.fake.message(text, user_id=user_id, **kwargs)

    async def reply_to(
        self,
        text: str,
        *,
        user_id: int = DEFAULT_USER_ID,
        method: str = "sendMessage",
        timeout: float = 20.0,
        **kwargs: Any,
    ) -> Call:
        """Push a message and wait for the bot's next `method` call to that chat."""
        chat_id = kwargs.get("chat_id", user_id)
        before = len(self.sent(chat_id, method))
        self.fake.message(text, user_id=user_id, **kwargs)
        calls = await self.fake.await_call(
            method,
            lambda c: str(c.get("chat_id")) == str(chat_id),
            timeout=timeout,
            count=before + 1,
        )
        return calls[before]

    def sent(self, chat_id: int, method: str = "sendMessage") -> list[Call]:
        return [c for c in self.fake.calls(method) if str(c.get("chat_id")) == str(chat_id)]

    async def press(
        self, data: str, *, user_id: int = DEFAULT_USER_ID, message: dict[str, Any] | None = None
    ) -> Call:
        """Press an inline button; returns the bot's answerCallbackQuery call."""
        update = self.fake.callback_query(data, user_id=user_id, message=message)
        query_id = update["callback_query"]["id"]
        calls = await self.fake.await_call(
            "answerCallbackQuery", lambda c: c.get("callback_query_id") == query_id, timeout=20
        )
        return calls[0]


def make_settings(data_dir: Path, seeds: Path, fake: FakeTelegram, **overrides: object) -> Settings:
    """Settings for the bot on `data_dir`; its database is the one `copy_template` gave it."""
    values: dict[str, object] = {
        "ACUERDO_DATA_DIR": data_dir,
        "ACUERDO_SEEDS_DIR": seeds,
        "TELEGRAM_BOT_TOKEN": TOKEN,
        "TELEGRAM_ADMIN_IDS": str(ADMIN_ID),
        "TELEGRAM_API_BASE_URL": fake.base_url,
        "TELEGRAM_FILE_BASE_URL": fake.base_file_url,
        "ACUERDO_INDEX_POLL_SECONDS": 0.5,
    }
    marker = data_dir / DATABASE_MARKER
    if marker.is_file():
        values["DATABASE_URL"] = marker.read_text(encoding="utf-8").strip()
    values.update(overrides)
    return Settings(_env_file=None, **values)  # type: ignore[call-arg]


def copy_template(template: Path, data_dir: Path) -> None:
    """A fresh data dir from a seeded one (no re-embedding per test).

    A PostgreSQL template (see `POSTGRES_TEMPLATE_MARKER`) is cloned into a new schema, dropped
    after the test, and `make_settings` points the copy's DATABASE_URL at it.
    """
    shutil.copytree(template, data_dir, ignore=shutil.ignore_patterns(POSTGRES_TEMPLATE_MARKER))
    marker = template / POSTGRES_TEMPLATE_MARKER
    if marker.is_file():
        schema = pgschemas.clone_template(marker.read_text(encoding="utf-8").strip())
        (data_dir / DATABASE_MARKER).write_text(pgschemas.schema_url(schema), encoding="utf-8")


def dispose(library: Library) -> None:
    """Close the library's pooled connections (a test's schema can then be dropped at once)."""
    library.sessions.kw["bind"].dispose()


@contextlib.asynccontextmanager
async def polling(app: Application) -> AsyncIterator[Application]:  # type: ignore[type-arg]
    """Start `app` as `acuerdo bot` does (bot/polling.py: same update types, same error
    handling), and stop it the same way."""
    await app.initialize()
    await start_polling(app)
    try:
        yield app
    finally:
        await stop_application(app)


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings,
    embedder: Embedder,
    fake: FakeTelegram,
    *,
    notice: Notice | None = None,
    calibration: Calibration | None = None,
) -> AsyncIterator[RunningBot]:
    """Open the library, build the application as production does, and poll the fake server."""
    library = await asyncio.to_thread(
        Library.open,
        settings,
        embedder=embedder,
        notice=notice,
        calibration=calibration,
    )
    app = build_application(settings, library)
    try:
        async with polling(app):
            yield RunningBot(fake, app, library, settings)
    finally:
        dispose(library)
