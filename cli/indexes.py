"""`chartledger index …`: the disease, operation and physician indexes the records department
keeps, for a discharge period, as tables, `--json` or `--csv` (each lists MRNs: the access is
recorded, row by row, before anything is printed)."""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import click

from cli.main import Session, pass_session
from policies.purposes import PURPOSES


def _options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The period, the stays counted, the purpose and the output every index takes."""
    options = [
        click.option(
            "--from", "since", metavar="DATE", help="Stays discharged on or after DATE (UTC)."
        ),
        click.option("--to", "until", metavar="DATE", help="Stays discharged on or before DATE."),
        click.option(
            "--include-unfinal",
            "include_unfinal",
            is_flag=True,
            help="Also stays whose abstract is not signed final (marked).",
        ),
        click.option(
            "--purpose",
            envvar="CHARTLEDGER_PURPOSE",
            type=click.Choice(PURPOSES),
            required=True,
            help="Why you are looking (recorded with the access). Env: CHARTLEDGER_PURPOSE.",
        ),
        click.option("--json", "as_json", is_flag=True, help="Print as JSON."),
        click.option("--csv", "as_csv", is_flag=True, help="Print as CSV (with a header row)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def _period(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    from cli.parsing import parse_day

    return (
        parse_day(since) if since is not None else None,
        parse_day(until) if until is not None else None,
    )


def _one_form(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:
        from ledger.errors import UsageError

        raise UsageError("Give --json or --csv, not both.")


def _final(final: bool) -> str:
    return "final" if final else "not final"


def _print(
    rows: Any,
    *,
    as_json: bool,
    as_csv: bool,
    columns: Sequence[str],
    what: str,
    table: Callable[[], None],
) -> None:
    """JSON, CSV or the table, then how many rows were withheld (on stderr: stdout stays one
    JSON document or one CSV table)."""
    from cli.output import emit_json, note_withheld

    if as_json:
        emit_json([row.as_dict() for row in rows])
    elif as_csv:
        from projections.coding import write_index_csv

        write_index_csv(sys.stdout, columns, rows)
    else:
        table()
    note_withheld(rows, what)


def _heading(name: str, count: int, noun: str, since: date | None, until: date | None) -> str:
    period = f"discharged {since.isoformat() if since else 'any time'} to "
    period += until.isoformat() if until else "now"
    return f"{name} ({period}): {count} {noun}{'' if count == 1 else 's'}"


@click.group("index")
def index() -> None:
    """The disease, operation and physician indexes, for a discharge period."""


@index.command("disease")
@click.option("--code", help="An ICD-10-CM code or category: E11 lists every E11.* code.")
@_options
@pass_session
def disease(
    session: Session,
    code: str | None,
    since: str | None,
    until: str | None,
    include_unfinal: bool,
    purpose: str,
    as_json: bool,
    as_csv: bool,
) -> None:
    """The disease index: each ICD-10-CM code with its patients and stays (principal or
    secondary), for stays discharged in the period; final-coded stays unless --include-unfinal."""
    from cli.output import table
    from projections.coding import DiseaseIndexRow, disease_index

    _one_form(as_json, as_csv)
    start, end = _period(since, until)
    actor = session.identity()
    with session.ledger() as ledger:
        rows = disease_index(
            ledger, purpose=purpose, actor=actor, code=code, since=start, until=end,
            include_unfinal=include_unfinal,
        )  # fmt: skip

    def show() -> None:
        table(
            _heading("Disease index", len(rows), "line", start, end),
            ["code", "description", "MRN", "encounter", "discharged", "place", "POA", "attending",
             "coding"],
            [
                [
                    r.code, r.description or "", r.mrn, str(r.encounter_id),
                    r.discharged_on.isoformat(), r.place, r.poa, r.attending, _final(r.final),
                ]
                for r in rows
            ],
        )  # fmt: skip

    _print(
        rows,
        as_json=as_json,
        as_csv=as_csv,
        columns=DiseaseIndexRow.CSV_COLUMNS,
        what="line",
        table=show,
    )


@index.command("operation")
@click.option("--code", help="An ICD-10-PCS code or its start: 0DT lists every 0DT… code.")
@click.option(
    "--root-operation",
    "root_operation",
    help="A root operation: the code's 3rd character (T) or its name (resection).",
)
@click.option("--surgeon", help="Only this operating physician's procedures (a user name).")
@_options
@pass_session
def operation(
    session: Session,
    code: str | None,
    root_operation: str | None,
    surgeon: str | None,
    since: str | None,
    until: str | None,
    include_unfinal: bool,
    purpose: str,
    as_json: bool,
    as_csv: bool,
) -> None:
    """The operation index: each ICD-10-PCS procedure with its surgeon, date, patient and stay,
    for stays discharged in the period; final-coded stays unless --include-unfinal."""
    from cli.output import table
    from projections.coding import OperationIndexRow, operation_index

    _one_form(as_json, as_csv)
    start, end = _period(since, until)
    actor = session.identity()
    with session.ledger() as ledger:
        rows = operation_index(
            ledger, purpose=purpose, actor=actor, code=code, root=root_operation,
            surgeon=surgeon, since=start, until=end, include_unfinal=include_unfinal,
        )  # fmt: skip

    def show() -> None:
        table(
            _heading("Operation index", len(rows), "procedure", start, end),
            ["code", "root operation", "title", "performed", "surgeon", "MRN", "encounter",
             "coding"],
            [
                [
                    r.code, r.root_operation_name or r.root_operation, r.title or "",
                    r.performed_on.isoformat(), r.surgeon, r.mrn, str(r.encounter_id),
                    _final(r.final),
                ]
                for r in rows
            ],
        )  # fmt: skip

    _print(
        rows,
        as_json=as_json,
        as_csv=as_csv,
        columns=OperationIndexRow.CSV_COLUMNS,
        what="procedure",
        table=show,
    )


def _figure(value: Any) -> str:
    return "-" if value is None else str(value)


@index.command("physician")
@click.option("--physician", help="Only this attending (a user name).")
@_options
@pass_session
def physician(
    session: Session,
    physician: str | None,
    since: str | None,
    until: str | None,
    include_unfinal: bool,
    purpose: str,
    as_json: bool,
    as_csv: bool,
) -> None:
    """The physician index: by attending, their stays discharged in the period, the
    discharges, average length of stay and DRGs; final-coded stays unless --include-unfinal."""
    from cli.output import say, table
    from projections.coding import PhysicianIndexRow, physician_index

    _one_form(as_json, as_csv)
    start, end = _period(since, until)
    actor = session.identity()
    with session.ledger() as ledger:
        rows = physician_index(
            ledger, purpose=purpose, actor=actor, physician=physician, since=start, until=end,
            include_unfinal=include_unfinal,
        )  # fmt: skip

    def show() -> None:
        table(
            _heading("Physician index", len(rows), "physician", start, end),
            ["attending", "discharges", "patients", "patient days", "ALOS", "CMI", "DRGs"],
            [
                [
                    r.physician, str(r.discharges), str(r.patients), str(r.patient_days),
                    _figure(r.average_length_of_stay), _figure(r.case_mix_index),
                    ", ".join(f"{d.drg:03d} ({d.stays})" for d in r.drgs),
                ]
                for r in rows
            ],
        )  # fmt: skip
        for r in rows:
            say("")
            table(
                f"Stays of {r.physician}",
                ["MRN", "encounter", "admitted", "discharged", "days", "DRG", "weight", "coding"],
                [
                    [
                        s.mrn, str(s.encounter_id), s.admitted_on.isoformat(),
                        s.discharged_on.isoformat(), str(s.length_of_stay),
                        "-" if s.drg is None else f"{s.drg:03d}", _figure(s.relative_weight),
                        _final(s.final),
                    ]
                    for s in r.stays
                ],
            )  # fmt: skip

    _print(
        rows,
        as_json=as_json,
        as_csv=as_csv,
        columns=PhysicianIndexRow.CSV_COLUMNS,
        what="stay",
        table=show,
    )
