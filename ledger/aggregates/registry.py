"""Every aggregate the log may hold, by the topic it is stored under, imported when first met.

`eventsourcing` finds an event's class by the topic its class registered when its module was
imported. Our topics are neutral words (`chartledger/encounter/opened`, DESIGN §4), not module
paths, so `resolve_topic` cannot import a module for one: `load` does, from `AGGREGATES`, the
first time a topic of that aggregate is met (the mapper calls it before it resolves a stored
event's topic). A command imports only the aggregates it reads or writes (decisions §53): an
aggregate module builds its event classes when imported, and all of them cost most of a
command's start. Add each new aggregate here; `tests/unit/test_registry.py` finds one missing.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib import import_module

from eventsourcing.domain import CanMutateAggregate
from eventsourcing.utils import resolve_topic

AGGREGATES: Mapping[str, str] = {
    "chartledger/access": "ledger.aggregates.access:Access",
    "chartledger/access-policy": "ledger.aggregates.access_policy:AccessPolicy",
    "chartledger/access-review": "ledger.aggregates.review:AccessReview",
    "chartledger/chart-volume": "ledger.aggregates.chart_volume:ChartVolume",
    "chartledger/coding-abstract": "ledger.aggregates.coding:CodingAbstract",
    "chartledger/disclosure-suspension": "ledger.aggregates.release:DisclosureSuspension",
    "chartledger/discrepancy": "ledger.aggregates.discrepancy:Discrepancy",
    "chartledger/document": "ledger.aggregates.documents:Document",
    "chartledger/encounter": "ledger.aggregates.encounter:Encounter",
    "chartledger/encounter-completion": "ledger.aggregates.completion:EncounterCompletion",
    "chartledger/export": "ledger.integrity.export_record:ExportRecord",
    "chartledger/imported-resource": "ledger.aggregates.imported_resource:ImportedResource",
    "chartledger/mrn-registry": "ledger.aggregates.patient:MrnRegistry",
    "chartledger/nursing-unit": "ledger.aggregates.nursing_unit:NursingUnit",
    "chartledger/patient": "ledger.aggregates.patient:Patient",
    "chartledger/physician-query": "ledger.aggregates.query:PhysicianQuery",
    "chartledger/release-request": "ledger.aggregates.release:ReleaseRequest",
    "chartledger/statistics-report": "ledger.aggregates.statistics_report:IssuedReport",
    "chartledger/user": "ledger.aggregates.user:User",
    "chartledger/verification": "ledger.integrity.verification_record:Verification",
}
"""Each aggregate's stored topic, and where its class is (an `eventsourcing` topic,
`module:Class`). Its events are stored under `<its topic>/<event>`."""

_met: set[str] = set()
"""The stored topics `load` has seen: each is looked up once a process."""


def aggregate_topic(topic: str) -> str:
    """The topic of the aggregate whose class, or event class, is stored under TOPIC."""
    return "/".join(topic.split("/", 2)[:2])


def load(topic: str) -> None:
    """Import the module that defines the class stored under TOPIC, once, so that
    `resolve_topic` finds it. A topic of no aggregate of ours is left for `resolve_topic` to
    refuse."""
    if topic in _met:
        return
    where = AGGREGATES.get(aggregate_topic(topic))
    if where is not None:
        import_module(where.partition(":")[0])
    _met.add(topic)


def aggregates() -> tuple[type, ...]:
    """Every aggregate class (importing every aggregate module: for the checks that walk them
    all, never on a command's path)."""
    return tuple(resolve_topic(where) for where in AGGREGATES.values())


def event_classes() -> list[type]:
    """Every event class the ledger can store: the event classes nested in each aggregate
    (not the aggregate's own `Event` base, which eventsourcing makes and never stores)."""
    found: list[type] = []
    for aggregate in aggregates():
        for name, value in vars(aggregate).items():
            if (
                isinstance(value, type)
                and issubclass(value, CanMutateAggregate)
                and value.__qualname__ == f"{aggregate.__qualname__}.{name}"
                and name != "Event"
            ):
                found.append(value)
    return found
