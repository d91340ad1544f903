"""Issue 12, item 3: no file becomes more than the limits once read, through the real entry points.

`acuerdo index add`: /dev/zero stops at the size limit, a FIFO never hangs, a file whose parsing
overruns the time limit is stopped (in process, through `main([...])`); a .docx zip bomb (honest
or lying headers) is refused quickly with little memory (a subprocess, whose memory is capped).
The bot against the fake Bot API: a bomb gets a polite refusal, and other users are answered
while a slow file is being read and refused.
"""

from __future__ import annotations

import asyncio
import io
import os
import subprocess
import sys
import threading
import zipfile
from pathlib import Path

import docx
import pytest

from tests.botkit import ADMIN_ID, copy_template, make_settings, running_bot
from tests.cli_support import InProcessCli
from tests.cli_support import acuerdo as _acuerdo
from tests.cli_support import run_subprocess as run
from tests.conftest import SEEDS
from tests.test_admin_bot import plain, to_chat, upload

pytestmark = pytest.mark.slow

BOMB_BYTES = 150 * 2**20  # past the 100 MB a .docx may unpack to
DOCUMENT_XML = "word/document.xml"


def docx_bomb(*, lie: bool) -> bytes:
    """A real .docx whose document.xml is padded to `BOMB_BYTES`; `lie` declares 1 KB instead."""
    source = io.BytesIO()
    document = docx.Document()
    document.add_paragraph("Texto inocente.")
    document.save(source)
    out = io.BytesIO()
    with zipfile.ZipFile(source) as original, zipfile.ZipFile(out, "w") as bomb:
        for item in original.infolist():
            data = original.read(item)
            if item.filename != DOCUMENT_XML:
                bomb.writestr(item, data, compress_type=zipfile.ZIP_DEFLATED)
                continue
            head, tail = data.split(b"<w:body>", 1)
            info = zipfile.ZipInfo(DOCUMENT_XML)
            info.compress_type = zipfile.ZIP_DEFLATED
            with bomb.open(info, "w") as stream:
                stream.write(head + b"<!--")
                chunk = b" " * 2**20
                for _ in range(BOMB_BYTES // len(chunk)):
                    stream.write(chunk)
                stream.write(b"--><w:body>" + tail)
    data = bytearray(out.getvalue())
    if lie:
        name = DOCUMENT_XML.encode()
        local = data.index(b"PK\x03\x04", 0)
        while data[local + 30 : local + 30 + len(name)] != name:
            local = data.index(b"PK\x03\x04", local + 4)
        data[local + 22 : local + 26] = (1024).to_bytes(4, "little")
        central = data.index(b"PK\x01\x02")
        while data[central + 46 : central + 46 + len(name)] != name:
            central = data.index(b"PK\x01\x02", central + 4)
        data[central + 24 : central + 28] = (1024).to_bytes(4, "little")
    assert len(data) < 2 * 2**20  # a small upload
    return bytes(data)


def add_measured(
    tmp_path: Path, *paths: str, env: dict[str, str] | None = None
) -> tuple[subprocess.CompletedProcess[str], int]:
    """`acuerdo index add` and the peak RSS (KB) of it and every process it started."""
    wrapper = (
        "import resource, subprocess, sys\n"
        "done = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
        "sys.stdout.write(done.stdout)\n"
        "sys.stderr.write(done.stderr)\n"
        "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, file=sys.stderr)\n"
        "sys.exit(done.returncode)\n"
    )
    environment = {k: v for k, v in os.environ.items() if not k.startswith("ACUERDO_")}
    environment.update({"ACUERDO_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"})
    environment.update(env or {})
    result = subprocess.run(
        [sys.executable, "-c", wrapper, _acuerdo(), "index", "add", *paths],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=environment,
        timeout=300,
    )
    *lines, peak = result.stderr.strip().splitlines()
    result.stderr = "\n".join(lines)
    return result, int(peak)


@pytest.mark.parametrize("lie", [False, True], ids=["declared", "lying-headers"])
def test_docx_bomb_is_refused_with_little_memory(tmp_path: Path, lie: bool) -> None:
    bomb = tmp_path / "bomba.docx"
    bomb.write_bytes(docx_bomb(lie=lie))
    result, peak_kb = add_measured(tmp_path, str(bomb))
    assert result.returncode == 1, result.stdout
    assert "Traceback" not in result.stderr
    expected = "dañado" if lie else "100 MB una vez descomprimido"
    assert expected in result.stderr
    # The defect took the CLI to 2.5 GB; the model and the reader stay far below that.
    assert peak_kb < 900 * 1024, peak_kb
    assert "bomba" not in run(tmp_path, "index", "list").stdout


def test_dev_zero_stops_at_the_limit_and_a_fifo_never_hangs(
    tmp_path: Path, cli: InProcessCli
) -> None:
    zero = tmp_path / "cero.txt"
    zero.symlink_to("/dev/zero")
    fifo = tmp_path / "tubo.txt"
    os.mkfifo(fifo)
    result = cli("index", "add", str(zero), env={"ACUERDO_READ_TIMEOUT_SECONDS": "1"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "más de 20 MB" in result.stderr and "he dejado de leerlo" in result.stderr

    nobody_writes = cli("index", "add", str(fifo), env={"ACUERDO_READ_TIMEOUT_SECONDS": "1"})
    assert nobody_writes.returncode == 1 and "no terminó de llegar en 1 s" in nobody_writes.stderr

    def write() -> None:
        with fifo.open("w", encoding="utf-8") as pipe:
            pipe.write("Los viveros de Coahuila recibirán fondos para producir plántulas.\n")

    writer = threading.Thread(target=write)
    writer.start()
    through_a_pipe = cli("index", "add", str(fifo), "--title", "Viveros")
    writer.join(timeout=60)
    assert through_a_pipe.returncode == 0, through_a_pipe.stderr
    assert "Viveros: 1 pasajes" in through_a_pipe.stdout


def slow_html(rows: int = 100_000) -> bytes:
    """Small paragraphs; 100,000 (8 MB) took the HTML parser 10 s here, within the upload limit."""
    row = "<div><p>La mesa técnica revisó la obra hidráulica del tramo y fijó metas.</p></div>\n"
    return ("<html><body>" + row * rows + "</body></html>").encode()


def test_parsing_past_the_time_limit_is_stopped(tmp_path: Path, cli: InProcessCli) -> None:
    page = tmp_path / "lento.html"
    page.write_bytes(slow_html())
    result = cli("index", "add", str(page), env={"ACUERDO_READ_TIMEOUT_SECONDS": "1"})
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "llevaba más de 1 s y lo he detenido" in result.stderr


async def test_bot_refuses_bombs_and_slow_files_and_keeps_answering(
    tmp_path: Path,
    seeded_template: Path,
    e5,
    fake_telegram,  # type: ignore[no-untyped-def]
) -> None:
    copy_template(seeded_template, tmp_path / "data")
    settings = make_settings(
        tmp_path / "data", SEEDS, fake_telegram, ACUERDO_READ_TIMEOUT_SECONDS=3
    )
    async with running_bot(settings, e5, fake_telegram) as bot:
        documents = bot.library.documents()
        refused = await upload(bot, docx_bomb(lie=False), "bomba.docx", caption="Bomba")
        assert "100 MB una vez descomprimido" in plain(refused)

        before = len(to_chat(bot, ADMIN_ID))
        # ~8 MB: about 10 s of parsing, stopped at 3 s; a question asked meanwhile is answered
        # at once even on a busy machine.
        big = slow_html()
        bot.fake.document_message(big, "lento.html", "text/html", user_id=ADMIN_ID)
        await bot.fake.await_call(
            "editMessageText", lambda c: "Leyendo «lento.html»" in c.get("text", ""), timeout=30
        )
        answer = await bot.reply_to("¿qué dijeron sobre el fentanilo?")
        assert "fentanilo" in plain(answer)
        deadline = asyncio.get_running_loop().time() + 60
        while not any("lo he detenido" in plain(c) for c in to_chat(bot, ADMIN_ID)[before:]):
            assert asyncio.get_running_loop().time() < deadline
            await asyncio.sleep(0.05)
        stopped = next(c for c in to_chat(bot, ADMIN_ID)[before:] if "lo he detenido" in plain(c))
        assert answer.timestamp < stopped.timestamp  # answered while the file was being read
        assert bot.library.documents() == documents
