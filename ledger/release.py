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
    from ledger.keys import Identity

SUSPENSION_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/disclosure-suspension")
METHODS = ("mail", "email", "portal", "fax", "in-person")


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


def suspension_id(mrn: str) -> UUID:
    return uuid5(SUSPENSION_NAMESPACE, mrn.strip().upper())


# -- commands ------------------------------------------------------------------------------------


def _handler(ledger: Ledger, actor: Identity) -> None:
    require(rules.may_handle_releases(ledger.authenticate(actor).roles))


def release_request(ledger: Ledger, request_id: UUID) -> ReleaseRequest:
    found: object = None
    try:
        found = ledger.repository.get(request_id)
    except AggregateNotFoundError:
        pass
    if not isinstance(found, ReleaseRequest):
        raise NotFound(f"There is no release request {request_id}.")
    return found


def request_release(
    ledger: Ledger,
    mrn: str,
    *,
    requester_kind: str,
    requester: str,
    address: str | None,
    asks: str,
    sections: list[str],
    purpose: str,
    received: date,
    today: date,
    actor: Identity,
    date_from: date | None = None,
    date_to: date | None = None,
) -> UUID:
    """Log a request for a patient's information; returns its id."""
    _handler(ledger, actor)
    patient = ledger.patient(mrn)
    if requester_kind not in rules.REQUESTER_KINDS:
        raise UsageError(f"The requester kind must be one of: {', '.join(rules.REQUESTER_KINDS)}.")
    if purpose not in rules.PURPOSES:
        raise UsageError(f"The purpose must be one of: {', '.join(rules.PURPOSES)}.")
    if not requester.strip() or not asks.strip() or not sections:
        raise UsageError("Give the requester, what is asked for, and at least one section.")
    if received > today:
        raise UsageError("The request cannot have been received in the future.")
    if date_from is not None and date_to is not None and date_from > date_to:
        raise UsageError("The date range must start before it ends.")
    request = ReleaseRequest._create(
        ReleaseRequest.Requested,
        id=uuid4(),
        patient_id=patient.id,
        mrn=patient.mrn,
        requester_kind=requester_kind,
        requester=requester.strip(),
        address=(address or "").strip() or None,
        asks=asks.strip(),
        sections=list(sections),
        date_from=date_from,
        date_to=date_to,
        purpose=purpose,
        received=received,
        actor=actor.name,
    )
    ledger.save(request, signer=actor)
    return request.id


def validate_release(
    ledger: Ledger,
    request_id: UUID,
    *,
    basis: str,
    today: date,
    actor: Identity,
    authorizations: list[rules.Authorization] | None = None,
    notice_to_patient: bool = False,
    protective_order: bool = False,
) -> rules.Validation:
    """Check the request's legal basis and record the verdict (valid or not, with why)."""
    _handler(ledger, actor)
    request = release_request(ledger, request_id)
    if request.status in ("released", "denied"):
        raise UsageError(f"Request {request_id} is already {request.status}.")
    verdict = rules.validate(
        requester_kind=request.requester_kind,
        purpose=request.purpose,
        basis=basis,
        sections=request.sections,
        today=today,
        authorizations=authorizations or [],
        notice_to_patient=notice_to_patient,
        protective_order=protective_order,
    )
    request.trigger_event(
        ReleaseRequest.Validated,
        patient_id=request.patient_id,
        valid=verdict.valid,
        problems=list(verdict.problems),
        basis=basis,
        authorizations=[asdict(a) for a in authorizations or []],
        policy_version=verdict.policy_version,
        actor=actor.name,
    )
    ledger.save(request, signer=actor)
    return verdict


def extend_release(
    ledger: Ledger, request_id: UUID, *, reason: str, today: date, actor: Identity
) -> date:
    """The one 30-day extension of a patient's request, given before the first deadline."""
    _handler(ledger, actor)
    request = release_request(ledger, request_id)
    if not request.patient_access:
        raise UsageError("Only a patient's own request has a deadline to extend.")
    if not reason.strip():
        raise UsageError("Give the reason for the extension (the patient is told it).")
    require(rules.may_extend(request.received, today=today, already=request.extended))
    due = rules.due_date(request.received, extended=True)
    request.trigger_event(
        ReleaseRequest.Extended,
        patient_id=request.patient_id,
        reason=reason.strip(),
        due=due,
        actor=actor.name,
    )
    ledger.save(request, signer=actor)
    return due


