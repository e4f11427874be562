"""`chartledger location …`: where every physical chart volume is, and every movement."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import click

from cli.main import Session, pass_session
from cli.output import json_option
from cli.parsing import parse_time
from policies.records import HOLDER_KINDS, RECORD_TYPES

if TYPE_CHECKING:
    from projections.locations import Volume


def _now() -> datetime:
    return datetime.now(UTC)


@click.group("location")
def location() -> None:
    """Chart locations: volumes, requests, check-out and check-in, overdue, lost."""


@location.command("add")
@click.argument("mrn")
@click.option("--barcode", required=True)
@click.option("--type", "record_type", type=click.Choice(RECORD_TYPES), default="medical-record")
@click.option("--volume", type=int, default=1, show_default=True)
@click.option(
    "--home-location",
    "home",
    default="File room",
    show_default=True,
    help="Where the volume lives.",
)
@pass_session
def add(session: Session, mrn: str, barcode: str, record_type: str, volume: int, home: str) -> None:
    """Register a physical volume of MRN's record by its barcode."""
    from ledger.commands.chart_volumes import register_volume

    actor = session.identity()
    with session.ledger() as ledger:
        code = register_volume(
            ledger,
            mrn,
            barcode=barcode,
            record_type=record_type,
            volume=volume,
            home=home,
            actor=actor,
        )
    click.echo(f"Registered volume {code} of {mrn.upper()} at {home}.")


@location.command("route")
@click.argument("mrn")
@click.option("--to", "to", required=True, help="The department, clinic or user it goes to.")
@click.option("--kind", "holder_kind", type=click.Choice(HOLDER_KINDS), required=True)
@click.option("--purpose", required=True, help="Purpose of use, e.g. treatment.")
@click.option("--due", required=True, help="When it should come back (ISO 8601).")
@pass_session
def route(session: Session, mrn: str, to: str, holder_kind: str, purpose: str, due: str) -> None:
    """Route MRN's electronic record to a department or a person (checked by the access policy).

    It comes back with 'location checkin E-<MRN>'."""
    from ledger.commands.chart_volumes import route_record

    actor = session.identity()
    with session.ledger() as ledger:
        code = route_record(
            ledger,
            mrn,
            to=to,
            holder_kind=holder_kind,
            purpose=purpose,
            due=parse_time(due, what="due date"),
            actor=actor,
        )
    click.echo(f"Routed the electronic record {code} to {to} for {purpose}.")


@location.command("request")
@click.argument("barcode")
@click.option("--requestor", required=True)
@click.option("--needed-by", required=True, help="When it is needed (ISO 8601).")
@click.option("--purpose", required=True)
@pass_session
def request(session: Session, barcode: str, requestor: str, needed_by: str, purpose: str) -> None:
    """Ask for a volume to be pulled (it joins the pull list)."""
    from ledger.commands.chart_volumes import request_volume

    actor = session.identity()
    with session.ledger() as ledger:
        request_volume(
            ledger,
            barcode,
            requestor=requestor,
            needed_by=parse_time(needed_by, what="time"),
            purpose=purpose,
            actor=actor,
        )
    click.echo(f"Requested {barcode.upper()} for {requestor}.")


def _out(transfer: bool) -> Callable[..., None]:
    @click.argument("barcode")
    @click.option("--to", "holder", required=True, help="Who or where it goes.")
    @click.option("--kind", "holder_kind", type=click.Choice(HOLDER_KINDS), required=True)
    @click.option("--due", required=True, help="When it must be back (ISO 8601).")
    @pass_session
    def command(session: Session, barcode: str, holder: str, holder_kind: str, due: str) -> None:
        from ledger.commands.chart_volumes import check_out

        actor = session.identity()
        with session.ledger() as ledger:
            check_out(
                ledger,
                barcode,
                holder=holder,
                holder_kind=holder_kind,
                due=parse_time(due, what="time"),
                actor=actor,
                transfer=transfer,
            )
        verb = "Transferred" if transfer else "Checked out"
        click.echo(f"{verb} {barcode.upper()} to {holder}, due {due}.")

    return command


location.command("checkout", help="Check a volume out to a holder, with a due date.")(_out(False))
location.command("transfer", help="Hand a checked-out volume to another holder.")(_out(True))


@location.command("checkin")
@click.argument("barcode")
@click.option("--at", "place", help="Where it is put (default its home).")
@pass_session
def checkin(session: Session, barcode: str, place: str | None) -> None:
    """Check a volume back in."""
    from ledger.commands.chart_volumes import check_in

    actor = session.identity()
    with session.ledger() as ledger:
        check_in(ledger, barcode, location=place, actor=actor)
    click.echo(f"Checked in {barcode.upper()}.")


@location.command("lost")
@click.argument("barcode")
@click.option("--note", required=True, help="Where it was last seen.")
@pass_session
def lost(session: Session, barcode: str, note: str) -> None:
    """Report a volume lost."""
    from ledger.commands.chart_volumes import report_lost

    actor = session.identity()
    with session.ledger() as ledger:
        report_lost(ledger, barcode, note=note, actor=actor)
    click.echo(f"Reported {barcode.upper()} lost.")


