"""FHIR import throughput: the Synthea sample into a fresh ledger, then the same export again.

Each round makes a fresh ledger (SQLite file; PostgreSQL schema when the server is reachable),
enrols the interface and the default attending, and times `import_fhir` of
`shared/data/synthea-10-patients`: the whole import (checking every line against the R4B models,
then writing), and the check alone. The second import of the same export must write no event;
it is timed right after the first (the Merkle log has not admitted the events yet, so each
existence check verifies a signature) and again after `merkle_log.catch_up()` (the steady state
when the log follower runs). The median round is reported.

    .venv/bin/python bench/import.py [--quick] [--store sqlite|postgresql|both] [--rounds N]
"""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

# Runnable as `python bench/import.py` from anywhere: the project root must be importable.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from common import (  # noqa: E402
    Stores,
    enrol,
    fmt_rate,
    machine_line,
    median,
    parse_args,
    print_table,
    profile_call,
    rate,
    store_kinds,
    stores,
)

from ledger.interfaces.fhir_bulk import read_export  # noqa: E402
from ledger.interfaces.fhir_import import import_fhir  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "synthea-10-patients"
INTERFACE = "fhir-interface"
ATTENDING = "dr.import"


@dataclass
class Figures:
    """The timings of every round on one store."""

    resources: int = 0
    events: int = 0
    first: list[float] = field(default_factory=list)
    check: list[float] = field(default_factory=list)
    second: list[float] = field(default_factory=list)
    second_logged: list[float] = field(default_factory=list)
    catch_up: list[float] = field(default_factory=list)


def one_round(made: Stores, kind: str, index: int, figures: Figures) -> None:
    subject = made.ledger(kind, f"import-{index}")
    ledger = subject.ledger
    assert ledger is not None and subject.signer is not None
    interface = enrol(ledger, subject.signer, INTERFACE, ["interface"])
    enrol(ledger, subject.signer, ATTENDING, ["physician"])

    start = time.perf_counter()
    read_export(DATA)
    figures.check.append(time.perf_counter() - start)

    before = ledger.recorder.max_notification_id() or 0
    start = time.perf_counter()
    report = import_fhir(ledger, DATA, actor=interface, attending=ATTENDING)
    figures.first.append(time.perf_counter() - start)
    written = (ledger.recorder.max_notification_id() or 0) - before
    assert written == report.events, (written, report.events)
    figures.resources, figures.events = report.resources, report.events

    for seconds in (figures.second, figures.second_logged):
        if seconds is figures.second_logged:
            start = time.perf_counter()
            ledger.merkle_log.catch_up()
            figures.catch_up.append(time.perf_counter() - start)
        before = ledger.recorder.max_notification_id()
        start = time.perf_counter()
        again = import_fhir(ledger, DATA, actor=interface, attending=ATTENDING)
        seconds.append(time.perf_counter() - start)
        assert again.events == 0 and ledger.recorder.max_notification_id() == before


def main() -> None:
    args = parse_args("FHIR import of the Synthea sample: events/s, and the cost of a re-run.")
    if not DATA.is_dir():
        print(f"The Synthea sample is not at {DATA}; nothing to measure.")
        sys.exit(1)
    rounds = args.rounds or (1 if args.quick else 3)
    kinds, skipped = store_kinds(args.store)
    print(machine_line())
    print(f"Data: {DATA.name}; {rounds} round(s) per store, each on a fresh ledger.")
    results: dict[str, Figures] = {}
    with stores() as made:
        for kind in kinds:
            figures = Figures()
            for index in range(rounds):
                one_round(made, kind, index, figures)
                print(
                    f"  {kind} round {index + 1}: first {figures.first[-1]:.2f} s, "
                    f"again {figures.second[-1]:.2f} s, "
                    f"again after catch-up {figures.second_logged[-1]:.2f} s"
                )
                made.cleanup()
            results[kind] = figures
        if args.profile and kinds:
            profile_call(
                f"one import on {kinds[0]}",
                lambda: one_round(made, kinds[0], rounds, Figures()),
            )
    rows = []
    for kind, f in results.items():
        first = median(f.first)
        rows.append(
            [
                kind,
                f"{f.resources:,}",
                f"{f.events:,}",
                f"{first:.2f}",
                fmt_rate(rate(f.events, first)),
                f"{median(f.check):.2f}",
                fmt_rate(rate(f.events, first - median(f.check))),
                f"{median(f.second):.2f}",
                f"{median(f.second_logged):.2f}",
            ]
        )
    print_table(
        "FHIR import (median round)",
        [
            "store",
            "resources",
            "events written",
            "seconds",
            "events/s",
            "check s",
            "write events/s",
            "again s (0 events)",
            "again, log caught up s",
        ],
        rows,
    )
    for kind, reason in skipped.items():
        print(f"{kind}: not measured ({reason})")


if __name__ == "__main__":
    main()
