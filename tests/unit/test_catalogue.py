"""The event catalogue covers every event class the ledger can store, and only those.

The catalogue is keyed by stored topic (it imports no aggregate, decisions §53); these tests
import every aggregate and hold its lines to the event classes themselves.
"""

from __future__ import annotations

import ast
import importlib
import json
import pkgutil
import subprocess
import sys
from pathlib import Path

from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic, resolve_topic

import ledger
from ledger import catalogue
from ledger.aggregates.registry import AGGREGATES, aggregates, event_classes
from ledger.catalogue import CATALOGUE, AuditMeaning, NotAboutAPatient

ROOT = Path(__file__).resolve().parents[2]


def test_every_event_class_declares_what_it_means_for_the_audit_trail() -> None:
    topics = {get_topic(cls): cls for cls in event_classes()}
    undeclared = [cls.__qualname__ for topic, cls in topics.items() if topic not in CATALOGUE]
    assert undeclared == [], f"declare these in ledger/catalogue.py: {undeclared}"
    stale = [topic for topic in CATALOGUE if topic not in topics]
    assert stale == [], f"ledger/catalogue.py declares topics no event class has: {stale}"
    for topic, meaning in CATALOGUE.items():
        assert isinstance(meaning, AuditMeaning | NotAboutAPatient), topic
        if isinstance(meaning, NotAboutAPatient):
            assert meaning.why.strip(), f"{topic} must say why it is about no patient"


def _declared_topics(source: str) -> list[str]:
    """Every topic the `CATALOGUE = {…}` literal of SOURCE names, in order, repeats kept: its
    keys, and the topics its `**{topic: … for topic in (…)}` parts run over."""
    tree = ast.parse(source)
    (value,) = [
        node.value
        for node in tree.body
        if isinstance(node, ast.AnnAssign)
        and isinstance(node.target, ast.Name)
        and node.target.id == "CATALOGUE"
        and isinstance(node.value, ast.Dict)
    ]
    assert isinstance(value, ast.Dict)
    found: list[str] = []
    for key, item in zip(value.keys, value.values, strict=True):
        if key is not None:
            assert isinstance(key, ast.Constant) and isinstance(key.value, str), ast.unparse(key)
            found.append(key.value)
            continue
        assert isinstance(item, ast.DictComp), ast.unparse(item)
        (generator,) = item.generators
        assert isinstance(generator.iter, ast.Tuple | ast.List), ast.unparse(generator.iter)
        found += [ast.literal_eval(element) for element in generator.iter.elts]
    return found


def test_each_event_class_has_exactly_one_line() -> None:
    """A dict literal keeps the last of two equal keys silently: the source must name each
    topic once."""
    declared = _declared_topics((ROOT / "ledger" / "catalogue.py").read_text(encoding="utf-8"))
    assert sorted(declared) == sorted(get_topic(cls) for cls in event_classes())


def test_a_topic_declared_twice_is_caught() -> None:
    source = (
        "CATALOGUE: dict[str, D] = {\n"
        '    "chartledger/a/x": A(),\n'
        "    **{t: B() for t in ('chartledger/a/y', 'chartledger/a/x')},\n"
        "}\n"
    )
    declared = _declared_topics(source)
    assert declared == ["chartledger/a/x", "chartledger/a/y", "chartledger/a/x"]
    assert len(set(declared)) < len(declared)


def test_every_aggregate_of_the_ledger_is_one_the_catalogue_walks() -> None:
    for module in pkgutil.iter_modules(ledger.__path__):
        importlib.import_module(f"ledger.{module.name}")
    defined = {cls for cls in _subclasses(Aggregate) if cls.__module__.startswith("ledger.")}
    assert defined <= set(aggregates()), "add the aggregate to ledger.aggregates.registry"
    for topic, where in AGGREGATES.items():
        assert resolve_topic(where).TOPIC == topic, where


def test_each_class_has_its_own_topic_which_resolves_back_to_it() -> None:
    topics = [get_topic(cls) for cls in event_classes()]
    assert len(set(topics)) == len(topics)
    for cls, topic in zip(event_classes(), topics, strict=True):
        assert topic.startswith("chartledger/") and resolve_topic(topic) is cls


def test_the_views_filter_the_log_by_catalogued_topics() -> None:
    from ledger.reads.chart_index import ChartIndex
    from projections.locations import ChartLocations
    from projections.monitoring import MonitoringFacts
    from projections.statistics import StatisticsView

    for view, topics in (
        (ChartIndex, catalogue.CHART_INDEX_TOPICS),
        (ChartLocations, frozenset(catalogue.LOCATION_TOPICS)),
        (MonitoringFacts, catalogue.MONITORING_TOPICS),
        (StatisticsView, catalogue.STATISTICS_TOPICS),
    ):
        assert topics <= set(CATALOGUE), view.name
        assert view.topics == topics, view.name
    assert catalogue.STATISTICS_CODING_TOPICS <= catalogue.STATISTICS_TOPICS
    assert {t.rpartition("/")[0] for t in catalogue.LOCATION_TOPICS} == {"chartledger/chart-volume"}


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


LOADED = """
import json, sys
import ledger.catalogue, ledger.aggregates.registry
print(json.dumps(sorted(m for m in sys.modules if m.startswith("ledger."))))
"""


def test_the_catalogue_imports_no_aggregate() -> None:
    done = subprocess.run(
        [sys.executable, "-c", LOADED], cwd=ROOT, capture_output=True, text=True, check=True
    )
    loaded = json.loads(done.stdout)
    assert "ledger.catalogue" in loaded
    modules = {where.partition(":")[0] for where in AGGREGATES.values()}
    assert not modules & set(loaded), "the catalogue must name topics, not import aggregates"
