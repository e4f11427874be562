"""Physician queries, read: the list (`query list`) and one query in full (`query show`).

Both name patients (MRNs) and the query's clinical wording, so each records the access first
through the gate: the list decided row by row (`record_shown`, section "queries"), one query as
a whole (`record_access`). A physician reads only the queries sent to them; coders, the HIM
director and compliance read every one (`policies.queries.may_read`). They return frozen
dataclasses; `as_dict()` is what `--json` prints.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID

from ledger.aggregates.access import Shown
from ledger.aggregates.query import Link, PhysicianQuery
from ledger.application import Ledger
from ledger.commands import access
from ledger.errors import require
from ledger.integrity.keys import Identity
from ledger.reads import physician_queries as stored
from ledger.reads.physician_queries import all_queries, physician_query
from policies import queries as rules

SECTION = "queries"


def _utc(moment: datetime | None) -> str | None:
    return moment.astimezone(UTC).isoformat() if moment is not None else None


@dataclass(frozen=True)
class QueryRow:
    """One query as `query list` shows it."""

    id: UUID
    mrn: str
    encounter_id: UUID
    physician: str
    status: str
    raised_at: datetime
    raised_by: str
    sent_at: datetime | None
    due_at: datetime | None
    overdue: bool
    question: str

    @classmethod
    def of(cls, query: PhysicianQuery, *, now: datetime) -> QueryRow:
        return cls(
            id=query.id,
            mrn=query.mrn,
            encounter_id=query.encounter_id,
            physician=query.physician,
            status=query.status,
            raised_at=query.raised_at,
            raised_by=query.raised_by,
            sent_at=query.sent_at,
            due_at=query.due_at,
            overdue=query.is_overdue(now),
            question=query.question,
        )

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": str(self.id),
            "mrn": self.mrn,
            "encounter": str(self.encounter_id),
            "physician": self.physician,
            "status": self.status,
            "raised_at": _utc(self.raised_at),
            "raised_by": self.raised_by,
            "sent_at": _utc(self.sent_at),
            "due_at": _utc(self.due_at),
            "overdue": self.overdue,
            "question": self.question,
        }


@dataclass(frozen=True)
class QueryDetail:
    """One query in full: what was asked, of whom, on which indicators, and what came of it."""

    row: QueryRow
    kind: str
    basis: str | None
    indicators: tuple[str, ...]
    """`ENCOUNTER:ENTRY` references, as `chart add` prints them."""
    options: tuple[str, ...]
    policy: str
    sent_by: str | None
    choice: int | None
    answer: str | None
    answered_at: datetime | None
    escalated_at: datetime | None
    escalated_by: str | None
    withdrawn_at: datetime | None
    withdrawn_by: str | None
    withdrawal_reason: str | None
    links: tuple[Link, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.row.as_dict(),
            "kind": self.kind,
            "basis": self.basis,
            "indicators": list(self.indicators),
            "options": list(self.options),
            "policy": self.policy,
            "sent_by": self.sent_by,
            "choice": self.choice,
            "answer": self.answer,
            "answered_at": _utc(self.answered_at),
            "escalated_at": _utc(self.escalated_at),
            "escalated_by": self.escalated_by,
            "withdrawn_at": _utc(self.withdrawn_at),
            "withdrawn_by": self.withdrawn_by,
            "withdrawal_reason": self.withdrawal_reason,
            "led_to": [
                {
                    "abstract": str(link.abstract_id),
                    "event": link.change,
                    "code": link.code,
                    "linked_by": link.linked_by,
                    "linked_at": _utc(link.linked_at),
                }
                for link in self.links
            ],
        }


def open_queries(
    ledger: Ledger,
    *,
    purpose: str,
    actor: Identity,
    physician: str | None = None,
    encounter_id: UUID | None = None,
    open_only: bool = True,
) -> Shown[QueryRow]:
    """Queries in the order raised (open ones only unless `open_only` is false), of one
    physician or encounter or all; the MRNs they name are recorded as shown first."""
    acting = ledger.authenticate(actor)
    require(rules.may_read(acting.roles, actor=actor.name, physician=physician))
    mine = None if rules.sees_every_query(acting.roles) else actor.name
    now = ledger.now()
    kept = [
        q
        for q in (stored.open_queries(ledger) if open_only else all_queries(ledger))
        if (physician is None or q.physician == physician.strip())
        and (mine is None or q.physician == mine)
        and (encounter_id is None or q.encounter_id == encounter_id)
        and (q.is_open or not open_only)
    ]
    listed = access.record_shown(
        ledger, {q.mrn for q in kept}, actor=actor, section=SECTION, purpose=purpose
    )
    allowed = [QueryRow.of(q, now=now) for q in kept if listed.allows(q.mrn)]
    return Shown(allowed, withheld=len(kept) - len(allowed))


def query_detail(ledger: Ledger, query_id: UUID, *, purpose: str, actor: Identity) -> QueryDetail:
    """One query in full, its patient's access recorded first (refused: recorded, then raised)."""
    acting = ledger.authenticate(actor)
    now = ledger.now()
    query = physician_query(ledger, query_id)
    require(rules.may_read(acting.roles, actor=actor.name, physician=query.physician))
    access.record_access(
        ledger, [query.mrn], actor=actor, action="query", sections=[SECTION], purpose=purpose
    )
    return QueryDetail(
        row=QueryRow.of(query, now=now),
        kind=query.kind,
        basis=query.basis,
        indicators=tuple(f"{query.encounter_id}:{e}" for e in query.indicators),
        options=tuple(query.options),
        policy=query.policy,
        sent_by=query.sent_by,
        choice=query.choice,
        answer=query.answer,
        answered_at=query.answered_at,
        escalated_at=query.escalated_at,
        escalated_by=query.escalated_by,
        withdrawn_at=query.withdrawn_at,
        withdrawn_by=query.withdrawn_by,
        withdrawal_reason=query.withdrawal_reason,
        links=tuple(query.links),
    )
