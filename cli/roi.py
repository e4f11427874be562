"""`chartledger roi …`: release of information and the accounting of disclosures."""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import click

from cli.common import force_option
from cli.main import Session, pass_session
from cli.parsing import parse_uuid
from policies.release import BASES, INFORMATION_BLOCKING_EXCEPTIONS, METHODS, REQUESTER_KINDS


def _today() -> date:
    return datetime.now(UTC).date()


def _day(value: str | None, what: str) -> date | None:
    from ledger.errors import UsageError

    if value is None:
        return None
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"'{value}' is not a {what} (give YYYY-MM-DD).") from None


def _request(value: str) -> UUID:
    return parse_uuid(value, "a release request")


@click.group("roi")
def roi() -> None:
    """Release of information: requests, validation, release, accounting of disclosures."""


@roi.command("request")
@click.argument("mrn")
@click.option("--requester-kind", type=click.Choice(REQUESTER_KINDS), required=True)
@click.option("--requester", required=True, help="Who asks (a person, firm or agency).")
@click.option("--address", help="Where the release goes, if known.")
@click.option("--asks", required=True, help="What is asked for, in the requester's words.")
@click.option(
    "--section",
    "sections",
    multiple=True,
    default=("chart",),
    show_default=True,
    help="A chart section to release (repeat): chart (everything), diagnosis, documents …",
)
@click.option("--purpose", required=True, help="Why: legal, payment, patient-request, …")
@click.option("--from", "date_from", help="Records from this date (YYYY-MM-DD).")
@click.option("--to", "date_to", help="Records up to this date (YYYY-MM-DD).")
@click.option("--received", help="When the request arrived (default today).")
@pass_session
def request(
    session: Session,
    mrn: str,
    requester_kind: str,
    requester: str,
    address: str | None,
    asks: str,
    sections: tuple[str, ...],
    purpose: str,
    date_from: str | None,
    date_to: str | None,
    received: str | None,
) -> None:
    """Log a request for MRN's information; prints its id (and due date for a patient's own)."""
    from ledger.aggregates.release import release_request
    from ledger.commands.release import request_release

    actor = session.identity()
    with session.ledger() as ledger:
        request_id = request_release(
            ledger,
            mrn,
            requester_kind=requester_kind,
            requester=requester,
            address=address,
            asks=asks,
            sections=list(sections),
            purpose=purpose,
            received=_day(received, "date") or _today(),
            actor=actor,
            date_from=_day(date_from, "date"),
            date_to=_day(date_to, "date"),
        )
        due = release_request(ledger, request_id).due
    click.echo(f"Logged release request {request_id} for {mrn.upper()}.")
    if due is not None:
        click.echo(f"A patient's access request: due {due.isoformat()} (one 30-day extension).")


def _authorization(path: Path) -> Any:
    from ledger.errors import UsageError
    from policies.release import Authorization

    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        return Authorization(**data)
    except (OSError, UnicodeDecodeError):
        raise UsageError(f"There is no readable authorization file at {path}.") from None
    except (tomllib.TOMLDecodeError, TypeError) as error:
        raise UsageError(f"The authorization {path.name} cannot be read ({error}).") from None


@roi.command("validate")
@click.argument("request_id")
@click.option("--basis", type=click.Choice(BASES), required=True, help="The legal basis.")
@click.option(
    "--authorization",
    "authorizations",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False),
    help="A TOML file of the authorization's elements (repeat for separate ones).",
)
@click.option("--notice-to-patient", is_flag=True, help="A subpoena came with notice given.")
@click.option("--protective-order", is_flag=True, help="A qualified protective order exists.")
@pass_session
def validate(
    session: Session,
    request_id: str,
    basis: str,
    authorizations: tuple[Path, ...],
    notice_to_patient: bool,
    protective_order: bool,
) -> None:
    """Check a request's legal basis; the verdict, valid or not, is recorded."""
    from ledger.commands.release import validate_release

    actor = session.identity()
    parsed = [_authorization(p) for p in authorizations]
    with session.ledger() as ledger:
        verdict = validate_release(
            ledger,
            _request(request_id),
            basis=basis,
            actor=actor,
            authorizations=parsed,
            notice_to_patient=notice_to_patient,
            protective_order=protective_order,
        )
    if verdict.valid:
        click.echo(f"Request {request_id} is valid ({basis}); it may be approved.")
    else:
        click.echo(f"Request {request_id} is not valid: {'; '.join(verdict.problems)}.")


