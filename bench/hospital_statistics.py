"""Hospital statistics on a year of a 200-bed hospital (issue 13, "Done when").

Plans a seeded year of a general hospital (`bench/hospital_year.py`: nine units of 200 beds and
a nursery, about 16,500 adult and child admissions and 1,700 newborns, occupancy about 86 %,
ALOS about 4 days, transfers, deaths, readmissions) and builds it through the ledger's commands
on each store, with a final coding abstract for 90 % of the discharged stays (`--coded N` for
another number; each diagnosis, procedure and status is one command, about 10 ms a stay).
Then, per store:

- the build: seconds and events written, and the Merkle log admitting them (the follower's work
  every view waits for; information);
- the statistics view caught up from the first event, a fresh `StatisticsView` (median of
  `--rounds`, the view's tables rebuilt empty between rounds): events/s over every log event the
  follower passes (the goal's figure: what a view's catch-up costs on this log), and over the
  events the view applies (the `Encounter` events it is given);
- `projections.statistics.census` (what `stats census` computes) for one month and for the
  year, the hospital's adults and children, as the CLI runs it (the view caught up first);
  with `projections/statistics_reports.py` present (issue 13 items 3 and 4), its length of
  stay, deaths, readmissions, case mix, diagnoses, procedures and trends reports too, each
  against its own formulas on the same stays already read from the view;
- the same figures computed by `policies.statistics` on the plan's own stays held in memory
  (the "bare" baseline: the formulas without the ledger), and whether the ledger's census
  equals it day by day.

Goals (issue 13): catch-up >= 20,000 events/s, a month's report < 1 s, a year's < 3 s.

The work of `bench/statistics.py` (that file carries the standard library's name, so it only
hands over to this one):

    .venv/bin/python bench/statistics.py [--quick] [--stays N] [--coded N] [--store both]
        [--rounds 3] [--month 2025-06] [--seed 13] [--profile]
"""

from __future__ import annotations

import sys
from pathlib import Path

# Run through `bench/statistics.py` (the name issue 13 gives it), which puts the project first.
HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != HERE]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import argparse  # noqa: E402
import importlib.util  # noqa: E402
import time  # noqa: E402
from collections.abc import Callable, Sequence  # noqa: E402
from datetime import date, timedelta  # noqa: E402
from typing import Any  # noqa: E402

from bench.common import machine_line, median, print_table, store_kinds, stores  # noqa: E402
from bench.hospital_year import DEFAULT_STAYS, HospitalPlan, build_hospital, plan_hospital  # noqa: E402
from ledger.application import Ledger  # noqa: E402
from ledger.follower import Follower, _tracking_table  # noqa: E402
from policies import statistics as st  # noqa: E402
from projections.statistics import StatisticsView, census  # noqa: E402

GOAL_EVENTS_PER_S = 20_000
GOAL_MONTH_S = 1.0
GOAL_YEAR_S = 3.0


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a small hospital: 1,500 stays")
    parser.add_argument("--stays", type=int, default=None, help="A&C admissions in the year")
    parser.add_argument(
        "--coded", type=int, default=None, help="stays given a final abstract (default 90 %%)"
    )
    parser.add_argument("--seed", type=int, default=13)
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds of each figure")
    parser.add_argument("--month", default="2025-06", help="the month reported (YYYY-MM)")
    parser.add_argument(
        "--store", choices=("sqlite", "postgresql", "both"), default="both", help="default both"
    )
    parser.add_argument(
        "--profile", action="store_true", help="profile one more catch-up of the view (cProfile)"
    )
    return parser.parse_args()


def month_period(month: str) -> st.Period:
    first = date.fromisoformat(f"{month}-01")
    following = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    return st.Period(first, following - timedelta(days=1))


def best_of(rounds: int, fn: Callable[[], Any]) -> tuple[float, list[float], Any]:
    """The median seconds of `rounds` calls, each round's seconds, and the last result."""
    times: list[float] = []
    result: Any = None
    for _ in range(rounds):
        started = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - started)
    return median(times), times, result


# -- the bare baseline: the formulas on the plan's stays in memory --------------------------------


def bare_census(stays: Sequence[st.Stay], counts: Sequence[st.BedCount], period: st.Period) -> Any:
    """What `projections.statistics.census` computes, on stays already in memory."""
    days = st.daily_censuses(stays, period)
    moved = st.movements(stays, period)
    filled = st.occupancy(stays, counts, period)
    turnover = st.bed_turnover_rate(stays, counts, period)
    average = st.average_daily_census(stays, period)
    return days, moved, filled, turnover, average


