"""`chartledger deficiency …`: chart completion — deficiencies, delinquency, jeopardy."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.main import Session, pass_session
from cli.parsing import parse_time
from policies.records import DEFICIENCIES, NOTICE_METHODS


def _when(on: str | None) -> datetime:
    return parse_time(on, what="time") if on else datetime.now(UTC)


def _count(number: int, singular: str, plural: str) -> str:
    return f"{number} {singular if number == 1 else plural}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _date(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "-"


@click.group("deficiency")
def deficiency() -> None:
    """Chart completion: what records lack, delinquent records, physicians in jeopardy."""


@deficiency.command("scan")
@pass_session
def scan(session: Session) -> None:
    """Record what the completion rules find on every chart now: new deficiencies are assigned
    to a physician, ones the chart no longer lacks are closed. (What it signs is true of now, so
    unlike the lists it takes no --on.)"""
    from ledger.commands.completion import scan as record_scan

    actor = session.identity()
    with session.ledger() as ledger:
        result = record_scan(ledger, actor=actor)
    click.echo(
        f"Scanned: {result.assigned} assigned, {result.completed} completed, {result.open} open "
        f"(deficiencies); {_count(result.encounters, 'encounter', 'encounters')} recorded."
    )


@deficiency.command("notify")
@click.option("--physician", required=True, help="The physician told (a user name).")
@click.option("--method", type=click.Choice(NOTICE_METHODS), default="inbox", show_default=True)
@pass_session
def notify(session: Session, physician: str, method: str) -> None:
    """Record that a physician was told of every open deficiency assigned to them."""
    from ledger.commands.completion import notify as record_notice

    actor = session.identity()
    with session.ledger() as ledger:
        count, encounters = record_notice(ledger, physician, method=method, actor=actor)
    click.echo(
        f"Recorded: {physician} notified ({method}) of "
        f"{_count(count, 'deficiency', 'deficiencies')} in "
        f"{_count(encounters, 'encounter', 'encounters')}."
    )


@deficiency.command("resolve")
@click.argument("reference")
@click.argument("kind", type=click.Choice(DEFICIENCIES))
@click.option("--reason", required=True, help="Why it is resolved.")
@pass_session
def resolve(session: Session, reference: str, kind: str, reason: str) -> None:
    """Close an open deficiency: REFERENCE is the encounter (or ENCOUNTER:ENTRY for an entry's).

    If the chart now has what was missing it is recorded completed; otherwise the HIM director
    waives it, and the rules stop raising it."""
    from ledger.commands.completion import resolve as record_resolution

    actor = session.identity()
    with session.ledger() as ledger:
        outcome = record_resolution(ledger, reference, kind, reason=reason, actor=actor)
    click.echo(f"Recorded: the {kind} deficiency of {reference} is {outcome}.")


@deficiency.command("list")
@click.option("--physician", help="Only this physician's deficiencies.")
@click.option("--on", "on", help="As at this time (default now).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def list_deficiencies(
    session: Session, physician: str | None, on: str | None, as_json: bool
) -> None:
    """Open deficiencies, each assigned to a physician, oldest due first."""
    from cli.output import emit_json, note_withheld, table
    from projections.completion import open_deficiencies

    actor = session.identity()
    with session.reports() as ledger:
        found = open_deficiencies(ledger, now=_when(on), actor=actor, physician=physician)
    note_withheld(found, "deficiency line")
    if as_json:
        emit_json(
            [
                {
                    "due_at": row.deficiency.due_at.isoformat(),
                    "mrn": row.deficiency.mrn,
                    "physician": row.deficiency.physician,
                    "action": row.deficiency.action,
                    "kind": row.deficiency.kind,
                    "why": row.deficiency.why,
                    "encounter": row.deficiency.encounter,
                    "entry": row.deficiency.entry,
                    "assigned_at": _iso(row.assigned_at),
                    "notified_at": _iso(row.notified_at),
                }
                for row in found
            ]
        )
        return
    table(
        f"Deficiencies: {len(found)}",
        ["due", "MRN", "physician", "to do", "deficiency", "assigned", "notified", "reference"],
        [
            [
                row.deficiency.due_at.isoformat(timespec="minutes"),
                row.deficiency.mrn,
                row.deficiency.physician,
                row.deficiency.action,
                row.deficiency.kind,
                _date(row.assigned_at),
                _date(row.notified_at),
                row.deficiency.entry or row.deficiency.encounter,
            ]
            for row in found
        ],
    )


@deficiency.command("delinquent")
@click.option("--on", "on", help="As at this time (default now).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def delinquent(session: Session, on: str | None, as_json: bool) -> None:
    """Records still deficient 30 days (or as configured) after discharge."""
    from cli.output import emit_json, note_withheld, table
    from projections.completion import delinquent_records

    actor = session.identity()
    with session.ledger() as ledger:
        found, rate = delinquent_records(ledger, now=_when(on), actor=actor)
    note_withheld(found, "record")
    if as_json:
        emit_json(
            {
                "rate": round(rate, 4),
                "records": [
                    {
                        "delinquent_since": d.delinquent_since.isoformat(),
                        "discharged_at": d.discharged_at.isoformat(),
                        "mrn": d.mrn,
                        "physician": d.physician,
                        "missing": list(d.deficiencies),
                        "encounter": d.encounter,
                    }
                    for d in found
                ],
            }
        )
        return
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
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def in_jeopardy(session: Session, on: str | None, as_json: bool) -> None:
    """Physicians warned, with the day their admitting privileges are suspended."""
    from cli.output import emit_json, note_withheld, table
    from projections.completion import physicians_in_jeopardy

    actor = session.identity()
    with session.ledger() as ledger:
        found = physicians_in_jeopardy(ledger, now=_when(on), actor=actor)
    note_withheld(found, "record")
    if as_json:
        emit_json(
            [
                {
                    "physician": row.jeopardy.physician,
                    "warned_at": row.jeopardy.warned_at.isoformat(),
                    "suspension_at": row.jeopardy.suspension_at.isoformat(),
                    "notified_at": _iso(row.notified_at),
                    "records": [
                        {"mrn": m, "discharged_at": at.isoformat()} for m, at in row.records
                    ],
                    "encounters": list(row.jeopardy.records),
                }
                for row in found
            ]
        )
        return
    table(
        f"Physicians in jeopardy: {len(found)}",
        ["physician", "warned", "suspension", "notified", "records"],
        [
            [
                row.jeopardy.physician,
                row.jeopardy.warned_at.date().isoformat(),
                row.jeopardy.suspension_at.date().isoformat(),
                _date(row.notified_at),
                "\n".join(f"{mrn} discharged {_date(at)}" for mrn, at in row.records),
            ]
            for row in found
        ],
    )
