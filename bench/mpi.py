"""Duplicate detection of the master patient index on the FEBRL data sets 1 and 2.

Loads `shared/data/febrl/dataset1.csv` (1,000 records) and `dataset2.csv` (5,000 records), runs
`policies.matching.find_duplicates` (default threshold: the match threshold) and compares the
proposed pairs with the true links (`rec-N-org` and every `rec-N-dup-K` are the same person N,
pairwise). Prints, per set, the blocking figures (candidate pairs, and blocking recall: the true
pairs that share a blocking key), precision, recall, F1 and seconds, then one GOAL line per set.
It also runs each record as a registration's duplicate check against the others, as the patient
index does (candidates by `search_keys`/`index_keys`, blocks over `MAX_SEARCH_BLOCK` left out,
the best 5 ranked): "search candidate recall" is the share of the true pairs (both ways) whose
other record is a candidate, "search recall" the share the check shows as a match or possible.
Goal: precision >= 0.95 and recall >= 0.95 on both; the weights were calibrated on dataset1 only.

    .venv/bin/python bench/mpi.py
"""

from __future__ import annotations

import csv
import sys
import time
from collections import defaultdict
from datetime import date
from itertools import combinations
from pathlib import Path

# Runnable as `python bench/mpi.py` from anywhere: the project root must be importable.
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from policies.matching import (  # noqa: E402
    MAX_SEARCH_BLOCK,
    POLICY_VERSION,
    POSSIBLE_THRESHOLD,
    Demographics,
    candidate_pairs,
    find_duplicates,
    index_keys,
    rank_candidates,
    search_keys,
)

FEBRL = Path(__file__).resolve().parents[2] / "shared" / "data" / "febrl"
SETS = ("dataset1", "dataset2")
TARGET = 0.95


def parse_date(text: str) -> date | None:
    """YYYYMMDD, or None when empty or not a real date (FEBRL has typos in dates)."""
    if len(text) != 8 or not text.isdigit():
        return None
    try:
        return date(int(text[:4]), int(text[4:6]), int(text[6:]))
    except ValueError:
        return None


def load(path: Path) -> tuple[list[Demographics], list[str]]:
    """The records of one FEBRL file and, for each, the person it belongs to (the N of rec-N)."""
    records: list[Demographics] = []
    people: list[str] = []
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle, skipinitialspace=True):
            row = {key.strip(): (value or "").strip() for key, value in row.items()}
            street = " ".join(p for p in (row["street_number"], row["address_1"]) if p)
            records.append(
                Demographics(
                    given_name=row["given_name"],
                    family_name=row["surname"],
                    birth_date=parse_date(row["date_of_birth"]),
                    street=street or None,
                    locality=row["suburb"] or None,
                    postcode=row["postcode"] or None,
                    state=row["state"] or None,
                    identifier=row["soc_sec_id"] or None,
                )
            )
            people.append(row["rec_id"].split("-")[1])
    return records, people


def true_pairs(people: list[str]) -> set[tuple[int, int]]:
    """Every pair of records (i < j) of the same person."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, person in enumerate(people):
        groups[person].append(index)
    return {pair for group in groups.values() for pair in combinations(sorted(group), 2)}


def search_recall(records: list[Demographics], truth: set[tuple[int, int]]) -> tuple[float, float]:
    """The duplicate check's candidate recall and recall over the true pairs, both ways."""
    normalised = [record.normalise() for record in records]
    filed: dict[str, list[int]] = defaultdict(list)
    for index, record in enumerate(normalised):
        for key in index_keys(record):
            filed[key].append(index)
    wanted: dict[int, set[int]] = defaultdict(set)
    for i, j in truth:
        wanted[i].add(j)
        wanted[j].add(i)
    found = shown = total = 0
    for i, others in wanted.items():
        keys = search_keys(normalised[i])
        small = [k for k in keys if len(filed.get(k, ())) <= MAX_SEARCH_BLOCK]
        pool = sorted({c for k in small for c in filed.get(k, ()) if c != i})
        ranked = rank_candidates(normalised[i], [normalised[c] for c in pool], limit=5)
        proposed = {pool[c] for c, s in ranked if s.classification in ("match", "possible")}
        total += len(others)
        found += len(others & set(pool))
        shown += len(others & proposed)
    return (found / total, shown / total) if total else (0.0, 0.0)


def measure(name: str) -> tuple[float, float]:
    """Print the figures of one set; return its precision and recall."""
    records, people = load(FEBRL / f"{name}.csv")
    truth = true_pairs(people)

    started = time.perf_counter()
    decisions = find_duplicates(records)
    seconds = time.perf_counter() - started

    candidates = candidate_pairs(records)
    proposed = {(d.left, d.right) for d in decisions}
    hits = len(proposed & truth)
    precision = hits / len(proposed) if proposed else 0.0
    recall = hits / len(truth) if truth else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    reviews = find_duplicates(records, threshold=POSSIBLE_THRESHOLD)
    possible = [d for d in reviews if d.classification == "possible"]
    possible_true = sum((d.left, d.right) in truth for d in possible)

    print(f"{name}:")
    print(f"  records                  {len(records):>8}")
    print(f"  true pairs               {len(truth):>8}")
    print(f"  candidate pairs          {len(candidates):>8}")
    blocked = len(candidates & truth) / len(truth) if truth else 0.0
    print(f"  blocking recall          {blocked:>8.4f}")
    print(f"  proposed pairs (match)   {len(proposed):>8}")
    print(f"  true positives           {hits:>8}")
    print(f"  precision                {precision:>8.4f}")
    print(f"  recall                   {recall:>8.4f}")
    print(f"  F1                       {f1:>8.4f}")
    print(f"  seconds                  {seconds:>8.2f}")
    print(f"  possible pairs (review)  {len(possible):>8}  ({possible_true} true)")
    started = time.perf_counter()
    candidate_recall, shown_recall = search_recall(records, truth)
    print(f"  search candidate recall  {candidate_recall:>8.4f}")
    print(f"  search recall            {shown_recall:>8.4f}")
    print(f"  search seconds           {time.perf_counter() - started:>8.2f}")
    return precision, recall


def main() -> int:
    if not FEBRL.is_dir():
        print(f"FEBRL data not found at {FEBRL}")
        return 1
    print(f"MPI duplicate detection, policy {POLICY_VERSION}, data {FEBRL}")
    results = {name: measure(name) for name in SETS}
    for name, (precision, recall) in results.items():
        met = precision >= TARGET and recall >= TARGET
        print(
            f"GOAL mpi {name}: precision {precision:.4f} recall {recall:.4f} "
            f"(target >= {TARGET:.2f} both) {'MET' if met else 'NOT MET'}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
