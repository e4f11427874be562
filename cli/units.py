"""`chartledger unit …`: nursing units and their beds and bassinets, as facts (decisions §45)."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from cli.main import Session, pass_session
from cli.output import json_option


@click.group("unit")
def unit() -> None:
    """Nursing units: open, change bed counts, close (HIM director or administrator); list, show."""


@unit.command("open")
@click.argument("unit_code", metavar="CODE")
@click.option("--name", required=True, help="The unit's name (Four West, Nursery).")
@click.option("--beds", type=int, required=True, help="Adult and pediatric beds set up.")
@click.option("--bassinets", type=int, default=0, show_default=True, help="Newborn bassinets.")
@click.option("--service", help="The service the unit serves, if it serves one.")
@click.option("--from", "effective_from", required=True, help="The first day (YYYY-MM-DD).")
@pass_session
def open_(
    session: Session,
    unit_code: str,
    name: str,
    beds: int,
    bassinets: int,
    service: str | None,
    effective_from: str,
) -> None:
    """Open nursing unit CODE with its beds (and bassinets) from a day on."""
    from cli.output import say
    from cli.parsing import parse_day
    from ledger.commands.units import open_unit

    day = parse_day(effective_from, what="first day")
    actor = session.identity()
    with session.ledger() as ledger:
        opened = open_unit(
            ledger,
            unit_code,
            name=name,
            beds=beds,
            bassinets=bassinets,
            service=service,
            effective_from=day,
            actor=actor,
        )
    say(
        f"Opened unit {opened.code} ({opened.name}) with {beds} beds and {bassinets} bassinets "
        f"from {day}."
    )


@unit.command("beds")
@click.argument("unit_code", metavar="CODE")
@click.option("--beds", type=int, required=True, help="The beds from that day on.")
@click.option("--bassinets", type=int, help="The bassinets from that day on (default: unchanged).")
@click.option("--from", "effective_from", required=True, help="The first day (YYYY-MM-DD).")
@click.option("--reason", required=True, help="Why the count changed.")
@pass_session
def beds(
    session: Session,
    unit_code: str,
    beds: int,
    bassinets: int | None,
    effective_from: str,
    reason: str,
) -> None:
    """Change the bed (and bassinet) count of unit CODE from a day on."""
    from cli.output import say
    from cli.parsing import parse_day
    from ledger.commands.units import change_beds

    day = parse_day(effective_from, what="first day")
    actor = session.identity()
    with session.ledger() as ledger:
        unit, changed = change_beds(
            ledger,
            unit_code,
            beds=beds,
            bassinets=bassinets,
            effective_from=day,
            reason=reason,
            actor=actor,
        )
    last = unit.periods[-1]
    if not changed:
        say(
            f"Unit {unit.code} already has {last.beds} beds and {last.bassinets} bassinets; "
            "nothing was written."
        )
        return
    say(f"Unit {unit.code} has {last.beds} beds and {last.bassinets} bassinets from {day}.")


@unit.command("close")
@click.argument("unit_code", metavar="CODE")
@click.option("--from", "effective_from", required=True, help="The first day closed.")
@click.option("--reason", required=True, help="Why the unit closed.")
@pass_session
def close(session: Session, unit_code: str, effective_from: str, reason: str) -> None:
    """Close unit CODE: it has no beds from that day on."""
    from cli.output import say
    from cli.parsing import parse_day
    from ledger.commands.units import close_unit

    day = parse_day(effective_from, what="first day closed")
    actor = session.identity()
    with session.ledger() as ledger:
        closed = close_unit(ledger, unit_code, effective_from=day, reason=reason, actor=actor)
    say(f"Unit {closed.code} is closed from {day}.")


def _today() -> str:
    return datetime.now(UTC).date().isoformat()


@unit.command("list")
@click.option("--on", help="The day whose counts are shown (YYYY-MM-DD; default today, UTC).")
@json_option
@pass_session
def list_(session: Session, on: str | None, as_json: bool) -> None:
    """Every nursing unit, with its beds and bassinets on a day."""
    from cli.output import emit_json, say, table
    from cli.parsing import parse_day
    from ledger.reads.units import list_units

    day = parse_day(on if on is not None else _today(), what="day")
    with session.ledger() as ledger:
        units = list_units(ledger, on=day)
    if as_json:
        emit_json([shown.as_dict() for shown in units])
        return
    if not units:
        say("No nursing unit has been opened.")
        return
    table(
        f"Nursing units on {day}: {sum(u.beds for u in units)} beds, "
        f"{sum(u.bassinets for u in units)} bassinets",
        ("Unit", "Name", "Service", "Beds", "Bassinets", "Opened", "Closed"),
        [
            (
                u.code,
                u.name,
                u.service or "",
                u.beds,
                u.bassinets,
                u.opened_from,
                u.closed_from or "",
            )
            for u in units
        ],
    )


@unit.command("show")
@click.argument("unit_code", metavar="CODE")
@json_option
@pass_session
def show(session: Session, unit_code: str, as_json: bool) -> None:
    """One nursing unit: its counts today and every change, with its reason."""
    from cli.output import emit_json, say, table
    from ledger.reads.units import show_unit

    with session.ledger() as ledger:
        shown = show_unit(ledger, unit_code, on=datetime.now(UTC).date())
    if as_json:
        emit_json(shown.as_dict())
        return
    state = (
        f"closed from {shown.closed_from} ({shown.close_reason})"
        if shown.closed_from
        else f"{shown.beds} beds and {shown.bassinets} bassinets today"
    )
    say(f"Unit {shown.code} ({shown.name}), service {shown.service or 'none'}: {state}.")
    table(
        "Counts",
        ("From", "Beds", "Bassinets", "Reason", "By", "Recorded"),
        [
            (
                c.effective_from,
                c.beds,
                c.bassinets,
                c.reason or "opened",
                c.actor,
                c.recorded_at.isoformat(timespec="seconds"),
            )
            for c in shown.history
        ],
    )
