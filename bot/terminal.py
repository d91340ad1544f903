"""The terminal boundary: bytes in and out of the `acuerdo` command, decoded explicitly.

Questions and titles come from anyone (Telegram users, uploaded files), and escape sequences in
them would reach an operator's terminal (retitle it, hide lines, fake output) when printed by
`acuerdo stats` or `index list`. Input lines and arguments that are not valid text are reported
one by one instead of ending the run.
"""

from __future__ import annotations

import io
import json
import re
import sys
from collections.abc import Callable
from typing import Any

# C0 and C1 controls (tabs and newlines are handled by the caller), bidirectional overrides and
# isolates (which reorder what is shown), and lone surrogates (undecodable bytes).
_UNSAFE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]")
_SURROGATE = re.compile("[\ud800-\udfff]")

NOT_UTF8 = "no es texto UTF-8 válido"


def printable(text: str) -> str:
    """`text` with every control or reordering character shown as a visible escape (`\\x1b`)."""
    return _UNSAFE.sub(_visible, text)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def undecodable(text: str) -> bool:
    """True when `text` holds bytes that did not decode (surrogate escapes from argv/stdin)."""
    return _SURROGATE.search(text) is not None


def configure_streams() -> None:
    """Never fail on bytes: undecodable input becomes surrogate escapes that we check, and text
    the terminal's encoding cannot show is escaped rather than raising."""
    for stream, errors in ((sys.stdin, "surrogateescape"), (sys.stdout, "backslashreplace")):
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors=errors)
    if isinstance(sys.stderr, io.TextIOWrapper):
        sys.stderr.reconfigure(errors="backslashreplace")


def json_line(record: dict[str, Any]) -> str:
    """One JSON object; non-ASCII kept only when stdout is UTF-8, so the line is always valid."""
    encoding = (getattr(sys.stdout, "encoding", None) or "").lower().replace("-", "")
    return json.dumps(record, ensure_ascii=encoding != "utf8")


def progress_bar(label: str) -> Callable[[int, int], None]:
    """A progress callback: a bar on a terminal, else a plain line every ~10% (for logs)."""
    if not sys.stderr.isatty():
        last = [-1]

        def report(done: int, total: int) -> None:
            step = done * 10 // total if total else 10
            if step != last[0]:
                last[0] = step
                print(f"{label}: {done}/{total} pasajes", file=sys.stderr, flush=True)

        return report

    from tqdm import tqdm

    bar: list[tqdm] = []

    def update(done: int, total: int) -> None:
        if not bar:
            bar.append(tqdm(total=total, desc=label, unit="pasaje", file=sys.stderr, leave=False))
        bar[0].n = done
        bar[0].refresh()
        if done >= total:
            bar[0].close()

    return update
