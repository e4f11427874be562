"""`chartledger discrepancy …`: facts of a chart that disagree, opened and resolved by events."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cli.main import Session, pass_session
from cli.output import json_option
from cli.parsing import parse_uuid
from policies.records import DISCREPANCY_KINDS

if TYPE_CHECKING:
    from ledger.aggregates.discrepancy import Discrepancy


@click.group("discrepancy")
def discrepancy() -> None:
    """Discrepancies: facts that disagree, with the analysis and the correcting events."""


@discrepancy.command("open")
@click.argument("mrn")
@click.option("--kind", required=True, type=click.Choice(DISCREPANCY_KINDS))
@click.option("--description", required=True, help="What disagrees.")
@click.option(
    "--fact", "facts", multiple=True, metavar="UUID/VERSION", help="An event that disagrees."
)
@pass_session
def open_(session: Session, mrn: str, kind: str, description: str, facts: tuple[str, ...]) -> None:
    """Open a discrepancy on MRN's chart, naming the events that disagree (repeat --fact)."""
    from ledger.commands.discrepancies import open_discrepancy

    actor = session.identity()
    with session.ledger() as ledger:
        found = open_discrepancy(
            ledger, mrn, kind=kind, description=description, facts=list(facts), actor=actor
        )
    click.echo(f"Opened discrepancy {found} on {mrn.strip().upper()}.")


@discrepancy.command("resolve")
@click.argument("discrepancy_id")
@click.option("--analysis", required=True, help="What was wrong, and which fact is right.")
@click.option(
    "--correcting",
    multiple=True,
    metavar="UUID/VERSION",
    help="An event that corrected the chart (repeat).",
)
@pass_session
def resolve(
    session: Session, discrepancy_id: str, analysis: str, correcting: tuple[str, ...]
) -> None:
    """Resolve a discrepancy with the analysis and the events that corrected the chart."""
    from ledger.commands.discrepancies import resolve_discrepancy

    actor = session.identity()
    found = parse_uuid(discrepancy_id, "a discrepancy")
    with session.ledger() as ledger:
        resolve_discrepancy(
            ledger, found, analysis=analysis, correcting=list(correcting), actor=actor
        )
    click.echo(f"Resolved discrepancy {found}.")


@discrepancy.command("list")
@click.option("--mrn", help="Only this patient's discrepancies.")
@click.option("--open", "open_only", is_flag=True, help="Only those not yet resolved.")
@json_option
@pass_session
def list_discrepancies(session: Session, mrn: str | None, open_only: bool, as_json: bool) -> None:
    """Discrepancies in the order opened (reading them is recorded as an access first)."""
    from cli.output import emit_json, note_withheld, utc
    from ledger.reads.discrepancies import discrepancies

    actor = session.identity()
    with session.ledger() as ledger:
        found = discrepancies(ledger, actor=actor, mrn=mrn, open_only=open_only)
    if as_json:
        note_withheld(found, "discrepancy")
        emit_json(
            [
                {
                    "opened_at": utc(d.created_on),
                    "opened_by": d.opened_by,
                    "id": str(d.id),
                    "mrn": d.mrn,
                    "kind": d.kind,
                    "status": "open" if d.is_open else "resolved",
                    "resolved_by": d.resolved_by,
                    "resolved_at": utc(d.resolved_at),
                    "description": d.description,
                    "facts": list(d.facts),
                    "analysis": d.analysis,
                    "correcting": list(d.correcting),
                }
                for d in found
            ]
        )
        return
    _table(found)
    note_withheld(found, "discrepancy")


def _table(found: list[Discrepancy]) -> None:
    from cli.output import table

    table(
        f"Discrepancies: {len(found)}",
        ["opened", "id", "MRN", "kind", "status", "description", "facts", "analysis", "correcting"],
        [
            [
                d.created_on.isoformat(timespec="minutes"),
                d.id,
                d.mrn,
                d.kind,
                "open" if d.is_open else f"resolved by {d.resolved_by}",
                d.description,
                " ".join(d.facts),
                d.analysis or "",
                " ".join(d.correcting),
            ]
            for d in found
        ],
    )
