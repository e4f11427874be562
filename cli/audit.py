"""`chartledger audit …`: who saw, changed or disclosed which record, when and why."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

import click

from cli.audit_monitoring import COMMANDS as MONITORING
from cli.main import Session, pass_session
from cli.parsing import parse_time
from policies.purposes import PURPOSES

if TYPE_CHECKING:
    from ledger.aggregates.access import Shown
    from projections.audit import AuditFilter, AuditRow

TABLE_COLUMNS = (
    "time (UTC)",
    "MRN",
    "user",
    "action",
    "data",
    "purpose",
    "outcome",
    "break-glass",
    "event",
)


@click.group("audit")
def audit() -> None:
    """Who saw, changed or disclosed which record, when and why."""


for _command in MONITORING:  # `audit alerts` and `audit review` (access monitoring)
    audit.add_command(_command)


def _filters(command: Callable[..., Any]) -> Callable[..., Any]:
    """The filters and output options every audit listing takes."""
    options = [
        click.option("--purpose", type=click.Choice(PURPOSES), help="Only this purpose of use."),
        click.option("--break-glass", is_flag=True, help="Only break-the-glass accesses."),
        click.option("--denied", is_flag=True, help="Only refused accesses."),
        click.option("--json", "as_json", is_flag=True, help="Print as JSON."),
        click.option("--csv", "as_csv", is_flag=True, help="Print as CSV (with a header row)."),
        click.option(
            "--purpose-of-use",
            "purpose_of_use",
            type=click.Choice(PURPOSES),
            default="operations",
            show_default=True,
            help="Why you are reading the trail (your read is recorded too).",
        ),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _window(
    since: str | None, until: str | None, purpose: str | None, break_glass: bool, denied: bool
) -> AuditFilter:
    from projections.audit import AuditFilter

    return AuditFilter(
        since=parse_time(since, what="time") if since else None,
        until=parse_time(until, what="time") if until else None,
        purpose=purpose,
        break_glass=True if break_glass else None,
        denied=True if denied else None,
    )


def _show(title: str, rows: Shown[AuditRow], as_json: bool, as_csv: bool) -> None:
    from ledger.errors import UsageError

    if as_json and as_csv:
        raise UsageError("Give --json or --csv, not both.")
    note = rows.withheld_line()
    if as_json or as_csv:
        if as_json:
            from cli.output import emit_json

            emit_json([row.as_dict() for row in rows])
        else:
            from projections.audit import write_csv

            write_csv(sys.stdout, rows)
        if note:
            click.echo(note, err=True)  # stdout stays one JSON document or one CSV table
        return
    from cli.output import table

    table(
        f"{title}: {len(rows)} line{'' if len(rows) == 1 else 's'}",
        [
            "time (UTC)",
            "MRN",
            "user",
            "action",
            "data",
            "purpose",
            "outcome",
            "break-glass",
            "event",
        ],
        [
            [
                row.recorded_at.strftime("%Y-%m-%d %H:%M:%S"),
                row.mrn,
                row.actor,
                row.action,
                ", ".join(row.categories),
                row.purpose or "",
                row.outcome,
                row.break_glass_reason or "",
                row.event,
            ]
            for row in rows
        ],
    )
    if note:
        click.echo(note)


@audit.command("patient")
@click.argument("mrn")
@click.option("--from", "since", help="From this date and time (inclusive).")
@click.option("--to", "until", help="Up to this date and time (exclusive).")
@click.option("--as-of", "as_of", help="The trail as it stood then (recorded at or before it).")
@_filters
@pass_session
def patient(
    session: Session,
    mrn: str,
    since: str | None,
    until: str | None,
    as_of: str | None,
    purpose: str | None,
    break_glass: bool,
    denied: bool,
    as_json: bool,
    as_csv: bool,
    purpose_of_use: str,
) -> None:
    """Every access, change and disclosure of one patient's record, any period."""
    from projections.audit import audit_patient

    reader = session.identity()
    window = _window(since, until, purpose, break_glass, denied)
    if as_of:
        window = replace(window, as_of=parse_time(as_of, what="time"))
    with session.reports() as ledger:
        mrns, rows = audit_patient(
            ledger, mrn, reader=reader, purpose_of_use=purpose_of_use, window=window
        )
    merged = f" (with merged records {', '.join(mrns[1:])})" if len(mrns) > 1 else ""
    _show(f"Audit trail of {mrns[0]}{merged}", rows, as_json, as_csv)


@audit.command("user")
@click.argument("name")
@click.option("--from", "since", help="From this date and time (inclusive).")
@click.option("--to", "until", help="Up to this date and time (exclusive).")
@_filters
@pass_session
def user(
    session: Session,
    name: str,
    since: str | None,
    until: str | None,
    purpose: str | None,
    break_glass: bool,
    denied: bool,
    as_json: bool,
    as_csv: bool,
    purpose_of_use: str,
) -> None:
    """Everything one user did to patients' records."""
    from projections.audit import audit_user

    reader = session.identity()
    window = _window(since, until, purpose, break_glass, denied)
    with session.reports() as ledger:
        rows = audit_user(ledger, name, reader=reader, purpose_of_use=purpose_of_use, window=window)
    _show(f"Audit trail of user {name}", rows, as_json, as_csv)


@audit.command("between")
@click.argument("start")
@click.argument("end")
@_filters
@pass_session
def between(
    session: Session,
    start: str,
    end: str,
    purpose: str | None,
    break_glass: bool,
    denied: bool,
    as_json: bool,
    as_csv: bool,
    purpose_of_use: str,
) -> None:
    """Everything between START (inclusive) and END (exclusive)."""
    from projections.audit import audit_between

    reader = session.identity()
    window = _window(start, end, purpose, break_glass, denied)
    with session.reports() as ledger:
        rows = audit_between(ledger, reader=reader, purpose_of_use=purpose_of_use, window=window)
    assert window.since is not None and window.until is not None  # noqa: S101 (both given)
    _show(f"Audit trail {_short(window.since)} to {_short(window.until)}", rows, as_json, as_csv)


def _short(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")
