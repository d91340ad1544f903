"""Child process of benchmarks/query.py: import the library, open a data dir, answer questions.

Kept minimal on purpose: everything it imports before the first answer is part of the cold
start being measured. Prints one line `RESULT {json}` on stdout.

    python benchmarks/coldstart_child.py DATA_DIR SEEDS_DIR QUESTIONS_JSON COUNT [split]

With `split`, each encoder's first call is timed on its own before the first question, to show
what the first answer pays for (lazy model loading).
"""

from __future__ import annotations

import time

T0 = time.perf_counter()  # the first statement the interpreter runs for us


def _since_process_start() -> float:
    """Seconds since the kernel started this process (10 ms resolution: /proc starttime)."""
    import os

    with open("/proc/self/stat", encoding="ascii") as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    start_ticks = int(fields[19])  # field 22 of stat(5); fields[0] is field 3
    return time.clock_gettime(time.CLOCK_BOOTTIME) - start_ticks / os.sysconf("SC_CLK_TCK")


def _status_kib(field: str) -> int:
    """A memory line of /proc/self/status (VmRSS: current, VmHWM: peak of this process)."""
    with open("/proc/self/status", encoding="ascii") as handle:
        for line in handle:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    return 0


def main() -> None:
    import json
    import resource
    import sys

    data_dir, seeds_dir, questions_file, count = sys.argv[1:5]
    split = sys.argv[5:6] == ["split"]
    from acuerdo.index import Library, Settings

    t_import = time.perf_counter()
    peak_after_import = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    rss_after_import = _status_kib("VmRSS")

    settings = Settings(  # type: ignore[call-arg]
        _env_file=None, ACUERDO_DATA_DIR=data_dir, ACUERDO_SEEDS_DIR=seeds_dir
    )
    library = Library.open(settings)
    t_open = time.perf_counter()

    with open(questions_file, encoding="utf-8") as handle:
        questions = json.load(handle)
    first_calls: dict[str, float] = {}
    if split:
        started = time.perf_counter()
        library.embedder.embed_queries(["hola"])
        first_calls["primary"] = time.perf_counter() - started
        t_open = time.perf_counter()
    first = library.ask(questions[0])
    t_answer = time.perf_counter()
    wall_answer = time.time()
    since_start = _since_process_start()

    later: list[float] = []
    for i in range(1, int(count)):
        started = time.perf_counter()
        library.ask(questions[i % len(questions)])
        later.append(time.perf_counter() - started)

    result = {
        "import_s": t_import - T0,
        "open_s": t_open - t_import,
        "first_ask_s": t_answer - t_open,
        "answer_since_top_s": t_answer - T0,
        "answer_since_process_start_s": since_start,
        "answer_wall": wall_answer,
        "answered": first.answered,
        "asked": int(count),
        "later_asks_s": later,
        "maxrss_after_import_kib": peak_after_import,
        "rss_after_import_kib": rss_after_import,
        "maxrss_end_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "rss_end_kib": _status_kib("VmRSS"),
        "hwm_end_kib": _status_kib("VmHWM"),
        "first_calls_s": first_calls,
    }
    print("RESULT " + json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
