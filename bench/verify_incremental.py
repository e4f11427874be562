"""A nightly `verify --since-last` against a full `verify`, on a grown ledger.

Builds a ledger of N events (default 20,000; --quick 4,000) in 20-event charts, verifies it in
full and records the verification (`Ledger.record_verification`), then adds a "night": a new
note on every tenth chart (an aggregate continuing from before the recorded size, whose chain
head is read back from the store) and 20 new charts. Prints the time of the full verification
of the grown ledger and of the incremental one, and how many events each checked.

    .venv/bin/python bench/verify_incremental.py [--quick] [--store sqlite|postgresql|both]
"""

from __future__ import annotations

import time

from common import ACTOR, Chart, note_text, parse_args, store_kinds, stores
from verify import EVENTS_PER_AGGREGATE, build


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    events = 4000 if args.quick else 20_000
    kinds, skipped = store_kinds(args.store)
    with stores() as made:
        for kind in kinds:
            subject, _, _ = build(made, kind, events)
            ledger, home = subject.ledger, subject.home
            assert ledger is not None and home is not None and subject.signer is not None
            ledger.merkle_log.catch_up()
            ledger.checkpoint(home.node_identity())
            ledger.record_verification(ledger.verify(), subject.signer)
            ids = [
                note.originator_id
                for note in ledger.recorder.select_notifications(
                    start=None, limit=10**9, topics=[Chart.Created.TOPIC]
                )
            ]
            for chart_id in ids[::10]:
                chart = subject.get(chart_id)  # type: ignore[arg-type]
                chart.add_note(note_text(1), ACTOR)
                subject.save(chart)
            for i in range(20):
                chart = Chart(patient=f"night-{i:03d}")
                for n in range(EVENTS_PER_AGGREGATE - 1):
                    chart.add_note(note_text(n), ACTOR)
                subject.save(chart)
            ledger.checkpoint(home.node_identity())
            start = time.perf_counter()
            full = ledger.verify()
            full_seconds = time.perf_counter() - start
            start = time.perf_counter()
            since = ledger.verify(since_last=True)
            since_seconds = time.perf_counter() - start
            print(
                f"[{kind}] full verify: {full.events:,} events in {full_seconds:.2f} s; "
                f"--since-last: {since.events:,} events (from position {since.since:,}, "
                f"{since.aggregates:,} aggregates, {len(ids[::10]):,} continued from before) "
                f"in {since_seconds:.2f} s"
            )
    for kind, why in skipped.items():
        print(f"[{kind}] skipped: {why}")


if __name__ == "__main__":
    main()
