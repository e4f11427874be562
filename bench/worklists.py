"""`deficiency list` and `code worklist` as the ledger grows (issue 14: goal < 300 ms at any
size): N encounters built through the commands (outpatient visits, each with a signed note and
discharged: complete; among the first 300, every 100th note left unsigned: deficient, and
every 50th an inpatient stay, discharged, not coded: on the coding worklist and deficient),
then both lists timed in process at two sizes: the first call after the growth (it catches
the view up and settles the new charts) and the median of the next rounds (steady state),
beside the full replay of every encounter that the lists did before the completion-worklist
view (decisions §56).

Usage: .venv/bin/python bench/worklists.py [--store sqlite|postgresql|both] [--sizes 300,1200]
       [--rounds 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import enrol, machine_line, print_table, store_kinds, stores  # noqa: E402
from ledger.aggregates.completion import encounter_facts, registers  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.commands import encounters, entries, patients  # noqa: E402
from ledger.integrity.keys import Identity  # noqa: E402
from ledger.reads.physician_queries import awaiting_by_encounter  # noqa: E402
from projections.coding import coding_worklist  # noqa: E402
from projections.completion import open_deficiencies  # noqa: E402

START = datetime(2024, 1, 1, 8, tzinfo=UTC)
FEW = 300
"""Only the first FEW encounters can be deficient: the rows shown stay the same as N grows."""


class Builder:
    def __init__(self, ledger: Ledger, admin: Identity) -> None:
        self.ledger = ledger
        self.tech = enrol(ledger, admin, "tech1", ["technician"])
        self.doctor = enrol(ledger, admin, "dr1", ["physician"])
        self.him = enrol(ledger, admin, "him1", ["him-director"])
        self.coder = enrol(ledger, admin, "coder1", ["coder"])
        self.mrns = [
            patients.register_patient(
                ledger,
                {
                    "given_name": f"P{i}",
                    "family_name": "Bench",
                    "sex": "female",
                    "birth_date": date(1950 + i % 50, 1 + i % 12, 1),
                },
                actor=self.tech,
                likely_matches=[],
            )
            for i in range(20)
        ]
        self.made = 0

    def grow(self, to: int) -> None:
        while self.made < to:
            n = self.made
            at = START + timedelta(hours=6 * n)
            stay_class = "inpatient" if n % 50 == 49 and n < FEW else "outpatient"
            visit = encounters.open_encounter(
                self.ledger, self.mrns[n % len(self.mrns)], encounter_class=stay_class,
                attending=self.doctor.name, service="medicine", effective_at=at, actor=self.tech,
            )  # fmt: skip
            note = entries.add_entry(
                self.ledger, visit, kind="progress-note", text=f"seen ({n})", effective_at=at,
                actor=self.doctor,
            )  # fmt: skip
            if n % 100 != 99 or n >= FEW:
                entries.sign_entry(self.ledger, visit, note, actor=self.doctor)
            encounters.discharge(
                self.ledger, visit, disposition="home", effective_at=at + timedelta(hours=2),
                actor=self.tech,
            )  # fmt: skip
            self.made += 1


def full_replay_of(ledger: Ledger) -> object:
    """What both lists did before the view: every encounter's facts, replayed."""
    return encounter_facts(ledger, registers(ledger), queries=awaiting_by_encounter(ledger))


def ms(fn: Callable[[], object]) -> float:
    began = time.perf_counter()
    fn()
    return (time.perf_counter() - began) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="sqlite")
    parser.add_argument("--sizes", default="300,1200", help="encounters, comma-separated")
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    kinds, skipped = store_kinds(args.store)
    print(machine_line())
    now = datetime(2030, 1, 1, tzinfo=UTC)
    with stores() as made:
        for kind in kinds:
            subject = made.ledger(kind)
            assert subject.ledger is not None and subject.signer is not None
            ledger = subject.ledger
            builder = Builder(ledger, subject.signer)
            rows = []
            for size in sizes:
                began = time.perf_counter()
                builder.grow(size)
                built = time.perf_counter() - began

                deficiency_list = partial(open_deficiencies, ledger, now=now, actor=builder.him)
                worklist = partial(
                    coding_worklist, ledger, purpose="operations", actor=builder.coder, now=now
                )
                full_replay = partial(full_replay_of, ledger)
                first_d, first_w = ms(deficiency_list), ms(worklist)
                steady_d = statistics.median(ms(deficiency_list) for _ in range(args.rounds))
                steady_w = statistics.median(ms(worklist) for _ in range(args.rounds))
                full = statistics.median(ms(full_replay) for _ in range(max(1, args.rounds // 2)))
                shown = (len(deficiency_list()), len(worklist()))
                rows.append(
                    [
                        str(size),
                        f"{built:.0f} s",
                        f"{shown[0]} / {shown[1]}",
                        f"{first_d:.0f} / {first_w:.0f}",
                        f"{steady_d:.1f}",
                        f"{steady_w:.1f}",
                        f"{full:.0f}",
                    ]
                )
            print_table(
                f"{kind}: ms in process (goal < 300 ms at any size)",
                ["encounters", "built in", "rows (def / code)", "first call (def / code)",
                 "deficiency list", "code worklist", "full replay (before)"],
                rows,
            )  # fmt: skip
    for kind, why in skipped.items():
        print(f"{kind}: skipped ({why})")


if __name__ == "__main__":
    main()
