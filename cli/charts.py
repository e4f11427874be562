"""`chartledger chart …`: what is in a patient's chart."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from cli.common import force_option, purpose_options, why
from cli.main import Session, pass_session
from cli.output import emit_json, say
from cli.parsing import parse_entry, parse_time, parse_uuid
from policies.charting import ENTRY_KIND_CHOICES
from policies.documents import DOCUMENT_KIND_CHOICES


@click.group()
def chart() -> None:
    """Patients' charts: entries, documents, history."""


@chart.command("file")
@click.argument("mrn")
@click.argument("path", type=click.Path(path_type=Path))
@click.option("--kind", required=True, type=click.Choice(DOCUMENT_KIND_CHOICES), help="What it is.")
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
    from ledger.commands import documents

    actor = session.identity()
    encounter_id = parse_uuid(encounter, "an encounter") if encounter else None
    with session.ledger() as ledger:
        document_id = documents.file_document(
            ledger,
            mrn,
            path,
            kind=kind,
            actor=actor,
            encounter_id=encounter_id,
            media_type=media_type,
        )
        document = ledger.document_info(document_id)
    click.echo(
        f"Filed {path.name} to {document.mrn} as document {document_id} (sha256 {document.sha256})."
    )


@chart.command("refile")
@click.argument("document_id")
@click.option("--to", "to_mrn", required=True, help="The MRN of the chart it belongs in.")
@click.option("--encounter", help="The encounter of that patient it belongs to (an id), if any.")
@click.option("--reason", required=True, help="Why it is moved (e.g. filed to the wrong patient).")
@pass_session
def refile_document(
    session: Session, document_id: str, to_mrn: str, encounter: str | None, reason: str
) -> None:
    """Move a misfiled document to another patient's chart (the original filing is kept)."""
    from ledger.commands import documents

    actor = session.identity()
    document = parse_uuid(document_id, "a document")
    encounter_id = parse_uuid(encounter, "an encounter") if encounter else None
    with session.ledger() as ledger:
        before = ledger.document_info(document).mrn
        event = documents.refile_document(
            ledger, document, to_mrn, reason=reason, actor=actor, encounter_id=encounter_id
        )
        after = ledger.document_info(document).mrn
    click.echo(f"Moved document {document} from {before} to {after} (event {event}).")


@chart.command("document")
@click.argument("document_id")
@click.option(
    "--out",
    "out",
    required=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write the document (a new file, or --force).",
)
@force_option
@purpose_options
@pass_session
def get_document(
    session: Session,
    document_id: str,
    out: Path,
    force: bool,
    purpose: str,
    break_glass: str | None,
) -> None:
    """Write a filed document back out, byte for byte (the copy is recorded first)."""
    from ledger.files import check_new_file, write_bytes
    from projections.queries import document_content

    check_new_file(out, force=force)  # refused before the copy is recorded
    actor = session.identity()
    with session.ledger() as ledger:
        document, content = document_content(
            ledger,
            parse_uuid(document_id, "a document"),
            actor=actor,
            why=why(purpose, break_glass),
        )
    write_bytes(out, content, force=force)
    click.echo(f"Wrote {document.size} bytes to {out} (sha256 {document.sha256}, verified).")


def _fields(pairs: tuple[str, ...]) -> dict[str, str]:
    from ledger.errors import UsageError

    fields: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise UsageError(f"'{pair}' is not a field: give NAME=VALUE.")
        fields[key.strip()] = value.strip()
    return fields


_BREAK_GLASS = click.option(
    "--break-glass",
    "break_glass",
    metavar="REASON",
    help="Why you chart for a patient you have no treatment relationship with (reviewed).",
)


