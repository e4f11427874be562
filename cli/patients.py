"""`chartledger patient …`: the master patient index."""

from __future__ import annotations

from datetime import date
from typing import Any

import click

from cli.common import purpose_options, why
from cli.main import Session, pass_session
from cli.output import emit_json, say
from policies.patients import DEMOGRAPHIC_FIELDS, NAME_FIELDS, SEXES


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
    if as_json:
        emit_json(record.as_dict())
        return
    d = record.demographics
    say(f"{record.mrn}  {d.get('family_name', '')}, {d.get('given_name', '')}")
    for name in DEMOGRAPHIC_FIELDS:
        if name not in NAME_FIELDS and d.get(name):
            say(f"  {name.replace('_', ' ')}: {d[name]}")
    say(f"  registered {record.registered_at.isoformat()[:16]} by {record.registered_by}")
    if record.merged_into:
        say(f"  MERGED into {record.merged_into}: read that record instead")
    if record.absorbed:
        say(f"  absorbed: {', '.join(record.absorbed)}")
    if record.override_reason:
        say(
            f"  registered despite {', '.join(record.registered_despite)}: {record.override_reason}"
        )
    if record.withheld:
        say(f"  withheld by the access policy: {', '.join(record.withheld)}")
    for doc in record.documents:
        say(
            f"  document {doc.id}  {doc.kind}  {doc.filename}  "
            f"{doc.size} bytes  filed {doc.filed_at.isoformat()[:16]} by {doc.filed_by}"
        )


@patient.command("merge")
@click.argument("survivor")
@click.argument("retired")
@click.option("--reason", required=True, help="Why these are the same person.")
@pass_session
def merge(session: Session, survivor: str, retired: str, reason: str) -> None:
    """Bring RETIRED's history under SURVIVOR (nothing is rewritten; it can be undone)."""
    from ledger.commands import patients

    actor = session.identity()
    with session.ledger() as ledger:
        patients.merge_patients(ledger, survivor, retired, reason=reason, actor=actor)
    click.echo(f"Merged {retired.upper()} into {survivor.upper()}.")


@patient.command("unmerge")
@click.argument("survivor")
@click.argument("retired")
@click.option("--reason", required=True, help="Why the merge was wrong.")
@pass_session
def unmerge(session: Session, survivor: str, retired: str, reason: str) -> None:
    """Undo a wrong merge; both the merge and its undoing stay in the history."""
    from ledger.commands import patients

    actor = session.identity()
    with session.ledger() as ledger:
        patients.undo_merge(ledger, survivor, retired, reason=reason, actor=actor)
    click.echo(f"Undid the merge of {retired.upper()} into {survivor.upper()}.")


def _born(value: str | None) -> date | None:
    from ledger.errors import UsageError

    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"'{value}' is not a date of birth (give YYYY-MM-DD).") from None


def _name(words: tuple[str, ...]) -> dict[str, str]:
    """'Okafor, Ada' or 'Ada Okafor' (the matcher also catches names given the wrong way round)."""
    text = " ".join(words).strip()
    if not text:
        return {}
    if "," in text:
        family, _, given = text.partition(",")
        return {"family_name": family.strip(), "given_name": given.strip()}
    parts = text.split()
    if len(parts) == 1:
        return {"family_name": parts[0]}
    return {"given_name": " ".join(parts[:-1]), "family_name": parts[-1]}


def _show_candidates(candidates: list[Any]) -> None:
    from cli.output import table

    table(
        "Candidates",
        ["MRN", "name", "born", "sex", "postcode", "score", "class", "agreed"],
        [
            [
                c.patient.mrn,
                f"{c.patient.demographics.get('family_name', '')}, "
                f"{c.patient.demographics.get('given_name', '')}",
                c.patient.demographics.get("birth_date", ""),
                c.patient.demographics.get("sex", ""),
                c.patient.demographics.get("postcode", ""),
                f"{c.score.total:.1f}",
                c.score.classification,
                ", ".join(c.score.agreed),
            ]
            for c in candidates
        ],
    )


_DEMOGRAPHIC_OPTIONS = [
    click.option("--sex", type=click.Choice(SEXES)),
    click.option("--street", help="House number and street."),
    click.option("--locality", help="Suburb, town or city."),
    click.option("--postcode"),
    click.option("--state"),
    click.option("--phone"),
    click.option("--identifier", help="Another identifier (national id, insurer number …)."),
]


def _demographic_options(command: Any) -> Any:
    for option in reversed(_DEMOGRAPHIC_OPTIONS):
        command = option(command)
    return command


