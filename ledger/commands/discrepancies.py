"""Discrepancies, the commands: open one on a chart, resolve it with the correcting events.

Each authenticates the actor, asks `policies.records` whether they may, checks that every event
named is in the log, and calls `Discrepancy` (which keeps a discrepancy open
until it is resolved, once), then saves once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from ledger.aggregates.discrepancy import Discrepancy
from ledger.errors import UsageError, require
from ledger.reads.discrepancies import discrepancy
from policies.records import may_open_discrepancies, may_resolve_discrepancies

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def _event_refs(ledger: Ledger, refs: list[str], *, what: str) -> list[str]:
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
    Discrepancy.check_report(kind=kind, description=description)
    patient = ledger.patient(mrn)
    record = Discrepancy.open(
        patient_id=patient.id,
        mrn=patient.mrn,
        kind=kind,
        description=description,
        facts=_event_refs(ledger, facts, what="fact"),
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
    record.check_resolution(analysis=analysis)
    record.resolve(
        analysis=analysis,
        correcting=_event_refs(ledger, correcting, what="correcting"),
        actor=actor.name,
    )
    ledger.save(record, signer=actor)
