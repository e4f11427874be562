"""Every read model the ledger keeps, in one list: what `chartledger upgrade` rebuilds when a
view's version has moved on (`ledger.follower.rebuild_stale_views`)."""

from __future__ import annotations

from ledger.follower import View
from ledger.reads.chart_index import ChartIndex
from ledger.reads.patient_index import PatientIndex
from ledger.reads.work_items import WorkItems
from ledger.stores.database import Database
from projections.audit import AuditTrail
from projections.completion_view import CompletionWorklist
from projections.locations import ChartLocations
from projections.monitoring import MonitoringFacts
from projections.statistics import StatisticsView


def every_view(db: Database) -> list[View]:
    """One of each view over `db` (a new view must be added here; a test checks it is)."""
    return [
        ChartIndex(db),
        PatientIndex(db),
        AuditTrail(db),
        MonitoringFacts(db),
        ChartLocations(db),
        StatisticsView(db),
        WorkItems(db),
        CompletionWorklist(db),
    ]