@roi.command("extend")
@click.argument("request_id")
@click.option("--reason", required=True, help="Why more time is needed (the patient is told).")
@pass_session
def extend(session: Session, request_id: str, reason: str) -> None:
    """Extend a patient's request once by 30 days, before the first deadline."""
    from ledger.commands.release import extend_release

    actor = session.identity()
    with session.ledger() as ledger:
        due = extend_release(ledger, _request(request_id), reason=reason, actor=actor)
    click.echo(f"Extended request {request_id}: now due {due.isoformat()}.")


@roi.command("approve")
@click.argument("request_id")
@pass_session
def approve(session: Session, request_id: str) -> None:
    """Approve a validated request."""
    from ledger.commands.release import approve_release

    actor = session.identity()
    with session.ledger() as ledger:
        approve_release(ledger, _request(request_id), actor=actor)
    click.echo(f"Approved request {request_id}.")


@roi.command("deny")
@click.argument("request_id")
@click.option("--reason", required=True)
@click.option(
    "--exception",
    type=click.Choice(INFORMATION_BLOCKING_EXCEPTIONS),
    help="The information-blocking exception that applies (45 CFR 171).",
)
@pass_session
def deny(session: Session, request_id: str, reason: str, exception: str | None) -> None:
    """Deny a request, with the reason (and the information-blocking exception, if any)."""
    from ledger.commands.release import deny_release

    actor = session.identity()
    with session.ledger() as ledger:
        deny_release(ledger, _request(request_id), reason=reason, exception=exception, actor=actor)
    click.echo(f"Denied request {request_id}.")


@roi.command("release")
@click.argument("request_id")
@click.option("--method", type=click.Choice(METHODS), required=True)
@click.option("--fee", default="0", show_default=True, help="The fee charged.")
@click.option("--out", required=True, type=click.Path(path_type=Path, file_okay=False))
@force_option
@pass_session
def release(
    session: Session, request_id: str, method: str, fee: str, out: Path, force: bool
) -> None:
    """Write the approved release to OUT and record exactly what went out."""
    from ledger.commands.release import release_package
    from projections.release import package_contents

    actor = session.identity()
    with session.ledger() as ledger:
        done = release_package(
            ledger,
            _request(request_id),
            contents=package_contents,
            out=out,
            method=method,
            fee=fee,
            actor=actor,
            force=force,
        )
    accounted = "it will be in the accounting" if done.accountable else "not accountable"
    click.echo(
        f"Released {done.entries} entries and {done.documents} documents of {done.mrn} to "
        f"{done.folder} (package sha256 {done.package_sha256}; {accounted})."
    )


@roi.command("list")
@click.option("--due", "only_due", is_flag=True, help="Only open patient requests now due.")
@click.option("--on", "on", help="Due by this date (default today; with --due).")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def list_requests(session: Session, only_due: bool, on: str | None, as_json: bool) -> None:
    """Release requests (with --due: the patients' requests due, soonest first)."""
    from ledger.commands.access import record_shown
    from projections.release import due, requests

    actor = session.identity()
    day = (_day(on, "date") or _today()) if only_due else None
    with session.ledger() as ledger:
        found = requests(ledger, actor=actor, open_only=day is not None)
        if day is not None:
            found = due(found, on=day)
        listed = record_shown(  # the queue names patients: recorded before it is shown
            ledger, (r.mrn for r in found), actor=actor, section="release-queue"
        )
    found = [r for r in found if listed.allows(r.mrn)]
    withheld = len(listed.withheld)
    rows = [
        {
            "request": str(r.id),
            "mrn": r.mrn,
            "requester_kind": r.requester_kind,
            "received": r.received.isoformat(),
            "due": r.due.isoformat() if r.due else None,
            "status": r.status,
        }
        for r in found
    ]
    if as_json:
        from cli.output import emit_json

        emit_json(rows)
        if withheld:
            click.echo(_withheld(withheld), err=True)
        return
    from cli.output import table

    table(
        f"Release requests: {len(rows)}",
        ["request", "MRN", "requester", "received", "due", "status"],
        [
            [
                r["request"],
                r["mrn"],
                r["requester_kind"],
                r["received"],
                r["due"] or "",
                r["status"],
            ]
            for r in rows
        ],
    )
    if withheld:
        click.echo(_withheld(withheld))


