"""Physician queries, the commands: raise one on an encounter, send it, answer it (the physician
queried, signing), escalate the overdue ones, withdraw one, and link an answer to the code
change it led to.

Each authenticates the actor, asks `policies.queries` whether they may, reads `ledger.now()`
once, calls `PhysicianQuery` (which keeps a query's course: raised → sent → answered, escalated
when overdue, or withdrawn) and saves once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.domain import Aggregate

from ledger.aggregates.access_policy import current_completion_rules
from ledger.aggregates.query import PhysicianQuery
from ledger.errors import NotFound, UsageError, require
from ledger.reads.physician_queries import open_queries, physician_query
from policies import queries as rules

if TYPE_CHECKING:
    from ledger.aggregates.encounter import Encounter
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def _physician(ledger: Ledger, name: str) -> str:
    """A physician a query may go to: a user with the physician role, enrolled, not revoked."""
    try:
        user = ledger.user(name.strip())
    except NotFound:
        raise UsageError(f"There is no user named '{name.strip()}' to query.") from None
    if "physician" not in user.roles:
        raise UsageError(f"{user.name} is not a physician; a query goes to a physician.")
    if user.revoked:
        raise UsageError(f"The key of {user.name} is revoked; they cannot answer a query.")
    if not user.enrolled:
        raise UsageError(f"{user.name} has not enrolled yet; they cannot answer a query.")
    return user.name


def _indicators(encounter: Encounter, given: list[str]) -> list[str]:
    """Each indicator as the id of an entry of this encounter that stands (not retracted):
    ENTRY, or ENCOUNTER:ENTRY as `chart add` prints it."""
    found: list[str] = []
    for reference in given:
        text = reference.strip()
        head, _, tail = text.rpartition(":")
        try:
            if head and UUID(head) != encounter.id:
                raise UsageError(
                    f"Indicator {text} is an entry of another encounter; name entries of "
                    f"encounter {encounter.id}."
                )
            entry_id = UUID(tail)
        except ValueError:
            raise UsageError(
                f"'{text}' is not a chart entry: give ENTRY or ENCOUNTER:ENTRY as 'chart add' "
                "printed it."
            ) from None
        entry = encounter.entries.get(entry_id)
        if entry is None:
            raise UsageError(f"There is no entry {entry_id} in encounter {encounter.id}.")
        if entry.retracted:
            raise UsageError(
                f"Entry {entry_id} was retracted (entered in error); it is no clinical indicator."
            )
        found.append(str(entry_id))
    return found


def raise_query(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    physician: str,
    indicators: list[str],
    question: str,
    options: list[str],
    kind: str = "multiple-choice",
    basis: str | None = None,
    actor: Identity,
) -> UUID:
    """Write a compliant query to a physician about an encounter; returns its id (not sent)."""
    require(rules.may_raise(ledger.authenticate(actor).roles))
    encounter = ledger.encounter(encounter_id)
    named = _indicators(encounter, indicators)
    doctor = _physician(ledger, physician)
    authors = {encounter.entries[UUID(e)].author for e in named}
    if doctor not in encounter.care_team | authors:
        raise UsageError(
            f"{doctor} is not the attending, on the care team or an author of the indicators of "
            f"encounter {encounter.id}: query the physician who documented the care."
        )
    query = PhysicianQuery.raise_on(
        patient_id=encounter.patient_id,
        mrn=encounter.mrn,
        encounter_id=encounter.id,
        physician=doctor,
        kind=kind,
        basis=basis,
        indicators=named,
        question=question,
        options=options,
        actor=actor.name,
    )
    ledger.save(query, signer=actor)
    return query.id


def send_query(ledger: Ledger, query_id: UUID, *, actor: Identity) -> PhysicianQuery:
    """Send a raised query to its physician; it is overdue `[completion] query_overdue_days`
    later. Returns the query as sent."""
    require(rules.may_raise(ledger.authenticate(actor).roles))
    now = ledger.now()
    query = physician_query(ledger, query_id)
    if query.status == "raised":
        _physician(ledger, query.physician)  # still a physician who can answer
    query.send(
        now=now, overdue_days=current_completion_rules(ledger).query_overdue_days, actor=actor.name
    )
    ledger.save(query, signer=actor)
    return query


def answer_query(
    ledger: Ledger,
    query_id: UUID,
    *,
    choice: int | None = None,
    other_text: str | None = None,
    actor: Identity,
) -> PhysicianQuery:
    """The queried physician's answer, signed with their key: option `choice` (from 1), or
    "other" in their own words. Returns the query as answered."""
    acting = ledger.authenticate(actor)
    query = physician_query(ledger, query_id)
    require(rules.may_answer(acting.roles, actor=actor.name, physician=query.physician))
    query.answer_with(choice=choice, other_text=other_text, actor=actor.name)
    ledger.save(query, signer=actor)
    return query


def escalate_query(ledger: Ledger, query_id: UUID, *, actor: Identity) -> PhysicianQuery:
    """Escalate one overdue query (HIM director)."""
    require(rules.may_escalate(ledger.authenticate(actor).roles))
    now = ledger.now()
    query = physician_query(ledger, query_id)
    query.escalate(now=now, actor=actor.name)
    ledger.save(query, signer=actor)
    return query


def escalate_overdue(ledger: Ledger, *, actor: Identity) -> list[PhysicianQuery]:
    """Escalate every query overdue now and not escalated yet, in one transaction; returns them
    (none: nothing is written)."""
    require(rules.may_escalate(ledger.authenticate(actor).roles))
    now = ledger.now()
    overdue = [q for q in open_queries(ledger) if q.status == "sent" and q.is_overdue(now)]
    for query in overdue:
        query.escalate(now=now, actor=actor.name)
    if overdue:
        ledger.save(*overdue, signer=actor)
    return overdue


def withdraw_query(
    ledger: Ledger, query_id: UUID, *, reason: str, actor: Identity
) -> PhysicianQuery:
    """Withdraw a query not yet answered (who raised it, or the HIM director)."""
    acting = ledger.authenticate(actor)
    query = physician_query(ledger, query_id)
    require(rules.may_withdraw(acting.roles, actor=actor.name, raised_by=query.raised_by))
    query.withdraw(reason=reason, actor=actor.name)
    ledger.save(query, signer=actor)
    return query


# -- for the coding commands: an answer leads to a code change ----------------------------------


def query_for_change(ledger: Ledger, query_id: UUID, *, encounter_id: UUID) -> PhysicianQuery:
    """The answered query of `encounter_id` a code change comes from (checked before the change
    is made): the coding command gives its id as the diagnosis event's `query_id`, then calls
    `link_change` and saves the abstract and the query together."""
    query = physician_query(ledger, query_id)
    if query.encounter_id != encounter_id:
        raise UsageError(
            f"Query {query.id} is about encounter {query.encounter_id}, not {encounter_id}."
        )
    if query.status != "answered":
        raise UsageError(
            f"Query {query.id} has not been answered; a code change cannot come from it yet."
        )
    return query


def link_change(query: PhysicianQuery, abstract: Aggregate, *, code: str, actor: str) -> None:
    """Link the query's answer to the change just made on `abstract` (its last pending event,
    whose `UUID/VERSION` is known before saving): save both in the same `ledger.save`."""
    if not abstract.pending_events:
        raise UsageError("There is no code change to link the query's answer to.")
    last = abstract.pending_events[-1]
    query.led_to(
        abstract_id=abstract.id,
        change=f"{last.originator_id}/{last.originator_version}",
        code=code,
        actor=actor,
    )
