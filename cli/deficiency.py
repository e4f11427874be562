"""`chartledger deficiency …`: chart completion — deficiencies, delinquency, jeopardy."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.main import Session, pass_session
from cli.parsing import parse_time


def _when(on: str | None) -> datetime:
    return parse_time(on, what="time") if on else datetime.now(UTC)


@click.group("deficiency")
def deficiency() -> None:
    """Chart completion: what records lack, delinquent records, physicians in jeopardy."""


@deficiency.command("list")
@click.option("--physician", help="Only this physician's deficiencies.")
@click.option("--on", "on", help="As at this time (default now).")
@pass_session
def list_deficiencies(session: Session, physician: str | None, on: str | None) -> None:
    """Open deficiencies, each assigned to a physician, oldest due first."""
    from cli.output import table
    from projections.completion import open_deficiencies

    actor = session.identity()
    with session.ledger() as ledger:
        found = open_deficiencies(ledger, now=_when(on), actor=actor, physician=physician)
    table(
        f"Deficiencies: {len(found)}",
        ["due", "MRN", "physician", "deficiency", "why", "encounter"],
        [
            [d.due_at.isoformat(timespec="minutes"), d.mrn, d.physician, d.kind, d.why, d.encounter]
            for d in found
        ],
    )


@deficiency.command("delinquent")
@click.option("--on", "on", help="As at this time (default now).")
@pass_session
def delinquent(session: Session, on: str | None) -> None:
    """Records still deficient 30 days after discharge."""
    from cli.output import table
    from projections.completion import delinquent_records

    actor = session.identity()
    with session.ledger() as ledger:
        found, rate = delinquent_records(ledger, now=_when(on), actor=actor)
    table(
        f"Delinquent records: {len(found)}",
        ["delinquent since", "MRN", "physician", "missing", "encounter"],
        [
            [
                d.delinquent_since.date().isoformat(),
                d.mrn,
                d.physician,
                ", ".join(d.deficiencies),
                d.encounter,
            ]
            for d in found
        ],
    )
    click.echo(
        f"Delinquency rate: {rate:.2f} (delinquent records / average monthly discharges, "
        "last 3 months)."
    )


@deficiency.command("jeopardy")
@click.option("--on", "on", help="As at this time (default now).")
@pass_session
def in_jeopardy(session: Session, on: str | None) -> None:
    """Physicians warned, with the day their admitting privileges are suspended."""
    from cli.output import table
    from projections.completion import physicians_in_jeopardy

    actor = session.identity()
    with session.ledger() as ledger:
        found = physicians_in_jeopardy(ledger, now=_when(on), actor=actor)
    table(
        f"Physicians in jeopardy: {len(found)}",
        ["physician", "warned", "suspension", "records"],
        [
            [
                j.physician,
                j.warned_at.date().isoformat(),
                j.suspension_at.date().isoformat(),
                len(j.records),
            ]
            for j in found
        ],
    )
