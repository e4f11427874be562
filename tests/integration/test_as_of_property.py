"""One definition of "as of", checked against a model (issue 17, item 1; decisions §34).

A hypothesis state machine drives random histories through the ledger's commands (registrations,
demographic corrections, admissions, entries, amendments, retractions, document filings and
refilings, merges and their undoing, discharges) while a plain model keeps what each step did,
snapshotted with the time after every step. At random moments it asks the chart as of one of
those snapshot times three ways and checks they agree exactly with the model's snapshot:

- `chart show --as-of` (`projections.queries.chart_record`, what the CLI prints as JSON),
- the legal package's `record.json` (`projections.legal.legal_package`),
- a replay of the raw stored events recorded by then (`recorder.select_events`, decoded and
  folded here, each aggregate's prefix);

and that `chart history` holds every event of every aggregate that was ever part of the chart
(documents filed, refiled in or away, merges) and equals the legal package's `history.json`.

What has been found since not to belong in the record (entries retracted as entered in error,
documents refiled to another chart, records whose merge was undone) is withheld in both answers
and named; the model predicts those too. It uses only entry points that exist before the issue
(so it can be run against the older code, where it fails).
"""

from __future__ import annotations

import copy
import json
import os
import time
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from eventsourcing.application import project_aggregate
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from ledger.commands import documents, encounters, entries, patients
from ledger.integrity.keys import Identity
from projections.legal import legal_package
from projections.queries import Purpose, chart_history, chart_record
from tests.conftest import Hospital

LEGAL = Purpose("legal")
WORDS = ["cough", "fever", "stable", "improving", "rales", "afebrile", "pain", "sutured"]
KINDS = ["condition", "diagnosis", "treatment", "examination", "history"]
NAMES = ["Okafor", "Lindqvist", "Haddad", "Moreau", "Tanaka", "Novak", "Osei", "Ruiz"]


@dataclass
class PatientModel:
    family: str
    merged_into: str | None = None
    absorbed: list[str] = field(default_factory=list)


@dataclass
class EntryModel:
    text: str
    retracted: bool = False


@dataclass
class EncounterModel:
    mrn: str
    open: bool = True
    entries: dict[UUID, EntryModel] = field(default_factory=dict)


@dataclass
class Model:
    patients: dict[str, PatientModel] = field(default_factory=dict)
    encounters: dict[UUID, EncounterModel] = field(default_factory=dict)
    documents: dict[UUID, str] = field(default_factory=dict)
    """Document -> the MRN whose chart it is in (filing order kept)."""
    document_holders: dict[UUID, set[str]] = field(default_factory=dict)
    """Every MRN a document was ever filed or refiled to."""

    def chart(self, mrn: str) -> list[str]:
        """The MRN and every record merged into it (merges of merges too)."""
        found, pending = [mrn], list(self.patients[mrn].absorbed)
        while pending:
            other = pending.pop(0)
            if other not in found:
                found.append(other)
                pending.extend(self.patients[other].absorbed)
        return found

    def current(self) -> list[str]:
        return [m for m, p in self.patients.items() if p.merged_into is None]


def _expected(then: Model, now: Model, mrn: str) -> dict[str, Any]:
    """What the chart of `mrn` held at the snapshot `then`, seen from `now` (the rule of
    decisions §34), in the shape `_answer` reduces an answer to."""
    ids_then, ids_now = then.chart(mrn), set(now.chart(mrn))
    kept = [m for m in ids_then if m in ids_now]
    retracted_now = {
        (eid, entry)
        for eid, enc in now.encounters.items()
        if enc.mrn in ids_now
        for entry, e in enc.entries.items()
        if e.retracted
    }
    encounters = [
        (
            str(eid),
            [
                (str(entry), e.text)
                for entry, e in enc.entries.items()
                if (eid, entry) not in retracted_now
            ],
            enc.open,
        )
        for eid, enc in then.encounters.items()
        if enc.mrn in kept
    ]
    documents = [
        str(d)
        for d, holder in then.documents.items()
        if holder in ids_then and now.documents[d] in ids_now
    ]
    withheld_documents = sorted(
        str(d)
        for d, holder in then.documents.items()
        if holder in ids_then and now.documents[d] not in ids_now
    )
    return {
        "family": then.patients[mrn].family,
        "encounters": encounters,
        "documents": documents,
        "withheld_entries": sorted(f"{e}:{x}" for e, x in retracted_now),
        "withheld_documents": withheld_documents,
        "withheld_records": [m for m in ids_then if m not in ids_now],
    }


