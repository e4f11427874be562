"""Append throughput: bare eventsourcing vs the signed ledger, on the same kind of store.

(a) one-event saves: aggregates kept in memory, one event triggered and saved per `save()`,
    round-robin over many aggregates;
(b) 100-event saves: 100 events triggered on one aggregate and saved in one `save()`.

Only the `save()` calls are timed (triggering the events is the same work on both sides).
After a warm-up, bare and ledger rounds alternate (their order flips every round) and the
median of the rounds is reported. Goals (DESIGN): ledger >= 0.7x bare for (a), >= 0.5x for (b).

    .venv/bin/python bench/append.py [--quick] [--store sqlite|postgresql|both]
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

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

AGGREGATES = 100
BATCH = 100
GOAL_ONE = 0.7
GOAL_BATCH = 0.5


@dataclass
class Side:
    """One application's aggregates and the rates of its timed rounds."""

    subject: Subject
    aggregates: list[Chart] = field(default_factory=list)
    counter: int = 0
    one: list[float] = field(default_factory=list)
    batch: list[float] = field(default_factory=list)

    def setup(self) -> None:
        self.aggregates = [Chart(patient=f"patient-{i:05d}") for i in range(AGGREGATES)]
        for aggregate in self.aggregates:
            self.subject.save(aggregate)

    def one_event_saves(self, count: int) -> float:
        """Seconds spent in `save()` for `count` one-event saves."""
        spent = 0.0
        save = self.subject.save
        for i in range(count):
            aggregate = self.aggregates[(self.counter + i) % AGGREGATES]
            aggregate.add_note(note_text(self.counter + i), ACTOR)
            start = time.perf_counter()
            save(aggregate)
            spent += time.perf_counter() - start
        self.counter += count
        return spent

    def batch_saves(self, batches: int) -> float:
        """Seconds spent in `save()` for `batches` saves of BATCH events each."""
        spent = 0.0
        save = self.subject.save
        for j in range(batches):
            aggregate = self.aggregates[(self.counter + j) % AGGREGATES]
            for i in range(BATCH):
                aggregate.add_note(note_text(self.counter + i), ACTOR)
            start = time.perf_counter()
            save(aggregate)
            spent += time.perf_counter() - start
        self.counter += batches
        return spent


def run_store(
    kind: str, made: Stores, quick: bool, rounds: int, profile: bool = False
) -> tuple[float, float]:
    one_count = 400 if quick else 2000
    batches = 12 if quick else 50
    bare = Side(made.bare(kind))
    ledger = Side(made.ledger(kind))
    for side in (bare, ledger):
        side.setup()
    # Warm-up: connections, statement caches, the ledger's head cache, CPU frequency.
    for side in (bare, ledger):
        side.one_event_saves(one_count // 4)
        side.batch_saves(max(2, batches // 4))
    started = time.perf_counter()
    for r in range(rounds):
        order = (bare, ledger) if r % 2 == 0 else (ledger, bare)
        for side in order:
            side.one.append(rate(one_count, side.one_event_saves(one_count)))
        for side in order:
            side.batch.append(rate(batches * BATCH, side.batch_saves(batches)))
    elapsed = time.perf_counter() - started

    rows = []
    ratios = []
    for label, per_save, attr in (
        ("one-event saves", 1, "one"),
        (f"{BATCH}-event saves", BATCH, "batch"),
    ):
        b = median(getattr(bare, attr))
        led = median(getattr(ledger, attr))
        ratios.append(led / b)
        rows.append(
            [
                label,
                fmt_rate(b),
                fmt_rate(led),
                f"{led / b:.2f}",
                f"{1e6 * per_save / b:,.0f}",
                f"{1e6 * per_save / led:,.0f}",
                " / ".join(fmt_rate(x) for x in getattr(bare, attr)),
                " / ".join(fmt_rate(x) for x in getattr(ledger, attr)),
            ]
        )
    print_table(
        f"[{kind}] append, events/s (median of {rounds} rounds; "
        f"{one_count} one-event saves and {batches}x{BATCH} events per round; {elapsed:.1f} s)",
        [
            "workload",
            "bare ev/s",
            "ledger ev/s",
            "ratio",
            "bare us/save",
            "ledger us/save",
            "bare rounds",
            "ledger rounds",
        ],
        rows,
    )
    if profile:
        profile_call(
            f"[{kind}] ledger, {one_count} one-event saves",
            lambda: ledger.one_event_saves(one_count),
        )
        profile_call(
            f"[{kind}] ledger, {batches} saves of {BATCH} events",
            lambda: ledger.batch_saves(batches),
        )
    return ratios[0], ratios[1]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    rounds = args.rounds or (3 if args.quick else 5)
    kinds, skipped = store_kinds(args.store)
    print(f"append benchmark ({'quick' if args.quick else 'default'} run) — {machine_line()}")
    goals: list[Goal] = []
    with stores() as made:
        for kind in kinds:
            one, batch = run_store(kind, made, args.quick, rounds, args.profile)
            goals.append(Goal(f"append one-event saves, {kind}, ledger/bare", one, GOAL_ONE))
            goals.append(
                Goal(f"append {BATCH}-event saves, {kind}, ledger/bare", batch, GOAL_BATCH)
            )
    for kind, why in skipped.items():
        goals.append(Goal(f"append one-event saves, {kind}, ledger/bare", None, GOAL_ONE, why))
        goals.append(
            Goal(f"append {BATCH}-event saves, {kind}, ledger/bare", None, GOAL_BATCH, why)
        )
    print_goals(goals)


if __name__ == "__main__":
    main()
