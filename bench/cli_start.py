"""How long `chartledger chart show` takes end to end on the demo's ledger, and `--help`.

The demo (`chartledger demo --dir DIR`, about 20 s) builds a small hospital's ledger on SQLite;
its last lines name the attending's home and the new patient's MRN. Each round then runs, in a
shuffled order, fresh processes of `python -c pass`, `chartledger --help` and `chartledger chart
show MRN --purpose treatment` as that attending (start, open the ledger, record the access,
read the chart, print; output thrown away). After one warm-up round, the median and the max of
RUNS rounds count, twice: with the .pyc of every module (a normal install; bytecode kept in a
temporary PYTHONPYCACHEPREFIX, never in the tree), then with our own modules compiled at every
start (PYTHONDONTWRITEBYTECODE, as this machine's sessions run: the tree has no `__pycache__`).
Then one `python -X importtime -m cli chart show …` shows what the command imports, the
largest first, and which aggregate modules it loaded.

Goals (issue 14): `chart show` < 300 ms every run (the max), `--help` < 100 ms (the median).

Usage: .venv/bin/python bench/cli_start.py [--runs 21] [--dir DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import machine_line, print_table  # noqa: E402

SHOW_GOAL_MS = 300.0
HELP_GOAL_MS = 100.0
PACKAGES = ("cli", "ledger", "policies", "projections")
KEPT = "cli_start.json"
"""Where a built demo folder keeps the home and MRN this bench uses, so `--dir` reuses it."""


def _chartledger() -> list[str]:
    script = Path(sys.executable).with_name("chartledger")
    return [str(script)] if script.exists() else [sys.executable, "-m", "cli"]


def _demo(folder: Path) -> dict[str, str]:
    """Build the demo in FOLDER (or reuse the one built there before): the attending's home and
    user name, and the MRN of the patient the demo admitted."""
    kept = folder / KEPT
    if kept.is_file():
        found: dict[str, str] = json.loads(kept.read_text())
        return found
    print(f"building the demo's ledger in {folder} …", flush=True)
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--dir", str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"the demo failed:\n{done.stderr[-2000:]}")
    tail = done.stdout.rpartition("Try it yourself:")[2]
    who = re.search(r"export CHARTLEDGER_HOME=(\S+) CHARTLEDGER_USER=(\S+)", tail)
    mrn = re.search(r"chartledger chart show (\S+) --purpose treatment", tail)
    if who is None or mrn is None:
        sys.exit("the demo's last lines no longer name the attending's home and the MRN")
    found = {"home": who.group(1), "user": who.group(2), "mrn": mrn.group(1)}
    kept.write_text(json.dumps(found))
    print(f"built in {time.perf_counter() - started:.0f} s", flush=True)
    return found


def _run_ms(command: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Wall time and the child's CPU time (user + system), in ms: on a machine other work
    shares, the CPU time moves less."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, check=True)
    wall = (time.perf_counter() - started) * 1000
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime) * 1000
    return wall, cpu


def _imports(show: list[str], env: dict[str, str]) -> list[tuple[str, int, float]]:
    """Each module `python -X importtime -m cli chart show …` imports: name, depth, cumulative
    ms."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cli", *show],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    # "import time: <self us> | <cumulative us> | <two spaces per level><module>"
    return [
        (matched.group(3), len(matched.group(2)) // 2, int(matched.group(1)) / 1000)
        for line in done.stderr.splitlines()
        if (matched := re.match(r"import time:\s+\d+ \|\s+(\d+) \| ( *)(\S+)$", line))
    ]


def _rounds(
    subjects: dict[str, list[str]], env: dict[str, str], runs: int
) -> dict[str, list[tuple[float, float]]]:
    """RUNS shuffled rounds after one warm-up round: each subject's (wall, CPU) times in ms."""
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in subjects}
    for round_number in range(runs + 1):
        order = list(subjects)
        random.shuffle(order)
        for name in order:
            elapsed = _run_ms(subjects[name], env)
            if round_number:  # the first round only warms the caches
                times[name].append(elapsed)
    return times


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="timed rounds (default 21)")
    parser.add_argument(
        "--dir",
        type=Path,
        help="where to build the demo, or a folder this bench built it in before "
        "(default: a new temporary folder)",
    )
    args = parser.parse_args()

    folder = args.dir or Path(tempfile.mkdtemp(prefix="chartledger-start-"))
    demo = _demo(folder)
    base = {**os.environ, "CHARTLEDGER_HOME": demo["home"], "CHARTLEDGER_USER": demo["user"]}
    base.pop("CHARTLEDGER_DB", None)
    base.pop("PYTHONDONTWRITEBYTECODE", None)
    show = ["chart", "show", demo["mrn"], "--purpose", "treatment"]
    subjects = {
        "python -c pass": [sys.executable, "-c", "pass"],
        "chartledger --help": [*_chartledger(), "--help"],
        "chartledger chart show": [*_chartledger(), *show],
    }

    print(machine_line())
    print(f"demo ledger: {folder}; chart show {demo['mrn']} as {demo['user']}")
    print(f"{args.runs} rounds, each subject once per round in a shuffled order; wall time in ms")
    with tempfile.TemporaryDirectory(prefix="chartledger-pyc-") as prefix:
        # Bytecode goes to a folder of its own (PYTHONPYCACHEPREFIX), never into the tree. With
        # the .pyc of everything (a normal install), then with ours compiled at every start
        # (the libraries' and the standard library's .pyc kept): how a tree runs where
        # PYTHONDONTWRITEBYTECODE is set and nothing wrote `__pycache__`.
        cached = {**base, "PYTHONPYCACHEPREFIX": prefix}
        timed = {"with .pyc": _rounds(subjects, cached, args.runs)}
        ours = Path(prefix) / ROOT.relative_to(ROOT.anchor)  # (.venv may be in the tree too)
        for package in PACKAGES:
            shutil.rmtree(ours / package, ignore_errors=True)
        compiling = {**cached, "PYTHONDONTWRITEBYTECODE": "1"}
        timed["ours compiled"] = _rounds(subjects, compiling, args.runs)
        imported = _imports(show, cached)

    bare = statistics.median(w for w, _ in timed["with .pyc"]["python -c pass"])
    rows = []
    for mode, times in timed.items():
        for name, pairs in times.items():
            values = [w for w, _ in pairs]
            middle = statistics.median(values)
            over = "-" if name == "python -c pass" else f"{middle - bare:.1f}"
            low, high = min(values), max(values)
            cpu = statistics.median(c for _, c in pairs)
            rows.append(
                [name, mode, f"{middle:.1f}", f"{low:.1f}", f"{high:.1f}", over, f"{cpu:.1f}"]
            )
    print_table(
        "Start-up (ms; wall time, and the child's CPU time)",
        ["subject", "bytecode", "median", "min", "max", "median - pass", "CPU median"],
        rows,
    )

    print()
    print("Largest imports of `python -X importtime -m cli chart show …` (cumulative ms, .pyc):")
    tops = [(name, ms) for name, depth, ms in imported if depth == 0]
    for name, ms in sorted(tops, key=lambda entry: -entry[1])[:10]:
        print(f"  {ms:7.1f}  {name}")
    aggregates = sorted(
        name.rpartition(".")[2]
        for name, _, _ in imported
        if name.startswith("ledger.aggregates.") and name != "ledger.aggregates.registry"
    )
    print(f"aggregate modules loaded ({len(aggregates)}): {', '.join(aggregates)}")

    print()
    for mode, times in timed.items():
        worst = max(w for w, _ in times["chartledger chart show"])
        helped = statistics.median(w for w, _ in times["chartledger --help"])
        print(
            f"GOAL chartledger chart show, every run ({mode}): max {worst:.0f} ms (target < "
            f"{SHOW_GOAL_MS:.0f} ms) {'MET' if worst < SHOW_GOAL_MS else 'NOT MET'}"
        )
        print(
            f"GOAL chartledger --help ({mode}): median {helped:.0f} ms (target < "
            f"{HELP_GOAL_MS:.0f} ms) {'MET' if helped < HELP_GOAL_MS else 'NOT MET'}"
        )


if __name__ == "__main__":
    main()
