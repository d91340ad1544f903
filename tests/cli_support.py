"""Running the `acuerdo` command in tests: in process through `bot.cli.main([...])` (fast: the
session's loaded e5 is reused), or as a subprocess for the few tests about the process itself."""

from __future__ import annotations

import io
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from acuerdo.bot.cli import main
from acuerdo.index import E5SmallEmbedder


def acuerdo() -> str:
    found = shutil.which("acuerdo", path=str(Path(sys.executable).parent)) or shutil.which(
        "acuerdo"
    )
    assert found, "the console script `acuerdo` is not installed"
    return found


def cli_environment(tmp_path: Path, env: dict[str, str] | None = None) -> dict[str, str]:
    """The caller's environment without our settings, a data dir under `tmp_path`, offline."""
    environment = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ACUERDO_", "DATABASE_URL", "TELEGRAM_"))
    }
    environment.update({"ACUERDO_DATA_DIR": str(tmp_path / "data"), "HF_HUB_OFFLINE": "1"})
    environment.update(env or {})
    return environment


def run_subprocess(
    tmp_path: Path, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """`acuerdo *args` as a user runs it: its own process, cwd `tmp_path`."""
    return subprocess.run(
        [acuerdo(), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env=cli_environment(tmp_path, env),
        timeout=300,
    )


@dataclass(frozen=True)
class CliResult:
    returncode: int
    stdout: str
    stderr: str


class InProcessCli:
    """`acuerdo *args` through `main([...])`: same environment, cwd and UTF-8 streams as
    `run_subprocess`, with the bundled model already loaded."""

    def __init__(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, e5: E5SmallEmbedder):
        self._tmp_path = tmp_path
        self._monkeypatch = monkeypatch
        # The registry's e5 factory builds whatever this name is when a library opens.
        monkeypatch.setattr("acuerdo.index.embedding.E5SmallEmbedder", lambda: e5)

    def __call__(
        self, *args: str, stdin: str | None = None, env: dict[str, str] | None = None
    ) -> CliResult:
        with pytest.MonkeyPatch.context() as patch:
            for name in list(os.environ):
                patch.delenv(name)
            for name, value in cli_environment(self._tmp_path, env).items():
                patch.setenv(name, value)
            patch.chdir(self._tmp_path)
            streams = {
                name: io.TextIOWrapper(io.BytesIO(data), encoding="utf-8")
                for name, data in (
                    ("stdin", (stdin or "").encode()),
                    ("stdout", b""),
                    ("stderr", b""),
                )
            }
            for name, stream in streams.items():
                patch.setattr(sys, name, stream)
            try:
                code = main(list(args))
            except SystemExit as exit_:  # argparse refusing an argument, as the process would
                code = exit_.code if isinstance(exit_.code, int) else 1
            texts = []
            for name in ("stdout", "stderr"):
                stream = streams[name]
                stream.flush()
                buffer = stream.buffer
                assert isinstance(buffer, io.BytesIO)
                texts.append(buffer.getvalue().decode("utf-8"))
        return CliResult(code, texts[0], texts[1])
