"""The event catalogue: what every event class the ledger stores means for the audit trail.

Each event class of each aggregate in `ledger.aggregates.registry.AGGREGATES` is declared here once,
either with an `AuditMeaning` (the action, the category of data, and where the event names its
patient) or as `NotAboutAPatient` with why. The audit trail dispatches from these declarations
by class; the views that filter the log by topic (monitoring, chart locations, the chart index)
take their classes from here and derive the topics with `topics_of`. A test walks every event
class and fails on one that declares nothing: adding an event means adding its line here.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import get_topic

from ledger.aggregates.access import Access
from ledger.aggregates.access_policy import AccessPolicy
from ledger.aggregates.chart_volume import ChartVolume
from ledger.aggregates.coding import CodingAbstract
from ledger.aggregates.completion import EncounterCompletion
from ledger.aggregates.discrepancy import Discrepancy
from ledger.aggregates.documents import Document
from ledger.aggregates.encounter import Encounter
from ledger.aggregates.imported_resource import ImportedResource
from ledger.aggregates.nursing_unit import NursingUnit
from ledger.aggregates.patient import MrnRegistry, Patient
from ledger.aggregates.query import PhysicianQuery
from ledger.aggregates.registry import AGGREGATES
from ledger.aggregates.release import DisclosureSuspension, ReleaseRequest
from ledger.aggregates.review import AccessReview
from ledger.aggregates.statistics_report import IssuedReport
from ledger.aggregates.user import User
from ledger.integrity.export_record import ExportRecord
from ledger.integrity.verification_record import Verification

EVERY_PATIENT: Literal["*"] = "*"
"""The MRN of a row about every patient at once: an export of the whole ledger."""


@dataclass(frozen=True)
class AuditMeaning:
    """An event about a patient's record: a row (or several) in the audit trail."""

    action: Literal["create", "change", "disclose", "access"]
    """"access": the action recorded on the event itself (query, print, copy …)."""
    categories: tuple[str, ...] = ()
    """The category of data; events about an entry put the entry's kind first."""
    patient: Literal["patient_id", "originator_id", "mrn", "mrns", "*"] = "patient_id"
    """Where the event names its patient: a field holding the patient's id, or the aggregate's
    own id ("originator_id": a patient's events, or an aggregate whose creation named the MRN),
    the MRN itself, the MRNs of an access, or every patient ("*"). An `mrn` field on the event
    is used before any id."""
    remembers_mrn: bool = False
    """The event names the MRN of its aggregate, so later events of it find their patient by
    the aggregate's id."""
    outcome: Literal["granted", "denied"] = "granted"
    purpose: str | None = None
    """The field holding the purpose of use, if any."""
    recipient: str | None = None
    """The field holding to whom it was disclosed, if any."""
    sections: bool = False
    """The categories are the sections the event names."""
    also_mrn: str | None = None
    """A field naming a second patient whose trail shows the row too (a document moved)."""


@dataclass(frozen=True)
class NotAboutAPatient:
    """An event that is about no patient's record: never a row in the audit trail."""

    why: str


Declaration = AuditMeaning | NotAboutAPatient

_NEVER_STORED = "never stored: eventsourcing's default creation event"
_CHANGE_LOCATION = AuditMeaning("change", ("location",), patient="originator_id")
_CHANGE_DEFICIENCY = AuditMeaning("change", ("deficiencies",), patient="originator_id")
_CHANGE_REQUEST = AuditMeaning("change", ("release-request",))
_CHANGE_QUERY = AuditMeaning("change", ("coding", "query"))
_CHANGE_CODING = AuditMeaning("change", ("coding",))

