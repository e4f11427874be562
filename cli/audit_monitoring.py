"""`chartledger audit alerts` and `audit review`: access monitoring."""

from __future__ import annotations

import click

from cli.main import Session, pass_session
from cli.parsing import parse_time
from policies.review import OUTCOMES


@click.command("alerts")
@click.option("--from", "since", help="From this date and time (inclusive).")
@click.option("--to", "until", help="Up to this date and time (exclusive).")
@click.option("--rule", help="Only this rule (e.g. after-hours, family, break-glass-unreviewed).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def alerts(
    session: Session, since: str | None, until: str | None, rule: str | None, as_json: bool
) -> None:
    """Accesses worth a compliance officer's look, each with its rule and event."""
    from projections.monitoring import AlertWindow, access_alerts

    reader = session.identity()
    window = AlertWindow(
        since=parse_time(since, what="time") if since else None,
        until=parse_time(until, what="time") if until else None,
        rule=rule,
    )
    with session.ledger() as ledger:
        found = access_alerts(ledger, reader=reader, window=window)
    if as_json:
        from cli.output import emit_json

        emit_json([a.as_dict() for a in found])
        if found.withheld:
            click.echo(found.withheld_line("alert"), err=True)
        return
    from cli.output import table

    table(
        f"Access alerts: {len(found)}",
        ["time (UTC)", "rule", "user", "MRN", "why", "event"],
        [
            [a.at.strftime("%Y-%m-%d %H:%M:%S"), a.rule, a.actor, a.mrn, a.why, a.event]
            for a in found
        ],
    )
    note = found.withheld_line("alert")
    if note:
        click.echo(note)


@click.command("review")
@click.argument("event")
@click.option(
    "--outcome",
    required=True,
    type=click.Choice(OUTCOMES),
    help="What the review found.",
)
@click.option("--note", required=True, help="What was checked and why it is so.")
@pass_session
def review(session: Session, event: str, outcome: str, note: str) -> None:
    """Record a compliance officer's finding on an access EVENT (a signed event)."""
    from ledger.commands.reviews import record_review

    actor = session.identity()
    with session.ledger() as ledger:
        reference = record_review(ledger, event, outcome=outcome, note=note, actor=actor)
    click.echo(f"Recorded the review of {reference}: {outcome}.")


COMMANDS: list[click.Command] = [alerts, review]
"""The click commands this module adds to the `audit` group."""
