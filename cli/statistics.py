"""`chartledger stats …`: hospital statistics from the statistics view (decisions §44 to §46).

Aggregate figures only: no patient is named, so nothing here records an access.
"""

from __future__ import annotations

import click

from cli.main import Session, pass_session
from cli.output import json_option


@click.group("stats")
def stats() -> None:
    """Hospital statistics: the census and use of beds (aggregate figures, no patients named)."""


@stats.command("census")
@click.option("--from", "since", required=True, help="The first day (YYYY-MM-DD).")
@click.option("--to", "until", required=True, help="The last day (YYYY-MM-DD), included.")
@click.option("--unit", help="One nursing unit (its code).")
@click.option("--service", help="One service (where the patient lay at each census).")
@click.option("--newborns", is_flag=True, help="Count newborns (against bassinets), not A&C.")
@click.option("--as-of", "as_of", help="As the ledger stood then (what was recorded by then).")
@json_option
@click.option("--csv", "as_csv", is_flag=True, help="Print the days as CSV (with a header row).")
@pass_session
def census(
    session: Session,
    since: str,
    until: str,
    unit: str | None,
    service: str | None,
    newborns: bool,
    as_of: str | None,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Per day: census, admissions, discharges, transfers in and out; for the period: service
    days, average daily census, bed count days, occupancy and bed turnover."""
    import csv
    import sys

    from cli.output import emit_json, say, table
    from cli.parsing import parse_day, parse_time
    from ledger.errors import UsageError
    from projections.statistics import census as census_of

    if as_json and as_csv:
        raise UsageError("Give --json or --csv, not both.")
    start = parse_day(since, what="first day")
    end = parse_day(until, what="last day")
    moment = None if as_of is None else parse_time(as_of, what="moment")
    with session.ledger() as ledger:
        report = census_of(
            ledger, start=start, end=end, unit=unit, service=service, newborn=newborns,
            as_of=moment,
        )  # fmt: skip
    if as_json:
        emit_json(report.as_dict())
        return
    if as_csv:
        rows = [d.as_dict() for d in report.days]
        writer = csv.DictWriter(sys.stdout, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        return
    table(
        f"Census of {report.scope}, {report.start} to {report.end}",
        ["day", "census", "admissions", "discharges", "transfers in", "transfers out"],
        [
            [d.day.isoformat(), str(d.census), str(d.admissions), str(d.discharges),
             str(d.transfers_in), str(d.transfers_out)]
            for d in report.days
        ],
    )  # fmt: skip
    say(f"Inpatient service days: {report.service_days}")
    say(f"Average daily census: {report.average_daily_census}")
    if report.bed_count_days is None:
        say("Bed count days: no bed count was in force in the period.")
    else:
        say(f"Bed count days: {report.bed_count_days}")
    if report.occupancy_percent is not None:
        note = ""
        if report.overfilled:
            days = ", ".join(d.isoformat() for d in report.overfilled_days)
            note = f" (overfilled: the census exceeded the beds on {days})"
        say(f"Occupancy: {report.occupancy_percent} %{note}")
    if report.bed_turnover is not None:
        say(f"Bed turnover: {report.bed_turnover}")
    elif report.bed_count_days:
        say("Bed turnover: no discharges in the period.")


# Length of stay, deaths, readmissions, diagnoses, procedures, case mix, trends (§47a).
from cli.statistics_reports import COMMANDS as _REPORTS  # noqa: E402

for _report in _REPORTS:
    stats.add_command(_report)

# issue 13, item 5: the monthly report, its issues and plots (cli/statistics_report.py, §47b)
from cli.statistics_report import plot, report, reports, verify_report  # noqa: E402

stats.add_command(report)
stats.add_command(reports)
stats.add_command(verify_report)
stats.add_command(plot)
