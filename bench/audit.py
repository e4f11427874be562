"""Audit query time: `audit patient` on a ledger of a million events.

Fills a fresh ledger with a hospital's worth of signed events (~200 users, ~5,000 patients,
the rest access events spread over them, saved many to a call), brings the Merkle log and the
audit trail view up to date (their catch-up rates are printed too: DESIGN asks >= 20,000
events/s for projections on SQLite), then times `projections.audit.audit_patient`, the function
`chartledger audit patient` calls, for random patients: it catches an already-current follower
up, checks the reader's role, reads the patient's rows and records the read as an access event.
The pure index read is timed as well. Goal (DESIGN section 9): under 50 ms at 1M events.

    .venv/bin/python bench/audit.py [--events N] [--quick] [--store sqlite|postgresql|both]
"""

from __future__ import annotations

import argparse
import random
import time
from datetime import date

from common import ROOT, enrol, machine_line, median, print_table, store_kinds, stores

from ledger.aggregates.access import Access
from ledger.commands import patients
from ledger.integrity.keys import Identity
from projections.audit import audit_patient, caught_up_trail

GOAL_MS = 50.0
USERS = 200
PATIENTS = 5_000
BATCH = 1_000
QUERIES = 200
ROLES = ("physician", "nurse", "technician", "coder")
PURPOSES = {
    "physician": "treatment",
    "nurse": "treatment",
    "technician": "operations",
    "coder": "payment",
}
SECTIONS = (["chart"], ["demographics"], ["history"], ["diagnosis", "procedure"])


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000, help="events in the ledger")
    parser.add_argument("--quick", action="store_true", help="100,000 events")
    parser.add_argument(
        "--store", choices=("sqlite", "postgresql", "both"), default="sqlite", help="default sqlite"
    )
    return parser.parse_args()


def fill(ledger: object, admin: Identity, events: int, rng: random.Random) -> dict[str, float]:
    """Users, patients and access events until the log holds `events`; returns timings."""
    from ledger.application import Ledger

    assert isinstance(ledger, Ledger)
    started = time.perf_counter()
    staff: list[tuple[Identity, str]] = []
    for i in range(USERS):
        role = ROLES[i % len(ROLES)]
        person = enrol(ledger, admin, f"user{i:03d}", [role])
        staff.append((person, role))
    registrar = next(person for person, role in staff if role == "technician")
    mrns = []
    for i in range(PATIENTS):
        demographics = {
            "given_name": f"Given{i}",
            "family_name": f"Family{i % 977}",
            "birth_date": date(1930 + i % 90, 1 + i % 12, 1 + i % 28),
            "sex": "female" if i % 2 else "male",
        }
        mrns.append(
            patients.register_patient(ledger, demographics, actor=registrar, likely_matches=[])
        )
    setup = time.perf_counter() - started
    written = ledger.recorder.max_notification_id() or 0
    started = time.perf_counter()
    while written < events:
        person, role = rng.choice(staff)
        batch = min(BATCH, events - written)
        accesses = [
            Access.granted(
                actor=person.name,
                mrns=[rng.choice(mrns)],
                action="query",
                sections=rng.choice(SECTIONS),
                purpose=PURPOSES[role],
                break_glass_reason=None,
                decision=f"{PURPOSES[role]} is a purpose of the user's role",
                policy_version="access/1+default",
                relationship="attending" if PURPOSES[role] == "treatment" else None,
                flagged=False,
            )
            for _ in range(batch)
        ]
        ledger.save(*accesses, signer=person)
        written += batch
    return {
        "setup_s": setup,
        "accesses_s": time.perf_counter() - started,
        "events": float(ledger.recorder.max_notification_id() or 0),
        "mrns": float(len(mrns)),
    }


def run(kind: str, events: int) -> list[str]:
    rng = random.Random(20261123)
    with stores() as made:
        subject = made.ledger(kind)
        ledger, admin = subject.ledger, subject.signer
        assert ledger is not None and admin is not None
        print(f"  {kind}: writing {events:,} events …", flush=True)
        filled = fill(ledger, admin, events, rng)
        total = int(filled["events"])
        write_s = filled["setup_s"] + filled["accesses_s"]
        print(f"  {kind}: wrote {total:,} events in {write_s:.0f} s; catching up …", flush=True)
        started = time.perf_counter()
        ledger.merkle_log.catch_up()
        log_s = time.perf_counter() - started
        started = time.perf_counter()
        trail = caught_up_trail(ledger)
        view_s = time.perf_counter() - started
        officer = enrol(ledger, admin, "privacy1", ["compliance-officer"])
        caught_up_trail(ledger)
        mrns = [f"MR{n:07d}" for n in range(1, int(filled["mrns"]) + 1)]
        picks = [rng.choice(mrns) for _ in range(QUERIES)]
        full_ms, index_ms, counts = [], [], []
        for mrn in picks:
            started = time.perf_counter()
            _, rows = audit_patient(ledger, mrn, reader=officer)
            full_ms.append((time.perf_counter() - started) * 1000)
            counts.append(len(rows))
            started = time.perf_counter()
            trail.query(mrn=mrn)
            index_ms.append((time.perf_counter() - started) * 1000)
        full_ms.sort()
        index_ms.sort()
        p95 = full_ms[int(len(full_ms) * 0.95) - 1]
        print_table(
            f"audit patient on {kind} at {total:,} events ({QUERIES} random patients)",
            ["measure", "value"],
            [
                ["write events/s", f"{total / write_s:,.0f}"],
                ["Merkle log catch-up events/s", f"{total / log_s:,.0f}"],
                ["audit view catch-up events/s", f"{total / view_s:,.0f}"],
                ["rows per patient (median)", f"{median([float(c) for c in counts]):.0f}"],
                ["audit patient median ms", f"{median(full_ms):.1f}"],
                ["audit patient p95 ms", f"{p95:.1f}"],
                ["audit patient max ms", f"{full_ms[-1]:.1f}"],
                ["index read alone median ms", f"{median(index_ms):.2f}"],
            ],
        )
        verdict = "MET" if median(full_ms) < GOAL_MS else "NOT MET"
        return [
            f"GOAL audit patient at {total:,} events ({kind}): median {median(full_ms):.1f} ms "
            f"(target < {GOAL_MS:.0f} ms) {verdict}"
        ]


def main() -> None:
    args = arguments()
    events = 100_000 if args.quick else args.events
    print(machine_line())
    print(f"Project: {ROOT}")
    kinds, skipped = store_kinds(args.store)
    goals = []
    for kind in kinds:
        goals += run(kind, events)
    print()
    for line in goals:
        print(line)
    for kind, why in skipped.items():
        print(f"GOAL audit patient ({kind}): NOT MEASURED ({why})")


if __name__ == "__main__":
    main()
