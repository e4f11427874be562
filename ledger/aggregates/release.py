"""Release of information: a `ReleaseRequest` from request to release, and agency suspensions.

A request moves requested → validated → approved → released, or is denied before release; a
patient's own request may be extended once. Each step is a signed event that records the policy's
verdict (`policies.release`). The events name the requester and what was asked, which can be
the patient's own details, so they are encrypted with the patient's data key like the chart; the
audit trail view reads them through the follower. `Released` records exactly which entries and
documents went out, the SHA-256 of the package, the recipient, the method, the fee, and whether
164.528 requires it in the accounting of disclosures.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from typing import TYPE_CHECKING, Any, cast
from uuid import NAMESPACE_URL, UUID, uuid4, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.errors import NotFound, UsageError, require
from policies import release as rules
from policies.limits import finite_decimal

if TYPE_CHECKING:
    from ledger.application import Ledger

SUSPENSION_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/disclosure-suspension")


class ReleaseRequest(Aggregate):
    """One request for a patient's information, and what became of it."""

    TOPIC = "chartledger/release-request"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/release-request/created"

    class Requested(Aggregate.Created):
        TOPIC = "chartledger/release-request/requested"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        mrn: str
        requester_kind: str
        requester: str
        address: str | None
        asks: str
        sections: list[str]
        date_from: date | None
        date_to: date | None
        purpose: str
        received: date
        actor: str

    class Validated(Aggregate.Event):
        TOPIC = "chartledger/release-request/validated"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        valid: bool
        problems: list[str]
        basis: str
        authorizations: list[dict[str, Any]]
        policy_version: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.valid = self.valid
            aggregate.basis = self.basis
            aggregate.problems = list(self.problems)
            aggregate.status = "validated" if self.valid else "invalid"

    class Extended(Aggregate.Event):
        TOPIC = "chartledger/release-request/extended"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        reason: str
        due: date
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.extended = True
            aggregate.due = self.due

    class Approved(Aggregate.Event):
        TOPIC = "chartledger/release-request/approved"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "approved"

    class Denied(Aggregate.Event):
        TOPIC = "chartledger/release-request/denied"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        reason: str
        exception: str | None
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "denied"
            aggregate.denial = self.reason

    class Released(Aggregate.Event):
        TOPIC = "chartledger/release-request/released"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        mrn: str
        actor: str
        recipient: str
        recipient_address: str | None
        purpose: str
        description: str
        sections: list[str]
        entries: list[str]
        documents: list[str]
        package_sha256: str
        method: str
        fee: str
        accountable: bool
        exclusion: str | None
        basis: str
        requester_kind: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "released"
            aggregate.released_on = self.timestamp.date()
            aggregate.accountable = self.accountable

    def __init__(
        self,
        patient_id: UUID,
        mrn: str,
        requester_kind: str,
        requester: str,
        address: str | None,
        asks: str,
        sections: list[str],
        date_from: date | None,
        date_to: date | None,
        purpose: str,
        received: date,
        actor: str,
    ) -> None:
        self.patient_id = patient_id
        self.mrn = mrn
        self.requester_kind = requester_kind
        self.requester = requester
        self.address = address
        self.asks = asks
        self.sections = list(sections)
        self.date_from = date_from
        self.date_to = date_to
        self.purpose = purpose
        self.received = received
        self.status = "requested"
        self.valid = False
        self.basis = ""
        self.problems: list[str] = []
        self.extended = False
        self.due = rules.due_date(received) if self.patient_access else None
        self.denial: str | None = None
        self.released_on: date | None = None
        self.accountable = False

    @property
    def patient_access(self) -> bool:
        return self.requester_kind in ("patient", "personal-representative")

    @property
    def access_purpose(self) -> str:
        """The purpose of use the access policy sees for a release of this request."""
        if self.patient_access:
            return "patient-request"
        if self.purpose in ("payment", "public-health"):
            return self.purpose
        return "legal"

    # -- the steps, each one event ---------------------------------------------------------------

    @classmethod
    def request(
        cls,
        *,
        patient_id: UUID,
        mrn: str,
        requester_kind: str,
        requester: str,
        address: str | None,
        asks: str,
        sections: list[str],
        date_from: date | None,
        date_to: date | None,
        purpose: str,
        received: date,
        today: date,
        actor: str,
    ) -> ReleaseRequest:
        """A new request, as received (it is not yet checked against the law)."""
        if requester_kind not in rules.REQUESTER_KINDS:
            raise UsageError(
                f"The requester kind must be one of: {', '.join(rules.REQUESTER_KINDS)}."
            )
        if purpose not in rules.PURPOSES:
            raise UsageError(f"The purpose must be one of: {', '.join(rules.PURPOSES)}.")
        if not requester.strip() or not asks.strip() or not sections:
            raise UsageError("Give the requester, what is asked for, and at least one section.")
        if received > today:
            raise UsageError("The request cannot have been received in the future.")
        if date_from is not None and date_to is not None and date_from > date_to:
            raise UsageError("The date range must start before it ends.")
        return cls._create(
            cls.Requested,
            id=uuid4(),
            patient_id=patient_id,
            mrn=mrn,
            requester_kind=requester_kind,
            requester=requester.strip(),
            address=(address or "").strip() or None,
            asks=asks.strip(),
            sections=list(sections),
            date_from=date_from,
            date_to=date_to,
            purpose=purpose,
            received=received,
            actor=actor,
        )

    def _still_open(self) -> None:
        if self.status in ("released", "denied"):
            raise UsageError(f"Request {self.id} is already {self.status}.")

    def validate(
        self,
        verdict: rules.Validation,
        *,
        basis: str,
        authorizations: list[rules.Authorization],
        actor: str,
    ) -> None:
        """Record the policy's verdict on the request's legal basis (valid or not, with why)."""
        self._still_open()
        self.trigger_event(
            self.Validated,
            patient_id=self.patient_id,
            valid=verdict.valid,
            problems=list(verdict.problems),
            basis=basis,
            authorizations=[asdict(a) for a in authorizations],
            policy_version=verdict.policy_version,
            actor=actor,
        )

    def extend(self, *, reason: str, today: date, actor: str) -> date:
        """The one 30-day extension of a patient's request, given before the first deadline."""
        if not self.patient_access:
            raise UsageError("Only a patient's own request has a deadline to extend.")
        if not reason.strip():
            raise UsageError("Give the reason for the extension (the patient is told it).")
        require(rules.may_extend(self.received, today=today, already=self.extended))
        due = rules.due_date(self.received, extended=True)
        self.trigger_event(
            self.Extended, patient_id=self.patient_id, reason=reason.strip(), due=due, actor=actor
        )
        return due

    def approve(self, *, actor: str) -> None:
        if self.status != "validated":
            raise UsageError(
                f"Request {self.id} is {self.status}: only a validated request is approved."
            )
        self.trigger_event(self.Approved, patient_id=self.patient_id, actor=actor)

    def deny(self, *, reason: str, exception: str | None, actor: str) -> None:
        self._still_open()
        problems = rules.check_denial(reason, exception)
        if problems:
            raise UsageError(problems[0][0].upper() + problems[0][1:] + ".")
        self.trigger_event(
            self.Denied,
            patient_id=self.patient_id,
            reason=reason.strip(),
            exception=exception,
            actor=actor,
        )

    def releasable(self, *, method: str, fee: str) -> str:
        """The request may go out now, this way; returns the fee as a decimal text."""
        if self.status != "approved":
            raise UsageError(f"Request {self.id} is {self.status}: only approved ones go out.")
        if method not in rules.METHODS:
            raise UsageError(f"The method must be one of: {', '.join(rules.METHODS)}.")
        amount = finite_decimal(fee, what="the fee")
        if isinstance(amount, str):
            raise UsageError(amount)
        if amount > 1_000_000:
            raise UsageError("The fee is larger than any release of information would cost.")
        if amount < 0:
            raise UsageError("The fee cannot be negative.")
        return f"{amount:.2f}"

    def release(
        self,
        *,
        entries: list[str],
        documents: list[str],
        package_sha256: str,
        method: str,
        fee: str,
        today: date,
        actor: str,
    ) -> None:
        """Record exactly what went out, and whether 164.528 accounts for it."""
        fee = self.releasable(method=method, fee=fee)
        why = rules.exclusion(
            rules.Disclosure(
                event="",
                released_on=today,
                recipient=self.requester,
                recipient_address=self.address,
                requester_kind=self.requester_kind,
                purpose=self.purpose,
                basis=self.basis,
                description=self.asks,
            )
        )
        self.trigger_event(
            self.Released,
            patient_id=self.patient_id,
            mrn=self.mrn,
            actor=actor,
            recipient=self.requester,
            recipient_address=self.address,
            purpose=self.purpose,
            description=self.asks,
            sections=list(self.sections),
            entries=entries,
            documents=documents,
            package_sha256=package_sha256,
            method=method,
            fee=fee,
            accountable=why is None,
            exclusion=why,
            basis=self.basis,
            requester_kind=self.requester_kind,
        )


