"""Every aggregate the log may hold, imported so that each event topic resolves.

`eventsourcing` finds an event's class by the topic it registered when its module was imported.
A process that reads the whole log (a follower, the audit trail, verification) may meet any
event, so `Ledger` imports this module: add each new aggregate module here.
"""

from __future__ import annotations

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
from ledger.aggregates.release import DisclosureSuspension, ReleaseRequest
from ledger.aggregates.review import AccessReview
from ledger.aggregates.statistics_report import IssuedReport
from ledger.aggregates.user import User
from ledger.integrity.export_record import ExportRecord
from ledger.integrity.verification_record import Verification

AGGREGATES = (
    Access,
    AccessPolicy,
    AccessReview,
    ChartVolume,
    CodingAbstract,
    EncounterCompletion,
    DisclosureSuspension,
    Discrepancy,
    Document,
    Encounter,
    ExportRecord,
    ImportedResource,
    IssuedReport,
    MrnRegistry,
    NursingUnit,
    Patient,
    PhysicianQuery,
    ReleaseRequest,
    User,
    Verification,
)