@chart.command("add")
@click.argument("encounter_id")
@click.option("--kind", required=True, type=click.Choice(ENTRY_KIND_CHOICES))
@click.option("--text", required=True, help="What to record.")
@click.option(
    "--field",
    "fields",
    multiple=True,
    metavar="NAME=VALUE",
    help="A structured field (repeat), e.g. --field code=I10.",
)
@click.option("--author", help="Who wrote it, if not you (a user name).")
@click.option("--effective", help="When it happened clinically (ISO 8601; default now).")
@_BREAK_GLASS
@pass_session
def add_entry(
    session: Session,
    encounter_id: str,
    kind: str,
    text: str,
    fields: tuple[str, ...],
    author: str | None,
    effective: str | None,
    break_glass: str | None,
) -> None:
    """Record a clinical entry in an encounter; prints its reference ENCOUNTER:ENTRY."""
    from ledger.commands import entries

    actor = session.identity()
    encounter = parse_uuid(encounter_id, "an encounter")
    with session.ledger() as ledger:
        entry = entries.add_entry(
            ledger,
            encounter,
            kind=kind,
            text=text,
            fields=_fields(fields),
            author=author,
            effective_at=parse_time(effective, what="time"),
            actor=actor,
            break_glass_reason=break_glass,
        )
    click.echo(f"Recorded {kind} {encounter}:{entry}")


@chart.command("amend")
@click.argument("entry")
@click.option("--text", required=True, help="The corrected text.")
@click.option("--field", "fields", multiple=True, metavar="NAME=VALUE")
@click.option("--reason", required=True, help="Why it is amended.")
@click.option("--requested-by", required=True, help="Who asked (e.g. patient, the author).")
@_BREAK_GLASS
@pass_session
def amend(
    session: Session,
    entry: str,
    text: str,
    fields: tuple[str, ...],
    reason: str,
    requested_by: str,
    break_glass: str | None,
) -> None:
    """Amend an entry: a new version that links the old one, which stays readable."""
    from ledger.commands import entries

    actor = session.identity()
    encounter, entry_id = parse_entry(entry)
    with session.ledger() as ledger:
        entries.amend_entry(
            ledger,
            encounter,
            entry_id,
            text=text,
            fields=_fields(fields) or None,
            reason=reason,
            requested_by=requested_by,
            actor=actor,
            break_glass_reason=break_glass,
        )
    click.echo(f"Amended {entry}; the earlier version is kept.")


@chart.command("retract")
@click.argument("entry")
@click.option("--reason", required=True, help="Why it was entered in error.")
@_BREAK_GLASS
@pass_session
def retract(session: Session, entry: str, reason: str, break_glass: str | None) -> None:
    """Mark an entry as entered in error (it stays in the chart, marked)."""
    from ledger.commands import entries

    actor = session.identity()
    encounter, entry_id = parse_entry(entry)
    with session.ledger() as ledger:
        entries.retract_entry(
            ledger, encounter, entry_id, reason=reason, actor=actor, break_glass_reason=break_glass
        )
    click.echo(f"Retracted {entry} (entered in error); the original is kept.")


@chart.command("sign")
@click.argument("entry")
@_BREAK_GLASS
@pass_session
def sign(session: Session, entry: str, break_glass: str | None) -> None:
    """Authenticate an entry's current version as its physician."""
    from ledger.commands import entries

    actor = session.identity()
    encounter, entry_id = parse_entry(entry)
    with session.ledger() as ledger:
        entries.sign_entry(ledger, encounter, entry_id, actor=actor, break_glass_reason=break_glass)
    click.echo(f"Signed {entry}.")


@chart.command("deny-amendment")
@click.argument("entry")
@click.option("--reason", required=True, help="Why the requested amendment is refused.")
@click.option("--statement", help="The patient's statement of disagreement, if any.")
@click.option("--requested-change", help="What the patient asked to change.")
@pass_session
def deny_amendment(
    session: Session, entry: str, reason: str, statement: str | None, requested_change: str | None
) -> None:
    """Record a refused amendment request with the patient's disagreement (HIPAA 164.526)."""
    from ledger.commands import entries

    actor = session.identity()
    encounter, entry_id = parse_entry(entry)
    with session.ledger() as ledger:
        entries.deny_amendment(
            ledger,
            encounter,
            entry_id,
            reason=reason,
            statement_of_disagreement=statement,
            requested_change=requested_change,
            actor=actor,
        )
    click.echo(f"Recorded the denied amendment request on {entry}.")


