"""`chartledger stats los|deaths|readmissions|diagnoses|procedures|casemix|trends` (decisions §48).

Aggregate figures only (counts, days, rates, codes, the attending's user names): no MRN, no
encounter, no patient id is printed, so nothing here records an access. Each command parses,
makes one call to `projections.statistics_reports` and prints: a table, `--json` or `--csv`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, TypeVar

import click

from cli.main import Session, pass_session
from cli.output import json_option

F = TypeVar("F", bound=Callable[..., Any])


_common = (
    click.option("--newborns", is_flag=True, help="Count newborns, not adults and children."),
    click.option("--as-of", "as_of", help="As the ledger stood then (what was recorded by then)."),
    json_option,
    click.option(
        "--csv", "as_csv", is_flag=True, help="Print the rows as CSV (with a header row)."
    ),
)


def _period_options(command: F) -> F:
    """--from, --to, --newborns, --as-of, --json, --csv: every report of a period takes them."""
    for option in reversed(
        (
            click.option("--from", "since", required=True, help="The first day (YYYY-MM-DD)."),
            click.option(
                "--to", "until", required=True, help="The last day (YYYY-MM-DD), included."
            ),
            *_common,
        )
    ):
        command = option(command)
    return command


def _by(default: str, choices: Sequence[str]) -> Callable[[F], F]:
    return click.option(
        "--by", "by", default=default, show_default=True, help=f"Group by: {', '.join(choices)}."
    )


def _window(since: str, until: str, as_of: str | None, as_json: bool, as_csv: bool) -> Any:
    from cli.parsing import parse_day, parse_time
    from ledger.errors import UsageError

    if as_json and as_csv:
        raise UsageError("Give --json or --csv, not both.")
    start = parse_day(since, what="first day")
    end = parse_day(until, what="last day")
    moment = parse_time(as_of, what="moment") if as_of else None
    return start, end, moment


def _csv(rows: list[dict[str, Any]], fields: list[str] | None = None) -> None:
    import csv
    import sys

    from policies.limits import csv_cell

    fields = list(fields or [])
    for row in rows:
        fields += [name for name in row if name not in fields]
    writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
    writer.writeheader()
    writer.writerows({k: csv_cell(v) for k, v in row.items()} for row in rows)


def _title(what: str, report: Any) -> str:
    grouped = "" if report.by == "none" else f" by {report.by}"
    when = f"   (as of {report.as_of.isoformat()})" if report.as_of else ""
    return f"{what}{grouped}, {report.scope}, {report.period}{when}"


def _grouped(
    report: Any,
    as_json: bool,
    as_csv: bool,
    what: str,
    columns: Sequence[tuple[str, str]],
) -> bool:
    """Print a grouped report; False when the caller prints its table's notes (table form)."""
    from cli.output import emit_json, table

    if as_json:
        emit_json(report.as_dict())
        return True
    if as_csv:
        _csv(report.csv_rows())
        return True
    shown = report.as_dict()
    rows = [{"group": g["group"], **g} for g in shown["groups"]]
    if report.by != "none":
        rows.append({"group": "total", **shown["total"]})
    table(
        _title(what, report),
        ["group", *(label for _, label in columns)],
        [
            [str(row["group"]), *("" if row[key] is None else str(row[key]) for key, _ in columns)]
            for row in rows
        ],
    )
    return False


@click.command("los")
@_period_options
@_by("none", ("none", "service", "physician", "unit"))
@pass_session
def los(
    session: Session, since: str, until: str, newborns: bool, as_of: str | None,
    as_json: bool, as_csv: bool, by: str,
) -> None:  # fmt: skip
    """Length of stay: discharges, discharge days and average length of stay, per service,
    physician or unit at discharge, and in total."""
    from projections.statistics_reports import length_of_stay_report

    start, end, moment = _window(since, until, as_of, as_json, as_csv)
    with session.reports() as ledger:
        report = length_of_stay_report(
            ledger, start=start, end=end, by=by, newborn=newborns, as_of=moment
        )
    _grouped(report, as_json, as_csv, "Length of stay",
             [("discharges", "discharges"), ("discharge_days", "discharge days"),
              ("average_length_of_stay", "ALOS")])  # fmt: skip


@click.command("deaths")
@_period_options
@_by("none", ("none", "service", "physician"))
@pass_session
def deaths(
    session: Session, since: str, until: str, newborns: bool, as_of: str | None,
    as_json: bool, as_csv: bool, by: str,
) -> None:  # fmt: skip
    """Death rates: discharges, deaths, deaths under 48 hours, gross and net death rates (%),
    per service or physician, and in total."""
    from projections.statistics_reports import deaths_report

    start, end, moment = _window(since, until, as_of, as_json, as_csv)
    with session.reports() as ledger:
        report = deaths_report(ledger, start=start, end=end, by=by, newborn=newborns, as_of=moment)
    _grouped(report, as_json, as_csv, "Death rates",
             [("discharges", "discharges"), ("deaths", "deaths"),
              ("deaths_under_48_hours", "deaths < 48 h"), ("gross_death_rate_percent", "gross %"),
              ("net_death_rate_percent", "net %")])  # fmt: skip


