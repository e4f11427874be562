"""Oversight reads in the access policy (policies/access.py `decide_oversight`): the audit trail,
the accounting of disclosures, the policy's lists and the release queue, each rule both ways."""

from __future__ import annotations

import pytest

from policies.access import AccessConfig, PatientFacts, decide, decide_oversight

CONFIG = AccessConfig.from_mapping(
    {
        "version": "test.1",
        "patients": {"restricted": ["MR0000004"], "vip": ["MR0000007"]},
        "staff": {"privacy1": {"patient_mrn": "MR0000012"}},
    }
)


@pytest.mark.parametrize("role", ["compliance-officer", "him-director"])
@pytest.mark.parametrize("mrn", ["MR0000004", "MR0000007", "MR0000001"])
@pytest.mark.parametrize("section", ["audit-trail", "disclosures"])
def test_compliance_and_him_see_the_audit_rows_of_every_patient(
    role: str, mrn: str, section: str
) -> None:
    decision = decide(
        [role], "operations", patient=PatientFacts(mrn), sections=[section], config=CONFIG
    )
    assert decision.allowed and not decision.flagged
    assert decision.sections == (section,) and decision.policy_version == "access/1+test.1"
    # ... and never the chart of a restricted patient through it.
    chart = decide(
        [role], "operations", patient=PatientFacts("MR0000004"), sections=[section, "chart"],
        config=CONFIG,
    )  # fmt: skip
    assert not chart.allowed


@pytest.mark.parametrize(
    ("roles", "section"),
    [
        (["technician"], "audit-trail"),
        (["physician"], "audit-trail"),
        (["roi-specialist"], "audit-trail"),
        (["administrator"], "audit-trail"),
        (["coder"], "access-policy"),
        (["technician"], "release-queue"),
    ],
)
def test_other_roles_get_no_oversight_rule(roles: list[str], section: str) -> None:
    assert decide_oversight(roles, "operations", sections=[section], config=CONFIG) is None
    restricted = decide(
        roles, "operations", patient=PatientFacts("MR0000004"), sections=[section], config=CONFIG
    )
    assert not restricted.allowed


def test_the_policy_lists_are_for_administrators_compliance_and_him() -> None:
    for role in ("administrator", "compliance-officer", "him-director"):
        decision = decide(
            [role], "operations", patient=PatientFacts("MR0000004"), sections=["access-policy"],
            config=CONFIG,
        )  # fmt: skip
        assert decision.allowed, role
    roi = decide(
        ["roi-specialist"], "operations", patient=PatientFacts("MR0000004"),
        sections=["release-queue"], config=CONFIG,
    )  # fmt: skip
    assert roi.allowed


def test_an_oversight_read_has_an_oversight_purpose_and_is_not_of_ones_own_chart() -> None:
    treatment = decide(["compliance-officer"], "treatment", sections=["audit-trail"], config=CONFIG)
    assert not treatment.allowed and "treatment" in treatment.reason
    own = decide(
        ["compliance-officer"], "operations", actor="privacy1",
        patient=PatientFacts("MR0000012"), sections=["audit-trail"], config=CONFIG,
    )  # fmt: skip
    assert not own.allowed and "their own chart" in own.reason
    other = decide(
        ["compliance-officer"], "legal", actor="privacy1", patient=PatientFacts("MR0000004"),
        sections=["audit-trail"], config=CONFIG,
    )  # fmt: skip
    assert other.allowed


def test_no_sections_is_no_oversight_read() -> None:
    assert decide_oversight(["compliance-officer"], "operations", sections=[]) is None
