"""`chartledger chart …`: what is in a patient's chart."""

from __future__ import annotations

from pathlib import Path
from uuid import UUID

import click

from cli.common import purpose_options, why
from cli.main import Session, pass_session

DOCUMENT_KINDS = (
    "consent",
    "release-form",
    "handwritten-note",
    "correspondence",
    "referral-letter",
    "discharge-summary",
    "operative-report",
    "laboratory-report",
    "imaging-report",
    "advance-directive",
    "identification",
    "other",
)


def _uuid(value: str, what: str) -> UUID:
    from ledger.errors import UsageError

    try:
        return UUID(value)
    except ValueError:
        raise UsageError(f"'{value}' is not {what} id.") from None


@click.group()
def chart() -> None:
    """Patients' charts: entries, documents, history."""


@chart.command("file")
@click.argument("mrn")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--kind", required=True, type=click.Choice(DOCUMENT_KINDS), help="What it is.")
@click.option("--encounter", help="The encounter it belongs to (an id), if any.")
@click.option("--media-type", help="Override the media type guessed from the file name.")
@pass_session
def file_document(
    session: Session,
    mrn: str,
    path: Path,
    kind: str,
    encounter: str | None,
    media_type: str | None,
) -> None:
    """File a scanned or electronic document to MRN's chart (stored by its SHA-256)."""
    actor = session.identity()
    encounter_id = _uuid(encounter, "an encounter") if encounter else None
    with session.ledger() as ledger:
        document_id = ledger.file_document(
            mrn, path, kind=kind, actor=actor, encounter_id=encounter_id, media_type=media_type
        )
        document = ledger.document_info(document_id)
    click.echo(
        f"Filed {path.name} to {document.mrn} as document {document_id} (sha256 {document.sha256})."
    )


@chart.command("document")
@click.argument("document_id")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the document (must not exist).",
)
@purpose_options
@pass_session
def get_document(
    session: Session, document_id: str, out: Path, purpose: str, break_glass: str | None
) -> None:
    """Write a filed document back out, byte for byte (the copy is recorded first)."""
    from ledger.errors import UsageError
    from projections.queries import document_content

    if out.exists():
        raise UsageError(f"{out} already exists; give a new file name.")
    actor = session.identity()
    with session.ledger() as ledger:
        document, content = document_content(
            ledger, _uuid(document_id, "a document"), actor=actor, why=why(purpose, break_glass)
        )
    out.write_bytes(content)
    click.echo(f"Wrote {document.size} bytes to {out} (sha256 {document.sha256}, verified).")