def approve_release(ledger: Ledger, request_id: UUID, *, actor: Identity) -> None:
    _handler(ledger, actor)
    request = release_request(ledger, request_id)
    if request.status != "validated":
        raise UsageError(
            f"Request {request_id} is {request.status}: only a validated request is approved."
        )
    request.trigger_event(ReleaseRequest.Approved, patient_id=request.patient_id, actor=actor.name)
    ledger.save(request, signer=actor)


def deny_release(
    ledger: Ledger,
    request_id: UUID,
    *,
    reason: str,
    exception: str | None,
    actor: Identity,
) -> None:
    _handler(ledger, actor)
    request = release_request(ledger, request_id)
    if request.status in ("released", "denied"):
        raise UsageError(f"Request {request_id} is already {request.status}.")
    problems = rules.check_denial(reason, exception)
    if problems:
        raise UsageError(problems[0][0].upper() + problems[0][1:] + ".")
    request.trigger_event(
        ReleaseRequest.Denied,
        patient_id=request.patient_id,
        reason=reason.strip(),
        exception=exception,
        actor=actor.name,
    )
    ledger.save(request, signer=actor)


def record_release(
    ledger: Ledger,
    request: ReleaseRequest,
    *,
    entries: list[str],
    documents: list[str],
    package_sha256: str,
    method: str,
    fee: str,
    today: date,
    actor: Identity,
) -> ReleaseRequest.Released:
    """Record what went out (the package is written by the caller, after the access)."""
    _handler(ledger, actor)
    disclosure = rules.Disclosure(
        event="",
        released_on=today,
        recipient=request.requester,
        recipient_address=request.address,
        requester_kind=request.requester_kind,
        purpose=request.purpose,
        basis=request.basis,
        description=request.asks,
    )
    why = rules.exclusion(disclosure)
    request.trigger_event(
        ReleaseRequest.Released,
        patient_id=request.patient_id,
        mrn=request.mrn,
        actor=actor.name,
        recipient=request.requester,
        recipient_address=request.address,
        purpose=request.purpose,
        description=request.asks,
        sections=list(request.sections),
        entries=entries,
        documents=documents,
        package_sha256=package_sha256,
        method=method,
        fee=fee,
        accountable=why is None,
        exclusion=why,
        basis=request.basis,
        requester_kind=request.requester_kind,
    )
    ledger.save(request, signer=actor)
    return _last(ledger, request.id)


def _last(ledger: Ledger, request_id: UUID) -> ReleaseRequest.Released:
    events = [e for e in ledger.events.get(request_id) if isinstance(e, ReleaseRequest.Released)]
    return events[-1]


def checked_release(request: ReleaseRequest, *, method: str, fee: str) -> str:
    """The request may go out now; the fee as a decimal text."""
    if request.status != "approved":
        raise UsageError(f"Request {request.id} is {request.status}: only approved ones go out.")
    if method not in METHODS:
        raise UsageError(f"The method must be one of: {', '.join(METHODS)}.")
    amount = finite_decimal(fee, what="the fee")
    if isinstance(amount, str):
        raise UsageError(amount)
    if amount > 1_000_000:
        raise UsageError("The fee is larger than any release of information would cost.")
    if amount < 0:
        raise UsageError("The fee cannot be negative.")
    return f"{amount:.2f}"


def suspend_accounting(
    ledger: Ledger,
    mrn: str,
    *,
    agency: str,
    until: date,
    oral: bool,
    today: date,
    actor: Identity,
) -> date:
    """Record an agency's suspension; returns the day it ends (30 days at most if oral)."""
    _handler(ledger, actor)
    patient = ledger.patient(mrn)
    if not agency.strip():
        raise UsageError("Name the agency that asked for the suspension.")
    if until < today:
        raise UsageError("The suspension must end today or later.")
    try:
        record = cast(DisclosureSuspension, ledger.repository.get(suspension_id(patient.mrn)))
    except AggregateNotFoundError:
        record = DisclosureSuspension._create(
            DisclosureSuspension.Started,
            id=suspension_id(patient.mrn),
            patient_id=patient.id,
            mrn=patient.mrn,
        )
    record.trigger_event(
        DisclosureSuspension.Suspended,
        patient_id=patient.id,
        agency=agency.strip(),
        start=today,
        until=until,
        oral=oral,
        actor=actor.name,
    )
    ledger.save(record, signer=actor)
    return rules.Suspension(agency, today, until, oral).ends


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
