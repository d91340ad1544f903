"""Faults: the database going away and coming back, a killed indexer, lost index files."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from acuerdo.index import Library, StorageError
from acuerdo.index.embedding import E5SmallEmbedder
from tests.botkit import make_settings, running_bot
from tests.cli_support import InProcessCli
from tests.conftest import SEEDS, HashingEmbedder
from tests.fake_telegram import FakeTelegram, parse_html
from tests.tcpproxy import TcpProxy

pytestmark = [pytest.mark.slow, pytest.mark.postgres]


def _through(proxy: TcpProxy, postgres_url: str) -> str:
    return postgres_url.replace("127.0.0.1:5432", f"127.0.0.1:{proxy.port}")


async def test_database_going_away_while_serving_then_coming_back(
    tmp_path: Path,
    postgres_url: str,
    proxy: TcpProxy,
    e5: E5SmallEmbedder,
    fake_telegram: FakeTelegram,
) -> None:
    settings = make_settings(
        tmp_path / "data", SEEDS, fake_telegram, DATABASE_URL=_through(proxy, postgres_url)
    )
    async with running_bot(settings, e5, fake_telegram) as bot:
        assert "fentanilo" in parse_html((await bot.reply_to("fentanilo")).get("text"))[0]
        proxy.cut()
        # Questions are answered from the in-memory index even without the query log...
        reply = await bot.reply_to("¿hubo conferencia de prensa?")
        assert "conferencia de prensa" in parse_html(reply.get("text"))[0]
        # ...and what needs the database gets an apology, not silence.
        reply = await bot.reply_to("/fuentes")
        assert "base de datos no está disponible" in reply.get("text")
        proxy.restore()
        deadline = time.monotonic() + 20
        while True:
            reply = await bot.reply_to("/fuentes")
            if "Comunicado conjunto" in reply.get("text"):
                break
            assert time.monotonic() < deadline, (
                "the bot did not recover after the database returned"
            )
        answered = await bot.reply_to("robo de combustible")
        assert "<blockquote" in answered.get("text")
        assert "Otro pasaje ▶" in json.dumps(answered.get("reply_markup"), ensure_ascii=False)


def test_unreachable_database_at_start_is_one_clear_error(
    tmp_path: Path, proxy: TcpProxy, postgres_url: str, settings_for
) -> None:  # type: ignore[no-untyped-def]
    proxy.cut()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ACUERDO_", "TELEGRAM_"))}
    env.update(
        DATABASE_URL=_through(proxy, postgres_url),
        ACUERDO_DATA_DIR=str(tmp_path),
        TELEGRAM_BOT_TOKEN="1:unused",
    )
    acuerdo = str(Path(sys.executable).parent / "acuerdo")
    result = subprocess.run([acuerdo, "bot"], capture_output=True, text=True, env=env, timeout=120)
    assert result.returncode == 1
    assert "base de datos" in result.stderr and "Traceback" not in result.stderr
    proxy.restore()
    library = Library.open(
        settings_for(DATABASE_URL=_through(proxy, postgres_url)),
        embedder=HashingEmbedder(),
    )
    assert library.documents()  # the same URL works once the database is back


def test_storage_errors_name_no_password(settings_for) -> None:  # type: ignore[no-untyped-def]
    settings = settings_for(DATABASE_URL="postgresql+psycopg://u:hunter2@127.0.0.1:1/x")
    with pytest.raises(StorageError) as info:
        Library.open(settings, embedder=HashingEmbedder())
    assert "hunter2" not in str(info.value)


def _cli(tmp_path: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACUERDO_", "TELEGRAM_", "DATABASE_URL"))
    }
    environment.update(ACUERDO_DATA_DIR=str(tmp_path / "data"), **env)
    acuerdo = str(Path(sys.executable).parent / "acuerdo")
    return subprocess.Popen(
        [acuerdo, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment
    )


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_indexer_killed_mid_embedding_leaves_no_partial_document(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest, cli: InProcessCli
) -> None:
    # A library already holding the indexed seed, on the backend under test.
    if backend == "sqlite":
        request.getfixturevalue("seeded")
        env = {}
    else:
        env = {"DATABASE_URL": request.getfixturevalue("seeded_postgres_url")}
    big = tmp_path / "largo.txt"
    big.write_text(
        "\n\n".join(
            f"Párrafo {i}: el comité revisará la cooperación número {i} con detalle."
            for i in range(60)
        ),
        encoding="utf-8",
    )
    indexer = _cli(tmp_path, "index", "add", str(big), **env)
    assert indexer.stderr is not None
    while True:  # wait until it is really embedding
        line = indexer.stderr.readline()
        assert line, "the indexer ended before embedding"
        if "pasajes" in line and not line.split(":")[-1].strip().startswith("0/"):
            break
    os.kill(indexer.pid, signal.SIGKILL)
    indexer.wait(timeout=30)
    # What is left, seen as the next `acuerdo` run sees it (in process: only the kill needs one).
    listing = cli("index", "list", env=env)
    assert "largo" not in listing.stdout and len(listing.stdout.strip().splitlines()) == 1
    again = cli("index", "add", str(big), env=env)
    assert again.returncode == 0, again.stderr
    assert "60 pasajes" in again.stdout


def test_deleted_index_file_is_rebuilt_from_the_database(seeded: Path) -> None:
    tmp_path = seeded
    first = _cli(tmp_path, "ask", "fentanilo", "--json")
    out, _ = first.communicate(timeout=120)
    before = json.loads(out)["results"]
    (tmp_path / "data" / "vectors.faiss").unlink()
    second = _cli(tmp_path, "ask", "fentanilo", "--json")
    out, err = second.communicate(timeout=120)
    assert json.loads(out)["results"] == before
    assert "Construyendo el índice vectorial" in err
    assert (tmp_path / "data" / "vectors.faiss").exists()
