"""`chartledger legal package`: a patient's record as it stood on a date, provable offline."""

from __future__ import annotations

from pathlib import Path

import click

from cli.common import force_option, purpose_options, why
from cli.main import Session, pass_session
from cli.parsing import parse_time


@click.group("legal")
def legal() -> None:
    """Legal requests: the record as it stood on a date, with its proofs."""


@legal.command("package")
@click.argument("mrn")
@click.option("--as-of", "as_of", required=True, help="The date and time the record is wanted as.")
@click.option(
    "--out",
    required=True,
    type=click.Path(path_type=Path, file_okay=False),
    help="A new folder for the package.",
)
@force_option
@purpose_options
@pass_session
def package(
    session: Session,
    mrn: str,
    as_of: str,
    out: Path,
    force: bool,
    purpose: str,
    break_glass: str | None,
) -> None:
    """Write MRN's record as of a date, its history, access and disclosure trail, documents and
    the proofs of every event, so an outside expert can verify it with `verify --package`."""
    from projections.legal import legal_package

    actor = session.identity()
    moment = parse_time(as_of, what="time")
    with session.ledger() as ledger:
        summary = legal_package(
            ledger,
            mrn,
            as_of=moment,
            out=out,
            actor=actor,
            node=session.home.node_identity(),
            why=why(purpose, break_glass),
            force=force,
        )
        genesis = ledger.genesis_fingerprint().hex()
    click.echo(
        f"Wrote the legal package of {summary.mrn} as of {summary.as_of.isoformat()} to "
        f"{summary.folder}: {summary.entries} entries, {summary.history} changes, "
        f"{summary.trail} audit lines, {summary.documents} documents, {summary.events} events "
        f"proven against the checkpoint of {summary.tree_size} events."
    )
    if summary.withheld:
        click.echo(
            f"Withheld {summary.withheld} entries retracted as entered in error (their events "
            "are in the package redacted: provable, not readable)."
        )
    click.echo(f"Verify it with: chartledger verify --package {summary.folder} --genesis {genesis}")