@click.command("readmissions")
@_period_options
@_by("none", ("none", "diagnosis", "category", "mdc", "drg", "service"))
@click.option("--window", "window", type=int, default=30, show_default=True,
              help="Days after the discharge date a readmission may fall.")  # fmt: skip
@pass_session
def readmissions(
    session: Session, since: str, until: str, newborns: bool, as_of: str | None,
    as_json: bool, as_csv: bool, by: str, window: int,
) -> None:  # fmt: skip
    """Readmissions (crude, unadjusted): index discharges, readmitted, rate, and the exclusions
    applied, overall or by the index stay's diagnosis, category, MDC, DRG or service."""
    from cli.output import say
    from projections.statistics_reports import readmissions_report

    start, end, moment = _window(since, until, as_of, as_json, as_csv)
    with session.reports() as ledger:
        report = readmissions_report(
            ledger, start=start, end=end, by=by, window_days=window, newborn=newborns,
            as_of=moment,
        )  # fmt: skip
    what = report.report[0].upper() + report.report[1:]
    if _grouped(report, as_json, as_csv, what,
                [("index_discharges", "index discharges"), ("readmitted", "readmitted"),
                 ("readmission_rate_percent", "rate % (unadjusted)")]):  # fmt: skip
        return
    total = report.as_dict()["total"]
    say(
        f"{what}: {total['readmitted']} of {total['index_discharges']} index discharges "
        f"readmitted, {total['readmission_rate_percent']} %."
    )
    applied = "; ".join(f"{e['description']}: {e['discharges']}" for e in total["excluded"])
    say(f"Exclusions applied (index discharges left out): {applied}.")


@click.command("casemix")
@_period_options
@_by("none", ("none", "service", "physician", "drg"))
@pass_session
def casemix(
    session: Session, since: str, until: str, newborns: bool, as_of: str | None,
    as_json: bool, as_csv: bool, by: str,
) -> None:  # fmt: skip
    """Case mix index of the discharges grouped to a DRG (ungrouped counted apart) and observed
    over expected length of stay against GMLOS, per service, physician or DRG, and in total."""
    from cli.output import say
    from projections.statistics_reports import case_mix_report

    start, end, moment = _window(since, until, as_of, as_json, as_csv)
    with session.reports() as ledger:
        report = case_mix_report(
            ledger, start=start, end=end, by=by, newborn=newborns, as_of=moment
        )
    if _grouped(report, as_json, as_csv, "Case mix",
                [("discharges", "discharges"), ("grouped", "grouped"),
                 ("ungrouped", "ungrouped"), ("case_mix_index", "CMI"),
                 ("observed_days", "observed days"), ("expected_days", "expected days"),
                 ("observed_expected_ratio", "O/E LOS")]):  # fmt: skip
        return
    total = report.as_dict()["total"]
    say(
        f"Case mix index: {total['case_mix_index']} over {total['grouped']} discharges grouped "
        f"to a DRG ({total['ungrouped']} not grouped, left out)."
    )
    if total["observed_expected_ratio"] is not None:
        say(
            f"Observed/expected LOS: {total['observed_days']} days over "
            f"{total['expected_days']} expected (GMLOS) = {total['observed_expected_ratio']}."
        )


def _codes(
    report: Any, as_json: bool, as_csv: bool, what: str, shown: Callable[[str], str]
) -> None:
    from cli.output import emit_json, say, table

    if as_json:
        emit_json(report.as_dict())
        return
    if as_csv:
        _csv(
            [{"rank": n, **row.as_dict()} for n, row in enumerate(report.rows, 1)],
            ["rank", "code", "title", "count", "percent"],
        )
        return
    table(
        _title(what, report),
        ["rank", report.by, "title", "count", "%"],
        [
            [
                str(n),
                shown(row.code),
                row.title or "",
                str(row.count),
                str(row.as_dict()["percent"]),
            ]
            for n, row in enumerate(report.rows, 1)
        ],
    )
    say(
        f"{_count(report.discharges, 'discharge')}; {report.not_coded} had no final coding "
        f"abstract (not counted); {_count(report.counted, 'code')} counted."
    )
    if report.without_code:
        say(f"{_count(report.without_code, 'coded discharge')} without a procedure.")


def _count(n: int, what: str) -> str:
    return f"{n} {what}" if n == 1 else f"{n} {what}s"


