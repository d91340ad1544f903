"""The end-to-end bot tests run on the database ACUERDO_TEST_DATABASE names (see conftest.py).

`.ci/run` runs the bot tests a second time with ACUERDO_TEST_DATABASE=postgresql; these checks make
sure that pass really talks to PostgreSQL, on a private copy of the seeded template.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from acuerdo.index.models import Document, IndexState, Passage
from tests.botkit import RunningBot, copy_template, make_settings
from tests.conftest import E2E_DATABASE, SEEDS
from tests.fake_telegram import FakeTelegram

pytestmark = pytest.mark.slow


async def test_the_bot_runs_on_the_chosen_database_with_the_seed_already_indexed(
    bot: RunningBot,
) -> None:
    backend = bot.library.sessions.kw["bind"].dialect.name
    assert backend == E2E_DATABASE
    assert bot.settings.resolved_database_url.startswith(E2E_DATABASE)
    with bot.library.sessions() as session:
        documents = session.execute(select(func.count(Document.id))).scalar_one()
        passages = session.execute(select(func.count(Passage.id))).scalar_one()
        state = session.get(IndexState, 1)
    assert (documents, passages) == (1, 13)
    assert state is not None and state.seeded and state.model_id == bot.library.embedder.model_id
    health = bot.library.health()
    assert health["ok"] and health["index_version"] == health["database_version"]


async def test_each_copy_of_the_template_has_its_own_database(
    tmp_path: Path, seeded_template: Path, fake_telegram: FakeTelegram
) -> None:
    urls = []
    for name in ("one", "two"):
        copy_template(seeded_template, tmp_path / name)
        urls.append(make_settings(tmp_path / name, SEEDS, fake_telegram).resolved_database_url)
    assert urls[0] != urls[1]
    assert all(url.startswith(E2E_DATABASE) for url in urls)
