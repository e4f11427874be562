"""`chartledger stats …`: hospital statistics from the statistics view (decisions §44 to §47).

Aggregate figures name no patient, so they record no access; `stats patients` lists the stays
behind a figure and records the access before it prints them.
"""

from __future__ import annotations

import click

from cli.main import Session, pass_session
from cli.output import json_option
from policies.purposes import PURPOSES


@click.group("stats")
def stats() -> None:
    """Hospital statistics: census, beds, stays, deaths, readmissions, case mix, monthly report.

    Figures name no patient and record nothing; `stats patients` lists the stays behind a figure
    and records the access first. Every figure takes --as-of: as the ledger stood then.
    """


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
    with session.reports() as ledger:
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


@stats.command("patients")
@click.argument("figure", metavar="FIGURE")
@click.option("--from", "since", required=True, help="The first day (YYYY-MM-DD).")
@click.option("--to", "until", required=True, help="The last day (YYYY-MM-DD), included.")
@click.option("--unit", help="One nursing unit (its code).")
@click.option("--service", help="One service.")
@click.option("--newborns", is_flag=True, help="Newborns, not adults and children.")
@click.option("--as-of", "as_of", help="As the ledger stood then (what was recorded by then).")
@click.option(
    "--purpose",
    envvar="CHARTLEDGER_PURPOSE",
    type=click.Choice(PURPOSES),
    required=True,
    help="Why you are looking (recorded with the access). Env: CHARTLEDGER_PURPOSE.",
)
@json_option
@pass_session
def patients(
    session: Session,
    figure: str,
    since: str,
    until: str,
    unit: str | None,
    service: str | None,
    newborns: bool,
    as_of: str | None,
    purpose: str,
    as_json: bool,
) -> None:
    """The stays behind a figure (admissions, discharges, deaths or readmissions) of a period:
    MRN, encounter, dates, unit, service, attending, disposition. Records the access first."""
    from datetime import datetime

    from cli.output import emit_json, note_withheld, say, table
    from cli.parsing import parse_day, parse_time
    from projections.statistics_patients import stays_behind

    start = parse_day(since, what="first day")
    end = parse_day(until, what="last day")
    moment = None if as_of is None else parse_time(as_of, what="moment")
    actor = session.identity()
    with session.reports() as ledger:
        found = stays_behind(
            ledger, figure.strip().lower(), start=start, end=end, actor=actor, unit=unit,
            service=service, newborn=newborns, as_of=moment, purpose=purpose,
        )  # fmt: skip
    note_withheld(found, "stay")
    if as_json:
        emit_json([row.as_dict() for row in found])
        return
    readmissions = figure.strip().lower() == "readmissions"
    columns = ["MRN", "encounter", "admitted", "discharged", "unit", "service", "attending",
               "disposition"]  # fmt: skip
    if readmissions:
        columns += ["readmission", "readmitted", "days"]

    def day(moment: datetime | None) -> str:
        return "" if moment is None else moment.isoformat(timespec="minutes")

    rows = []
    for row in found:
        cells = [row.mrn, row.encounter_id, day(row.admitted), day(row.discharged), row.unit,
                 row.service, row.attending or "", row.disposition or ""]  # fmt: skip
        if readmissions:
            cells += [row.readmission_id or "", day(row.readmitted),
                      str(row.days_to_readmission)]  # fmt: skip
        rows.append(cells)
    table(f"{figure.strip().capitalize()} from {start} to {end}: {len(found)}", columns, rows)
    if not found and not found.withheld:
        say("No stay is behind this figure in the period.")


@stats.command("changes")
@click.option("--from", "since_day", required=True, help="The first day (YYYY-MM-DD).")
@click.option("--to", "until_day", required=True, help="The last day (YYYY-MM-DD), included.")
@click.option("--since", "since", required=True, help="The earlier moment (a report's as-of).")
@click.option("--as-of", "as_of", help="The later moment (default now).")
@json_option
@pass_session
def changes(
    session: Session,
    since_day: str,
    until_day: str,
    since: str,
    as_of: str | None,
    as_json: bool,
) -> None:
    """Why a period's figures differ between two moments: what was recorded in between (late
    discharges, transfers, stays coded final or reopened), counted; the figures then and now."""
    from cli.output import emit_json, say, table
    from cli.parsing import parse_day, parse_time
    from projections.statistics_changes import KINDS
    from projections.statistics_changes import changes as changes_of

    start = parse_day(since_day, what="first day")
    end = parse_day(until_day, what="last day")
    earlier = parse_time(since, what="moment")
    later = None if as_of is None else parse_time(as_of, what="moment")
    with session.reports() as ledger:
        found = changes_of(ledger, start=start, end=end, since=earlier, until=later)
    if as_json:
        emit_json(found.as_dict())
        return
    then, now = found.then.as_dict(), found.now.as_dict()
    table(
        f"From {start} to {end}: as of {earlier.isoformat(timespec='seconds')} and "
        + ("now" if later is None else f"as of {later.isoformat(timespec='seconds')}"),
        ["figure", "then", "now", "difference"],
        [[name.replace("_", " "), str(then[name]), str(now[name]), f"{now[name] - then[name]:+d}"]
         for name in then],
    )  # fmt: skip
    counted = dict(found.counts)
    recorded = [
        f"{counted[kind]} {one if counted[kind] == 1 else several}"
        for kind, one, several in KINDS
        if counted[kind]
    ]
    say("Recorded in between: " + ("; ".join(recorded) if recorded else "nothing") + ".")


# Length of stay, deaths, readmissions, diagnoses, procedures, case mix, trends (§48).
from cli.statistics_reports import COMMANDS as _REPORTS  # noqa: E402

for _report in _REPORTS:
    stats.add_command(_report)

# issue 13, item 5: the monthly report, its issues and plots (cli/statistics_report.py, §49)
from cli.statistics_report import plot, report, reports, verify_report  # noqa: E402

stats.add_command(report)
stats.add_command(reports)
stats.add_command(verify_report)
stats.add_command(plot)