@click.command("diagnoses")
@_period_options
@_by("code", ("code", "category"))
@click.option("--top", "top", type=int, default=10, show_default=True, help="How many to list.")
@pass_session
def diagnoses(
    session: Session, since: str, until: str, newborns: bool, as_of: str | None,
    as_json: bool, as_csv: bool, by: str, top: int,
) -> None:  # fmt: skip
    """The most frequent principal diagnoses (ICD-10-CM code or category) of the period's
    discharges, and how many had no final coding abstract."""
    from ledger.aggregates.coding import dotted_diagnosis
    from projections.statistics_reports import diagnoses_report

    start, end, moment = _window(since, until, as_of, as_json, as_csv)
    with session.reports() as ledger:
        report = diagnoses_report(
            ledger, start=start, end=end, by=by, top=top, newborn=newborns, as_of=moment
        )
    _codes(report, as_json, as_csv, "Most frequent principal diagnoses", dotted_diagnosis)


@click.command("procedures")
@_period_options
@_by("code", ("code", "category"))
@click.option("--top", "top", type=int, default=10, show_default=True, help="How many to list.")
@click.option("--all", "every", is_flag=True, help="Count every procedure, not the principal.")
@pass_session
def procedures(
    session: Session, since: str, until: str, newborns: bool, as_of: str | None,
    as_json: bool, as_csv: bool, by: str, top: int, every: bool,
) -> None:  # fmt: skip
    """The most frequent principal procedures (every procedure with --all) of the period's
    discharges, by ICD-10-PCS code or category (section, body system, root operation)."""
    from projections.statistics_reports import procedures_report

    start, end, moment = _window(since, until, as_of, as_json, as_csv)
    with session.reports() as ledger:
        report = procedures_report(
            ledger, start=start, end=end, by=by, top=top, every=every, newborn=newborns,
            as_of=moment,
        )  # fmt: skip
    what = "Most frequent procedures" if every else "Most frequent principal procedures"
    _codes(report, as_json, as_csv, what, str)


def _month(value: str, what: str) -> Any:
    from datetime import date

    from ledger.errors import UsageError
    from policies.limits import year_problem

    text = value.strip()
    try:
        year, month = text.split("-")
        if len(year) != 4 or len(month) != 2:
            raise ValueError(text)
        first = date(int(year), int(month), 1)
        if year_problem(first.year) is not None:
            raise ValueError(text)
        return first
    except ValueError:
        shown = value if len(value) <= 40 else value[:40] + "…"
        raise UsageError(f"'{shown}' is not a {what} (give YYYY-MM).") from None


@click.command("trends")
@click.option("--from-month", "first", required=True, help="The first month (YYYY-MM).")
@click.option("--to-month", "last", required=True, help="The last month (YYYY-MM), included.")
@_common[0]
@_common[1]
@_common[2]
@_common[3]
@pass_session
def trends(
    session: Session, first: str, last: str, newborns: bool, as_of: str | None,
    as_json: bool, as_csv: bool,
) -> None:  # fmt: skip
    """Per month: discharges, ALOS, gross and net death rates, the crude readmission rate, case
    mix index and O/E LOS (empty where a month has no such figure)."""
    from cli.output import emit_json, say, table
    from cli.parsing import parse_time
    from ledger.errors import UsageError
    from projections.statistics_reports import trends_report

    if as_json and as_csv:
        raise UsageError("Give --json or --csv, not both.")
    start, end = _month(first, "first month"), _month(last, "last month")
    moment: datetime | None = parse_time(as_of, what="moment") if as_of else None
    with session.reports() as ledger:
        report = trends_report(ledger, first=start, last=end, newborn=newborns, as_of=moment)
    if as_json:
        emit_json(report.as_dict())
        return
    rows = [m.as_dict() for m in report.months]
    if as_csv:
        _csv(rows)
        return
    columns = [
        ("month", "month"), ("discharges", "discharges"), ("average_length_of_stay", "ALOS"),
        ("gross_death_rate_percent", "gross death %"), ("net_death_rate_percent", "net death %"),
        ("readmission_rate_percent", "readmissions % (unadjusted)"),
        ("case_mix_index", "CMI"), ("observed_expected_los", "O/E LOS"),
    ]  # fmt: skip
    when = f"   (as of {report.as_of.isoformat()})" if report.as_of else ""
    table(
        f"Monthly trends, {report.scope}, {rows[0]['month']} to {rows[-1]['month']}{when}",
        [label for _, label in columns],
        [["" if row[key] is None else str(row[key]) for key, _ in columns] for row in rows],
    )
    say(f"Readmissions: {rows[0]['readmission_measure']}.")


COMMANDS = (los, deaths, readmissions, diagnoses, procedures, casemix, trends)
"""What `cli.statistics` adds to the `stats` group."""
