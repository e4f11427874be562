"""Physician queries, read for the write side: one by id, every query, the open ones by encounter
(what chart completion counts as the physician's deficiencies) and the encounters an open query
holds on the coding worklist. They record no access: what shows a patient's queries to a reader
is `projections.physician_queries`, through the access gate.
"""

from __future__ import annotations

from collections import defaultdict
from typing import TYPE_CHECKING, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.query import PhysicianQuery
from ledger.errors import NotFound
from policies.deficiency import QueryFacts

if TYPE_CHECKING:
    from ledger.application import Ledger


def physician_query(ledger: Ledger, query_id: UUID) -> PhysicianQuery:
    try:
        found: object = ledger.repository.get(query_id)
    except AggregateNotFoundError:
        found = None
    if not isinstance(found, PhysicianQuery):
        raise NotFound(f"There is no physician query {query_id}.")
    return found


def all_queries(ledger: Ledger) -> list[PhysicianQuery]:
    """Every query, in the order raised (a scan of the `Raised` notifications)."""
    raised = ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[PhysicianQuery.Raised.TOPIC]
    )
    return [physician_query(ledger, cast(UUID, note.originator_id)) for note in raised]


def open_queries(ledger: Ledger) -> list[PhysicianQuery]:
    """The queries not yet answered or withdrawn, in the order raised (the work-items view's
    open rows, then each query itself)."""
    from ledger.reads.work_items import work_items

    ids = work_items(ledger).ids("query", open_only=True)
    return [physician_query(ledger, query_id) for query_id in ids]


def awaiting_by_encounter(ledger: Ledger) -> dict[str, tuple[QueryFacts, ...]]:
    """The queries sent and not yet answered or withdrawn, by encounter id (as text), as chart
    completion weighs them."""
    found: dict[str, list[QueryFacts]] = defaultdict(list)
    for query in open_queries(ledger):
        if query.awaiting_answer and query.sent_at is not None:
            found[str(query.encounter_id)].append(
                QueryFacts(str(query.id), query.physician, query.sent_at)
            )
    return {encounter: tuple(facts) for encounter, facts in found.items()}


def encounters_held_by_queries(ledger: Ledger) -> set[UUID]:
    """The encounters with a query raised and not yet answered or withdrawn: the coding worklist
    holds them (final coding waits for the answer)."""
    return {query.encounter_id for query in open_queries(ledger) if query.is_open}
