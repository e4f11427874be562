"""Physician queries: a coder asks the physician to clarify the record, and the answer is signed.

One `PhysicianQuery` per query (a random id). It is raised on an encounter (naming the
physician, the clinical indicators as chart entry ids, the question and the options, checked
compliant by `policies.queries`), sent, and then answered by that physician alone (the answer's
event is signed with their key), or escalated when overdue (still awaiting the answer), or
withdrawn. An answer may lead to code changes: `led_to` links it to each, by the coding
abstract's id and the `UUID/VERSION` of the event that made the change, saved in the same
transaction as that change (`ledger.commands.queries.link_change`).

The question, the options, the answer, a withdrawal's reason and a linked code are patient data,
so those events are sealed with the patient's data key; sending and escalating name only the
physician and times. Every event carries the patient's id, so each reaches the patient's audit
trail. The commands are `ledger.commands.queries`; the rules are `policies.queries`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger.errors import UsageError
from policies import queries as rules


@dataclass(frozen=True)
class Link:
    """A code change the answer led to."""

    abstract_id: UUID
    change: str
    """The `UUID/VERSION` of the coding event that made the change."""
    code: str
    linked_by: str
    linked_at: datetime


class PhysicianQuery(Aggregate):
    """One query to a physician about one encounter, from raising to its answer."""

    TOPIC = "chartledger/physician-query"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/physician-query/created"

    class Raised(Aggregate.Created):
        TOPIC = "chartledger/physician-query/raised"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        mrn: str
        encounter_id: UUID
        physician: str
        kind: str
        basis: str | None
        indicators: list[str]
        """The entry ids (of this encounter) the query rests on."""
        question: str
        options: list[str]
        policy: str
        actor: str

    class Sent(Aggregate.Event):
        TOPIC = "chartledger/physician-query/sent"
        patient_id: UUID
        physician: str
        due_at: datetime
        """When it becomes overdue unanswered."""
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "sent"
            aggregate.sent_at = self.timestamp
            aggregate.sent_by = self.actor
            aggregate.due_at = self.due_at

    class Answered(Aggregate.Event):
        TOPIC = "chartledger/physician-query/answered"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        choice: int | None
        """The option chosen, counting from 1; None: answered in the physician's own words."""
        answer: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "answered"
            aggregate.choice = self.choice
            aggregate.answer = self.answer
            aggregate.answered_at = self.timestamp

    class Escalated(Aggregate.Event):
        TOPIC = "chartledger/physician-query/escalated"
        patient_id: UUID
        physician: str
        overdue_since: datetime
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "escalated"
            aggregate.escalated_at = self.timestamp
            aggregate.escalated_by = self.actor

    class Withdrawn(Aggregate.Event):
        TOPIC = "chartledger/physician-query/withdrawn"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "withdrawn"
            aggregate.withdrawn_at = self.timestamp
            aggregate.withdrawn_by = self.actor
            aggregate.withdrawal_reason = self.reason

    class LinkedToChange(Aggregate.Event):
        TOPIC = "chartledger/physician-query/linked-to-change"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        abstract_id: UUID
        change: str
        code: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.links.append(
                Link(self.abstract_id, self.change, self.code, self.actor, self.timestamp)
            )

    def __init__(
        self,
        patient_id: UUID,
        mrn: str,
        encounter_id: UUID,
        physician: str,
        kind: str,
        basis: str | None,
        indicators: list[str],
        question: str,
        options: list[str],
        policy: str,
        actor: str,
    ) -> None:
        self.patient_id = patient_id
        self.mrn = mrn
        self.encounter_id = encounter_id
        self.physician = physician
        self.kind = kind
        self.basis = basis
        self.indicators = list(indicators)
        self.question = question
        self.options = list(options)
        self.policy = policy
        self.raised_by = actor
        self.status = "raised"
        self.sent_at: datetime | None = None
        self.sent_by: str | None = None
        self.due_at: datetime | None = None
        self.choice: int | None = None
        self.answer: str | None = None
        self.answered_at: datetime | None = None
        self.escalated_at: datetime | None = None
        self.escalated_by: str | None = None
        self.withdrawn_at: datetime | None = None
        self.withdrawn_by: str | None = None
        self.withdrawal_reason: str | None = None
        self.links: list[Link] = []

    # -- what it is now ---------------------------------------------------------------------------

    @property
    def raised_at(self) -> datetime:
        return self.created_on

    @property
    def is_open(self) -> bool:
        """Not answered or withdrawn: it holds the stay on the coding worklist."""
        return self.status in rules.OPEN_STATUSES

    @property
    def awaiting_answer(self) -> bool:
        """Sent and not answered or withdrawn: one of the physician's deficiencies."""
        return self.status in rules.AWAITING_STATUSES

    def is_overdue(self, now: datetime) -> bool:
        return self.awaiting_answer and self.due_at is not None and self.due_at <= now

    # -- its changes, each one event --------------------------------------------------------------

    @classmethod
    def raise_on(
        cls,
        *,
        patient_id: UUID,
        mrn: str,
        encounter_id: UUID,
        physician: str,
        kind: str,
        basis: str | None,
        indicators: list[str],
        question: str,
        options: list[str],
        actor: str,
    ) -> PhysicianQuery:
        """A compliant query (`policies.queries.query_problem`), or one sentence saying why not."""
        question = question.strip()
        options = [" ".join(o.split()) for o in options]
        indicators = list(dict.fromkeys(indicators))
        problem = rules.query_problem(
            kind=kind, basis=basis, question=question, options=options, indicators=len(indicators)
        )
        if problem is not None:
            raise UsageError(problem)
        if not physician.strip():
            raise UsageError("Name the physician the query is for.")
        return cls._create(
            cls.Raised,
            id=uuid4(),
            patient_id=patient_id,
            mrn=mrn,
            encounter_id=encounter_id,
            physician=physician.strip(),
            kind=kind,
            basis=basis,
            indicators=indicators,
            question=question,
            options=options,
            policy=rules.POLICY_VERSION,
            actor=actor,
        )

    def _closed(self) -> str | None:
        if self.status == "answered":
            return f"Query {self.id} was already answered by {self.physician}."
        if self.status == "withdrawn":
            return f"Query {self.id} was withdrawn by {self.withdrawn_by}."
        return None

    def send(self, *, now: datetime, overdue_days: int, actor: str) -> None:
        """To the physician, once; it is overdue `overdue_days` after `now`."""
        closed = self._closed()
        if closed:
            raise UsageError(closed)
        if self.status != "raised":
            raise UsageError(f"Query {self.id} was already sent to {self.physician}.")
        self.trigger_event(
            self.Sent,
            patient_id=self.patient_id,
            physician=self.physician,
            due_at=now + timedelta(days=overdue_days),
            actor=actor,
        )

    def answer_with(self, *, choice: int | None, other_text: str | None, actor: str) -> None:
        """The physician's answer: an option by its number, or "other" in their own words."""
        closed = self._closed()
        if closed:
            raise UsageError(closed)
        if self.status == "raised":
            raise UsageError(f"Query {self.id} has not been sent yet; it cannot be answered.")
        if actor != self.physician:
            raise UsageError(f"Query {self.id} is answered by {self.physician} only.")
        problem = rules.answer_problem(self.options, choice=choice, other_text=other_text)
        if problem is not None:
            raise UsageError(problem)
        if choice is None:  # answer_problem allows only one of the two
            chosen, answer = None, (other_text or "").strip()
        else:
            chosen, answer = choice, self.options[choice - 1]
        self.trigger_event(
            self.Answered, patient_id=self.patient_id, choice=chosen, answer=answer, actor=actor
        )

    def escalate(self, *, now: datetime, actor: str) -> None:
        """Overdue and unanswered: raised with the HIM director's authority, once."""
        closed = self._closed()
        if closed:
            raise UsageError(closed)
        if self.status == "raised":
            raise UsageError(f"Query {self.id} has not been sent yet; send it first.")
        if self.status == "escalated":
            when = self.escalated_at.date().isoformat() if self.escalated_at else "before"
            raise UsageError(f"Query {self.id} was already escalated on {when}.")
        if self.due_at is None or not self.is_overdue(now):
            due = self.due_at.date().isoformat() if self.due_at else "later"
            raise UsageError(f"Query {self.id} is not overdue until {due}.")
        self.trigger_event(
            self.Escalated,
            patient_id=self.patient_id,
            physician=self.physician,
            overdue_since=self.due_at,
            actor=actor,
        )

    def withdraw(self, *, reason: str, actor: str) -> None:
        """No longer asked (the record was clarified otherwise, or the query was wrong)."""
        closed = self._closed()
        if closed:
            raise UsageError(closed)
        if not reason.strip():
            raise UsageError("Give the reason the query is withdrawn.")
        self.trigger_event(
            self.Withdrawn, patient_id=self.patient_id, reason=reason.strip(), actor=actor
        )

    def led_to(self, *, abstract_id: UUID, change: str, code: str, actor: str) -> None:
        """The answer led to this code change (the coding event `change`, `UUID/VERSION`, of the
        abstract `abstract_id`); saved with that change."""
        if self.status != "answered":
            raise UsageError(
                f"Query {self.id} has not been answered; a code change cannot come from it yet."
            )
        if not code.strip():
            raise UsageError("Name the code the answer led to.")
        oid, _, version = change.partition("/")
        try:
            if UUID(oid) != abstract_id or int(version) < 1:
                raise ValueError(change)
        except ValueError:
            raise UsageError(
                f"'{change}' is not an event of coding abstract {abstract_id} (UUID/VERSION)."
            ) from None
        if any(link.change == change for link in self.links):
            raise UsageError(f"Query {self.id} is already linked to {change}.")
        self.trigger_event(
            self.LinkedToChange,
            patient_id=self.patient_id,
            abstract_id=abstract_id,
            change=change,
            code=code.strip().upper(),
            actor=actor,
        )
