"""The event catalogue covers every event class the ledger can store, and only those."""

from __future__ import annotations

import importlib
import pkgutil

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

import ledger
from ledger import catalogue
from ledger.aggregates.registry import AGGREGATES
from ledger.catalogue import CATALOGUE, AuditMeaning, NotAboutAPatient, event_classes


def test_every_event_class_declares_what_it_means_for_the_audit_trail() -> None:
    undeclared = [cls.__qualname__ for cls in event_classes() if cls not in CATALOGUE]
    assert undeclared == [], f"declare these in ledger/catalogue.py: {undeclared}"
    stale = [cls.__qualname__ for cls in CATALOGUE if cls not in event_classes()]
    assert stale == [], f"ledger/catalogue.py declares classes no aggregate has: {stale}"
    for cls, meaning in CATALOGUE.items():
        assert isinstance(meaning, AuditMeaning | NotAboutAPatient), cls
        if isinstance(meaning, NotAboutAPatient):
            assert meaning.why.strip(), f"{cls.__qualname__} must say why it is about no patient"


def test_every_aggregate_of_the_ledger_is_one_the_catalogue_walks() -> None:
    for module in pkgutil.iter_modules(ledger.__path__):
        importlib.import_module(f"ledger.{module.name}")
    defined = {cls for cls in _subclasses(Aggregate) if cls.__module__.startswith("ledger.")}
    assert defined <= set(AGGREGATES), "add the aggregate to ledger.aggregates.AGGREGATES"


def test_each_class_has_its_own_topic_which_resolves_back_to_it() -> None:
    topics = [get_topic(cls) for cls in event_classes()]
    assert len(set(topics)) == len(topics)
    for cls, topic in zip(event_classes(), topics, strict=True):
        assert topic.startswith("chartledger/") and resolve_topic(topic) is cls


def test_the_views_filter_the_log_by_the_topics_of_catalogued_classes() -> None:
    from ledger.reads.chart_index import ChartIndex
    from projections.locations import ChartLocations
    from projections.monitoring import MonitoringFacts

    for view, classes in (
        (ChartIndex, catalogue.CHART_INDEX_EVENTS),
        (ChartLocations, tuple(catalogue.LOCATION_EVENTS)),
        (MonitoringFacts, catalogue.MONITORING_EVENTS),
    ):
        assert set(classes) <= set(CATALOGUE)
        assert view.topics == frozenset(get_topic(c) for c in classes)


def _subclasses(cls: type) -> set[type]:
    found: set[type] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_the_offline_verifiers_topics_are_those_of_the_catalogued_classes() -> None:
    """The package verifier names a few topics itself (it imports nothing that writes): they
    must stay the stored topics of the classes they stand for."""
    from ledger.aggregates.documents import Document
    from ledger.aggregates.encounter import Encounter
    from ledger.verifier import package as legal_package

    assert legal_package.DOCUMENT_FILED_TOPIC == get_topic(Document.Filed)
    assert legal_package.DOCUMENT_REFILED_TOPIC == get_topic(Document.Refiled)
    assert set(legal_package.ENTRY_TOPICS) == {
        get_topic(Encounter.EntryRecorded),
        get_topic(Encounter.EntryAmended),
    }
