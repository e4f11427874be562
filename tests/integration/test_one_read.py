"""A chart read reads each aggregate once and catches each view up once (issue 11 item 4).

A spy on the real ledger counts what one `chart show`, `patient show` and `chart history` read,
on every store: its event store's `get` (every read of an aggregate from the store goes through
it, the repository's included) and `Follower.catch_up` (per view)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from ledger.aggregates.patient import patient_id
from ledger.commands import encounters, entries, patients
from ledger.follower import Follower
from ledger.integrity.keys import Identity
from projections.queries import Purpose, chart_history, chart_record, patient_record
from tests.conftest import Hospital

ADA = {"given_name": "Ada", "family_name": "Okafor", "sex": "female"}
TREATMENT = Purpose("treatment")


def ago(**delta: float) -> datetime:
    return datetime.now(UTC) - timedelta(**delta)


@dataclass
class Reads:
    aggregates: Counter[UUID] = field(default_factory=Counter)
    catch_ups: Counter[str] = field(default_factory=Counter)


@contextmanager
def counting(monkeypatch: pytest.MonkeyPatch, ledger: Any) -> Iterator[Reads]:
    reads = Reads()
    get, catch_up = ledger.events.get, Follower.catch_up

    def counted_get(originator_id: UUID, *args: Any, **kwargs: Any) -> Any:
        reads.aggregates[originator_id] += 1
        return get(originator_id, *args, **kwargs)

    def counted_catch_up(follower: Follower, *args: Any, **kwargs: Any) -> int:
        for view in follower.views:
            reads.catch_ups[view.name] += 1
        return catch_up(follower, *args, **kwargs)

    with monkeypatch.context() as patch:
        patch.setattr(ledger.events, "get", counted_get)
        patch.setattr(Follower, "catch_up", counted_catch_up)
        yield reads


@dataclass
class Chart:
    hospital: Hospital
    doc: Identity
    mrn: str
    encounters: list[UUID]


@pytest.fixture
def chart(hospital: Hospital) -> Chart:
    tech = hospital.enrol("tech1", ["technician"])
    doc = hospital.enrol("doc1", ["physician"])
    ledger = hospital.ledger
    mrn = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    opened = []
    for hours, klass in ((30, "emergency"), (6, "inpatient")):  # one open stay at a time
        oid = encounters.open_encounter(
            ledger,
            mrn,
            encounter_class=klass,
            attending="doc1",
            service="cardiology",
            effective_at=ago(hours=hours),
            actor=tech,
        )
        entries.add_entry(
            ledger, oid, kind="progress-note", text="Stable.", effective_at=ago(hours=1), actor=doc
        )
        opened.append(oid)
    return Chart(hospital, doc, mrn, opened)


def once_each(counts: Counter[Any]) -> None:
    assert counts and set(counts.values()) == {1}, dict(counts)


def test_chart_show_reads_each_aggregate_once_and_catches_the_index_up_once(
    chart: Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = chart.hospital.ledger
    with counting(monkeypatch, ledger) as reads:
        record = chart_record(ledger, chart.mrn, actor=chart.doc, why=TREATMENT).as_dict()
    assert [e["id"] for e in record["encounters"]] == [str(e) for e in chart.encounters]
    once_each(reads.aggregates)
    for oid in chart.encounters:
        assert reads.aggregates[oid] == 1
    assert reads.aggregates[patient_id(chart.mrn)] == 1
    assert reads.catch_ups == Counter({"chart-index": 1})


def test_patient_show_reads_the_patient_once_and_catches_the_index_up_once(
    chart: Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = chart.hospital.ledger
    with counting(monkeypatch, ledger) as reads:
        record = patient_record(ledger, chart.mrn, actor=chart.doc, why=TREATMENT)
    assert record.mrn == chart.mrn
    once_each(reads.aggregates)
    assert reads.aggregates[patient_id(chart.mrn)] == 1
    assert reads.catch_ups == Counter({"chart-index": 1})


def test_chart_history_reads_each_encounter_once_and_catches_the_index_up_once(
    chart: Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = chart.hospital.ledger
    with counting(monkeypatch, ledger) as reads:
        lines = [
            x.as_dict() for x in chart_history(ledger, chart.mrn, actor=chart.doc, why=TREATMENT)
        ]
    assert {line["event"].split("/")[0] for line in lines} >= {str(e) for e in chart.encounters}
    for oid in chart.encounters:
        assert reads.aggregates[oid] == 1
    assert reads.catch_ups == Counter({"chart-index": 1})


def test_what_a_command_saves_is_read_again_and_nothing_is_remembered_after_it(
    chart: Chart, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = chart.hospital.ledger
    encounter = chart.encounters[-1]
    with ledger.one_read():
        before = ledger.encounter(encounter)
        assert ledger.encounter(encounter) is before
        count = len(before.entries)
        entries.add_entry(
            ledger,
            encounter,
            kind="progress-note",
            text="Later.",
            effective_at=ago(minutes=1),
            actor=chart.doc,
        )
        after = ledger.encounter(encounter)
        assert after is not before and len(after.entries) == count + 1
        after.transfer(
            bed="9Z-1", service=None, attending=None, effective_at=ago(minutes=1), actor="doc1"
        )  # never saved
        assert ledger.encounter(encounter).bed != "9Z-1"
    with counting(monkeypatch, ledger) as reads:
        ledger.encounter(encounter)
        ledger.encounter(encounter)
    assert reads.aggregates[encounter] == 2