def agrees(report: Any, bare: Any) -> bool:
    days, moved, filled, turnover, average = bare
    return (
        [d.census for d in report.days] == [c.daily_inpatient_census for c in days]
        and [(d.admissions, d.discharges, d.transfers_in, d.transfers_out) for d in report.days]
        == [(m.admissions, m.discharges, m.transfers_in, m.transfers_out) for m in moved]
        and report.service_days == filled.service_days
        and report.bed_count_days == filled.bed_count_days
        and report.occupancy_percent == st.rounded(filled.percent)
        and report.bed_turnover == st.rounded(turnover)
        and report.average_daily_census == st.rounded(average)
    )


# -- the view's catch-up ---------------------------------------------------------------------------


def applied_events(ledger: Ledger, topics: frozenset[str]) -> int:
    """How many log events have one of the view's topics (the events it is given)."""
    count, start = 0, 1
    while True:
        page = ledger.recorder.select_notifications(start, 10_000, topics=sorted(topics))
        if not page:
            return count
        count += len(page)
        start = page[-1].id + 1


def fresh_catch_up(ledger: Ledger) -> tuple[float, int]:
    """Drop the view's tables (and its tracking), then catch a new `StatisticsView` up from
    the first event; seconds and events passed."""
    view = StatisticsView(ledger.db)
    tracking: Any = ledger.factory.tracking_recorder()
    if ledger.db.tables_version(view.name) is not None:
        ledger.db.rebuild_tables(
            view.name,
            view.tables,
            view.create_tables,
            version=view.version,
            tracking_table=_tracking_table(ledger, tracking),
        )
    started = time.perf_counter()
    passed = Follower(ledger, [StatisticsView(ledger.db)]).catch_up()
    return time.perf_counter() - started, passed


def profile_catch_up(ledger: Ledger, kind: str, lines: int = 22) -> None:
    import cProfile
    import io
    import pstats

    profiler = cProfile.Profile()
    profiler.enable()
    fresh_catch_up(ledger)
    profiler.disable()
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(lines)
        text = out.getvalue().replace(str(ROOT) + "/", "").replace(str(Path(sys.prefix)), "")
        print(f"\nprofile: the statistics view's catch-up on {kind}, top {lines} by {order}")
        print("\n".join(line for line in text.splitlines() if line.strip())[:12_000])


# -- the other reports, once `projections/statistics_reports.py` exists -------------------------


def other_reports() -> list[tuple[str, Callable[..., Any], Callable[..., Any], int]]:
    """(label, the ledger's report of a period, the same report's formulas on stays in memory,
    the days past the period the stays must reach), for each report of issue 13 items 3 and 4."""
    if importlib.util.find_spec("projections.statistics_reports") is None:
        return []
    import projections.statistics_reports as r

    window = st.READMISSION_WINDOW_DAYS

    def trends(ledger: Ledger, *, start: date, end: date) -> Any:
        return r.trends_report(ledger, first=start, last=end)

    def trends_in_memory(stays: Sequence[st.Stay], period: st.Period) -> Any:
        return r.monthly_trends(stays, r.months_between(period.start, period.end))

    def by(report: Callable[..., Any], **options: Any) -> Callable[..., Any]:
        return lambda *args, **kwargs: report(*args, **kwargs, **options)

    return [
        ("length of stay by service", by(r.length_of_stay_report, by="service"),
         by(r.length_of_stay_by, by="service"), 0),
        ("deaths by physician", by(r.deaths_report, by="physician"),
         by(r.deaths_by, by="physician"), 0),
        ("readmissions by category", by(r.readmissions_report, by="category"),
         by(r.readmissions_by, by="category"), window),
        ("case mix by DRG", by(r.case_mix_report, by="drg"), by(r.case_mix_by, by="drg"), 0),
        ("top 10 diagnoses", r.diagnoses_report, r.top_diagnoses, 0),
        ("top 10 procedures", r.procedures_report, r.top_procedures, 0),
        ("monthly trends", trends, trends_in_memory, window),
    ]  # fmt: skip


def report_rows(
    ledger: Ledger, rounds: int, periods: Sequence[tuple[str, st.Period]]
) -> list[list[str]]:
    """Each report of `other_reports` for each period: as the CLI runs it (the view caught up,
    the period's stays read, the formulas), and its formulas alone on the same stays already in
    memory (read once beforehand, untimed)."""
    rows: list[list[str]] = []
    view = StatisticsView(ledger.db)
    for label, report, in_memory, after in other_reports():
        for name, period in periods:
            stays = view.stays(between=(period.start, period.end + timedelta(days=after)))
            seconds, _, _ = best_of(
                rounds, lambda p=period, f=report: f(ledger, start=p.start, end=p.end)
            )
            alone, _, _ = best_of(rounds, lambda p=period, s=stays, f=in_memory: f(s, p))
            rows.append([f"{label}, {name} s", f"{seconds:.3f}", f"{alone:.3f}",
                         f"{seconds / alone:,.1f} x" if alone > 0 else "-"])  # fmt: skip
    return rows