CATALOGUE: dict[type, Declaration] = {
    # access: each attempt to see patient data, as recorded
    Access.Created: NotAboutAPatient(_NEVER_STORED),
    Access.RecordAccessed: AuditMeaning("access", patient="mrns", sections=True, purpose="purpose"),
    Access.AccessDenied: AuditMeaning(
        "access", patient="mrns", sections=True, purpose="purpose", outcome="denied"
    ),
    # the patient index
    Patient.Created: NotAboutAPatient(_NEVER_STORED),
    Patient.Registered: AuditMeaning(
        "create", ("demographics",), patient="originator_id", remembers_mrn=True
    ),
    Patient.DemographicsCorrected: AuditMeaning(
        "change", ("demographics",), patient="originator_id"
    ),
    Patient.MergedInto: AuditMeaning("change", ("demographics", "merge"), patient="originator_id"),
    Patient.Absorbed: AuditMeaning("change", ("demographics", "merge"), patient="originator_id"),
    Patient.MergeUndone: AuditMeaning("change", ("demographics", "merge"), patient="originator_id"),
    MrnRegistry.Created: NotAboutAPatient(_NEVER_STORED),
    MrnRegistry.Configured: NotAboutAPatient("the MRN format of the whole ledger"),
    MrnRegistry.Issued: NotAboutAPatient(
        "a number drawn from the registry; the patient's own Registered event, saved with it, "
        "is the row"
    ),
    # the chart
    Encounter.Created: NotAboutAPatient(_NEVER_STORED),
    Encounter.Opened: AuditMeaning("create", ("encounters",)),
    Encounter.Transferred: AuditMeaning("change", ("encounters",)),
    Encounter.Discharged: AuditMeaning("change", ("encounters",)),
    Encounter.EntryRecorded: AuditMeaning("create"),
    Encounter.EntryAmended: AuditMeaning("change"),
    Encounter.EntryRetracted: AuditMeaning("change"),
    Encounter.EntrySigned: AuditMeaning("change"),
    Encounter.AmendmentDenied: AuditMeaning("change", ("amendment-request",)),
    Document.Created: NotAboutAPatient(_NEVER_STORED),
    Document.Filed: AuditMeaning("create"),
    Document.Refiled: AuditMeaning("change", ("documents",), also_mrn="from_mrn"),
    Discrepancy.Created: NotAboutAPatient(_NEVER_STORED),
    Discrepancy.Opened: AuditMeaning("create", ("discrepancies",)),
    Discrepancy.Resolved: AuditMeaning("change", ("discrepancies",)),
    # release of information
    ReleaseRequest.Created: NotAboutAPatient(_NEVER_STORED),
    ReleaseRequest.Requested: AuditMeaning("create", ("release-request",), purpose="purpose"),
    ReleaseRequest.Validated: _CHANGE_REQUEST,
    ReleaseRequest.Extended: _CHANGE_REQUEST,
    ReleaseRequest.Approved: _CHANGE_REQUEST,
    ReleaseRequest.Denied: _CHANGE_REQUEST,
    ReleaseRequest.Released: AuditMeaning(
        "disclose", sections=True, purpose="purpose", recipient="recipient"
    ),
    DisclosureSuspension.Created: NotAboutAPatient(_NEVER_STORED),
    DisclosureSuspension.Started: AuditMeaning("create", ("disclosure-suspension",)),
    DisclosureSuspension.Suspended: AuditMeaning("change", ("disclosure-suspension",)),
    ExportRecord.Created: NotAboutAPatient(_NEVER_STORED),
    Verification.Created: NotAboutAPatient(_NEVER_STORED),
    Verification.Completed: NotAboutAPatient(
        "a verification of the whole log: sizes, hashes and the key registry, no patient"
    ),
    ExportRecord.Exported: AuditMeaning(
        "disclose", ("export",), patient=EVERY_PATIENT, purpose="purpose"
    ),
    # chart locations: the folder's whereabouts; routing sends the record to someone
    ChartVolume.Created: NotAboutAPatient(_NEVER_STORED),
    ChartVolume.Registered: AuditMeaning(
        "create", ("location",), patient="originator_id", remembers_mrn=True
    ),
    ChartVolume.Requested: _CHANGE_LOCATION,
    ChartVolume.CheckedOut: _CHANGE_LOCATION,
    ChartVolume.Transferred: _CHANGE_LOCATION,
    ChartVolume.Routed: AuditMeaning(
        "disclose",
        ("routing",),
        patient="originator_id",
        purpose="purpose",
        recipient="holder",
    ),
    ChartVolume.CheckedIn: _CHANGE_LOCATION,
    ChartVolume.Lost: _CHANGE_LOCATION,
    ChartVolume.Found: _CHANGE_LOCATION,
    ChartVolume.LooseFiled: _CHANGE_LOCATION,
    # record completion: deficiencies of one encounter
    EncounterCompletion.Created: NotAboutAPatient(_NEVER_STORED),
    EncounterCompletion.Started: AuditMeaning(
        "create", ("deficiencies",), patient="originator_id", remembers_mrn=True
    ),
    EncounterCompletion.Assigned: _CHANGE_DEFICIENCY,
    EncounterCompletion.Notified: _CHANGE_DEFICIENCY,
    EncounterCompletion.Completed: _CHANGE_DEFICIENCY,
    EncounterCompletion.Waived: _CHANGE_DEFICIENCY,
    # physician queries: the coder asks, the physician answers (signed), the answer leads to codes
    PhysicianQuery.Created: NotAboutAPatient(_NEVER_STORED),
    PhysicianQuery.Raised: AuditMeaning("create", ("coding", "query")),
    PhysicianQuery.Sent: _CHANGE_QUERY,
    PhysicianQuery.Answered: _CHANGE_QUERY,
    PhysicianQuery.Escalated: _CHANGE_QUERY,
    PhysicianQuery.Withdrawn: _CHANGE_QUERY,
    PhysicianQuery.LinkedToChange: _CHANGE_QUERY,
    # coding and abstracting: the coded abstract of one stay
    CodingAbstract.Created: NotAboutAPatient(_NEVER_STORED),
    CodingAbstract.Started: AuditMeaning("create", ("coding",)),
    CodingAbstract.DiagnosisCoded: _CHANGE_CODING,
    CodingAbstract.DiagnosisChanged: _CHANGE_CODING,
    CodingAbstract.DiagnosisRemoved: _CHANGE_CODING,
    CodingAbstract.ProcedureCoded: _CHANGE_CODING,
    CodingAbstract.ProcedureChanged: _CHANGE_CODING,
    CodingAbstract.ProcedureRemoved: _CHANGE_CODING,
    CodingAbstract.DischargeStatusSet: _CHANGE_CODING,
    CodingAbstract.AdmissionSourceSet: _CHANGE_CODING,
    CodingAbstract.Grouped: _CHANGE_CODING,
    CodingAbstract.SignedFinal: _CHANGE_CODING,
    CodingAbstract.Reopened: _CHANGE_CODING,
    # imports
    ImportedResource.Created: NotAboutAPatient(_NEVER_STORED),
    ImportedResource.Imported: AuditMeaning("create", ("import",)),
    ImportedResource.Included: AuditMeaning("change", ("import",)),
    # the ledger's own configuration and people
    AccessPolicy.Created: NotAboutAPatient(_NEVER_STORED),
    AccessPolicy.Started: NotAboutAPatient("the access policy of the whole ledger"),
    AccessPolicy.Loaded: NotAboutAPatient("the access policy of the whole ledger"),
    AccessReview.Created: NotAboutAPatient(_NEVER_STORED),
    AccessReview.Started: NotAboutAPatient(
        "a compliance officer's review names an access event, whose row is in the trail"
    ),
    AccessReview.Recorded: NotAboutAPatient(
        "a compliance officer's review names an access event, whose row is in the trail"
    ),
    NursingUnit.Created: NotAboutAPatient(_NEVER_STORED),
    **{
        cls: NotAboutAPatient(
            "a nursing unit's beds and bassinets: the hospital's capacity, no patient's record"
        )
        for cls in (NursingUnit.Opened, NursingUnit.CountsChanged, NursingUnit.Closed)
    },
    IssuedReport.Created: NotAboutAPatient(_NEVER_STORED),
    IssuedReport.Issued: NotAboutAPatient(
        "a statistical report given to someone: its period and content hash; aggregate "
        "figures, no patient's record"
    ),
    User.Created: NotAboutAPatient(_NEVER_STORED),
    **{
        cls: NotAboutAPatient("a user's account and key, no patient's record")
        for cls in (
            User.Registered,
            User.Invited,
            User.Enrolled,
            User.Reinstated,
            User.KeyRotated,
            User.KeyRevoked,
        )
    },
}


