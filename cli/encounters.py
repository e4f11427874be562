"""`chartledger encounter …`: admissions, visits, transfers, discharges."""

from __future__ import annotations

from uuid import UUID

import click

from cli.main import Session, pass_session
from cli.parsing import parse_time, parse_uuid


def _id(value: str) -> UUID:
    return parse_uuid(value, "an encounter")


@click.group()
def encounter() -> None:
    """Admit, register, transfer and discharge patients."""


def _open(
    session: Session,
    mrn: str,
    encounter_class: str,
    attending: str,
    service: str,
    bed: str | None,
    at: str | None,
    break_glass: str | None,
) -> None:
    from ledger.commands import encounters

    actor = session.identity()
    when = parse_time(at, what="time")
    with session.ledger() as ledger:
        encounter_id = encounters.open_encounter(
            ledger,
            mrn,
            encounter_class=encounter_class,
            attending=attending,
            service=service,
            bed=bed,
            effective_at=when,
            actor=actor,
            break_glass_reason=break_glass,
        )
    click.echo(f"Opened {encounter_class} encounter {encounter_id} for {mrn.upper()}.")


_BREAK_GLASS = click.option(
    "--break-glass",
    "break_glass",
    metavar="REASON",
    help="Why you make yourself attending of a patient you have no relationship with, or move a "
    "restricted or VIP patient without one (reviewed).",
)


@encounter.command("admit")
@click.argument("mrn")
@click.option("--attending", required=True, help="The attending physician (a user name).")
@click.option("--service", required=True, help="The service, e.g. medicine, surgery.")
@click.option("--bed", help="The bed, e.g. 4W-12.")
@click.option("--at", "at", help="When (ISO 8601; default now).")
@_BREAK_GLASS
@pass_session
def admit(
    session: Session,
    mrn: str,
    attending: str,
    service: str,
    bed: str | None,
    at: str | None,
    break_glass: str | None,
) -> None:
    """Admit MRN as an inpatient."""
    _open(session, mrn, "inpatient", attending, service, bed, at, break_glass)


@encounter.command("register")
@click.argument("mrn")
@click.option(
    "--class",
    "encounter_class",
    type=click.Choice(["outpatient", "emergency"]),
    default="outpatient",
    show_default=True,
)
@click.option("--attending", required=True, help="The attending physician (a user name).")
@click.option("--service", required=True, help="The clinic or department.")
@click.option("--at", "at", help="When (ISO 8601; default now).")
@_BREAK_GLASS
@pass_session
def register(
    session: Session,
    mrn: str,
    encounter_class: str,
    attending: str,
    service: str,
    at: str | None,
    break_glass: str | None,
) -> None:
    """Register MRN for an outpatient or emergency visit."""
    _open(session, mrn, encounter_class, attending, service, None, at, break_glass)


@encounter.command("transfer")
@click.argument("encounter_id")
@click.option("--bed")
@click.option("--service")
@click.option("--attending")
@click.option("--at", "at", help="When (ISO 8601; default now).")
@_BREAK_GLASS
@pass_session
def transfer(
    session: Session,
    encounter_id: str,
    bed: str | None,
    service: str | None,
    attending: str | None,
    at: str | None,
    break_glass: str | None,
) -> None:
    """Move a patient to another bed or service, or hand over to another attending."""
    from ledger.commands import encounters

    actor = session.identity()
    with session.ledger() as ledger:
        encounters.transfer(
            ledger,
            _id(encounter_id),
            bed=bed,
            service=service,
            attending=attending,
            effective_at=parse_time(at, what="time"),
            actor=actor,
            break_glass_reason=break_glass,
        )
    click.echo(f"Transferred encounter {encounter_id}.")


@encounter.command("discharge")
@click.argument("encounter_id")
@click.option(
    "--disposition",
    required=True,
    help="Where the patient went: home, transferred, deceased, left against advice…",
)
@click.option("--at", "at", help="When (ISO 8601; default now).")
@_BREAK_GLASS
@pass_session
def discharge(
    session: Session, encounter_id: str, disposition: str, at: str | None, break_glass: str | None
) -> None:
    """Discharge the patient of an encounter."""
    from ledger.commands import encounters

    actor = session.identity()
    with session.ledger() as ledger:
        encounters.discharge(
            ledger,
            _id(encounter_id),
            disposition=disposition,
            effective_at=parse_time(at, what="time"),
            actor=actor,
            break_glass_reason=break_glass,
        )
    click.echo(f"Discharged encounter {encounter_id} ({disposition}).")
