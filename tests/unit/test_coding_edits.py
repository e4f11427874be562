"""Medicare Code Editor edits, named in words and pinned on the code that raised them.

Every edit of `policies.coding.MCE_EDITS` that msdrg 1.2 raises is triggered here with a real
code, and msdrg's `MceEditor`, asked directly with the same input, must report it too.
"""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import msdrg
import pytest

from ledger.coding import edits
from ledger.coding.claim import Claim, CodedDiagnosis, CodedProcedure
from policies.coding import MCE_EDITS

FY2026 = date(2025, 12, 1)
FY2024 = date(2023, 12, 1)  # CMS removed the sex conflict edit from the MCE for FY2025


def claim(
    pdx: str,
    sdx: tuple[str, ...] = (),
    procedures: tuple[str, ...] = (),
    *,
    on: date = FY2026,
    age: int = 50,
    sex: str = "M",
    status: str = "01",
) -> Claim:
    return Claim(
        discharge=on,
        age=age,
        sex=sex,
        discharge_status=status,
        admission_source="1",
        principal=CodedDiagnosis(pdx),
        secondary=tuple(CodedDiagnosis(c) for c in sdx),
        procedures=tuple(CodedProcedure(c, on) for c in procedures),
    )


def msdrg_names(inputs: dict[str, Any]) -> set[str]:
    with msdrg.MceEditor() as editor:
        return {edit["name"] for edit in editor.edit(inputs)["edits"]}


def found(c: Claim, name: str) -> list[edits.Edit]:
    version = 430 if c.discharge >= date(2025, 10, 1) else 410
    assert name in msdrg_names(c.msdrg_input(version)), f"msdrg does not raise {name}"
    named = [e for e in edits.code_edits(c) if e.name == name]
    assert named, f"{name} not reported"
    for e in named:
        assert e.refuses == MCE_EDITS[name].refuses
        assert "\n" not in e.sentence and e.sentence.endswith(".")
        assert not re.search(r"[.!?]\s+[A-Z]", e.sentence[:-1]), e.sentence
    return named


CASES = [
    # (edit, claim, the code it names)
    ("INVALID_CODE", claim("J18.9", procedures=("0DTJ4ZZ", "0SG604Z")), "0SG604Z"),
    ("E_CODE_AS_PDX", claim("V00.01XA"), "V0001XA"),
    ("MANIFESTATION_AS_PDX", claim("F02.80", ("G30.9",)), "F0280"),
    ("MANIFESTATION_AS_PDX", claim("G01", ("A39.0",)), "G01"),
    ("UNACCEPTABLE_PDX", claim("Z68.41"), "Z6841"),
    ("REQUIRES_SDX", claim("Z51.89"), "Z5189"),
    ("AGE_CONFLICT", claim("J18.9", ("I10", "Z38.00")), "Z3800"),
    ("SEX_CONFLICT", claim("J18.9", ("I10", "C61"), on=FY2024, sex="F"), "C61"),
    (
        "SEX_CONFLICT",
        claim("J18.9", procedures=("0DTJ4ZZ", "0VT00ZZ"), on=FY2024, sex="F"),
        "0VT00ZZ",
    ),
    ("DUPLICATE_OF_PDX", claim("J18.9", ("I10", "J18.9")), "J189"),
    ("QUESTIONABLE_ADMISSION", claim("I10"), "I10"),
    (
        "QUESTIONABLE_OBSTETRIC_ADMISSION",
        claim("J18.9", procedures=("10D00Z1",), sex="F"),
        "10D00Z1",
    ),
    ("NON_COVERED", claim("J18.9", procedures=("00F3XZZ",)), "00F3XZZ"),
    ("LIMITED_COVERAGE", claim("N18.6", procedures=("0TY00Z0",)), "0TY00Z0"),
    ("UNSPECIFIED", claim("G81.00"), "G8100"),
    ("WRONG_PROCEDURE_PERFORMED", claim("J18.9", ("Y65.51",)), "Y6551"),
]


@pytest.mark.parametrize(("name", "c", "code"), CASES, ids=[f"{n}-{k}" for n, _, k in CASES])
def test_each_edit_is_named_on_its_code(name: str, c: Claim, code: str) -> None:
    named = found(c, name)
    assert [e.code for e in named] == [code]
    shown = code if len(code) <= 3 or named[0].code_type == "procedure" else None
    if shown is not None:
        assert shown in named[0].sentence


def test_claim_edits_name_no_code() -> None:
    status = found(claim("J18.9", status="99"), "INVALID_DISCHARGE_STATUS")
    assert status[0].code is None and status[0].holds_final and not status[0].refuses
    sex = found(claim("J18.9", on=FY2024, sex="U"), "INVALID_SEX")
    assert sex[0].code is None and sex[0].code_type == "claim"


def test_an_impossible_age_refuses() -> None:
    # a Claim refuses such an age itself; the recorded input of an old grouping can hold one
    inputs = claim("J18.9").msdrg_input(430) | {"age": 130}
    assert "INVALID_AGE" in msdrg_names(inputs)
    (edit,) = edits.edits_for_inputs(inputs, age=130, sex="M")
    assert edit.name == "INVALID_AGE" and edit.refuses and "(130)" in edit.sentence


def test_one_edit_raised_by_three_codes_names_all_three() -> None:
    c = claim("C61", ("N40.0",), ("0VT00ZZ",), on=FY2024, sex="F")
    named = found(c, "SEX_CONFLICT")
    assert sorted(e.code or "" for e in named) == ["0VT00ZZ", "C61", "N400"]


def test_the_age_and_sex_are_in_the_words() -> None:
    (age,) = found(claim("J18.9", ("Z38.00",), age=70), "AGE_CONFLICT")
    assert age.sentence.startswith("Z38.00 is not consistent with the patient's age (70)")
    (sex,) = found(claim("J18.9", ("C61",), on=FY2024, sex="F"), "SEX_CONFLICT")
    assert "sex (female)" in sex.sentence


def test_no_sex_conflict_from_fy2025_as_cms_removed_it() -> None:
    c = claim("J18.9", ("C61",), sex="F")
    assert "SEX_CONFLICT" not in msdrg_names(c.msdrg_input(430))
    assert not [e for e in edits.code_edits(c) if e.name == "SEX_CONFLICT"]


def test_refusing_edits_come_first() -> None:
    listed = edits.code_edits(claim("I10", ("Z38.00",)))
    assert [e.name for e in listed] == ["AGE_CONFLICT", "QUESTIONABLE_ADMISSION"]
    assert [e.name for e in edits.refusing(listed)] == ["AGE_CONFLICT"]


def test_a_clean_claim_has_no_edits() -> None:
    assert edits.code_edits(claim("I50.20", ("E11.65", "N17.9"), ("0DTJ4ZZ",))) == []


def test_validity_by_date() -> None:
    assert edits.procedure_valid_on("0SG604Z", date(2025, 1, 15))
    assert not edits.procedure_valid_on("0SG604Z", FY2026)
    assert edits.diagnosis_valid_on("E11.A", FY2026)
    assert not edits.diagnosis_valid_on("E11.A", date(2023, 1, 15))


def test_an_edit_round_trips_through_plain_fields() -> None:
    (edit,) = edits.code_edits(claim("V00.01XA"))
    assert edits.Edit.from_fields(edit.as_fields()) == edit
