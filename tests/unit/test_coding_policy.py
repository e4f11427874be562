"""Coding vocabularies and who may code, sign final and read coding (policies.coding)."""

from __future__ import annotations

import pytest

from policies import coding
from policies.roles import ROLES

CODERS = {"coder", "him-director"}


@pytest.mark.parametrize("role", sorted(ROLES))
def test_who_may_code(role: str) -> None:
    decision = coding.may_code([role])
    assert decision.allowed == (role in CODERS)
    assert decision.reason and decision.policy_version == coding.POLICY_VERSION


@pytest.mark.parametrize("role", sorted(ROLES))
def test_who_may_sign_final(role: str) -> None:
    assert coding.may_sign_final([role]).allowed == (role in CODERS)


@pytest.mark.parametrize("role", sorted(ROLES))
@pytest.mark.parametrize("own_stay", [False, True])
def test_who_may_read_coding(role: str, own_stay: bool) -> None:
    expected = role in CODERS | {"compliance-officer"} or (role == "physician" and own_stay)
    assert coding.may_read_coding([role], own_stay=own_stay).allowed == expected


def test_no_roles_no_coding() -> None:
    assert not coding.may_code([]).allowed
    assert not coding.may_sign_final([]).allowed
    assert not coding.may_read_coding([], own_stay=True).allowed


def test_vocabularies() -> None:
    assert set(coding.POA_INDICATORS) == {"Y", "N", "U", "W", "1"}
    assert set(coding.POA_FOR_GROUPER) == set(coding.POA_INDICATORS)
    assert coding.poa_problem("Y") is None
    assert "Y" in (coding.poa_problem("X") or "")
    assert coding.admission_source_problem("1") is None
    assert coding.admission_source_problem("7") is not None  # discontinued (emergency room)
    assert coding.discharge_status_problem("01") is None
    assert coding.discharge_status_problem("1") is not None
    assert all(len(k) == 2 and k.isdigit() for k in coding.DISCHARGE_STATUSES)


def test_a_change_needs_a_reason() -> None:
    assert coding.reason_problem(None) is not None
    assert coding.reason_problem("  ab ") is not None
    assert coding.reason_problem("physician query answered") is None


def test_the_edits_the_brief_names_refuse_and_the_rest_warn() -> None:
    refusing = {name for name, policy in coding.MCE_EDITS.items() if policy.refuses}
    assert {
        "INVALID_CODE",
        "MANIFESTATION_AS_PDX",
        "E_CODE_AS_PDX",
        "UNACCEPTABLE_PDX",
        "SEX_CONFLICT",
        "AGE_CONFLICT",
    } <= refusing
    assert not coding.MCE_EDITS["QUESTIONABLE_ADMISSION"].refuses
    assert not coding.MCE_EDITS["REQUIRES_SDX"].refuses
    assert coding.MCE_EDITS["REQUIRES_SDX"].holds_final
    # a refusing edit never merely holds the final signature: it stops the code at once
    assert not any(p.refuses and p.holds_final for p in coding.MCE_EDITS.values())


def test_an_unknown_edit_warns_and_coverage_variants_share_one_rule() -> None:
    assert not coding.mce_policy("SOMETHING_NEW").refuses
    assert coding.mce_policy("LIMITED_COVERAGE_KIDNEY") is coding.MCE_EDITS["LIMITED_COVERAGE"]


def test_an_edit_reads_as_one_sentence() -> None:
    text = coding.MCE_EDITS["AGE_CONFLICT"].sentence(code="Z38.00", age=70, sex="F")
    assert text == (
        "Z38.00 is not consistent with the patient's age (70): check the code and the "
        "patient's date of birth."
    )
