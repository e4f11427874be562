"""Every aggregate the log may hold, imported so that each event topic resolves.

`eventsourcing` finds an event's class by the topic it registered when its module was imported.
A process that reads the whole log (a follower, the audit trail, verification) may meet any
event, so `Ledger` imports this module: add each new aggregate module here.
"""

from __future__ import annotations

from ledger.access import Access
from ledger.access_policy import AccessPolicy
from ledger.chart_volume import ChartVolume
from ledger.completion import EncounterCompletion
from ledger.discrepancy import Discrepancy
from ledger.documents import Document
from ledger.encounter import Encounter
from ledger.imported_resource import ImportedResource
from ledger.integrity.export_record import ExportRecord
from ledger.patient import MrnRegistry, Patient
from ledger.release import DisclosureSuspension, ReleaseRequest
from ledger.review import AccessReview
from ledger.user import User

AGGREGATES = (
    Access,
    AccessPolicy,
    AccessReview,
    ChartVolume,
    EncounterCompletion,
    DisclosureSuspension,
    Discrepancy,
    Document,
    Encounter,
    ExportRecord,
    ImportedResource,
    MrnRegistry,
    Patient,
    ReleaseRequest,
    User,
)
