"""Shared pieces of the benchmarks: arguments, stores, the bench aggregate, tables and goals.

Every run makes its own stores: SQLite files in a temporary directory, and on PostgreSQL one
schema per application (`bench_<hex>`), dropped again when the run ends. The bare baseline is a
plain `eventsourcing` Application on the same kind of store (its own file or schema), with the
library's default JSON transcoder and no signing.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eventsourcing.application import Application
from eventsourcing.domain import Aggregate

from ledger.commands import users

# Runnable as `python bench/x.py` from anywhere: the project root must be importable.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from ledger.application import Ledger  # noqa: E402
from ledger.home import LedgerHome  # noqa: E402
from ledger.integrity.keys import Identity  # noqa: E402
from ledger.stores.database import parse_store_url  # noqa: E402

PG_BASE = os.environ.get("CHARTLEDGER_BENCH_PG", "postgresql://postgres@127.0.0.1:5432/test")
KINDS = ("sqlite", "postgresql")
ACTOR = "admin"

# About 200 bytes of clinical-looking text; each event gets a distinct suffix.
_NOTE = (
    "Patient seen in clinic. BP 128/82, HR 74, SpO2 98% on room air. Reports mild headache "
    "for two days, no visual disturbance. Continue lisinopril 10 mg daily; review in 4 weeks. "
)


def enrol(ledger: Ledger, admin: Identity, name: str, roles: list[str]) -> Identity:
    """Invite NAME and enrol a key made for them here (each user's own workstation, in a real
    hospital); the administrator never holds it."""
    code = users.invite(ledger, name, roles, actor=admin)
    person = Identity.generate(name)
    users.enrol(ledger, person, code, key_protection="none")
    return person


def note_text(i: int) -> str:
    """A realistic ~200-byte note body."""
    return f"{_NOTE}#{i:08d}"


# -- the benchmark aggregate ----------------------------------------------------------------


class Chart(Aggregate):
    """A patient chart: created once, then one note per event."""

    TOPIC = "bench/chart"

    class Created(Aggregate.Created):
        TOPIC = "bench/chart/created"
        patient: str

    class NoteAdded(Aggregate.Event):
        TOPIC = "bench/chart/note-added"
        text: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.notes += 1
            aggregate.last_note = self.text

    def __init__(self, patient: str) -> None:
        self.patient = patient
        self.notes = 0
        self.last_note = ""

    def add_note(self, text: str, actor: str) -> None:
        self.trigger_event(self.NoteAdded, text=text, actor=actor)


class BareApp(Application[uuid.UUID]):
    """The baseline: plain eventsourcing, JSON transcoder, no signing, no Merkle log."""

    name = "benchbare"


# -- the two applications behind one save() ----------------------------------------------


@dataclass
class Subject:
    """One application under test: `save` and `get` look the same for bare and ledger."""

    label: str
    app: Application[uuid.UUID]
    signer: Identity | None = None
    ledger: Ledger | None = None
    home: LedgerHome | None = None

    def save(self, *aggregates: Aggregate) -> None:
        if self.signer is not None:
            self.app.save(*aggregates, signer=self.signer)
        else:
            self.app.save(*aggregates)

    def get(self, aggregate_id: uuid.UUID) -> Any:
        return self.app.repository.get(aggregate_id)

    def close(self) -> None:
        self.app.close()


# -- stores -------------------------------------------------------------------------------------


def postgres_problem() -> str | None:
    """Why PostgreSQL cannot be used, or None when it can."""
    try:
        import psycopg
    except ImportError as error:  # pragma: no cover
        return f"psycopg is not installed ({error})"
    try:
        with psycopg.connect(PG_BASE, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as error:
        first = str(error).strip().splitlines()
        return first[0] if first else type(error).__name__
    return None


@dataclass
class Stores:
    """Makes the stores of one run and removes them all at the end."""

    tmp: Path
    schemas: list[str] = field(default_factory=list)
    opened: list[Subject] = field(default_factory=list)

    def _schema(self) -> str:
        import psycopg

        schema = f"bench_{uuid.uuid4().hex[:12]}"
        with psycopg.connect(PG_BASE, autocommit=True) as conn:
            conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        self.schemas.append(schema)
        return schema

    def url(self, kind: str, name: str) -> str:
        if kind == "sqlite":
            return f"sqlite:///{self.tmp / f'{name}.db'}"
        separator = "&" if "?" in PG_BASE else "?"
        return f"{PG_BASE}{separator}schema={self._schema()}"

    def bare(self, kind: str, name: str = "bare") -> Subject:
        store = parse_store_url(self.url(kind, f"{kind}-{name}"))
        subject = Subject("bare", BareApp(env=dict(store.env)))
        self.opened.append(subject)
        return subject

    def ledger(self, kind: str, name: str = "ledger") -> Subject:
        home = LedgerHome(self.tmp / f"home-{kind}-{name}")
        ledger, _ = home.initialise(
            admin=ACTOR, origin="bench", db=self.url(kind, f"{kind}-{name}")
        )
        subject = Subject("ledger", ledger, home.identity(ACTOR), ledger, home)
        self.opened.append(subject)
        return subject

    def cleanup(self) -> None:
        for subject in self.opened:
            try:
                subject.close()
            except Exception as error:  # keep cleaning up
                print(f"  (closing {subject.label} failed: {error})")
        self.opened.clear()
        if self.schemas:
            import psycopg

            with psycopg.connect(PG_BASE, autocommit=True) as conn:
                for schema in self.schemas:
                    conn.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
            self.schemas.clear()


@contextmanager
def stores() -> Iterator[Stores]:
    with tempfile.TemporaryDirectory(prefix="chartledger-bench-") as tmp:
        made = Stores(Path(tmp))
        try:
            yield made
        finally:
            made.cleanup()


# -- arguments ----------------------------------------------------------------------------------


def parse_args(description: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--quick", action="store_true", help="a short run (about 20 s)")
    parser.add_argument(
        "--store",
        choices=("sqlite", "postgresql", "both"),
        default="both",
        help="which store to run on (default: both)",
    )
    parser.add_argument("--rounds", type=int, default=None, help="timed rounds per side")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="after the timed rounds, run one more ledger round under cProfile and print it",
    )
    return parser.parse_args()


def store_kinds(choice: str) -> tuple[list[str], dict[str, str]]:
    """The stores to run, and the ones skipped with the reason."""
    wanted = list(KINDS) if choice == "both" else [choice]
    skipped: dict[str, str] = {}
    if "postgresql" in wanted:
        problem = postgres_problem()
        if problem:
            print(f"PostgreSQL is unreachable at {PG_BASE} ({problem}); running SQLite only.")
            wanted.remove("postgresql")
            skipped["postgresql"] = f"PostgreSQL unreachable: {problem}"
    return wanted, skipped


def machine_line() -> str:
    """The machine and the code measured (git commit of the tree, read-only git commands)."""
    import platform
    import subprocess

    code = "ledger code: unknown commit"
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        changed = subprocess.run(
            ["git", "diff", "--quiet", "HEAD", "--", "ledger", "policies"],
            cwd=ROOT,
            capture_output=True,
            check=False,
        ).returncode
        code = f"ledger code: {commit}{' + uncommitted changes' if changed else ''}"
    except (OSError, subprocess.CalledProcessError):
        pass
    return (
        f"Python {platform.python_version()}, {os.cpu_count()} cores, "
        f"{platform.system()} {platform.release()}; {code}"
    )


# -- timing and reporting ----------------------------------------------------------------------


def timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def rate(count: int, seconds: float) -> float:
    return count / seconds if seconds > 0 else float("inf")


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def profile_call(title: str, fn: Callable[[], Any], lines: int = 25) -> None:
    """Run `fn` under cProfile and print its top lines by cumulative time."""
    import cProfile
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    fn()
    profiler.disable()
    print()
    print(f"profile: {title} (top {lines} by cumulative time)")
    pstats.Stats(profiler, stream=sys.stdout).sort_stats("cumulative").print_stats(lines)


def print_table(title: str, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """A plain text table: the first column left-aligned, the figures right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(cell)) for w, cell in zip(widths, row, strict=True)]

    def render(cells: Sequence[str]) -> str:
        return "  ".join(
            cell.ljust(width) if i == 0 else cell.rjust(width)
            for i, (cell, width) in enumerate(zip(cells, widths, strict=True))
        ).rstrip()

    print()
    print(title)
    header = render(headers)
    print(header)
    print("-" * len(header))
    for row in rows:
        print(render(row))


@dataclass
class Goal:
    name: str
    ratio: float | None
    target: float
    note: str = ""

    def line(self) -> str:
        if self.ratio is None:
            return f"GOAL {self.name}: NOT MEASURED ({self.note})"
        verdict = "MET" if self.ratio >= self.target else "NOT MET"
        return f"GOAL {self.name}: {self.ratio:.2f} (target >= {self.target:.2f}) {verdict}"


def print_goals(goals: Sequence[Goal]) -> None:
    print()
    for goal in goals:
        print(goal.line())