def _answer(record: dict[str, Any], withheld: dict[str, Any]) -> dict[str, Any]:
    return {
        "family": record["demographics"]["family_name"],
        "encounters": [
            (e["id"], [(x["id"], x["text"]) for x in e["entries"]], e["discharged_at"] is None)
            for e in record["encounters"]
        ],
        "documents": [d["id"] for d in record["documents"]],
        "withheld_entries": sorted(withheld.get("entries", [])),
        "withheld_documents": sorted(withheld.get("documents", [])),
        "withheld_records": list(withheld.get("records", [])),
    }


class AsOfMachine(RuleBasedStateMachine):
    """Random chart histories on one ledger; each example keeps to the patients it registers."""

    def __init__(self, hospital: Hospital, staff: dict[str, Identity], out: Path) -> None:
        super().__init__()
        self.hospital = hospital
        self.ledger = hospital.ledger
        self.tech, self.doc, self.roi = staff["tech1"], staff["doc1"], staff["roi1"]
        self.out = out
        self.model = Model()
        self.snapshots: list[tuple[datetime, Model]] = []
        self.checks = 0

    def _ago(self, hours: float) -> datetime:
        return datetime.now(UTC) - timedelta(hours=hours)

    # -- the steps -----------------------------------------------------------------------------
    @initialize(families=st.lists(st.sampled_from(NAMES), min_size=2, max_size=3))
    def start(self, families: list[str]) -> None:
        """Two or three patients, the first admitted: most histories are about charts."""
        for number, family in enumerate(families):
            self.register(family, number + 1)
        first = next(iter(self.model.patients))
        eid = encounters.open_encounter(
            self.ledger,
            first,
            encounter_class="inpatient",
            attending="doc1",
            service="medicine",
            effective_at=self._ago(5),
            actor=self.tech,
        )
        self.model.encounters[eid] = EncounterModel(first)

    @precondition(lambda self: len(self.model.patients) < 4)
    @rule(family=st.sampled_from(NAMES), day=st.integers(1, 28))
    def register(self, family: str, day: int) -> None:
        number = len(self.model.patients)
        demographics = {
            "given_name": f"Pat{os.urandom(3).hex()}",
            "family_name": family,
            "sex": "female" if number % 2 else "male",
            "birth_date": date(1950 + number, 3, day),
        }
        mrn = patients.register_patient(
            self.ledger, demographics, actor=self.tech, likely_matches=[]
        )
        self.model.patients[mrn] = PatientModel(family)

    @precondition(lambda self: self.model.patients)
    @rule(data=st.data(), family=st.sampled_from(NAMES))
    def correct(self, data: st.DataObject, family: str) -> None:
        mrn = data.draw(st.sampled_from(sorted(self.model.patients)))
        patients.correct_demographics(
            self.ledger, mrn, {"family_name": family}, reason="spelling", actor=self.tech
        )
        self.model.patients[mrn].family = family

    def _admittable(self) -> list[str]:
        busy = {
            m
            for enc in self.model.encounters.values()
            if enc.open
            for m in [enc.mrn, *self._survivors(enc.mrn)]
        }
        return [m for m in self.model.current() if m not in busy]

    def _survivors(self, mrn: str) -> list[str]:
        found = []
        while (up := self.model.patients[mrn].merged_into) is not None:
            found.append(up)
            mrn = up
        return found

    @precondition(lambda self: self._admittable())
    @rule(data=st.data())
    def admit(self, data: st.DataObject) -> None:
        mrn = data.draw(st.sampled_from(self._admittable()))
        eid = encounters.open_encounter(
            self.ledger,
            mrn,
            encounter_class="inpatient",
            attending="doc1",
            service="medicine",
            effective_at=self._ago(5),
            actor=self.tech,
        )
        self.model.encounters[eid] = EncounterModel(mrn)

    def _open(self) -> list[UUID]:
        return [e for e, enc in self.model.encounters.items() if enc.open]

    @precondition(lambda self: self._open())
    @rule(
        data=st.data(),
        texts=st.lists(
            st.tuples(st.sampled_from(KINDS), st.sampled_from(WORDS)), min_size=1, max_size=3
        ),
    )
    def add_entries(self, data: st.DataObject, texts: list[tuple[str, str]]) -> None:
        eid = data.draw(st.sampled_from(self._open()))
        for kind, text in texts:
            entry = entries.add_entry(
                self.ledger, eid, kind=kind, text=text, effective_at=self._ago(1), actor=self.doc
            )
            self.model.encounters[eid].entries[entry] = EntryModel(text)

    def _live_entries(self) -> list[tuple[UUID, UUID]]:
        return [
            (eid, entry)
            for eid, enc in self.model.encounters.items()
            for entry, e in enc.entries.items()
            if not e.retracted
        ]

    @precondition(lambda self: self._live_entries())
    @rule(data=st.data(), word=st.sampled_from(WORDS))
    def amend(self, data: st.DataObject, word: str) -> None:
        eid, entry = data.draw(st.sampled_from(self._live_entries()))
        text = f"{self.model.encounters[eid].entries[entry].text} {word}"
        entries.amend_entry(
            self.ledger,
            eid,
            entry,
            text=text,
            reason="clarified",
            requested_by="doc1",
            actor=self.doc,
        )
        self.model.encounters[eid].entries[entry].text = text

    @precondition(lambda self: self._live_entries())
    @rule(data=st.data())
    def retract(self, data: st.DataObject) -> None:
        eid, entry = data.draw(st.sampled_from(self._live_entries()))
        entries.retract_entry(self.ledger, eid, entry, reason="wrong patient", actor=self.doc)
        self.model.encounters[eid].entries[entry].retracted = True

    @precondition(lambda self: self._open())
    @rule(data=st.data())
    def discharge(self, data: st.DataObject) -> None:
        eid = data.draw(st.sampled_from(self._open()))
        encounters.discharge(
            self.ledger, eid, disposition="home", effective_at=self._ago(0.5), actor=self.tech
        )
        self.model.encounters[eid].open = False

    @precondition(lambda self: self.model.current())
    @rule(data=st.data())
    def file(self, data: st.DataObject) -> None:
        mrn = data.draw(st.sampled_from(self.model.current()))
        scan = self.out / f"scan-{os.urandom(4).hex()}.txt"
        scan.write_bytes(os.urandom(16))
        document = documents.file_document(self.ledger, mrn, scan, kind="consent", actor=self.tech)
        self.model.documents[document] = mrn
        self.model.document_holders[document] = {mrn}

    def _refilable(self) -> list[tuple[UUID, str]]:
        return [
            (d, target)
            for d, holder in self.model.documents.items()
            for target in self.model.current()
            if target != holder
        ]

    @precondition(lambda self: self._refilable())
    @rule(data=st.data())
    def refile(self, data: st.DataObject) -> None:
        document, target = data.draw(st.sampled_from(self._refilable()))
        documents.refile_document(self.ledger, document, target, reason="misfiled", actor=self.tech)
        self.model.documents[document] = target
        self.model.document_holders[document].add(target)

    def _mergeable(self) -> list[tuple[str, str]]:
        current = self.model.current()
        return [(a, b) for a in current for b in current if a != b]

    @precondition(lambda self: self._mergeable())
    @rule(data=st.data())
    def merge(self, data: st.DataObject) -> None:
        survivor, retired = data.draw(st.sampled_from(self._mergeable()))
        patients.merge_patients(self.ledger, survivor, retired, reason="duplicate", actor=self.tech)
        self.model.patients[retired].merged_into = survivor
        self.model.patients[survivor].absorbed.append(retired)

    def _merged(self) -> list[tuple[str, str]]:
        return [(p.merged_into, m) for m, p in self.model.patients.items() if p.merged_into]

    @precondition(lambda self: self._merged())
    @rule(data=st.data())
    def undo_merge(self, data: st.DataObject) -> None:
        survivor, retired = data.draw(st.sampled_from(self._merged()))
        patients.undo_merge(
            self.ledger, survivor, retired, reason="not the same person", actor=self.tech
        )
        self.model.patients[retired].merged_into = None
        self.model.patients[survivor].absorbed.remove(retired)

    @invariant()
    def snapshot(self) -> None:
        """The time after each step, with the model as it then stood."""
        time.sleep(0.002)
        self.snapshots.append((datetime.now(UTC), copy.deepcopy(self.model)))
        time.sleep(0.002)

    # -- the check -----------------------------------------------------------------------------
    def _askable(self) -> list[tuple[int, str]]:
        now = self.model.current()
        return [
            (i, mrn)
            for i, (_, then) in enumerate(self.snapshots)
            for mrn in now
            if mrn in then.patients and then.patients[mrn].merged_into is None
        ]

    def _shown(self, mrn: str, moment: datetime, expected: dict[str, Any]) -> dict[str, Any]:
        record = chart_record(self.ledger, mrn, actor=self.roi, why=LEGAL, as_of=moment)
        shown = json.loads(
            json.dumps(record.as_dict(), default=str)
        )  # exactly what `--json` prints
        assert _answer(shown, shown.get("withheld_since", {})) == expected, "chart show --as-of"
        return shown

    def teardown(self) -> None:
        """At the end, every chart at every snapshot time, as `chart show --as-of` gives it."""
        for index, mrn in self._askable():
            moment, then = self.snapshots[index]
            self._shown(mrn, moment, _expected(then, self.model, mrn))

    @precondition(lambda self: self._askable())
    @rule(data=st.data())
    def check_as_of(self, data: st.DataObject) -> None:
        """Now and then, one moment three ways: chart show, the legal package, the raw events."""
        index, mrn = data.draw(st.sampled_from(self._askable()))
        moment, then = self.snapshots[index]
        expected = _expected(then, self.model, mrn)
        shown = self._shown(mrn, moment, expected)

        self.checks += 1
        folder = self.out / f"package-{os.urandom(6).hex()}"
        legal_package(
            self.ledger,
            mrn,
            as_of=moment,
            out=folder,
            actor=self.roi,
            node=self.hospital.node(),
            why=LEGAL,
        )
        record = json.loads((folder / "record.json").read_text())
        assert _answer(record, record["withheld"]) == expected, "legal package"
        for key in ("encounters", "documents", "demographics"):
            assert record[key] == shown[key], key  # the same answer, field for field

        for encounter in shown["encounters"]:  # the raw events recorded by then, folded
            eid = UUID(encounter["id"])
            stored = self.ledger.recorder.select_events(eid)
            events = [self.ledger.mapper.to_domain_event(s) for s in stored]
            replayed = project_aggregate(None, [e for e in events if e.timestamp <= moment])
            kept = [
                str(x)
                for x, e in replayed.entries.items()
                if f"{eid}:{x}" not in expected["withheld_entries"]
            ]
            assert [x["id"] for x in encounter["entries"]] == kept
            assert [x["text"] for x in encounter["entries"]] == [
                replayed.entries[UUID(x)].text for x in kept
            ]

        self._check_history(mrn, folder)

    def _check_history(self, mrn: str, folder: Path) -> None:
        lines = [x.as_dict() for x in chart_history(self.ledger, mrn, actor=self.roi, why=LEGAL)]
        ids = set(self.model.chart(mrn))
        aggregates = [self.ledger.patient(m).id for m in ids]
        aggregates += [e for e, enc in self.model.encounters.items() if enc.mrn in ids]
        aggregates += [d for d, held in self.model.document_holders.items() if held & ids]
        every = {
            f"{oid}/{stored.originator_version}"
            for oid in aggregates
            for stored in self.ledger.recorder.select_events(oid)
        }
        assert {line["event"] for line in lines} == every, "chart history is every change"
        package = json.loads((folder / "history.json").read_text())
        assert [x["event"] for x in package] == [x["event"] for x in lines]


def _run(hospital: Hospital, tmp_path: Path, examples: int, steps: int) -> None:
    staff = {
        name: hospital.enrol(name, [role])
        for name, role in (
            ("tech1", "technician"),
            ("doc1", "physician"),
            ("roi1", "roi-specialist"),
        )
    }
    run_state_machine_as_test(
        lambda: AsOfMachine(hospital, staff, tmp_path),
        settings=settings(
            max_examples=examples,
            stateful_step_count=steps,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )


def test_every_as_of_answer_agrees_with_the_model(
    hospital: Hospital, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    postgres = "postgresql" in request.node.name
    _run(hospital, tmp_path, examples=6 if postgres else 20, steps=20)
