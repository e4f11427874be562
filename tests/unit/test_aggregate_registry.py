"""Aggregates load when a topic first needs them (`ledger.aggregates.registry`, decisions §53).

Each check runs in a fresh interpreter: in this one, other tests have imported every aggregate
already, and a topic would resolve whether or not the registry loads its module.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

from eventsourcing.utils import get_topic

from ledger.aggregates.registry import AGGREGATES, aggregate_topic, event_classes

ROOT = Path(__file__).resolve().parents[2]
OLD_LEDGER = ROOT / "tests" / "data" / "old-ledger" / "ledger" / "ledger.db"
MODULES = {where.partition(":")[0] for where in AGGREGATES.values()}


def _fresh(code: str, *args: str) -> object:
    done = subprocess.run(
        [sys.executable, "-c", code, *args], cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.splitlines()[-1])


RESOLVE_EACH = """
import json, sys
from eventsourcing.utils import resolve_topic
from ledger.aggregates import registry
found = {}
for topic in json.loads(sys.argv[1]):
    registry.load(topic)
    cls = resolve_topic(topic)
    found[topic] = f"{cls.__module__}:{cls.__qualname__}"
print(json.dumps(found))
"""


def test_every_stored_topic_resolves_in_a_process_that_imported_no_aggregate() -> None:
    expected = {get_topic(c): f"{c.__module__}:{c.__qualname__}" for c in event_classes()}
    expected |= {topic: where for topic, where in AGGREGATES.items()}  # a Created's originator
    assert _fresh(RESOLVE_EACH, json.dumps(sorted(expected))) == expected


LOAD_ONE = """
import json, sys
from ledger.aggregates import registry
registry.load(sys.argv[1])
print(json.dumps(sorted(m for m in sys.modules if m.startswith("ledger."))))
"""


def test_a_topic_loads_its_own_aggregate_module_only() -> None:
    loaded = _fresh(LOAD_ONE, "chartledger/discrepancy/resolved")
    assert isinstance(loaded, list)
    assert set(loaded) & MODULES == {"ledger.aggregates.discrepancy"}
    # A module that imports another aggregate's brings that one too, and no other.
    loaded = _fresh(LOAD_ONE, "chartledger/encounter-completion/waived")
    assert isinstance(loaded, list)
    assert set(loaded) & MODULES == {"ledger.aggregates.completion", "ledger.aggregates.encounter"}


UNKNOWN = """
import json
from eventsourcing.utils import TopicError, resolve_topic
from ledger.aggregates import registry
refused = []
for topic in ("chartledger/no-such-aggregate/made", "chartledger/encounter/no-such-event"):
    registry.load(topic)
    try:
        resolve_topic(topic)
    except TopicError:
        refused.append(topic)
print(json.dumps(refused))
"""


def test_a_topic_of_no_aggregate_or_event_is_still_refused() -> None:
    refused = ["chartledger/no-such-aggregate/made", "chartledger/encounter/no-such-event"]
    assert _fresh(UNKNOWN) == refused


def test_the_aggregate_of_a_topic_is_its_first_two_words() -> None:
    assert aggregate_topic("chartledger/chart-volume/checked-out") == "chartledger/chart-volume"
    assert aggregate_topic("chartledger/chart-volume") == "chartledger/chart-volume"
    for cls in event_classes():
        owner = AGGREGATES[aggregate_topic(get_topic(cls))]
        assert owner == f"{cls.__module__}:{cls.__qualname__.partition('.')[0]}", cls


READ_ALL = """
import json, sys
from pathlib import Path
from ledger.application import Ledger
from ledger.stores.database import parse_store_url
from ledger.verifier.envelope import opened_hash
ledger = Ledger(parse_store_url(sys.argv[1]), master_key=Path(sys.argv[2]).read_bytes())
try:
    mapper = ledger.signed_events.signed_mapper
    notes = ledger.recorder.select_notifications(start=1, limit=1_000_000)
    decoded = [(n.topic, mapper.from_body(n, opened_hash(n)[0])) for n in notes]
    mismatched = [t for t, e in decoded if type(e).TOPIC != t]
finally:
    ledger.close()
stored = sorted({t for t, _ in decoded})
loaded = sorted(m for m in sys.modules if m.startswith("ledger."))
print(json.dumps({"stored": stored, "mismatched": mismatched, "loaded": loaded}))
"""


def test_an_old_ledgers_events_load_just_the_aggregates_they_name(tmp_path: Path) -> None:
    """Every event of the ledger of an earlier release decodes in a fresh process, and the
    process has then imported the aggregates its topics name and no other."""
    db = tmp_path / "ledger.db"
    shutil.copy(OLD_LEDGER, db)
    _upgrade(f"sqlite:///{db}")  # schema version 1 to today's, as `chartledger upgrade` does
    found = _fresh(READ_ALL, f"sqlite:///{db}", str(OLD_LEDGER.parent / "home/keys/master.key"))
    assert isinstance(found, dict)
    assert found["mismatched"] == []
    named = {AGGREGATES[aggregate_topic(t)].partition(":")[0] for t in found["stored"]}
    assert len(named) >= 6  # patients, encounters, documents, releases, volumes, users …
    assert set(found["loaded"]) & MODULES == named


def _upgrade(url: str) -> None:
    """Bring the copied ledger's tables to today's schema in another fresh process (this one
    must not load what the test counts)."""
    done = subprocess.run(
        [sys.executable, "-c", UPGRADE, url], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr


UPGRADE = """
import sys
from ledger.application import Ledger
from ledger.stores.database import parse_store_url
Ledger.upgrade(parse_store_url(sys.argv[1]))
"""