def html_report_rows(ledger: Ledger, rounds: int, month: str) -> list[list[str]]:
    """The monthly HTML report as `stats report` makes it (its figures read as of now, the
    plots, the page), cold (the first in this process: the ICD-10 title library and matplotlib
    load) and warm; both renders must give the same bytes."""
    if importlib.util.find_spec("projections.statistics_html") is None:
        return []
    from datetime import UTC, datetime

    from projections.statistics_html import monthly_figures, render_monthly_report

    moment = datetime.now(UTC)

    def page() -> bytes:
        return render_monthly_report(monthly_figures(ledger, month, as_of=moment))

    started = time.perf_counter()
    first = page()
    cold = time.perf_counter() - started
    warm, runs, again = best_of(rounds, page)
    return [
        ["the first in this process s (code titles loaded above)", f"{cold:.3f}", ""],
        ["a monthly report s (warm)", f"{warm:.3f}", f"< {GOAL_MONTH_S:g}"],
        ["  (each round s)", " ".join(f"{s:.3f}" for s in runs), ""],
        ["page bytes", f"{len(first):,}", ""],
        ["the same bytes every time", "yes" if again == first else "NO", ""],
    ]


# -- one store ------------------------------------------------------------------------------------


def run(kind: str, plan: HospitalPlan, args: argparse.Namespace, coded: int | None) -> list[str]:
    month = month_period(args.month)
    year = plan.period
    facts, counts = plan.facts(), plan.bed_counts()
    with stores() as made:
        subject = made.ledger(kind, "hospital")
        ledger, admin = subject.ledger, subject.signer
        assert ledger is not None and admin is not None
        print(f"  {kind}: building {len(plan.stays):,} stays …", flush=True)
        started = time.perf_counter()
        built = build_hospital(
            ledger, admin, plan, coded=coded,
            on_progress=lambda text: print(f"  {kind}: {text}", flush=True),
        )  # fmt: skip
        build_s = time.perf_counter() - started
        print(f"  {kind}: wrote {built.events:,} events in {build_s:.0f} s; the Merkle log …")
        before = ledger.merkle_log.size()
        started = time.perf_counter()
        ledger.merkle_log.catch_up()
        log_s = time.perf_counter() - started
        admitted = ledger.merkle_log.size() - before

        view_topics = StatisticsView.topics
        applied = applied_events(ledger, view_topics)
        catch_ups = [fresh_catch_up(ledger) for _ in range(args.rounds)]
        catch_s = median([s for s, _ in catch_ups])
        passed = catch_ups[0][1]
        if args.profile:
            profile_catch_up(ledger, kind)

        month_s, month_runs, month_report = best_of(
            args.rounds, lambda: census(ledger, start=month.start, end=month.end)
        )
        year_s, year_runs, year_report = best_of(
            args.rounds, lambda: census(ledger, start=year.start, end=year.end)
        )
        unit_s, _, _ = best_of(
            args.rounds, lambda: census(ledger, start=month.start, end=month.end, unit="3E")
        )
        view = StatisticsView(ledger.db)
        read_s, _, read = best_of(args.rounds, view.stays)
        bare_month_s, _, bare_month = best_of(
            args.rounds, lambda: bare_census(facts, counts, month)
        )
        bare_year_s, _, bare_year = best_of(args.rounds, lambda: bare_census(facts, counts, year))
        same = agrees(month_report, bare_month) and agrees(year_report, bare_year)

        def ratio(a: float, b: float) -> str:
            return f"{a / b:,.1f} x" if b > 0 else "-"

        rows = [
            ["events in the log", f"{built.events:,}", ""],
            ["stays built (A&C and newborns)", f"{built.stays:,}", ""],
            ["transfers", f"{built.transfers:,}", ""],
            ["final abstracts signed", f"{built.coded:,}", ""],
            ["  (coding refused)", f"{built.coding_refused:,}", ""],
            ["build s (all commands)", f"{build_s:,.1f}", ""],
            *[[f"  of which {part} s", f"{s:,.1f}", ""] for part, s in built.seconds.items()],
            ["Merkle log admitting the rest, events/s", f"{admitted / log_s:,.0f}", ""],
            ["  (admitted after the build / during it)", f"{admitted:,} / {before:,}", ""],
            [
                "view catch-up, log events passed/s",
                f"{passed / catch_s:,.0f}",
                f">= {GOAL_EVENTS_PER_S:,}",
            ],
            ["view catch-up, events applied/s", f"{applied / catch_s:,.0f}", ""],
            ["  (events passed / applied)", f"{passed:,} / {applied:,}", ""],
            ["  (each round s)", " ".join(f"{s:.2f}" for s, _ in catch_ups), ""],
            [f"census of {args.month} s", f"{month_s:.3f}", f"< {GOAL_MONTH_S:g}"],
            ["  (each round s)", " ".join(f"{s:.3f}" for s in month_runs), ""],
            [f"  bare formulas, {args.month} s", f"{bare_month_s:.3f}", ""],
            ["  ledger / bare", ratio(month_s, bare_month_s), ""],
            [f"census of {year} s", f"{year_s:.3f}", f"< {GOAL_YEAR_S:g}"],
            ["  (each round s)", " ".join(f"{s:.3f}" for s in year_runs), ""],
            ["  bare formulas, the year s", f"{bare_year_s:.3f}", ""],
            ["  ledger / bare", ratio(year_s, bare_year_s), ""],
            [f"census of unit 3E, {args.month} s", f"{unit_s:.3f}", ""],
            [f"view.stays() alone ({len(read):,} stays) s", f"{read_s:.3f}", ""],
            ["ledger census equals bare formulas", "yes" if same else "NO", ""],
        ]
        print_table(
            f"Statistics on {kind}: {plan.beds} beds, {len(plan.stays):,} stays, "
            f"{year} (median of {args.rounds})",
            ["measure", "value", "goal"],
            rows,
        )
        reports = report_rows(ledger, args.rounds, [(args.month, month), ("the year", year)])
        if reports:
            print_table(
                f"The other reports on {kind} (median of {args.rounds}; the formulas on the "
                "period's stays already read from the view)",
                ["report", "ledger", "in memory", "ratio"],
                reports,
            )
        page = html_report_rows(ledger, args.rounds, args.month)
        if page:
            print_table(
                f"The monthly HTML report on {kind} ({args.month}: its figures, twelve months' "
                "trends, plots and the page; median of the warm rounds)",
                ["measure", "value", "goal"],
                page,
            )
        if built.refusals:
            print(f"  coding refused {built.coding_refused}: e.g. {built.refusals[0]}")
        rate = passed / catch_s
        return [
            verdict(f"view catch-up ({kind})", f"{rate:,.0f} events/s over the log",
                    rate >= GOAL_EVENTS_PER_S, f">= {GOAL_EVENTS_PER_S:,}"),
            verdict(f"a month's census ({kind})", f"{month_s:.3f} s", month_s < GOAL_MONTH_S,
                    f"< {GOAL_MONTH_S:g} s"),
            verdict(f"a year's census ({kind})", f"{year_s:.3f} s", year_s < GOAL_YEAR_S,
                    f"< {GOAL_YEAR_S:g} s"),
        ]  # fmt: skip


