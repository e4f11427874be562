"""`chartledger patient …`: the master patient index."""

from __future__ import annotations

import click

from cli.common import purpose_options, why
from cli.main import Session, pass_session
from cli.output import emit_json


@click.group()
def patient() -> None:
    """Find, register, show and merge patients (the master patient index)."""


@patient.command("show")
@click.argument("mrn")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@purpose_options
@pass_session
def show(session: Session, mrn: str, as_json: bool, purpose: str, break_glass: str | None) -> None:
    """Show a patient's index entry and filed documents (the access is recorded first)."""
    from projections.queries import patient_record

    actor = session.identity()
    with session.ledger() as ledger:
        record = patient_record(ledger, mrn, actor=actor, why=why(purpose, break_glass))
    data = record.as_dict()
    if as_json:
        emit_json(data)
        return
    d = data["demographics"]
    click.echo(f"{data['mrn']}  {d.get('family_name', '')}, {d.get('given_name', '')}")
    for name in (
        "birth_date",
        "sex",
        "street",
        "locality",
        "postcode",
        "state",
        "phone",
        "identifier",
    ):
        if d.get(name):
            click.echo(f"  {name.replace('_', ' ')}: {d[name]}")
    click.echo(f"  registered {data['registered_at'][:16]} by {data['registered_by']}")
    if data["merged_into"]:
        click.echo(f"  MERGED into {data['merged_into']}: read that record instead")
    if data["absorbed"]:
        click.echo(f"  absorbed: {', '.join(data['absorbed'])}")
    if data["override_reason"]:
        click.echo(
            f"  registered despite {', '.join(data['registered_despite'])}: "
            f"{data['override_reason']}"
        )
    for doc in data["documents"]:
        click.echo(
            f"  document {doc['id']}  {doc['kind']}  {doc['filename']}  "
            f"{doc['size']} bytes  filed {doc['filed_at'][:16]} by {doc['filed_by']}"
        )


@patient.command("merge")
@click.argument("survivor")
@click.argument("retired")
@click.option("--reason", required=True, help="Why these are the same person.")
@pass_session
def merge(session: Session, survivor: str, retired: str, reason: str) -> None:
    """Bring RETIRED's history under SURVIVOR (nothing is rewritten; it can be undone)."""
    actor = session.identity()
    with session.ledger() as ledger:
        ledger.merge_patients(survivor, retired, reason=reason, actor=actor)
    click.echo(f"Merged {retired.upper()} into {survivor.upper()}.")


@patient.command("unmerge")
@click.argument("survivor")
@click.argument("retired")
@click.option("--reason", required=True, help="Why the merge was wrong.")
@pass_session
def unmerge(session: Session, survivor: str, retired: str, reason: str) -> None:
    """Undo a wrong merge; both the merge and its undoing stay in the history."""
    actor = session.identity()
    with session.ledger() as ledger:
        ledger.undo_merge(survivor, retired, reason=reason, actor=actor)
    click.echo(f"Undid the merge of {retired.upper()} into {survivor.upper()}.")