def event_classes() -> list[type]:
    """Every event class the ledger can store: the event classes nested in each aggregate
    (not the aggregate's own `Event` base, which eventsourcing makes and never stores)."""
    found: list[type] = []
    for aggregate in AGGREGATES:
        for name, value in vars(aggregate).items():
            if (
                isinstance(value, type)
                and issubclass(value, CanMutateAggregate)
                and value.__qualname__ == f"{aggregate.__qualname__}.{name}"
                and name != "Event"
            ):
                found.append(value)
    return found


def topics_of(classes: Iterable[type]) -> frozenset[str]:
    """The stored topics of these event classes (for a view's `topics` filter)."""
    return frozenset(get_topic(cls) for cls in classes)


AUDITED: dict[type, AuditMeaning] = {
    cls: meaning for cls, meaning in CATALOGUE.items() if isinstance(meaning, AuditMeaning)
}
"""The classes that make audit-trail rows, by class."""


# -- the classes each view that filters the log by topic is given ---------------------------------
CHART_INDEX_EVENTS: tuple[type, ...] = (Encounter.Opened, Document.Filed, Document.Refiled)
"""What puts an encounter or a document on a patient's chart, or moves it (the chart index)."""

MONITORING_EVENTS: tuple[type, ...] = (
    Encounter.Opened,
    Encounter.Discharged,
    ImportedResource.Imported,
    AccessReview.Recorded,
)
"""What access monitoring remembers beyond the trail: deaths (with the encounters that tell
whose) and reviews."""