def verdict(name: str, value: str, met: bool, target: str) -> str:
    return f"GOAL {name}: {value} (target {target}) {'MET' if met else 'NOT MET'}"


def main() -> None:
    args = arguments()
    stays = args.stays or (1_500 if args.quick else DEFAULT_STAYS)
    coded = args.coded  # None: most discharged stays (CODED_SHARE)
    print(machine_line())
    print(f"Project: {ROOT}")
    started = time.perf_counter()
    plan = plan_hospital(stays, seed=args.seed)
    adults = [s for s in plan.stays if not s.newborn]
    print(
        f"Planned in {time.perf_counter() - started:.1f} s (seed {args.seed}): {plan.beds} beds "
        f"in {len(plan.units) - 1} units and {plan.bassinets} bassinets; {len(adults):,} A&C "
        f"stays and {len(plan.stays) - len(adults):,} newborns, {len(plan.patients):,} "
        f"patients, {plan.transfers:,} transfers, {plan.turned_away:,} turned away (full)"
    )
    facts, counts, year = plan.facts(), plan.bed_counts(), plan.period
    filled = st.occupancy(facts, counts, year)
    los = st.length_of_stay(facts, year)
    deaths = st.death_rates(facts, year)
    again = st.readmissions(facts, year)
    print(
        f"The plan's year by the formulas: occupancy {st.rounded(filled.percent)} %, "
        f"ALOS {st.rounded(los.average)} d over {los.discharges:,} discharges, gross death "
        f"rate {st.rounded(deaths.gross_percent)} % (net {st.rounded(deaths.net_percent)} %), "
        f"{again.label} {st.rounded(again.percent)} %"
    )
    print("The machine is shared (4 sessions on 2 cores): figures are as measured, noisy.")
    kinds, skipped = store_kinds(args.store)
    goals: list[str] = []
    for kind in kinds:
        goals += run(kind, plan, args, coded)
    print()
    for line in goals:
        print(line)
    for kind, why in skipped.items():
        print(f"GOAL statistics ({kind}): NOT MEASURED ({why})")


if __name__ == "__main__":
    main()
