"""Append throughput: bare eventsourcing vs the signed ledger, on the same kind of store.

(a) one-event saves: aggregates kept in memory, one event triggered and saved per `save()`,
    round-robin over many aggregates;
(b) 100-event saves: 100 events triggered on one aggregate and saved in one `save()`.

Two timings of the same work: `save()` alone, and the whole command (triggering the events on
the aggregate, then saving them), which is what an application pays per append and what the
DESIGN's baseline figures (2.6k/s and 17.6k/s bare on SQLite) correspond to. After a warm-up,
bare and ledger rounds alternate (their order flips every round) and the median of the rounds
is reported. Goals (DESIGN): ledger >= 0.7x bare for (a), >= 0.5x for (b), judged on `save()`
alone (the stricter reading); the command rows are printed for information.

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
LABELS = ("one-event saves", f"{BATCH}-event saves")
TARGETS = (GOAL_ONE, GOAL_BATCH)


@dataclass
class Side:
    """One application's aggregates and the rates of its timed rounds."""

    subject: Subject
    aggregates: list[Chart] = field(default_factory=list)
    counter: int = 0
    one: list[float] = field(default_factory=list)
    batch: list[float] = field(default_factory=list)
    one_cmd: list[float] = field(default_factory=list)
    batch_cmd: list[float] = field(default_factory=list)

    def setup(self) -> None:
        self.aggregates = [Chart(patient=f"patient-{i:05d}") for i in range(AGGREGATES)]
        for aggregate in self.aggregates:
            self.subject.save(aggregate)

    def one_event_saves(self, count: int) -> tuple[float, float]:
        """Seconds in `save()`, and in whole commands, for `count` one-event saves."""
        spent = whole = 0.0
        save = self.subject.save
        for i in range(count):
            aggregate = self.aggregates[(self.counter + i) % AGGREGATES]
            text = note_text(self.counter + i)
            begin = time.perf_counter()
            aggregate.add_note(text, ACTOR)
            start = time.perf_counter()
            save(aggregate)
            end = time.perf_counter()
            spent += end - start
            whole += end - begin
        self.counter += count
        return spent, whole

    def batch_saves(self, batches: int) -> tuple[float, float]:
        """Seconds in `save()`, and in whole commands, for `batches` saves of BATCH events."""
        spent = whole = 0.0
        save = self.subject.save
        for j in range(batches):
            aggregate = self.aggregates[(self.counter + j) % AGGREGATES]
            texts = [note_text(self.counter + i) for i in range(BATCH)]
            begin = time.perf_counter()
            for text in texts:
                aggregate.add_note(text, ACTOR)
            start = time.perf_counter()
            save(aggregate)
            end = time.perf_counter()
            spent += end - start
            whole += end - begin
        self.counter += batches
        return spent, whole


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
            spent, whole = side.one_event_saves(one_count)
            side.one.append(rate(one_count, spent))
            side.one_cmd.append(rate(one_count, whole))
        for side in order:
            spent, whole = side.batch_saves(batches)
            side.batch.append(rate(batches * BATCH, spent))
            side.batch_cmd.append(rate(batches * BATCH, whole))
    elapsed = time.perf_counter() - started

    rows = []
    ratios = []
    for label, per_save, attr in (
        ("one-event saves", 1, "one"),
        (f"{BATCH}-event saves", BATCH, "batch"),
        ("one-event commands (info)", 1, "one_cmd"),
        (f"{BATCH}-event commands (info)", BATCH, "batch_cmd"),
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
            measured = run_store(kind, made, args.quick, rounds, args.profile)
            for label, ratio, target in zip(LABELS, measured, TARGETS, strict=True):
                goals.append(Goal(f"append {label}, {kind}, ledger/bare", ratio, target))
    for kind, why in skipped.items():
        for label, target in zip(LABELS, TARGETS, strict=True):
            goals.append(Goal(f"append {label}, {kind}, ledger/bare", None, target, why))
    print_goals(goals)


if __name__ == "__main__":
    main()
