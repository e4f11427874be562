"""Discrepancies: two facts of a chart that disagree, opened, analysed and resolved by events.

A discrepancy names the events that disagree (a date of birth recorded two ways, a diagnosis
without support, a document filed to the wrong patient) as `UUID/VERSION` references, each
checked to be in the log. It is resolved with the analysis and the events that corrected it
(a demographic correction, an amendment, a document moved by `Document.Refiled`): nothing is
edited, the correction is new events and the discrepancy links them. The description and the
analysis may hold clinical detail, so both events are encrypted with the patient's data key.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from uuid import UUID, uuid4

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.access import Shown
from ledger.commands import access
from ledger.errors import AccessDenied, NotFound, UsageError, require
from ledger.patient import patient_id
from policies.roles import Decision

if TYPE_CHECKING:
    from datetime import datetime

    from ledger.application import Ledger
    from ledger.keys import Identity

DISCREPANCY_KINDS = ("date-of-birth", "unsupported-diagnosis", "misfiled-document", "other")
OPENING_ROLES = frozenset({"technician", "him-director", "coder"})
RESOLVING_ROLES = frozenset({"technician", "him-director"})


def may_open_discrepancies(roles: list[str]) -> Decision:
    if OPENING_ROLES & set(roles):
        return Decision(True, "HIM staff and coders report discrepancies")
    return Decision(False, "only technicians, coders or the HIM director open discrepancies")


def may_resolve_discrepancies(roles: list[str]) -> Decision:
    if RESOLVING_ROLES & set(roles):
        return Decision(True, "HIM staff resolve discrepancies")
    return Decision(False, "only technicians or the HIM director resolve discrepancies")


class Discrepancy(Aggregate):
    """Facts of one patient's chart that disagree, and how the disagreement was resolved."""

    TOPIC = "chartledger/discrepancy"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/discrepancy/created"

    class Opened(Aggregate.Created):
        TOPIC = "chartledger/discrepancy/opened"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        mrn: str
        kind: str
        description: str
        facts: list[str]
        actor: str

    class Resolved(Aggregate.Event):
        TOPIC = "chartledger/discrepancy/resolved"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        analysis: str
        correcting: list[str]
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.analysis = self.analysis
            aggregate.correcting = list(self.correcting)
            aggregate.resolved_by = self.actor
            aggregate.resolved_at = self.timestamp

    def __init__(
        self,
        patient_id: UUID,
        mrn: str,
        kind: str,
        description: str,
        facts: list[str],
        actor: str,
    ) -> None:
        self.patient_id = patient_id
        self.mrn = mrn
        self.kind = kind
        self.description = description
        self.facts = list(facts)
        self.opened_by = actor
        self.analysis: str | None = None
        self.correcting: list[str] = []
        self.resolved_by: str | None = None
        self.resolved_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.resolved_by is None


def event_refs(ledger: Ledger, refs: list[str], *, what: str) -> list[str]:
    """Each reference as the `UUID/VERSION` of an event in the log, in order, once each."""
    found: list[str] = []
    for ref in refs:
        leaf = ledger.find_event(ref)
        canonical = f"{leaf.originator_id}/{leaf.originator_version}"
        if canonical not in found:
            found.append(canonical)
    if not found:
        raise UsageError(f"Give at least one {what} event (UUID/VERSION).")
    return found


def discrepancy(ledger: Ledger, discrepancy_id: UUID) -> Discrepancy:
    try:
        found: object = ledger.repository.get(discrepancy_id)
    except AggregateNotFoundError:
        found = None
    if not isinstance(found, Discrepancy):
        raise NotFound(f"There is no discrepancy {discrepancy_id}.")
    return found


def open_discrepancy(
    ledger: Ledger,
    mrn: str,
    *,
    kind: str,
    description: str,
    facts: list[str],
    actor: Identity,
) -> UUID:
    """Record that facts of a patient's chart disagree; returns the discrepancy's id."""
    require(may_open_discrepancies(ledger.authenticate(actor).roles))
    if kind not in DISCREPANCY_KINDS:
        raise UsageError(f"The kind must be one of: {', '.join(DISCREPANCY_KINDS)}.")
    if not description.strip():
        raise UsageError("Describe what disagrees.")
    patient = ledger.patient(mrn)
    record = Discrepancy._create(
        Discrepancy.Opened,
        id=uuid4(),
        patient_id=patient.id,
        mrn=patient.mrn,
        kind=kind,
        description=description.strip(),
        facts=event_refs(ledger, facts, what="fact"),
        actor=actor.name,
    )
    ledger.save(record, signer=actor)
    return record.id


def resolve_discrepancy(
    ledger: Ledger,
    discrepancy_id: UUID,
    *,
    analysis: str,
    correcting: list[str],
    actor: Identity,
) -> None:
    """Close a discrepancy with the analysis and the events that corrected the chart."""
    require(may_resolve_discrepancies(ledger.authenticate(actor).roles))
    record = discrepancy(ledger, discrepancy_id)
    if not record.is_open:
        raise UsageError(f"Discrepancy {record.id} was already resolved by {record.resolved_by}.")
    if not analysis.strip():
        raise UsageError("Give the analysis of the discrepancy.")
    record.trigger_event(
        Discrepancy.Resolved,
        patient_id=record.patient_id,
        analysis=analysis.strip(),
        correcting=event_refs(ledger, correcting, what="correcting"),
        actor=actor.name,
    )
    ledger.save(record, signer=actor)


def discrepancies(
    ledger: Ledger, *, actor: Identity, mrn: str | None = None, open_only: bool = False
) -> list[Discrepancy]:
    """Discrepancies in the order opened, of one chart (and charts merged into it) or of all;
    the charts they name are recorded as shown to `actor` first."""
    wanted: set[UUID] | None = None
    if mrn is not None:
        patient = ledger.patient(mrn)
        wanted = {patient.id, *(patient_id(m) for m in patient.absorbed)}
    opened = ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[Discrepancy.Opened.TOPIC]
    )
    found = [discrepancy(ledger, cast(UUID, n.originator_id)) for n in opened]
    kept = [
        d
        for d in found
        if (wanted is None or d.patient_id in wanted) and (d.is_open or not open_only)
    ]
    named = {d.mrn for d in kept} | ({mrn.strip().upper()} if mrn else set())
    listed = access.record_shown(ledger, named, actor=actor, section="discrepancies")
    if mrn and not listed.allows(mrn):
        raise AccessDenied("Access refused: the access policy does not show you that record.")
    allowed = [d for d in kept if listed.allows(d.mrn)]
    return Shown(allowed, withheld=len(kept) - len(allowed))
