"""Following, as deployed: the real `acuerdo bot` process, a document added with the CLI while
it runs, and the notification delivered by the bot's sender; killed mid-way, nothing is lost."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.fake_telegram import FakeTelegram, no_proxy_env, parse_html
from tests.test_bot_modes import LONG_TOKEN, _bot_process, _stop
from tests.test_follow_bot import ARMS, ARMS_DOC

pytestmark = pytest.mark.slow


def _cli_add(tmp_path: Path, path: Path) -> subprocess.CompletedProcess[str]:
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACUERDO_", "TELEGRAM_", "DATABASE_URL"))
    }
    environment["ACUERDO_DATA_DIR"] = str(tmp_path / "data")
    acuerdo = Path(sys.executable).parent / "acuerdo"
    return subprocess.run(
        [str(acuerdo), "index", "add", str(path), "--title", "Seguimiento"],
        capture_output=True,
        text=True,
        env=environment,
        timeout=300,
    )


def test_a_cli_upload_reaches_followers_through_the_running_bot_even_after_a_kill(
    tmp_path: Path, seeded_template: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    no_proxy_env(monkeypatch)
    followers = [9101, 9102, 9103]
    document = tmp_path / "frontera.txt"
    document.write_text(ARMS_DOC, encoding="utf-8")
    with FakeTelegram(token=LONG_TOKEN) as fake:
        process = _bot_process(tmp_path, seeded_template, fake)
        try:
            fake.wait_for("setMyCommands", timeout=60)
            for user in followers:
                fake.message(f"/seguir {ARMS}", user_id=user)
                fake.wait_for(
                    "sendMessage",
                    lambda c, user=user: c.get("chat_id") == user and "avisar" in c.get("text", ""),
                    timeout=30,
                )
            # The bot is killed without a chance to send anything; the CLI adds the document.
            process.kill()
            process.wait(timeout=20)
            added = _cli_add(tmp_path, document)
            assert added.returncode == 0, added.stderr
            assert "3 avisos para quienes siguen sus temas" in added.stdout
            # A new bot process delivers every one of them, once.
            process = _bot_process(tmp_path, seeded_template, fake)
            for user in followers:
                sent = fake.wait_for(
                    "sendMessage",
                    lambda c, user=user: c.get("chat_id") == user and "armas" in c.get("text", ""),
                    timeout=60,
                )
                assert "tráfico ilícito de armas" in parse_html(sent[0].get("text"))[0]
        finally:
            output = _stop(process)
        assert "Traceback" not in output, output
        for user in followers:
            quotes = [
                c
                for c in fake.calls("sendMessage")
                if c.get("chat_id") == user and "armas de fuego" in c.get("text", "")
            ]
            assert len(quotes) == 1, output
