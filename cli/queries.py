"""`chartledger query …`: physician queries: raise, send, answer, escalate, withdraw, list, show."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from cli.main import Session, pass_session
from cli.output import json_option
from cli.parsing import parse_uuid
from policies.purposes import PURPOSES
from policies.queries import KINDS, YES_NO_BASES

if TYPE_CHECKING:
    from datetime import datetime

purpose_option = click.option(
    "--purpose",
    envvar="CHARTLEDGER_PURPOSE",
    type=click.Choice(PURPOSES),
    required=True,
    help="Why you are looking (recorded with the access). Env: CHARTLEDGER_PURPOSE.",
)


def _date(moment: datetime | None) -> str:
    return moment.date().isoformat() if moment else "-"


@click.group("query")
def query() -> None:
    """Physician queries: a compliant question to the physician, answered and signed by them."""


@query.command("raise")
@click.argument("encounter")
@click.option("--physician", required=True, help="The physician asked (a user name).")
@click.option(
    "--indicator",
    "indicators",
    multiple=True,
    required=True,
    metavar="ENTRY",
    help="A chart entry of the encounter the query rests on (repeat).",
)
@click.option("--question", required=True, help="The question, not leading to an answer.")
@click.option(
    "--option",
    "options",
    multiple=True,
    required=True,
    help='An answer offered (repeat; include "other" and "clinically undetermined").',
)
@click.option("--kind", type=click.Choice(KINDS), default="multiple-choice", show_default=True)
@click.option(
    "--basis", type=click.Choice(YES_NO_BASES), help="What a yes-no query is about (required)."
)
@pass_session
def raise_(
    session: Session,
    encounter: str,
    physician: str,
    indicators: tuple[str, ...],
    question: str,
    options: tuple[str, ...],
    kind: str,
    basis: str | None,
) -> None:
    """Raise a query on ENCOUNTER to a physician (it is sent with 'query send')."""
    from ledger.commands.queries import raise_query

    actor = session.identity()
    encounter_id = parse_uuid(encounter, "an encounter")
    with session.ledger() as ledger:
        found = raise_query(
            ledger,
            encounter_id,
            physician=physician,
            indicators=list(indicators),
            question=question,
            options=list(options),
            kind=kind,
            basis=basis,
            actor=actor,
        )
    click.echo(f"Raised query {found} on encounter {encounter_id} for {physician.strip()}.")


@query.command("send")
@click.argument("query_id")
@pass_session
def send(session: Session, query_id: str) -> None:
    """Send a raised query to its physician."""
    from ledger.commands.queries import send_query

    actor = session.identity()
    found = parse_uuid(query_id, "a query")
    with session.ledger() as ledger:
        sent = send_query(ledger, found, actor=actor)
    click.echo(f"Sent query {found} to {sent.physician}; overdue from {_date(sent.due_at)}.")


@query.command("answer")
@click.argument("query_id")
@click.option("--choice", type=int, help="The number of the option chosen (from 1).")
@click.option("--other", "other_text", help='Answer "other", in your own words.')
@pass_session
def answer(session: Session, query_id: str, choice: int | None, other_text: str | None) -> None:
    """Answer a query sent to you (your key signs the answer)."""
    from ledger.commands.queries import answer_query

    actor = session.identity()
    found = parse_uuid(query_id, "a query")
    with session.ledger() as ledger:
        answer_query(ledger, found, choice=choice, other_text=other_text, actor=actor)
    click.echo(f"Answered query {found}, signed by {actor.name}.")


@query.command("escalate")
@click.argument("query_id", required=False)
@click.option("--overdue", is_flag=True, help="Escalate every overdue query not escalated yet.")
@pass_session
def escalate(session: Session, query_id: str | None, overdue: bool) -> None:
    """Escalate an overdue query, or every one (--overdue) (HIM director)."""
    from ledger.commands.queries import escalate_overdue, escalate_query
    from ledger.errors import UsageError

    if (query_id is None) == (not overdue):
        raise UsageError("Give one query id, or --overdue for every overdue query.")
    actor = session.identity()
    with session.ledger() as ledger:
        if query_id is not None:
            found = parse_uuid(query_id, "a query")
            escalate_query(ledger, found, actor=actor)
            click.echo(f"Escalated query {found}.")
            return
        done = escalate_overdue(ledger, actor=actor)
    if not done:
        click.echo("No query is overdue; nothing was escalated.")
        return
    click.echo(f"Escalated {len(done)} overdue {'query' if len(done) == 1 else 'queries'}:")
    for item in done:
        click.echo(f"  {item.id} ({item.physician}, overdue since {_date(item.due_at)})")


@query.command("withdraw")
@click.argument("query_id")
@click.option("--reason", required=True, help="Why the query is no longer asked.")
@pass_session
def withdraw(session: Session, query_id: str, reason: str) -> None:
    """Withdraw a query not yet answered (who raised it, or the HIM director)."""
    from ledger.commands.queries import withdraw_query

    actor = session.identity()
    found = parse_uuid(query_id, "a query")
    with session.ledger() as ledger:
        withdraw_query(ledger, found, reason=reason, actor=actor)
    click.echo(f"Withdrew query {found}.")


@query.command("list")
@click.option("--physician", help="Only the queries sent to this physician.")
@click.option("--encounter", help="Only this encounter's queries.")
@click.option("--open", "open_only", is_flag=True, help="Only those not answered or withdrawn.")
@purpose_option
@json_option
@pass_session
def list_queries(
    session: Session,
    physician: str | None,
    encounter: str | None,
    open_only: bool,
    purpose: str,
    as_json: bool,
) -> None:
    """Physician queries in the order raised (reading them is recorded as an access first)."""
    from cli.output import emit_json, note_withheld, table
    from projections.physician_queries import open_queries

    actor = session.identity()
    encounter_id = parse_uuid(encounter, "an encounter") if encounter else None
    with session.ledger() as ledger:
        found = open_queries(
            ledger,
            purpose=purpose,
            actor=actor,
            physician=physician,
            encounter_id=encounter_id,
            open_only=open_only,
        )
    note_withheld(found, "query")
    if as_json:
        emit_json([row.as_dict() for row in found])
        return
    table(
        f"Physician queries: {len(found)}",
        ["raised", "id", "MRN", "physician", "status", "sent", "due", "question"],
        [
            [
                _date(row.raised_at),
                row.id,
                row.mrn,
                row.physician,
                f"{row.status} (overdue)" if row.overdue else row.status,
                _date(row.sent_at),
                _date(row.due_at),
                row.question,
            ]
            for row in found
        ],
    )


@query.command("show")
@click.argument("query_id")
@purpose_option
@json_option
@pass_session
def show(session: Session, query_id: str, purpose: str, as_json: bool) -> None:
    """One query in full: indicators, question, options, answer and the codes it led to."""
    from cli.output import emit_json, say
    from projections.physician_queries import query_detail

    actor = session.identity()
    found = parse_uuid(query_id, "a query")
    with session.ledger() as ledger:
        detail = query_detail(ledger, found, purpose=purpose, actor=actor)
    if as_json:
        emit_json(detail.as_dict())
        return
    row = detail.row
    status = f"{row.status} (overdue)" if row.overdue else row.status
    say(f"Query {row.id} on {row.mrn}, encounter {row.encounter_id}: {status}")
    say(f"  To {row.physician}, raised by {row.raised_by} on {_date(row.raised_at)}")
    kind = f"{detail.kind} ({detail.basis})" if detail.basis else detail.kind
    say(f"  Kind: {kind}; sent {_date(row.sent_at)}, overdue from {_date(row.due_at)}")
    say("  Clinical indicators:")
    for reference in detail.indicators:
        say(f"    {reference}")
    say(f"  Question: {row.question}")
    for number, option in enumerate(detail.options, 1):
        mark = " <- answer" if detail.choice == number else ""
        say(f"    {number}. {option}{mark}")
    if detail.answer is not None:
        say(f"  Answer ({row.physician}, {_date(detail.answered_at)}): {detail.answer}")
    if detail.escalated_at is not None:
        say(f"  Escalated by {detail.escalated_by} on {_date(detail.escalated_at)}")
    if detail.withdrawn_at is not None:
        say(
            f"  Withdrawn by {detail.withdrawn_by} on {_date(detail.withdrawn_at)}: "
            f"{detail.withdrawal_reason}"
        )
    for link in detail.links:
        say(f"  Led to {link.code} (coding event {link.change}, by {link.linked_by})")
