"""Discrepancies, read: one by id, and the lists `discrepancy list` shows (each chart they name
recorded as shown first, through the access gate)."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.access import Shown
from ledger.aggregates.discrepancy import Discrepancy
from ledger.aggregates.patient import patient_id
from ledger.commands import access
from ledger.errors import AccessDenied, NotFound
from ledger.reads.work_items import work_items

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def discrepancy(ledger: Ledger, discrepancy_id: UUID) -> Discrepancy:
    try:
        found: object = ledger.repository.get(discrepancy_id)
    except AggregateNotFoundError:
        found = None
    if not isinstance(found, Discrepancy):
        raise NotFound(f"There is no discrepancy {discrepancy_id}.")
    return found


def discrepancies(
    ledger: Ledger, *, actor: Identity, mrn: str | None = None, open_only: bool = False
) -> list[Discrepancy]:
    """Discrepancies in the order opened, of one chart (and charts merged into it) or of all;
    the charts they name are recorded as shown to `actor` first."""
    wanted: set[UUID] | None = None
    if mrn is not None:
        patient = ledger.patient(mrn)
        wanted = {patient.id, *(patient_id(m) for m in patient.absorbed)}
    ids = work_items(ledger).ids("discrepancy", open_only=open_only, patient_ids=wanted)
    found = [discrepancy(ledger, discrepancy_id) for discrepancy_id in ids]
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
