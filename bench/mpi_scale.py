"""`patient find` and the registration's duplicate check as the patient index grows.

For each size N (default 1,000, 10,000 and 100,000) and each store, a fresh ledger gets a
technician, then N synthetic patients written straight into the patient index's tables (the
row and its keys, `policies.matching.index_keys`, as the view would file them; Zipf-like name
frequencies over 2,000 given and 20,000 family names, birth dates over 95 years, 3,000 postcodes),
which takes seconds where registering them through the commands would take hours. Then it times,
over `--runs` queries each (half of them a mis-typed existing patient, half a new person):
- `search`: the duplicate check itself (`ranked` on the index once caught up: candidates by
  key, in one indexed query, scored by `policies.matching`);
- `find`: `projections.queries.find_patients` as `patient find` runs it (catch-up, search, and
  the access record of the MRNs shown, signed);
- `register`: `register_after_search` with an override reason (catch-up, search, the access
  record when a match is shown, and the registration).
It prints p50/p95 in milliseconds and the mean number of candidates scored; up to
`--scan-up-to` patients (default 10,000) also the search as it was before the key table (every
unmerged patient read and scored: `rank_candidates` over `PatientIndex.all`). The goal is flat in
N (< 50 ms at 1,000,000 patients, in-process).

    .venv/bin/python bench/mpi_scale.py [--sizes 1000,10000,100000] [--store sqlite|postgresql]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import date, timedelta
from itertools import accumulate
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import enrol, postgres_problem, stores  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.commands.patients import register_after_search  # noqa: E402
from ledger.follower import Follower  # noqa: E402
from ledger.reads.patient_index import (  # noqa: E402
    PatientIndex,
    current_index,
    matching_demographics,
    ranked,
)
from policies.matching import index_keys, search_keys  # noqa: E402
from policies.patients import DEMOGRAPHIC_FIELDS  # noqa: E402
from projections.queries import Purpose, find_patients  # noqa: E402

_SYLLABLES = "ka ri mo le sa tu no vi da pe lo ma ne ru bi ta go he ja ki".split()
_STREETS = ("main street", "high street", "station road", "park avenue", "church lane")
_BATCH = 5_000


def _names(rng: random.Random, count: int, syllables: int) -> list[str]:
    names: set[str] = set()
    while len(names) < count:
        names.add("".join(rng.choice(_SYLLABLES) for _ in range(syllables)).capitalize())
    return sorted(names)


class People:
    """Synthetic demographics with Zipf-like name frequencies (a few names very common)."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.given = _names(self.rng, 2_000, 3)
        self.family = _names(self.rng, 20_000, 4)
        self.rng.shuffle(self.given)
        self.rng.shuffle(self.family)
        # The commonest given name 1.9 % of people, the commonest family name 0.7 % (as James
        # and Smith in the USA); a long tail of rare ones.
        self.given_weights = list(accumulate(1 / (rank + 10) for rank in range(len(self.given))))
        self.family_weights = list(accumulate(1 / (rank + 20) for rank in range(len(self.family))))

    def person(self) -> dict[str, Any]:
        rng = self.rng
        return {
            "given_name": rng.choices(self.given, cum_weights=self.given_weights)[0],
            "family_name": rng.choices(self.family, cum_weights=self.family_weights)[0],
            "birth_date": date(1930, 1, 1) + timedelta(days=rng.randrange(95 * 365)),
            "sex": rng.choice(("female", "male")),
            "street": f"{rng.randrange(1, 300)} {rng.choice(_STREETS)}",
            "postcode": str(rng.randrange(2000, 5000)),
            "phone": f"04{rng.randrange(10**8):08d}",
            "identifier": f"{rng.randrange(10**8, 10**9)}",
        }

    def mistyped(self, person: dict[str, Any]) -> dict[str, Any]:
        """The same person as a registrar might type them again: a letter of the family name
        swapped with its neighbour, and no phone or identifier."""
        family = str(person["family_name"])
        at = self.rng.randrange(len(family) - 1)
        typo = family[:at] + family[at + 1] + family[at] + family[at + 2 :]
        return {**person, "family_name": typo.capitalize(), "phone": None, "identifier": None}