def _withheld(count: int) -> str:
    return (
        f"{count} patient{'' if count == 1 else 's'}' requests withheld: the access policy does "
        "not show them to you."
    )


@roi.command("suspend")
@click.argument("mrn")
@click.option("--agency", required=True, help="The agency that asked.")
@click.option("--until", required=True, help="The end of the suspension (YYYY-MM-DD).")
@click.option("--oral", is_flag=True, help="An oral request (holds 30 days at most).")
@pass_session
def suspend(session: Session, mrn: str, agency: str, until: str, oral: bool) -> None:
    """Suspend accounting disclosures of MRN to an agency, at its request (164.528(a)(2))."""
    from ledger.commands.release import suspend_accounting

    end = _day(until, "date")
    assert end is not None  # noqa: S101 (required option)
    actor = session.identity()
    with session.ledger() as ledger:
        ends = suspend_accounting(ledger, mrn, agency=agency, until=end, oral=oral, actor=actor)
    click.echo(f"Suspended accounting {agency}'s disclosures of {mrn.upper()} until {ends}.")


@roi.command("accounting")
@click.argument("mrn")
@click.option("--on", "on", help="The day the patient asked (default today).")
@click.option("--html", "html_path", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@force_option
@pass_session
def accounting(
    session: Session,
    mrn: str,
    on: str | None,
    html_path: Path | None,
    as_json: bool,
    force: bool,
) -> None:
    """The accounting of disclosures owed to a patient: six years, the exclusions applied."""
    from ledger.files import check_new_file, write_text
    from projections.release import accounting_html, accounting_of

    if html_path is not None:
        check_new_file(html_path, force=force)  # before anything is recorded

    actor = session.identity()
    with session.ledger() as ledger:
        report = accounting_of(ledger, mrn, requested_on=_day(on, "date") or _today(), actor=actor)
        origin = (
            ledger.latest_checkpoint()[1].split("\n", 1)[0]
            if ledger.merkle_log.checkpoints()
            else ""
        )
    if html_path is not None:
        write_text(html_path, accounting_html(report, mrn=mrn.upper(), origin=origin), force=force)
    lines = [
        {
            "date": d.released_on.isoformat(),
            "recipient": d.recipient,
            "address": d.recipient_address,
            "description": d.description,
            "purpose": d.purpose,
            "event": d.event,
            "entries": list(d.entries),
            "documents": list(d.documents),
        }
        for d in report.lines
    ]
    if as_json:
        from cli.output import emit_json

        emit_json(
            {
                "mrn": mrn.upper(),
                "from": report.period_start.isoformat(),
                "to": report.period_end.isoformat(),
                "disclosures": lines,
                "excluded": [{"event": d.event, "why": why} for d, why in report.excluded],
            }
        )
        return
    click.echo(
        f"Accounting of disclosures for {mrn.upper()}, {report.period_start} to "
        f"{report.period_end}: {len(lines)} to account for ({len(report.excluded)} excluded)."
    )
    for line, d in zip(lines, report.lines, strict=True):
        click.echo(
            f"  {line['date']}  {line['recipient']}  {line['address'] or ''}  "
            f"{line['description']}  ({line['purpose']})"
        )
        sent = [f"entry {e}" for e in d.entries] + [f"document {x}" for x in d.documents]
        click.echo(f"    sent: {', '.join(sent) or 'nothing'}")
    if html_path is not None:
        click.echo(f"Letter written to {html_path}.")
