"""The event catalogue: what every event the ledger stores means for the audit trail.

Each event class of each aggregate in `ledger.aggregates.registry.AGGREGATES` is declared here once,
by the topic it is stored under, either with an `AuditMeaning` (the action, the category of data,
and where the event names its patient) or as `NotAboutAPatient` with why. The audit trail
dispatches from these declarations by the event's topic; the views that filter the log by topic
(monitoring, chart locations, the chart index, statistics) take their topics from here. Keyed by
topic, the catalogue imports no aggregate: a command loads only the aggregates it meets
(decisions §53). A test walks every event class and fails on one that declares nothing, and on
a line that names no event class: adding an event means adding its line here.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

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

CATALOGUE: dict[str, Declaration] = {
    # the stored topic of each event class: its meaning
    # access: each attempt to see patient data, as recorded
    "chartledger/access/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/access/record-accessed": AuditMeaning(
        "access", patient="mrns", sections=True, purpose="purpose"
    ),
    "chartledger/access/access-denied": AuditMeaning(
        "access", patient="mrns", sections=True, purpose="purpose", outcome="denied"
    ),
    # the patient index
    "chartledger/patient/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/patient/registered": AuditMeaning(
        "create", ("demographics",), patient="originator_id", remembers_mrn=True
    ),
    "chartledger/patient/demographics-corrected": AuditMeaning(
        "change", ("demographics",), patient="originator_id"
    ),
    "chartledger/patient/merged-into": AuditMeaning(
        "change", ("demographics", "merge"), patient="originator_id"
    ),
    "chartledger/patient/absorbed": AuditMeaning(
        "change", ("demographics", "merge"), patient="originator_id"
    ),
    "chartledger/patient/merge-undone": AuditMeaning(
        "change", ("demographics", "merge"), patient="originator_id"
    ),
    "chartledger/mrn-registry/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/mrn-registry/configured": NotAboutAPatient("the MRN format of the whole ledger"),
    "chartledger/mrn-registry/issued": NotAboutAPatient(
        "a number drawn from the registry; the patient's own Registered event, saved with it, "
        "is the row"
    ),
    # the chart
    "chartledger/encounter/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/encounter/opened": AuditMeaning("create", ("encounters",)),
    "chartledger/encounter/transferred": AuditMeaning("change", ("encounters",)),
    "chartledger/encounter/discharged": AuditMeaning("change", ("encounters",)),
    "chartledger/encounter/entry-recorded": AuditMeaning("create"),
    "chartledger/encounter/entry-amended": AuditMeaning("change"),
    "chartledger/encounter/entry-retracted": AuditMeaning("change"),
    "chartledger/encounter/entry-signed": AuditMeaning("change"),
    "chartledger/encounter/amendment-denied": AuditMeaning("change", ("amendment-request",)),
    "chartledger/document/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/document/filed": AuditMeaning("create"),
    "chartledger/document/refiled": AuditMeaning("change", ("documents",), also_mrn="from_mrn"),
    "chartledger/discrepancy/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/discrepancy/opened": AuditMeaning("create", ("discrepancies",)),
    "chartledger/discrepancy/resolved": AuditMeaning("change", ("discrepancies",)),
    # release of information
    "chartledger/release-request/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/release-request/requested": AuditMeaning(
        "create", ("release-request",), purpose="purpose"
    ),
    "chartledger/release-request/validated": _CHANGE_REQUEST,
    "chartledger/release-request/extended": _CHANGE_REQUEST,
    "chartledger/release-request/approved": _CHANGE_REQUEST,
    "chartledger/release-request/denied": _CHANGE_REQUEST,
    "chartledger/release-request/released": AuditMeaning(
        "disclose", sections=True, purpose="purpose", recipient="recipient"
    ),
    "chartledger/disclosure-suspension/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/disclosure-suspension/started": AuditMeaning("create", ("disclosure-suspension",)),
    "chartledger/disclosure-suspension/suspended": AuditMeaning(
        "change", ("disclosure-suspension",)
    ),
    "chartledger/export/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/verification/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/verification/completed": NotAboutAPatient(
        "a verification of the whole log: sizes, hashes and the key registry, no patient"
    ),
    "chartledger/export/exported": AuditMeaning(
        "disclose", ("export",), patient=EVERY_PATIENT, purpose="purpose"
    ),
    # chart locations: the folder's whereabouts; routing sends the record to someone
    "chartledger/chart-volume/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/chart-volume/registered": AuditMeaning(
        "create", ("location",), patient="originator_id", remembers_mrn=True
    ),
    "chartledger/chart-volume/requested": _CHANGE_LOCATION,
    "chartledger/chart-volume/checked-out": _CHANGE_LOCATION,
    "chartledger/chart-volume/transferred": _CHANGE_LOCATION,
    "chartledger/chart-volume/routed": AuditMeaning(
        "disclose",
        ("routing",),
        patient="originator_id",
        purpose="purpose",
        recipient="holder",
    ),
    "chartledger/chart-volume/checked-in": _CHANGE_LOCATION,
    "chartledger/chart-volume/lost": _CHANGE_LOCATION,
    "chartledger/chart-volume/found": _CHANGE_LOCATION,
    "chartledger/chart-volume/loose-filed": _CHANGE_LOCATION,
    # record completion: deficiencies of one encounter
    "chartledger/encounter-completion/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/encounter-completion/started": AuditMeaning(
        "create", ("deficiencies",), patient="originator_id", remembers_mrn=True
    ),
    "chartledger/encounter-completion/assigned": _CHANGE_DEFICIENCY,
    "chartledger/encounter-completion/notified": _CHANGE_DEFICIENCY,
    "chartledger/encounter-completion/completed": _CHANGE_DEFICIENCY,
    "chartledger/encounter-completion/waived": _CHANGE_DEFICIENCY,
    # physician queries: the coder asks, the physician answers (signed), the answer leads to codes
    "chartledger/physician-query/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/physician-query/raised": AuditMeaning("create", ("coding", "query")),
    "chartledger/physician-query/sent": _CHANGE_QUERY,
    "chartledger/physician-query/answered": _CHANGE_QUERY,
    "chartledger/physician-query/escalated": _CHANGE_QUERY,
    "chartledger/physician-query/withdrawn": _CHANGE_QUERY,
    "chartledger/physician-query/linked-to-change": _CHANGE_QUERY,
    # coding and abstracting: the coded abstract of one stay
    "chartledger/coding-abstract/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/coding-abstract/started": AuditMeaning("create", ("coding",)),
    "chartledger/coding-abstract/diagnosis-coded": _CHANGE_CODING,
    "chartledger/coding-abstract/diagnosis-changed": _CHANGE_CODING,
    "chartledger/coding-abstract/diagnosis-removed": _CHANGE_CODING,
    "chartledger/coding-abstract/procedure-coded": _CHANGE_CODING,
    "chartledger/coding-abstract/procedure-changed": _CHANGE_CODING,
    "chartledger/coding-abstract/procedure-removed": _CHANGE_CODING,
    "chartledger/coding-abstract/discharge-status-set": _CHANGE_CODING,
    "chartledger/coding-abstract/admission-source-set": _CHANGE_CODING,
    "chartledger/coding-abstract/grouped": _CHANGE_CODING,
    "chartledger/coding-abstract/signed-final": _CHANGE_CODING,
    "chartledger/coding-abstract/reopened": _CHANGE_CODING,
    # imports
    "chartledger/imported-resource/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/imported-resource/imported": AuditMeaning("create", ("import",)),
    "chartledger/imported-resource/included": AuditMeaning("change", ("import",)),
    # the ledger's own configuration and people
    "chartledger/access-policy/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/access-policy/started": NotAboutAPatient("the access policy of the whole ledger"),
    "chartledger/access-policy/loaded": NotAboutAPatient("the access policy of the whole ledger"),
    "chartledger/access-review/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/access-review/started": NotAboutAPatient(
        "a compliance officer's review names an access event, whose row is in the trail"
    ),
    "chartledger/access-review/recorded": NotAboutAPatient(
        "a compliance officer's review names an access event, whose row is in the trail"
    ),
    "chartledger/nursing-unit/created": NotAboutAPatient(_NEVER_STORED),
    **{
        topic: NotAboutAPatient(
            "a nursing unit's beds and bassinets: the hospital's capacity, no patient's record"
        )
        for topic in (
            "chartledger/nursing-unit/opened",
            "chartledger/nursing-unit/counts-changed",
            "chartledger/nursing-unit/closed",
        )
    },
    "chartledger/statistics-report/created": NotAboutAPatient(_NEVER_STORED),
    "chartledger/statistics-report/issued": NotAboutAPatient(
        "a statistical report given to someone: its period and content hash; aggregate "
        "figures, no patient's record"
    ),
    "chartledger/user/created": NotAboutAPatient(_NEVER_STORED),
    **{
        topic: NotAboutAPatient("a user's account and key, no patient's record")
        for topic in (
            "chartledger/user/registered",
            "chartledger/user/invited",
            "chartledger/user/enrolled",
            "chartledger/user/reinstated",
            "chartledger/user/key-rotated",
            "chartledger/user/key-revoked",
        )
    },
}


AUDITED: dict[str, AuditMeaning] = {
    topic: meaning for topic, meaning in CATALOGUE.items() if isinstance(meaning, AuditMeaning)
}
"""The events that make audit-trail rows, by topic."""


# -- the topics each view that filters the log by topic is given ----------------------------------
CHART_INDEX_TOPICS: frozenset[str] = frozenset(
    {"chartledger/encounter/opened", "chartledger/document/filed", "chartledger/document/refiled"}
)
"""What puts an encounter or a document on a patient's chart, or moves it (the chart index)."""