@chart.command("show")
@click.argument("mrn")
@click.option("--as-of", "as_of", help="Show the chart exactly as the ledger held it then.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@purpose_options
@pass_session
def show(
    session: Session,
    mrn: str,
    as_of: str | None,
    as_json: bool,
    purpose: str,
    break_glass: str | None,
) -> None:
    """A patient's chart: encounters and entries (amended, retracted, signed), documents."""
    from projections.queries import chart_record

    actor = session.identity()
    moment = parse_time(as_of, what="time") if as_of else None
    with session.ledger() as ledger:
        record = chart_record(ledger, mrn, actor=actor, why=why(purpose, break_glass), as_of=moment)
    if as_json:
        emit_json(record.as_dict())
        return
    d = record.patient.demographics
    title = f"{record.patient.mrn}  {d.get('family_name', '')}, {d.get('given_name', '')}"
    say(title + (f"   (as of {record.as_of.isoformat()})" if record.as_of else ""))
    if d.get("birth_date"):
        say(f"  born {d['birth_date']}  {d.get('sex') or ''}")
    for enc in record.encounters:
        until = (
            f" to {_minute(enc.discharged_at)} ({enc.disposition})"
            if enc.discharged_at
            else " (open)"
        )
        say(
            f"\n  {enc.encounter_class} {enc.id}  {enc.service}, attending "
            f"{enc.attending}, from {_minute(enc.admitted_at)}{until}"
        )
        for entry in enc.entries:
            marks = []
            if entry.retracted:
                marks.append(f"RETRACTED: {entry.retraction_reason}")
            if entry.amended:
                marks.append(f"amended x{len(entry.versions) - 1}")
            if entry.imported:  # recorded long after, by the import: not late work
                marks.append("imported")
            elif entry.late:
                marks.append("late entry")
            marks.append("signed" if entry.signed else "unsigned")
            say(
                f"    {_minute(entry.effective_at)}  {entry.kind:<18} "
                f"{entry.text}  [{'; '.join(marks)}]  {entry.attribution}"
            )
            for denied in entry.denied_amendments:
                say(
                    f"      amendment refused: {denied.reason}; patient's statement: "
                    f"{denied.statement_of_disagreement or '(none)'}"
                )
    for doc in record.patient.documents:
        say(f"\n  document {doc.id}  {doc.kind}  {doc.filename}")
    since = record.withheld_since
    named = [
        f"{len(found)} {label}"
        for found, label in (
            (since.entries if since else (), "entries retracted as entered in error"),
            (since.documents if since else (), "documents refiled to another chart"),
            (since.records if since else (), "records whose merge was undone"),
        )
        if found
    ]
    if named:
        say(f"\n  Not shown (found since not to belong in this record): {', '.join(named)}.")
    if record.withheld:
        say(f"\n  Withheld (minimum necessary for {record.purpose}): {', '.join(record.withheld)}.")


def _minute(moment: datetime | None) -> str:
    """A time as the chart prints it: ISO 8601 to the minute (as recorded, with no zone)."""
    return moment.isoformat()[:16] if moment is not None else ""


@chart.command("history")
@click.argument("mrn")
@click.option("--as-of", "as_of", help="Only the changes recorded at or before then.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@purpose_options
@pass_session
def history(
    session: Session,
    mrn: str,
    as_of: str | None,
    as_json: bool,
    purpose: str,
    break_glass: str | None,
) -> None:
    """Every change to a chart: who, when, why, and the event id to prove it."""
    from cli.output import table
    from projections.queries import chart_history

    actor = session.identity()
    moment = parse_time(as_of, what="time") if as_of else None
    with session.ledger() as ledger:
        lines = chart_history(ledger, mrn, actor=actor, why=why(purpose, break_glass), as_of=moment)
    if as_json:
        emit_json([line.as_dict() for line in lines])
        return
    table(
        f"History of {mrn.upper()}",
        ["recorded", "effective", "who", "what", "why", "late", "event"],
        [
            [
                _minute(x.recorded_at),
                _minute(x.effective_at),
                (x.actor or "") + (f" for {x.entered_for}" if x.entered_for else ""),
                x.what,
                (x.reason or "")
                + (
                    f" (asked by {x.requested_by})"
                    if x.requested_by and x.requested_by != x.actor
                    else ""
                ),
                "late" if x.late else "",
                x.event_id,
            ]
            for x in lines
        ],
    )
