"""Discrepancies: two facts of a chart that disagree, opened, analysed and resolved by events.

A discrepancy names the events that disagree (a date of birth recorded two ways, a diagnosis
without support, a document filed to the wrong patient) as `UUID/VERSION` references, each
checked to be in the log. It is resolved with the analysis and the events that corrected it
(a demographic correction, an amendment, a document moved by `Document.Refiled`): nothing is
edited, the correction is new events and the discrepancy links them. The description and the
analysis may hold clinical detail, so both events are encrypted with the patient's data key.
The commands are `ledger.commands.discrepancies`; who may run them is `policies.records`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger.errors import UsageError
from policies.records import DISCREPANCY_KINDS

if TYPE_CHECKING:
    from datetime import datetime


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

    @staticmethod
    def check_report(*, kind: str, description: str) -> None:
        """What every discrepancy says (checked before the facts are looked up)."""
        if kind not in DISCREPANCY_KINDS:
            raise UsageError(f"The kind must be one of: {', '.join(DISCREPANCY_KINDS)}.")
        if not description.strip():
            raise UsageError("Describe what disagrees.")

    @classmethod
    def open(
        cls,
        *,
        patient_id: UUID,
        mrn: str,
        kind: str,
        description: str,
        facts: list[str],
        actor: str,
    ) -> Discrepancy:
        """Facts (`UUID/VERSION` of events in the log) of one chart that disagree."""
        cls.check_report(kind=kind, description=description)
        if not facts:
            raise UsageError("Give at least one fact event (UUID/VERSION).")
        return cls._create(
            cls.Opened,
            id=uuid4(),
            patient_id=patient_id,
            mrn=mrn,
            kind=kind,
            description=description.strip(),
            facts=list(facts),
            actor=actor,
        )

    def check_resolution(self, *, analysis: str) -> None:
        """A discrepancy is resolved once, with an analysis (checked before the events are)."""
        if not self.is_open:
            raise UsageError(f"Discrepancy {self.id} was already resolved by {self.resolved_by}.")
        if not analysis.strip():
            raise UsageError("Give the analysis of the discrepancy.")

    def resolve(self, *, analysis: str, correcting: list[str], actor: str) -> None:
        """The analysis, and the events that corrected the chart; once."""
        self.check_resolution(analysis=analysis)
        if not correcting:
            raise UsageError("Give at least one correcting event (UUID/VERSION).")
        self.trigger_event(
            self.Resolved,
            patient_id=self.patient_id,
            analysis=analysis.strip(),
            correcting=list(correcting),
            actor=actor,
        )
