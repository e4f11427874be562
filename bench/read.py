"""Read throughput: `repository.get(id)` of ~20-event aggregates, bare vs ledger.

The goal is measured in the ledger's steady state, after `merkle_log.catch_up()` has admitted
every event (reads then check row hashes against the log, no signatures). As an extra line, not
a goal, the ledger also reads aggregates saved after the catch-up, whose 20 signatures are each
verified on every read. Bare and ledger rounds alternate (order flips every round); medians are
reported. Goal (DESIGN): ledger >= 0.5x bare.

    .venv/bin/python bench/read.py [--quick] [--store sqlite|postgresql|both]
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from common import (
    ACTOR,
    Chart,
    Goal,
    Stores,
    Subject,
    fmt_rate,
    machine_line,
    median,
    note_text,
    parse_args,
    print_goals,
    print_table,
    profile_call,
    rate,
    store_kinds,
    stores,
)

EVENTS_PER_AGGREGATE = 20
GOAL_READ = 0.5


def populate(subject: Subject, count: int, tag: str) -> list[uuid.UUID]:
    """`count` charts of EVENTS_PER_AGGREGATE events each (saved one chart per save)."""
    ids = []
    for i in range(count):
        chart = Chart(patient=f"{tag}-{i:05d}")
        for n in range(EVENTS_PER_AGGREGATE - 1):
            chart.add_note(note_text(n), ACTOR)
        subject.save(chart)
        ids.append(chart.id)
    return ids


def read_all(subject: Subject, ids: list[uuid.UUID]) -> float:
    get = subject.get
    start = time.perf_counter()
    for aggregate_id in ids:
        chart = get(aggregate_id)
        if chart.version != EVENTS_PER_AGGREGATE:  # pragma: no cover
            raise AssertionError(f"read {chart.version} events, expected {EVENTS_PER_AGGREGATE}")
    return time.perf_counter() - start


def run_store(kind: str, made: Stores, quick: bool, rounds: int, profile: bool = False) -> float:
    count = 200 if quick else 600
    unlogged_count = 50 if quick else 150
    bare = made.bare(kind)
    ledger = made.ledger(kind)
    assert ledger.ledger is not None
    bare_ids = populate(bare, count, "bare")
    ledger_ids = populate(ledger, count, "ledger")
    start = time.perf_counter()
    admitted = ledger.ledger.merkle_log.catch_up()
    catch_up_seconds = time.perf_counter() - start
    # Saved after the catch-up: the log has not admitted these, so reads verify signatures.
    unlogged_ids = populate(ledger, unlogged_count, "unlogged")

    rng = random.Random(7)
    rng.shuffle(bare_ids)
    rng.shuffle(ledger_ids)
    # Warm-up.
    read_all(bare, bare_ids[: count // 4])
    read_all(ledger, ledger_ids[: count // 4])
    read_all(ledger, unlogged_ids[:5])

    measures: dict[str, list[float]] = {"bare": [], "ledger": [], "unlogged": []}
    runs: dict[str, Callable[[], float]] = {
        "bare": lambda: rate(count, read_all(bare, bare_ids)),
        "ledger": lambda: rate(count, read_all(ledger, ledger_ids)),
        "unlogged": lambda: rate(unlogged_count, read_all(ledger, unlogged_ids)),
    }
    started = time.perf_counter()
    for r in range(rounds):
        order = ["bare", "ledger"] if r % 2 == 0 else ["ledger", "bare"]
        for name in [*order, "unlogged"]:
            measures[name].append(runs[name]())
    elapsed = time.perf_counter() - started

    b = median(measures["bare"])
    rows = []
    for name, label in (
        ("bare", "bare eventsourcing"),
        ("ledger", "ledger, log caught up (goal)"),
        ("unlogged", "ledger, log not caught up (info)"),
    ):
        m = median(measures[name])
        rows.append(
            [
                label,
                fmt_rate(m),
                f"{1e6 / m:,.0f}",
                f"{m / b:.2f}",
                " / ".join(fmt_rate(x) for x in measures[name]),
            ]
        )
    print_table(
        f"[{kind}] reads of {EVENTS_PER_AGGREGATE}-event aggregates, aggregates/s (median of "
        f"{rounds} rounds; {count} aggregates per side, {unlogged_count} unlogged; "
        f"{elapsed:.1f} s)",
        ["reader", "reads/s", "us/read", "vs bare", "rounds"],
        rows,
    )
    print(
        f"  (info) merkle_log.catch_up() admitted {admitted:,} events in {catch_up_seconds:.2f} s"
        f" = {fmt_rate(rate(admitted, catch_up_seconds))} events/s"
    )
    if profile:
        profile_call(
            f"[{kind}] ledger, {count} reads after catch-up", lambda: read_all(ledger, ledger_ids)
        )
    return median(measures["ledger"]) / b


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    rounds = args.rounds or (3 if args.quick else 5)
    kinds, skipped = store_kinds(args.store)
    print(f"read benchmark ({'quick' if args.quick else 'default'} run) — {machine_line()}")
    goals: list[Goal] = []
    with stores() as made:
        for kind in kinds:
            ratio = run_store(kind, made, args.quick, rounds, args.profile)
            goals.append(Goal(f"read after catch-up, {kind}, ledger/bare", ratio, GOAL_READ))
    for kind, why in skipped.items():
        goals.append(Goal(f"read after catch-up, {kind}, ledger/bare", None, GOAL_READ, why))
    print_goals(goals)


if __name__ == "__main__":
    main()
