"""How long `chartledger --help` takes, against the bare start of the same interpreter.

Each round runs, in a shuffled order, a fresh `python -c pass`, `chartledger --help` (the console
script beside this interpreter) and `python -m cli --help`, output thrown away; after one warm-up
round, the median of RUNS rounds counts. Then one `python -X importtime -m cli --help` shows what
the start imports, the largest first. Goal (issue 11): `chartledger --help` < 150 ms.

Usage: .venv/bin/python bench/cli_help.py [--runs 21]
"""

from __future__ import annotations

import argparse
import random
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import machine_line, print_table  # noqa: E402

GOAL_MS = 150.0


def _subjects() -> dict[str, list[str]]:
    script = Path(sys.executable).with_name("chartledger")
    chartledger = [str(script)] if script.exists() else [sys.executable, "-m", "cli"]
    return {
        "python -c pass": [sys.executable, "-c", "pass"],
        "chartledger --help": [*chartledger, "--help"],
        "python -m cli --help": [sys.executable, "-m", "cli", "--help"],
    }


def _run_ms(command: list[str]) -> float:
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, check=True)
    return (time.perf_counter() - started) * 1000


def _largest_imports(count: int) -> list[tuple[str, float]]:
    """The modules `python -m cli --help` imports itself (not through another), by cumulative
    import time in ms."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cli", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    # "import time: <self us> | <cumulative us> | <two spaces per level><module>"
    found = [
        (matched.group(2), int(matched.group(1)) / 1000)
        for line in done.stderr.splitlines()
        if (matched := re.match(r"import time:\s+\d+ \|\s+(\d+) \| (\S+)$", line))
    ]
    return sorted(found, key=lambda entry: -entry[1])[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed rounds (default 21)")
    args = parser.parse_args()

    subjects = _subjects()
    print(machine_line())
    print(f"{args.runs} rounds, each subject once per round in a shuffled order; wall time in ms")
    times: dict[str, list[float]] = {name: [] for name in subjects}
    for round_number in range(args.runs + 1):
        order = list(subjects)
        random.shuffle(order)
        for name in order:
            elapsed = _run_ms(subjects[name])
            if round_number:  # the first round only warms the caches
                times[name].append(elapsed)

    bare = statistics.median(times["python -c pass"])
    rows = []
    for name, values in times.items():
        middle = statistics.median(values)
        over = "" if name == "python -c pass" else f"{middle - bare:.1f}"
        rows.append(
            [name, f"{middle:.1f}", f"{min(values):.1f}", f"{max(values):.1f}", over or "-"]
        )
    print_table(
        "Start-up (ms)", ["subject", "median", "min", "max", "median - python -c pass"], rows
    )

    print()
    print("Largest imports of `python -m cli --help` (cumulative ms, one run):")
    for name, ms in _largest_imports(8):
        print(f"  {ms:7.1f}  {name}")

    shown = statistics.median(times["chartledger --help"])
    verdict = "MET" if shown < GOAL_MS else "NOT MET"
    print()
    print(f"GOAL chartledger --help: {shown:.0f} ms (target < {GOAL_MS:.0f} ms) {verdict}")


if __name__ == "__main__":
    main()
