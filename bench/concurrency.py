"""Concurrency: 8 processes x 100 mixed commands against one ledger, on each store.

Each worker process is a workstation with its own staff (a technician, a physician, a compliance
officer, enrolled by the administrator before the run) and runs cycles of ten commands through
the CLI in-process (click's runner, the same code path as `chartledger ...`): patient register,
encounter admit, chart add, chart show, patient show, audit patient, location add, location
checkout, location checkin, location where. All workers start together (a barrier).

Prints: commands succeeded (goal: all), events lost (goal: 0; what each worker says it saved,
by event topic, against what the store holds afterwards), verify (goal: passes) and the p95
command latency (overall and per command).

    .venv/bin/python bench/concurrency.py [--quick] [--store sqlite|postgresql|both]
        [--workers 8] [--commands 100]
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import common
from common import machine_line, print_table, store_kinds, stores

from ledger.integrity.keys import Identity, write_key_file

CYCLE = 10
"""Commands in one cycle of a worker (one new patient each cycle)."""
WRITES = {
    "patient register": "chartledger/patient/registered",
    "encounter admit": "chartledger/encounter/opened",
    "chart add": "chartledger/encounter/entry-recorded",
    "location add": "chartledger/chart-volume/registered",
    "location checkout": "chartledger/chart-volume/checked-out",
    "location checkin": "chartledger/chart-volume/checked-in",
}
"""The writing commands, and the topic of the event each one saves."""
STAFF = (("tech", "technician"), ("dr", "physician"), ("privacy", "compliance-officer"))


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="8 workers x 20 commands")
    parser.add_argument(
        "--store", choices=("sqlite", "postgresql", "both"), default="both", help="default both"
    )
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--commands", type=int, default=100, help="commands per worker")
    return parser.parse_args()


def enrol(ledger: Any, admin: Identity, name: str, role: str) -> Identity:
    """Enrol one person: invited, then their own key enrolled with the code."""
    return common.enrol(ledger, admin, name, [role])


# -- one worker -------------------------------------------------------------------------------


def worker(url: str, home: str, keys: str, index: int, cycles: int, barrier: Any, out: Any) -> None:
    """Run `cycles` cycles of commands; report every command's outcome and what was saved."""
    from click.testing import CliRunner

    from cli.main import cli

    runner = CliRunner()
    timings: list[tuple[str, float, bool, str]] = []
    saved: Counter[str] = Counter()

    def run(name: str, actor: str, *argv: str) -> str | None:
        env = {
            "CHARTLEDGER_HOME": home,
            "CHARTLEDGER_DB": url,
            "CHARTLEDGER_USER": actor,
            "CHARTLEDGER_KEY": str(Path(keys) / f"{actor}.key"),
        }
        started = time.perf_counter()
        result = runner.invoke(cli, list(argv), env=env, catch_exceptions=True)
        elapsed = time.perf_counter() - started
        ok = result.exit_code == 0
        why = ""
        if not ok:
            if result.exception is not None and not isinstance(result.exception, SystemExit):
                why = f"traceback {type(result.exception).__name__}: {result.exception}"
            else:
                why = (result.output.strip().splitlines() or ["(no output)"])[-1]
        timings.append((name, elapsed, ok, why[:200]))
        if ok and name in WRITES:
            saved[WRITES[name]] += 1
        return result.output if ok else None

    tech, dr, privacy = (f"{prefix}{index}" for prefix, _ in STAFF)
    barrier.wait(timeout=120)
    for cycle in range(cycles):
        steps_left = CYCLE
        born = f"19{40 + (index * 7 + cycle) % 60:02d}-{1 + cycle % 12:02d}-{1 + index % 28:02d}"
        registered = run(
            "patient register",
            tech,
            *("patient", "register", "--given", f"Worker{index}", "--family", f"Cycle{cycle}"),
            *("--born", born, "--new-despite-match", "bench: distinct test patients"),
        )
        steps_left -= 1
        mrn = _after(registered, "Registered ") if registered else None
        opened = mrn and run(
            "encounter admit",
            tech,
            *("encounter", "admit", mrn, "--attending", dr, "--service", "medicine"),
        )
        steps_left -= 1 if mrn else 0
        encounter = _after(opened, "encounter ") if opened else None
        if mrn and encounter:
            barcode = f"W{index}-C{cycle}"
            due = (datetime.now(UTC) + timedelta(hours=4)).isoformat()
            run(
                "chart add",
                dr,
                *(
                    "chart",
                    "add",
                    encounter,
                    "--kind",
                    "history",
                    "--text",
                    f"Seen, cycle {cycle}.",
                ),
            )
            run("chart show", dr, "chart", "show", mrn, "--purpose", "treatment")
            run("patient show", tech, "patient", "show", mrn, "--purpose", "operations")
            run("audit patient", privacy, "audit", "patient", mrn)
            added = run("location add", tech, "location", "add", mrn, "--barcode", barcode)
            if added:
                run(
                    "location checkout",
                    tech,
                    *("location", "checkout", barcode, "--to", "Clinic 3", "--kind", "clinic"),
                    *("--due", due),
                )
                run("location checkin", tech, "location", "checkin", barcode)
                run("location where", tech, "location", "where", barcode)
                steps_left -= 8
        for _ in range(steps_left):  # the commands a failed step left unrun count as failed
            timings.append(("(not run)", 0.0, False, "an earlier command of its cycle failed"))
    out.put((index, timings, dict(saved)))


