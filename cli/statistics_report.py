"""`chartledger stats report|reports|verify-report|plot …`: the monthly HTML report, issued as a
signed event, and plots as SVG or PNG (decisions §49).

Aggregate figures only: no patient is named, so nothing here records an access. Issuing a
report records who gave which figures to whom; a plot is a picture of figures, not an issue.
matplotlib is imported only when a plot is drawn, never for `--help`.
"""

from __future__ import annotations

from pathlib import Path

import click

from cli.main import Session, pass_session
from cli.output import json_option


@click.command("report")
@click.option("--month", required=True, help="The month reported (YYYY-MM).")
@click.option(
    "--to", "recipient", required=True, help="To whom it is given (a committee, a board)."
)
@click.option(
    "--out", required=True, type=click.Path(path_type=Path), help="The HTML file to write."
)
@click.option(
    "--as-of", "as_of", help="Read the ledger as it stood then (default: its last event)."
)
@click.option("--force", is_flag=True, help="Replace an existing file.")
@pass_session
def report(
    session: Session, month: str, recipient: str, out: Path, as_of: str | None, force: bool
) -> None:
    """Write the monthly report (printable HTML, no scripts) and record, signed, who got it."""
    from cli.output import say
    from cli.parsing import parse_time
    from projections.statistics_html import issue_monthly_report

    moment = None if as_of is None else parse_time(as_of, what="moment")
    actor = session.identity()
    with session.reports() as ledger:
        figures, record = issue_monthly_report(
            ledger, month, out, recipient=recipient, actor=actor, as_of=moment, force=force
        )
    say(
        f"Wrote the monthly report for {figures.month} to {out} ({record.size} bytes), as the "
        f"ledger stood at {figures.as_of.isoformat()}; issued to {record.recipient}."
    )
    say(f"SHA-256: {record.sha256}")


@click.command("reports")
@json_option
@pass_session
def reports(session: Session, as_json: bool) -> None:
    """The reports issued: when, by whom, to whom, the period, as of when, and the hash."""
    from cli.output import emit_json, table, utc
    from ledger.reads.reports import issued_reports

    with session.reports() as ledger:
        rows = issued_reports(ledger)
    if as_json:
        emit_json([row.as_dict() for row in rows])
        return
    table(
        "Reports issued",
        ["issued at", "by", "to", "kind", "from", "to day", "as of", "sha-256"],
        [
            [utc(r.issued_at) or "", r.actor, r.recipient, r.kind, r.period_start.isoformat(),
             r.period_end.isoformat(), utc(r.as_of) or "", r.sha256]
            for r in rows
        ],
    )  # fmt: skip


@click.command("verify-report")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@pass_session
def verify_report(session: Session, file: Path) -> None:
    """Show whether FILE is a report that was issued, and that the ledger gives it again."""
    from cli.output import say
    from projections.statistics_html import read_report
    from projections.statistics_html import verify_report as verify

    content = read_report(file)
    with session.reports() as ledger:
        say(verify(ledger, content))


@click.group("plot")
def plot() -> None:
    """Plots of the statistics as SVG or PNG (the format from the file's name)."""


@plot.command("census")
@click.option("--from", "since", required=True, help="The first day (YYYY-MM-DD).")
@click.option("--to", "until", required=True, help="The last day (YYYY-MM-DD), included.")
@click.option("--unit", help="One nursing unit (its code).")
@click.option("--out", required=True, type=click.Path(path_type=Path), help="FILE.svg or FILE.png.")
@click.option("--as-of", "as_of", help="Read the ledger as it stood then.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
@pass_session
def plot_census(
    session: Session,
    since: str,
    until: str,
    unit: str | None,
    out: Path,
    as_of: str | None,
    force: bool,
) -> None:
    """The daily inpatient census against the beds set up, day by day."""
    from cli.output import say
    from cli.parsing import parse_day, parse_time
    from projections.statistics_plots import write_census_plot

    start = parse_day(since, what="first day")
    end = parse_day(until, what="last day")
    moment = None if as_of is None else parse_time(as_of, what="moment")
    with session.reports() as ledger:
        size = write_census_plot(
            ledger, out, start=start, end=end, unit=unit, as_of=moment, force=force
        )
    say(f"Wrote the census plot to {out} ({size} bytes).")


@plot.command("trends")
@click.option("--from-month", "first_month", required=True, help="The first month (YYYY-MM).")
@click.option("--to-month", "last_month", required=True, help="The last month (YYYY-MM).")
@click.option(
    "--figure",
    required=True,
    type=click.Choice(["alos", "deaths", "readmissions", "cmi", "oe"]),
    help="Which monthly figure to draw.",
)
@click.option("--out", required=True, type=click.Path(path_type=Path), help="FILE.svg or FILE.png.")
@click.option("--as-of", "as_of", help="Read the ledger as it stood then.")
@click.option("--force", is_flag=True, help="Replace an existing file.")
@pass_session
def plot_trends(
    session: Session,
    first_month: str,
    last_month: str,
    figure: str,
    out: Path,
    as_of: str | None,
    force: bool,
) -> None:
    """One monthly figure over months: ALOS, death rates, readmissions, CMI or O/E LOS."""
    from cli.output import say
    from cli.parsing import parse_time
    from projections.statistics_plots import write_trends_plot

    moment = None if as_of is None else parse_time(as_of, what="moment")
    with session.reports() as ledger:
        size = write_trends_plot(
            ledger, out, first_month=first_month, last_month=last_month, figure=figure,
            as_of=moment, force=force,
        )  # fmt: skip
    say(f"Wrote the {figure} trend to {out} ({size} bytes).")