STATISTICS_CODING_EVENTS: tuple[type, ...] = (
    CodingAbstract.Started,
    CodingAbstract.DiagnosisCoded,
    CodingAbstract.DiagnosisChanged,
    CodingAbstract.DiagnosisRemoved,
    CodingAbstract.ProcedureCoded,
    CodingAbstract.ProcedureChanged,
    CodingAbstract.ProcedureRemoved,
    CodingAbstract.Grouped,
    CodingAbstract.SignedFinal,
    CodingAbstract.Reopened,
)
"""The coding events the statistics view follows: what a final abstract was signed with (§47)."""

STATISTICS_EVENTS: tuple[type, ...] = (
    Encounter.Opened,
    Encounter.Transferred,
    Encounter.Discharged,
    *STATISTICS_CODING_EVENTS,
)
"""What the statistics view keeps of each stay: its admission, moves and discharge (§46), and
the codes and grouping its final abstract was signed with (§47)."""

LOCATION_EVENTS: dict[type, str] = {
    ChartVolume.Registered: "registered",
    ChartVolume.Requested: "requested",
    ChartVolume.CheckedOut: "checked out",
    ChartVolume.Transferred: "transferred",
    ChartVolume.Routed: "routed",
    ChartVolume.CheckedIn: "checked in",
    ChartVolume.Lost: "reported lost",
    ChartVolume.Found: "found",
    ChartVolume.LooseFiled: "loose sheets filed",
}
"""Each movement of a chart volume, as `location where` names it."""