@location.command("found")
@click.argument("barcode")
@click.option("--at", "place", help="Where it is now (default its home).")
@pass_session
def found(session: Session, barcode: str, place: str | None) -> None:
    """Record that a lost volume was found."""
    from ledger.commands.chart_volumes import check_in

    actor = session.identity()
    with session.ledger() as ledger:
        check_in(ledger, barcode, location=place, actor=actor, found=True)
    click.echo(f"Found {barcode.upper()}.")


@location.command("loose")
@click.argument("barcode")
@click.option("--what", required=True, help="The loose sheets filed into the volume.")
@pass_session
def loose(session: Session, barcode: str, what: str) -> None:
    """Record loose sheets filed into a volume."""
    from ledger.commands.chart_volumes import file_loose

    actor = session.identity()
    with session.ledger() as ledger:
        file_loose(ledger, barcode, what=what, actor=actor)
    click.echo(f"Filed loose sheets into {barcode.upper()}.")


def _row(v: Volume, *, movements: bool = False) -> dict[str, Any]:
    """A volume as a JSON row: what the table shows, times in UTC (and with `movements`, every
    movement, as `where` prints them)."""
    from cli.output import utc

    row: dict[str, Any] = {
        "barcode": v.barcode,
        "mrn": v.mrn,
        "volume": v.volume,
        "record_type": v.record_type,
        "home": v.home,
        "status": v.status,
        "holder": v.holder,
        "holder_kind": v.holder_kind,
        "since": utc(v.since),
        "due": utc(v.due),
        "requested_by": v.requestor,
        "needed_by": utc(v.needed_by),
    }
    if movements:
        row["movements"] = [
            {"at": utc(m.at), "what": m.what, "holder": m.holder, "detail": m.detail, "by": m.actor}
            for m in v.movements
        ]
    return row


def _table(title: str, volumes: list[Volume], as_json: bool) -> None:
    from cli.output import emit_json, note_withheld, table

    if as_json:
        note_withheld(volumes, "volume")
        emit_json([_row(v) for v in volumes])
        return
    table(
        f"{title}: {len(volumes)}",
        ["barcode", "MRN", "vol", "status", "holder", "since", "due", "requested by", "needed by"],
        [
            [
                v.barcode,
                v.mrn,
                v.volume,
                v.status,
                v.holder,
                v.since.isoformat(timespec="minutes"),
                v.due.isoformat(timespec="minutes") if v.due else "",
                v.requestor or "",
                v.needed_by.isoformat(timespec="minutes") if v.needed_by else "",
            ]
            for v in volumes
        ],
    )
    note_withheld(volumes, "volume")


@location.command("where")
@click.argument("key")
@json_option
@pass_session
def where(session: Session, key: str, as_json: bool) -> None:
    """Where MRN's volumes (or one BARCODE) are, with every movement."""
    from cli.output import note_withheld
    from ledger.errors import NotFound
    from projections.locations import caught_up_locations, shown

    actor = session.identity()
    with session.ledger() as ledger:
        volumes = caught_up_locations(ledger).where(key)
        if not volumes:
            raise NotFound(f"No chart volume has the MRN or barcode {key.strip().upper()}.")
        volumes = shown(ledger, volumes, actor=actor)
    if not volumes:
        from ledger.errors import AccessDenied

        raise AccessDenied("Access refused: the access policy does not show you that record.")
    note_withheld(volumes, "volume")
    if as_json:
        from cli.output import emit_json

        emit_json([_row(v, movements=True) for v in volumes])
        return
    for v in volumes:
        due = f", due {v.due.isoformat(timespec='minutes')}" if v.due else ""
        click.echo(
            f"{v.barcode} ({v.mrn}, volume {v.volume}): {v.status}, {v.holder} since "
            f"{v.since.isoformat(timespec='minutes')}{due}"
        )
        for m in v.movements:
            extra = f" {m.holder}" if m.holder else ""
            detail = f" ({m.detail})" if m.detail else ""
            click.echo(
                f"  {m.at.isoformat(timespec='minutes')}  {m.what}{extra}{detail} by {m.actor}"
            )


@location.command("overdue")
@click.option("--on", "on", help="Overdue at this time (default now).")
@json_option
@pass_session
def overdue(session: Session, on: str | None, as_json: bool) -> None:
    """Volumes checked out past their due date."""
    from projections.locations import caught_up_locations, shown

    actor = session.identity()
    with session.ledger() as ledger:
        found_ = shown(
            ledger,
            caught_up_locations(ledger).overdue(parse_time(on, what="time") if on else _now()),
            actor=actor,
        )
    _table("Overdue chart volumes", found_, as_json)


@location.command("pending")
@json_option
@pass_session
def pending(session: Session, as_json: bool) -> None:
    """The pull list: requested volumes not yet checked out, soonest needed first."""
    from projections.locations import caught_up_locations, shown

    actor = session.identity()
    with session.ledger() as ledger:
        found_ = shown(ledger, caught_up_locations(ledger).pending(), actor=actor)
    _table("Pull list", found_, as_json)


@location.command("missing")
@json_option
@pass_session
def missing(session: Session, as_json: bool) -> None:
    """Volumes reported lost and not found."""
    from projections.locations import caught_up_locations, shown

    actor = session.identity()
    with session.ledger() as ledger:
        found_ = shown(ledger, caught_up_locations(ledger).missing(), actor=actor)
    _table("Missing chart volumes", found_, as_json)