def fill(index: PatientIndex, people: People, count: int) -> list[dict[str, Any]]:
    """Write `count` patients into the index's tables directly; returns a sample of them."""
    db = index.db
    columns = ", ".join(DEMOGRAPHIC_FIELDS)
    marks = ", ".join("?" * (len(DEMOGRAPHIC_FIELDS) + 3))
    sample: list[dict[str, Any]] = []
    for start in range(0, count, _BATCH):
        rows: list[tuple[Any, ...]] = []
        keys: list[tuple[str, str]] = []
        for number in range(start, min(count, start + _BATCH)):
            person = people.person()
            if len(sample) < 1_000:
                sample.append(person)
            pid = f"{number:032x}"
            values = [person.get(name) for name in DEMOGRAPHIC_FIELDS]
            text = [v.isoformat() if isinstance(v, date) else v for v in values]
            rows.append((f"SY{number:07d}", pid, *text, "2025-01-01T00:00:00+00:00"))
            keys.extend((key, pid) for key in index_keys(matching_demographics(person)))
        with db.transaction(commit=True) as cur:
            if db.is_postgres:
                with cur.raw.copy(
                    f"COPY {index.table} (mrn, patient_id, {columns}, registered_at) FROM STDIN"
                ) as copy:
                    for row in rows:
                        copy.write_row(row)
                with cur.raw.copy(f"COPY {index.keys} (key, patient_id) FROM STDIN") as copy:
                    for key_row in keys:
                        copy.write_row(key_row)
            else:
                cur.executemany(
                    f"INSERT INTO {index.table} (mrn, patient_id, {columns}, registered_at)"
                    f" VALUES ({marks})",
                    rows,
                )
                cur.executemany(f"INSERT INTO {index.keys} (key, patient_id) VALUES (?, ?)", keys)
    if db.is_postgres:
        with db.transaction(commit=True) as cur:
            cur.execute(f"ANALYZE {index.table}")
            cur.execute(f"ANALYZE {index.keys}")
    return sample


def _ms(samples: list[float]) -> str:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return f"{statistics.median(ordered) * 1000:8.1f} {p95 * 1000:8.1f}"


def scan(index: PatientIndex, query: dict[str, Any]) -> None:
    """The search before the key table: every patient of the index read and scored."""
    from policies.matching import rank_candidates

    patients = index.all()
    records = [matching_demographics(p.demographics).normalise() for p in patients]
    rank_candidates(matching_demographics(query).normalise(), records, limit=5)


def measure(kind: str, size: int, runs: int, seed: int, scan_up_to: int) -> None:
    people = People(seed)
    with stores() as made:
        subject = made.ledger(kind, f"mpi-{size}")
        assert subject.ledger is not None and subject.signer is not None
        ledger: Ledger = subject.ledger
        tech = enrol(ledger, subject.signer, "tech.bench", ["technician"])
        index = PatientIndex(ledger.db)
        Follower(ledger, [index]).catch_up()
        started = time.perf_counter()
        sample = fill(index, people, size)
        filled = time.perf_counter() - started
        queries = [
            people.mistyped(people.rng.choice(sample)) if i % 2 else people.person()
            for i in range(runs)
        ]
        search: list[float] = []
        find: list[float] = []
        register: list[float] = []
        scored: list[int] = []
        scanned: list[float] = []
        why = Purpose("operations")
        for query in queries:
            caught_up = current_index(ledger)
            started = time.perf_counter()
            ranked(caught_up, query, 5)
            search.append(time.perf_counter() - started)
            wanted = matching_demographics(query).normalise()
            scored.append(len(index.candidates(search_keys(wanted))))
            if size <= scan_up_to:
                started = time.perf_counter()
                scan(caught_up, query)
                scanned.append(time.perf_counter() - started)
            started = time.perf_counter()
            find_patients(ledger, query, actor=tech, why=why, limit=10)
            find.append(time.perf_counter() - started)
            started = time.perf_counter()
            register_after_search(ledger, query, actor=tech, override="bench")
            register.append(time.perf_counter() - started)
        print(
            f"{kind:<10} {size:>9} {filled:>7.1f}s {statistics.mean(scored):>7.1f}"
            f"  {_ms(search)}  {_ms(find)}  {_ms(register)}"
            f"  {_ms(scanned) if scanned else '       -        -'}",
            flush=True,
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000", help="patients, comma-separated")
    parser.add_argument("--store", choices=("sqlite", "postgresql", "both"), default="both")
    parser.add_argument("--runs", type=int, default=100, help="queries timed per size")
    parser.add_argument("--seed", type=int, default=14)
    parser.add_argument(
        "--scan-up-to", type=int, default=10_000, help="time the old full scan up to this size"
    )
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",") if s.strip()]
    kinds = ["sqlite", "postgresql"] if args.store == "both" else [args.store]
    if "postgresql" in kinds and (problem := postgres_problem()) is not None:
        print(f"PostgreSQL skipped: {problem}")
        kinds.remove("postgresql")
    print("times in ms, p50 and p95; 'scored' is the mean number of candidates a search scores")
    print(
        f"{'store':<10} {'patients':>9} {'filled':>8} {'scored':>7}"
        f"  {'search p50':>8} {'p95':>8}  {'find p50':>8} {'p95':>8}"
        f"  {'register p50':>8} {'p95':>8}  {'scan p50':>8} {'p95':>8}"
    )
    for kind in kinds:
        for size in sizes:
            measure(kind, size, args.runs, args.seed, args.scan_up_to)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