MONITORING_TOPICS: frozenset[str] = frozenset(
    {
        "chartledger/encounter/opened",
        "chartledger/encounter/discharged",
        "chartledger/imported-resource/imported",
        "chartledger/access-review/recorded",
    }
)
"""What access monitoring remembers beyond the trail: deaths (with the encounters that tell
whose) and reviews."""

STATISTICS_CODING_TOPICS: frozenset[str] = frozenset(
    {
        "chartledger/coding-abstract/started",
        "chartledger/coding-abstract/diagnosis-coded",
        "chartledger/coding-abstract/diagnosis-changed",
        "chartledger/coding-abstract/diagnosis-removed",
        "chartledger/coding-abstract/procedure-coded",
        "chartledger/coding-abstract/procedure-changed",
        "chartledger/coding-abstract/procedure-removed",
        "chartledger/coding-abstract/grouped",
        "chartledger/coding-abstract/signed-final",
        "chartledger/coding-abstract/reopened",
    }
)
"""The coding events the statistics view follows: what a final abstract was signed with (§47)."""

STATISTICS_TOPICS: frozenset[str] = frozenset(
    {
        "chartledger/encounter/opened",
        "chartledger/encounter/transferred",
        "chartledger/encounter/discharged",
        *STATISTICS_CODING_TOPICS,
    }
)
"""What the statistics view keeps of each stay: its admission, moves and discharge (§46), and
the codes and grouping its final abstract was signed with (§47)."""

LOCATION_TOPICS: dict[str, str] = {
    "chartledger/chart-volume/registered": "registered",
    "chartledger/chart-volume/requested": "requested",
    "chartledger/chart-volume/checked-out": "checked out",
    "chartledger/chart-volume/transferred": "transferred",
    "chartledger/chart-volume/routed": "routed",
    "chartledger/chart-volume/checked-in": "checked in",
    "chartledger/chart-volume/lost": "reported lost",
    "chartledger/chart-volume/found": "found",
    "chartledger/chart-volume/loose-filed": "loose sheets filed",
}
"""Each movement of a chart volume, as `location where` names it."""