def _after(output: str, marker: str) -> str | None:
    if marker not in output:
        return None
    return output.split(marker, 1)[1].split()[0].strip(".,:;()")


# -- one store ----------------------------------------------------------------------------------


def topic_counts(ledger: Any) -> Counter[str]:
    return Counter(event.topic for event in ledger.log_events())


def p95(values: list[float]) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def run_store(kind: str, workers: int, cycles: int) -> dict[str, Any]:
    with stores() as made:
        subject = made.ledger(kind)
        ledger, admin = subject.ledger, subject.signer
        assert ledger is not None and admin is not None and subject.home is not None
        keys = made.tmp / f"workstations-{kind}"
        for index in range(workers):
            for prefix, role in STAFF:
                person = enrol(ledger, admin, f"{prefix}{index}", role)
                write_key_file(person, keys / f"{person.name}.key")
        ledger.merkle_log.catch_up()
        before = topic_counts(ledger)
        url = ledger.store.url
        home = str(subject.home.path)
        ctx = multiprocessing.get_context("spawn")
        barrier, out = ctx.Barrier(workers + 1), ctx.Queue()
        procs = [
            ctx.Process(target=worker, args=(url, home, str(keys), index, cycles, barrier, out))
            for index in range(workers)
        ]
        for proc in procs:
            proc.start()
        barrier.wait(timeout=300)  # every worker has started and imported
        started = time.perf_counter()
        results = [out.get(timeout=3600) for _ in procs]
        wall = time.perf_counter() - started
        for proc in procs:
            proc.join(timeout=60)
        timings = [t for _, ts, _ in results for t in ts]
        saved: Counter[str] = Counter()
        for _, _, said in results:
            saved.update(said)
        ledger.close()
        reopened = subject.home.open()
        subject.app = subject.ledger = reopened
        after = topic_counts(reopened)
        found = {topic: after[topic] - before[topic] for topic in WRITES.values()}
        lost = sum(max(0, saved[topic] - found[topic]) for topic in WRITES.values())
        extra = sum(max(0, found[topic] - saved[topic]) for topic in WRITES.values())
        try:
            report = reopened.verify()
            verified = f"passes ({report.events:,} events, {report.signatures:,} signatures)"
        except Exception as error:  # the bench reports, it does not stop
            verified = f"FAILS: {type(error).__name__}: {error}"
        failures = Counter(why for _, _, ok, why in timings if not ok)
        return {
            "kind": kind,
            "commands": len(timings),
            "succeeded": sum(1 for t in timings if t[2]),
            "lost": lost,
            "extra": extra,
            "saved": sum(saved.values()),
            "verify": verified,
            "p95": p95([t[1] for t in timings if t[2]]),
            "wall": wall,
            "per_command": {
                name: p95([t[1] for t in timings if t[0] == name and t[2]])
                for name in dict.fromkeys(t[0] for t in timings if t[0] != "(not run)")
            },
            "failures": failures.most_common(5),
        }


def main() -> None:
    args = arguments()
    commands = 20 if args.quick else args.commands
    cycles = max(1, commands // CYCLE)
    kinds, skipped = store_kinds(args.store)
    print(__doc__.splitlines()[0])
    print(machine_line())
    print(f"{args.workers} processes x {cycles * CYCLE} commands ({cycles} cycles of {CYCLE})")
    outcomes = [run_store(kind, args.workers, cycles) for kind in kinds]
    rows = [
        [
            o["kind"],
            f"{o['succeeded']}/{o['commands']}",
            f"{o['lost']}",
            f"{o['saved']}",
            f"{o['p95'] * 1000:.0f} ms",
            f"{o['commands'] / o['wall']:.1f}",
        ]
        for o in outcomes
    ]
    print_table(
        "Mixed commands from concurrent processes",
        ["store", "succeeded", "events lost", "events saved", "p95 latency", "commands/s"],
        rows,
    )
    for o in outcomes:
        print()
        print(f"{o['kind']}: verify {o['verify']}")
        if o["extra"]:
            print(f"  {o['extra']} more events of the counted topics than the workers reported")
        for why, count in o["failures"]:
            print(f"  failed x{count}: {why}")
        print(
            "  p95 by command: "
            + ", ".join(f"{name} {value * 1000:.0f} ms" for name, value in o["per_command"].items())
        )
    for kind, why in skipped.items():
        print(f"{kind}: NOT RUN ({why})")
    print()
    for o in outcomes:
        good = o["succeeded"] == o["commands"] and o["lost"] == 0 and o["verify"].startswith("p")
        print(
            f"GOAL {o['kind']}: all commands succeed, no event lost, verify passes: "
            f"{'MET' if good else 'NOT MET'}"
        )


if __name__ == "__main__":
    main()
