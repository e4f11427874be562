"""Peak memory of `ledger.verify()` at two ledger sizes: flat means it does not grow with the log.

Builds ledgers of each size (20-event aggregates, as bench/verify.py), then verifies each in a
fresh process and prints that process's peak RSS (VmHWM of /proc/self/status: `ru_maxrss` would
start from the parent's, which built the ledgers) once the ledger is open and, the mark reset,
during verify; and, in a second fresh process, the peak of Python's own allocations during
verify (`tracemalloc`). `--code DIR` runs the verifying processes on another checkout
of the ledger (e.g. the code before a change, from `git archive`), for a before/after.

    .venv/bin/python bench/verify_memory.py [--sizes 10000,40000] [--store sqlite|postgresql]
        [--code DIR]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

from common import stores
from verify import build

CHILD = """
import json, sys, time, tracemalloc
from pathlib import Path
from ledger.home import LedgerHome

def hwm_kb():
    for line in open("/proc/self/status"):
        if line.startswith("VmHWM:"):
            return int(line.split()[1])

home, traced = sys.argv[1], sys.argv[2] == "1"
ledger = LedgerHome(Path(home)).open()  # the store its config names
before = hwm_kb()
with open("/proc/self/clear_refs", "w") as refs:
    refs.write("5")  # the high-water mark starts again from the current RSS
if traced:
    tracemalloc.start()
start = time.perf_counter()
report = ledger.verify()
seconds = time.perf_counter() - start
peak = tracemalloc.get_traced_memory()[1] if traced else 0
after = hwm_kb()
print(json.dumps({"events": report.events, "before_kb": before, "after_kb": after,
                  "traced_peak": peak, "seconds": seconds}))
"""


def measure(home: str, traced: bool, code: str | None) -> dict[str, float]:
    env = dict(os.environ)
    if code:
        env["PYTHONPATH"] = code
    done = subprocess.run(
        [sys.executable, "-c", CHILD, home, "1" if traced else "0"],
        capture_output=True,
        text=True,
        env=env,
    )
    if done.returncode:
        raise SystemExit(f"the verifying process failed:\n{done.stderr}")
    out = done.stdout
    result: dict[str, float] = json.loads(out.strip().splitlines()[-1])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,40000")
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--code", default=None, help="verify with the ledger code in DIR")
    args = parser.parse_args()
    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"verify peak memory, {args.store}, code: {args.code or 'this checkout'}")
    heading = ["events", "RSS before", "RSS peak", "growth", "py peak", "s"]
    widths = (9, 11, 10, 9, 9, 6)
    print(" ".join(f"{name:>{width}}" for name, width in zip(heading, widths, strict=True)))
    with stores() as made:
        for n, size in enumerate(sizes):
            subject, _, _ = build(made, args.store, size, f"ledger{n}")
            assert subject.home is not None and subject.ledger is not None
            subject.ledger.merkle_log.catch_up()  # the log as verify finds it: caught up
            subject.close()
            home = str(subject.home.path)
            rss = measure(home, False, args.code)
            traced = measure(home, True, args.code)
            print(
                f"{int(rss['events']):>9,} {rss['before_kb'] / 1024:>9.1f}MB "
                f"{rss['after_kb'] / 1024:>8.1f}MB "
                f"{(rss['after_kb'] - rss['before_kb']) / 1024:>7.1f}MB "
                f"{traced['traced_peak'] / 2**20:>7.1f}MB {rss['seconds']:>6.2f}"
            )


if __name__ == "__main__":
    main()
