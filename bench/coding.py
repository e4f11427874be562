"""Grouping speed and the msdrg/drgpy agreement rate on generated inpatient stays (issue 12).

A few thousand plausible stays are generated from a seed: real codes drawn from the code sets
(common principal diagnoses that group, and others drawn from the whole ICD-10-CM release that
msdrg groups without a refusing edit; secondary diagnoses with POA indicators; ICD-10-PCS codes
from the carried order files), discharge dates across FY2024-FY2026, ages, sexes and discharge
statuses. Every code is checked against its discharge date with `ledger.coding` before any
timing, so no stay is rejected by a check.

Then, in one run, on the same stays, median of ROUNDS rounds each:

(a) msdrg alone: `MsdrgGrouper.group(inputs)` on the prepared input dicts; also msdrg's grouper
    and its Medicare Code Editor together (the two engines the package ships), the MCE with each
    edit named (`edits.edits_for_inputs`) and drgpy (the cross-check) each alone;
(b) `ledger.coding.grouper.group(claim)` one stay at a time: the input built, msdrg, MCE with
    each edit named, CMS Table 5, the drgpy cross-check, the hash; (b') `grouper.group_many` in
    batches of 200 (the same groupings, engine by engine): rates and ratios to (a);
(c), (d) through the ledger: the first `--ledger-stays` stays coded through the commands in a
    fresh SQLite ledger beforehand (`bench/coding_ledger.py`), its Merkle log caught up (the
    steady state its follower keeps), then grouped, rounds interleaved: (c) by
    `ledger.commands.coding.group_stay`, one signed transaction a stay (`code group`), and (d)
    by `group_stays`, one read scope and one transaction per 200 stays (`code group-all`); (d')
    is (d) with the Merkle log's admission of what it wrote; ratios to msdrg alone on the same
    stays. Then one more (d) round with each stage timed: µs a stay read, grouped (msdrg, MCE,
    drgpy), recorded, saved (text checks, encoding, encryption, signing, database), logged;
(e) msdrg/drgpy agreement: the share of stays where drgpy gives msdrg's DRG, and the most
    frequent disagreements with what explains them.

Goal (issue 12): (d), the faster path through the ledger, >= 0.8 x (a).

Usage: .venv/bin/python bench/coding.py [--stays 3000] [--rounds 5] [--seed 12]
       [--ledger-stays 400] [--ledger-rounds 3] [--quick]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from collections import Counter
from collections.abc import Callable
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import Goal, machine_line, print_goals, print_table  # noqa: E402
from ledger.coding import edits, fiscal, grouper, icd10cm, icd10pcs  # noqa: E402
from ledger.coding.claim import Claim, CodedDiagnosis, CodedProcedure  # noqa: E402
from ledger.commands.coding import GROUPING_BATCH  # noqa: E402
from ledger.errors import UsageError  # noqa: E402

# -- the stays ------------------------------------------------------------------------------------

COMMON_PRINCIPAL = (
    "A41.9", "A41.51", "I50.23", "I50.33", "I50.9", "I21.4", "I21.19", "I48.91", "I63.9",
    "I63.512", "I61.9", "I26.99", "I35.0", "I25.10", "I70.221", "J18.9", "J44.1", "J44.0",
    "J96.01", "J69.0", "J45.901", "N39.0", "N17.9", "N18.6", "K80.00", "K35.80", "K57.32",
    "K85.90", "K92.2", "K56.609", "K70.30", "L03.115", "E11.65", "E11.10", "E87.1", "E86.0",
    "S72.001A", "S72.141A", "S06.5X0A", "M17.11", "M16.11", "M48.062", "M54.16", "C34.90",
    "C18.9", "C50.911", "C61", "D62", "F32.9", "F10.239", "F20.9", "G40.909", "G45.9", "T81.44XA",
    "T84.51XA", "R55", "R07.9", "O80", "O34.211", "Z38.00", "U07.1",
)  # fmt: skip
COMMON_SECONDARY = (
    "I10", "E11.9", "E78.5", "E66.9", "Z79.4", "Z79.01", "Z87.891", "F17.210", "N18.30",
    "N18.4", "I48.91", "I25.10", "E87.1", "E87.2", "E83.42", "D64.9", "D69.6", "J96.01",
    "J44.9", "N17.9", "E11.22", "E11.65", "I50.22", "I50.32", "K21.9", "G47.33", "F32.A",
    "F41.9", "R65.20", "R65.21", "E43", "E44.0", "L89.153", "L89.154", "N39.0", "T83.511A",
    "E03.9", "M81.0", "Z95.1", "Z96.651", "J18.9", "I63.9", "R40.2410", "Y92.009", "W19.XXXA",
)  # fmt: skip
COMMON_PROCEDURES = (
    "0DTJ4ZZ", "0FT44ZZ", "0SR9019", "0SRB019", "0SRC0J9", "0SRD0J9", "02703DZ", "027034Z",
    "5A1955Z", "5A1945Z", "5A1935Z", "0BH17EZ", "0DB68ZX", "0DJ08ZZ", "30233N1", "3E033GC",
    "0W9G3ZZ", "0T9B70Z", "10E0XZZ", "10D00Z1", "0UT90ZZ", "0QS604Z", "B2111ZZ", "4A023N7",
)  # fmt: skip
STATUSES = ("01",) * 12 + ("06",) * 5 + ("03",) * 4 + ("62",) * 1 + ("20",) * 1 + ("02",) * 1
POA_WEIGHTS = (("Y", 86), ("N", 8), ("U", 3), ("W", 3))


def _billable_pool(rng: random.Random, size: int) -> list[str]:
    """A random sample of billable ICD-10-CM codes of the release (no dots)."""
    library: Any = icd10cm._cm()
    leaves = [c for c in library.get_all_codes(False) if library.is_leaf(c) and "-" not in c]
    return [icd10cm.normalise(c) for c in rng.sample(leaves, size)]


def _valid_dx(code: str, on: date) -> str | None:
    try:
        return icd10cm.check_diagnosis(code, on=on).code
    except UsageError:
        return None


def _valid_pr(code: str, on: date) -> str | None:
    try:
        return icd10pcs.check_procedure(code, on=on).code
    except UsageError:
        return None


def _groups_cleanly(claim: Claim) -> bool:
    version = fiscal.grouper_version(claim.discharge)
    if edits.refusing(edits.code_edits(claim)):
        return False
    return grouper._run_msdrg(claim.msdrg_input(version)).get("return_code") == "OK"


def make_stays(count: int, seed: int) -> list[Claim]:
    rng = random.Random(seed)
    first, last = date(2023, 10, 1), date(2026, 9, 30)
    span = (last - first).days
    wide_dx = _billable_pool(rng, 4000)
    pcs_rows = [c for c in icd10pcs._table() if len(c) == 7]
    poas = [p for p, w in POA_WEIGHTS for _ in range(w)]
    stays: list[Claim] = []
    while len(stays) < count:
        on = first + timedelta(days=rng.randrange(span + 1))
        pdx_code = rng.choice(COMMON_PRINCIPAL) if rng.random() < 0.7 else rng.choice(wide_dx)
        pdx = _valid_dx(pdx_code, on)
        if pdx is None:
            continue
        age = 0 if pdx.startswith("Z38") else rng.randint(18, 95)
        sex = "F" if pdx.startswith(("O", "C50")) else ("M" if pdx == "C61" else rng.choice("MF"))
        secondary: dict[str, CodedDiagnosis] = {}
        for _ in range(rng.choice((0, 1, 2, 3, 3, 4, 5, 6, 8, 10))):
            pick = rng.choice(COMMON_SECONDARY) if rng.random() < 0.75 else rng.choice(wide_dx)
            code = _valid_dx(pick, on)
            if code is not None and code != pdx and code not in secondary:
                secondary[code] = CodedDiagnosis(code, rng.choice(poas))
        procedures: dict[str, CodedProcedure] = {}
        for _ in range(rng.choice((0, 0, 0, 1, 1, 2, 3))):
            pick = rng.choice(COMMON_PROCEDURES) if rng.random() < 0.7 else rng.choice(pcs_rows)
            code = _valid_pr(pick, on)
            if code is not None:
                procedures[code] = CodedProcedure(code, on)
        conflicts = icd10cm.excludes1_conflicts([pdx, *secondary])
        for conflict in conflicts:
            secondary.pop(conflict.other, None) if conflict.other != pdx else None
            secondary.pop(conflict.code, None) if conflict.code != pdx else None
        claim = Claim(
            discharge=on,
            age=age,
            sex=sex,
            discharge_status=rng.choice(STATUSES),
            admission_source=rng.choice("1124569"),
            principal=CodedDiagnosis(pdx, "Y"),
            secondary=tuple(secondary.values()),
            procedures=tuple(procedures.values()),
        )
        if _groups_cleanly(claim):
            stays.append(claim)
    return stays


BATCH = GROUPING_BATCH
"""Stays a batch of (b'), as `group_stays` saves them."""

# -- timing ---------------------------------------------------------------------------------------


def _rates(count: int, runs: dict[str, Callable[[], Any]], rounds: int) -> dict[str, float]:
    """Stays a second of each run, the median of `rounds`; every round runs each once, in an
    order that turns each round, so a machine whose load changes slows every run alike."""
    times: dict[str, list[float]] = {name: [] for name in runs}
    names = list(runs)
    for r in range(rounds):
        for name in names[r % len(names) :] + names[: r % len(names)]:
            start = time.perf_counter()
            runs[name]()
            times[name].append(time.perf_counter() - start)
    return {name: count / statistics.median(taken) for name, taken in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stays", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=12)
    parser.add_argument("--quick", action="store_true", help="500 stays, 3 rounds, 200 through")
    parser.add_argument(
        "--ledger-stays", type=int, default=400, help="stays grouped through the ledger (c, d)"
    )
    parser.add_argument(
        "--ledger-rounds",
        type=int,
        default=3,
        help="rounds through the ledger (each adds two groupings to every abstract)",
    )
    args = parser.parse_args()
    if args.quick:
        args.stays, args.rounds, args.ledger_stays = 500, 3, min(args.ledger_stays, 200)
    print(machine_line())
    started = time.perf_counter()
    stays = make_stays(args.stays, args.seed)
    print(
        f"{len(stays)} stays generated (seed {args.seed}) in {time.perf_counter() - started:.1f} s;"
        f" {sum(len(s.secondary) for s in stays) / len(stays):.1f} secondary diagnoses and "
        f"{sum(len(s.procedures) for s in stays) / len(stays):.2f} procedures a stay"
    )
    inputs = [s.msdrg_input(fiscal.grouper_version(s.discharge)) for s in stays]

    import msdrg  # the engines as a user of the package alone would hold them

    engine = msdrg.MsdrgGrouper()
    editor = msdrg.MceEditor()
    for one in inputs[:50]:  # warm both sides alike
        engine.group(one)
        editor.edit(one)
    for stay in stays[:50]:
        grouper.group(stay)

    def msdrg_alone() -> None:
        for one in inputs:
            engine.group(one)

    def msdrg_and_mce() -> None:
        for one in inputs:
            engine.group(one)
            editor.edit(one)

    results: list[grouper.Grouping] = []

    def ours() -> None:
        results.clear()
        results.extend(grouper.group(stay) for stay in stays)

    def ours_many() -> None:
        for start in range(0, len(stays), BATCH):
            grouper.group_many(stays[start : start + BATCH])

    def mce_alone() -> None:
        for one in inputs:
            edits.edits_for_inputs(one, age=one["age"], sex="MFU"[one["sex"]])

    def drgpy_alone() -> None:
        for one in inputs:
            grouper._cross_check(one, None, None)

    n = len(stays)
    rate = _rates(
        n,
        {
            "alone": msdrg_alone,
            "both": msdrg_and_mce,
            "named": mce_alone,
            "cross": drgpy_alone,
            "module": ours,
            "many": ours_many,
        },
        args.rounds,
    )
    alone, both, named, cross = rate["alone"], rate["both"], rate["named"], rate["cross"]
    module, many = rate["module"], rate["many"]
    rows = [
        ["(a) msdrg grouper alone", f"{alone:,.0f}", "1.00"],
        ["(a') msdrg grouper + its MCE", f"{both:,.0f}", f"{both / alone:.2f}"],
        ["    MCE alone, each edit named", f"{named:,.0f}", f"{named / alone:.2f}"],
        ["    drgpy alone (the cross-check)", f"{cross:,.0f}", f"{cross / alone:.2f}"],
        ["(b) grouper.group, one at a time", f"{module:,.0f}", f"{module / alone:.2f}"],
        [f"(b') grouper.group_many, {BATCH} a batch", f"{many:,.0f}", f"{many / alone:.2f}"],
    ]
    print_table(
        f"Stays grouped per second, median of {args.rounds} rounds of {n}",
        ["path", "stays/s", "x msdrg"],
        rows,
    )
    floor = 1e6 / alone + 1e6 / named + 1e6 / cross
    print(
        f"The engines alone, one after the other: msdrg {1e6 / alone:.0f} + MCE "
        f"{1e6 / named:.0f} + drgpy {1e6 / cross:.0f} = {floor:.0f} µs a stay, "
        f"{1e6 / floor / alone:.2f} x msdrg alone at best"
    )

    ledger_ratio: float | None = None
    breakdown: dict[str, float] = {}
    if args.ledger_stays > 0:
        ledger_ratio, breakdown = _through_the_ledger(
            stays[: args.ledger_stays], inputs[: args.ledger_stays], engine, args.ledger_rounds
        )
    else:
        print("\n(c) and (d), through the ledger: not run (--ledger-stays 0)")

    agree = sum(1 for g in results if g.cross_check.agrees)
    patterns: Counter[tuple[str, str, str]] = Counter()
    for g in results:
        if g.cross_check.agrees:
            continue
        ours_drg = "none" if g.drg is None else f"{g.drg:03d}"
        if g.initial_drg != g.drg and g.cross_check.drg == f"{g.initial_drg:03d}":
            why = "HAC rule (drgpy gives msdrg's DRG before it)"
        elif g.grouper_version in (401, 440):
            why = f"drgpy has no v{g.grouper_version / 10:.1f}"
        elif g.cross_check.drg is None:
            why = "drgpy gives no DRG (or failed)"
        elif g.drg is not None and abs(g.drg - int(g.cross_check.drg)) <= 2:
            why = "severity level (CC/MCC) in one DRG family"
        elif g.inputs["procedures"]:
            why = "procedure (O.R.) logic"
        else:
            why = "principal diagnosis logic"
        patterns[(ours_drg, g.cross_check.drg or "none", why)] += 1
    print_table(
        f"msdrg/drgpy agreement: {agree}/{n} = {agree / n:.1%}; the most frequent disagreements",
        ["msdrg -> drgpy", "stays", "explained by"],
        [[f"{a} -> {b}", str(c), why] for (a, b, why), c in patterns.most_common(12)],
    )
    reasons: Counter[str] = Counter()
    for (_, _, why), c in patterns.items():
        reasons[why] += c
    print("disagreements by cause: " + ", ".join(f"{w}: {c}" for w, c in reasons.most_common()))

    why_not = "not run"
    if breakdown:
        engines = sum(breakdown[f"  of which {e}"] for e in ("msdrg", "MCE", "drgpy"))
        why_not = (
            f"a stay through the ledger costs {breakdown['total']:.0f} µs against msdrg's "
            f"{breakdown['msdrg alone']:.0f}: reading its three aggregates {breakdown['reads']:.0f}"
            f", the three engines {engines:.0f}, saving {breakdown['save']:.0f}; 0.8 x allows "
            f"{breakdown['msdrg alone'] / 0.8:.0f} µs in all"
        )
    print_goals(
        [Goal("stays grouped through the ledger >= 0.8 x msdrg alone", ledger_ratio, 0.8, why_not)]
    )
    if ledger_ratio is not None and ledger_ratio < 0.8:
        print(f"  why: {why_not}")
    engine.close()
    editor.close()


def _through_the_ledger(
    sample: list[Claim], inputs: list[dict[str, Any]], engine: Any, rounds: int
) -> tuple[float, dict[str, float]]:
    """(c) and (d) on a fresh ledger, rounds interleaved with each other and with msdrg alone
    on the same stays (each round adds a grouping to every stay, so neither path reads the
    longer abstracts alone)."""
    from bench.coding_ledger import STAGES, prepare

    started = time.perf_counter()
    prepared = prepare(sample)
    print(
        f"\n{prepared.stays} stays coded through the commands in a fresh SQLite ledger in "
        f"{time.perf_counter() - started:.1f} s ({prepared.skipped} refused on the way); "
        f"{_events_a_stay(prepared):.1f} events a stay's abstract"
    )
    same = [inputs[i] for i in prepared.kept]
    prepared.batch(prepared.ready[:20])  # warm: the read path, the key registry
    prepared.catch_up()
    figures = prepared.breakdown()  # before the timed rounds: abstracts as coded, grouped once
    after_breakdown = before = _events_a_stay(prepared)
    times: dict[str, list[float]] = {"alone": [], "one": [], "batch": [], "logged": []}
    for r in range(rounds):
        for path in ("alone", "one", "batch") if r % 2 == 0 else ("batch", "one", "alone"):
            start = time.perf_counter()
            if path == "alone":
                for one in same:
                    engine.group(one)
            elif path == "one":
                prepared.one()
            else:
                prepared.batch()
            took = time.perf_counter() - start
            admitted = prepared.catch_up()
            times[path].append(took)
            if path == "batch":
                times["logged"].append(took + admitted)
    k = prepared.stays
    rates = {path: k / statistics.median(taken) for path, taken in times.items()}
    alone = rates["alone"]
    print_table(
        f"Through the ledger, {k} stays, median of {rounds} rounds (SQLite, steady state: the "
        f"Merkle log caught up before each round; abstracts of {before:.1f} events at the first "
        f"round, {_events_a_stay(prepared):.1f} after the last)",
        ["path", "stays/s", "x msdrg"],
        [
            ["(a) msdrg alone, the same stays", f"{alone:,.0f}", "1.00"],
            ["(c) group_stay, one transaction a stay", f"{rates['one']:,.0f}",
             f"{rates['one'] / alone:.3f}"],
            [f"(d) group_stays, {BATCH} stays a transaction", f"{rates['batch']:,.0f}",
             f"{rates['batch'] / alone:.3f}"],
            ["(d') (d) and the Merkle log admitting it", f"{rates['logged']:,.0f}",
             f"{rates['logged'] / alone:.3f}"],
        ],
    )  # fmt: skip
    figures["msdrg alone"] = 1e6 / alone
    per = 1e6 / alone
    print_table(
        f"Where a stay's time goes in (d), µs a stay (a round before the timed ones, each stage "
        f"timed, abstracts of {after_breakdown - 1:.1f} events and the new grouping; msdrg alone "
        f"{per:.0f} µs)",
        ["stage", "µs", "x msdrg", "what"],
        [
            [stage, f"{figures.get(stage, 0.0):,.0f}", f"{figures.get(stage, 0.0) / per:.2f}", what]
            for stage, what in STAGES
        ],
    )
    prepared.close()
    return rates["batch"] / alone, figures


def _events_a_stay(prepared: Any) -> float:
    from ledger.aggregates.coding import abstract_id

    ledger = prepared.ledger
    total = sum(
        len(ledger.recorder.select_events(abstract_id(e), limit=10_000)) for e in prepared.ready
    )
    return total / max(1, prepared.stays)


if __name__ == "__main__":
    main()