class DisclosureSuspension(Aggregate):
    """Agencies' requests to suspend accounting their disclosures of one patient."""

    TOPIC = "chartledger/disclosure-suspension"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/disclosure-suspension/created"

    class Started(Aggregate.Created):
        TOPIC = "chartledger/disclosure-suspension/started"
        patient_id: UUID
        mrn: str

    class Suspended(Aggregate.Event):
        TOPIC = "chartledger/disclosure-suspension/suspended"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        agency: str
        start: date
        until: date
        oral: bool
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.suspensions.append(
                rules.Suspension(self.agency, self.start, self.until, self.oral)
            )

    def __init__(self, patient_id: UUID, mrn: str) -> None:
        self.patient_id = patient_id
        self.mrn = mrn
        self.suspensions: list[rules.Suspension] = []

    @classmethod
    def start(cls, *, patient_id: UUID, mrn: str) -> DisclosureSuspension:
        """The patient's record of suspensions (one per MRN), before its first one."""
        return cls._create(cls.Started, id=suspension_id(mrn), patient_id=patient_id, mrn=mrn)

    def suspend(self, *, agency: str, until: date, oral: bool, today: date, actor: str) -> date:
        """An agency's suspension from today; returns the day it ends (30 days at most if oral)."""
        if not agency.strip():
            raise UsageError("Name the agency that asked for the suspension.")
        if until < today:
            raise UsageError("The suspension must end today or later.")
        self.trigger_event(
            self.Suspended,
            patient_id=self.patient_id,
            agency=agency.strip(),
            start=today,
            until=until,
            oral=oral,
            actor=actor,
        )
        return rules.Suspension(agency, today, until, oral).ends


def suspension_id(mrn: str) -> UUID:
    return uuid5(SUSPENSION_NAMESPACE, mrn.strip().upper())


# -- loaders -------------------------------------------------------------------------------------


def release_request(ledger: Ledger, request_id: UUID) -> ReleaseRequest:
    found: object = None
    try:
        found = ledger.repository.get(request_id)
    except AggregateNotFoundError:
        pass
    if not isinstance(found, ReleaseRequest):
        raise NotFound(f"There is no release request {request_id}.")
    return found


def suspensions_of(ledger: Ledger, mrn: str) -> list[rules.Suspension]:
    try:
        record = cast(DisclosureSuspension, ledger.repository.get(suspension_id(mrn)))
    except AggregateNotFoundError:
        return []
    return list(record.suspensions)


def all_requests(ledger: Ledger) -> list[ReleaseRequest]:
    """Every release request, in the order received by the ledger."""
    notes = ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[ReleaseRequest.Requested.TOPIC]
    )
    return [release_request(ledger, cast(UUID, n.originator_id)) for n in notes]