@patient.command("register")
@click.option("--given", "given_name", required=True, help="Given name(s).")
@click.option("--family", "family_name", required=True, help="Family name.")
@click.option("--born", required=True, help="Date of birth, YYYY-MM-DD.")
@_demographic_options
@click.option(
    "--new-despite-match",
    "override",
    metavar="REASON",
    help="Register even though likely matches exist, and say why.",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def register(
    session: Session,
    given_name: str,
    family_name: str,
    born: str,
    override: str | None,
    as_json: bool,
    **fields: str | None,
) -> None:
    """Assign the next MRN, after searching the index for likely matches and showing them."""
    from ledger.commands.patients import LikelyDuplicates, register_after_search

    demographics: dict[str, Any] = {
        "given_name": given_name,
        "family_name": family_name,
        "birth_date": _born(born),
    }
    demographics.update({k: v for k, v in fields.items() if v})
    actor = session.identity()
    with session.ledger() as ledger:
        try:
            mrn, shown = register_after_search(ledger, demographics, actor=actor, override=override)
        except LikelyDuplicates as refused:
            _show_candidates(refused.candidates)
            raise
    if as_json:
        emit_json({"mrn": mrn, "likely_matches": [c.as_dict() for c in shown]})
        return
    if shown:
        click.echo(
            f"Registered {mrn} despite {', '.join(c.patient.mrn for c in shown)}: {override}"
        )
    else:
        click.echo(f"Registered {mrn} (no likely match in the index).")


@patient.command("find")
@click.argument("name", nargs=-1)
@click.option("--born", help="Date of birth, YYYY-MM-DD.")
@click.option("--mrn", help="A medical record number.")
@_demographic_options
@click.option("--limit", default=10, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@purpose_options
@pass_session
def find(
    session: Session,
    name: tuple[str, ...],
    born: str | None,
    mrn: str | None,
    limit: int,
    as_json: bool,
    purpose: str,
    break_glass: str | None,
    **fields: str | None,
) -> None:
    """Find patients by name (typos, sound-alikes, nicknames, swapped), birth date, address…"""
    from ledger.errors import UsageError
    from projections.queries import find_patients

    query: dict[str, Any] = {**_name(name), **{k: v for k, v in fields.items() if v}}
    if born:
        query["birth_date"] = _born(born)
    if mrn:
        query["mrn"] = mrn
    if not query:
        raise UsageError("Give a name, a date of birth, an MRN or another detail to search for.")
    actor = session.identity()
    with session.ledger() as ledger:
        candidates = find_patients(
            ledger, query, actor=actor, why=why(purpose, break_glass), limit=limit
        )
    if as_json:
        emit_json([c.as_dict() for c in candidates])
    elif candidates:
        _show_candidates(candidates)
    else:
        click.echo("No patient in the index resembles that.")


@patient.command("duplicates")
@click.option("--possible", is_flag=True, help="Also list possible pairs for human review.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@purpose_options
@pass_session
def duplicates(
    session: Session, possible: bool, as_json: bool, purpose: str, break_glass: str | None
) -> None:
    """Probable duplicate records in the index, best first, with why they match."""
    from cli.output import table
    from projections.queries import duplicate_pairs

    actor = session.identity()
    with session.ledger() as ledger:
        pairs = duplicate_pairs(
            ledger, actor=actor, why=why(purpose, break_glass), include_possible=possible
        )
    if as_json:
        emit_json([{"left": a.as_dict(), "right": b.as_dict()} for a, b in pairs])
        return
    if not pairs:
        click.echo("No probable duplicates in the index.")
        return
    table(
        "Probable duplicates",
        ["MRN", "MRN", "score", "class", "agreed", "disagreed"],
        [
            [
                a.patient.mrn,
                b.patient.mrn,
                f"{a.score.total:.1f}",
                a.score.classification,
                ", ".join(a.score.agreed),
                ", ".join(a.score.disagreed),
            ]
            for a, b in pairs
        ],
    )


@patient.command("correct")
@click.argument("mrn")
@click.option("--given", "given_name", help="Given name(s).")
@click.option("--family", "family_name", help="Family name.")
@click.option("--born", help="Date of birth, YYYY-MM-DD.")
@_demographic_options
@click.option("--reason", required=True, help="Why (e.g. as on the ID card).")
@pass_session
def correct(
    session: Session,
    mrn: str,
    given_name: str | None,
    family_name: str | None,
    born: str | None,
    reason: str,
    **fields: str | None,
) -> None:
    """Correct MRN's demographics; the registration and every correction stay in the history.

    Prints the correcting event (UUID/VERSION), which `discrepancy resolve` can link."""
    from ledger.commands import patients
    from ledger.errors import UsageError

    changes: dict[str, Any] = {"given_name": given_name, "family_name": family_name}
    changes["birth_date"] = _born(born)
    changes.update(fields)
    changes = {k: v for k, v in changes.items() if v}
    if not changes:
        raise UsageError("Give at least one demographic to correct.")
    actor = session.identity()
    with session.ledger() as ledger:
        patients.correct_demographics(ledger, mrn, changes, reason=reason, actor=actor)
        patient = ledger.patient(mrn)
    click.echo(
        f"Corrected {', '.join(sorted(changes))} of {patient.mrn} "
        f"(event {patient.id}/{patient.version})."
    )
