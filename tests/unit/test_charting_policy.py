"""The charting policy: every decision, allowed and refused, and the late-documentation rule."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest

from policies.charting import (
    ENCOUNTER_CLASSES,
    ENTRY_KIND_CHOICES,
    ENTRY_KINDS,
    ONE_AT_A_TIME,
    POLICY_VERSION,
    OpenEncounter,
    is_late,
    may_amend,
    may_be_attending,
    may_deny_amendment,
    may_give_unknown_disposition,
    may_manage_encounter,
    may_open_encounter,
    may_record_entry,
    may_retract,
    may_sign,
)
from policies.roles import ROLES, Decision

T0 = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
Decide = Callable[..., Decision]
OTHER_ROLES = sorted(ROLES - {"technician", "nurse", "physician", "interface"})


def test_the_vocabularies() -> None:
    assert ENCOUNTER_CLASSES == {"inpatient", "outpatient", "emergency"}
    assert len(ENTRY_KINDS) == 17
    assert {"x-ray-report", "treatment-schedule", "physician-note"} <= ENTRY_KINDS


@pytest.mark.parametrize("decide", [may_manage_encounter, may_record_entry])
@pytest.mark.parametrize("role", ["technician", "nurse", "physician", "interface"])
def test_clinical_and_registration_staff_open_encounters_and_add_entries(
    decide: Decide, role: str
) -> None:
    decision = decide([role])
    assert decision.allowed and decision.policy_version == POLICY_VERSION


@pytest.mark.parametrize("decide", [may_manage_encounter, may_record_entry])
@pytest.mark.parametrize("roles", [[], *([r] for r in OTHER_ROLES), ["unknown"]])
def test_other_roles_do_not(decide: Decide, roles: list[str]) -> None:
    decision = decide(roles)
    assert not decision.allowed and decision.policy_version == POLICY_VERSION
    assert "only" in decision.reason


def test_a_role_among_several_is_enough() -> None:
    assert may_record_entry(["coder", "nurse"]).allowed
    assert may_manage_encounter(["roi-specialist", "technician"]).allowed


def test_the_attending_is_a_physician() -> None:
    assert may_be_attending(["physician"]).allowed
    assert not may_be_attending(["nurse"]).allowed
    assert not may_be_attending([]).allowed


@pytest.mark.parametrize(
    ("roles", "actor", "allowed"),
    [
        (["physician"], "dr-author", True),
        (["physician"], "dr-attending", True),
        (["physician"], "dr-other", False),
        (["nurse"], "dr-author", False),  # the author, but not a physician
        (["him-director"], "dr-attending", False),
        ([], "dr-author", False),
    ],
)
def test_who_signs(roles: list[str], actor: str, allowed: bool) -> None:
    decision = may_sign(roles, actor=actor, author="dr-author", attending="dr-attending")
    assert decision.allowed is allowed
    assert decision.policy_version == POLICY_VERSION


@pytest.mark.parametrize("decide", [may_amend, may_retract])
@pytest.mark.parametrize(
    ("roles", "actor", "allowed"),
    [
        (["nurse"], "author", True),
        (["interface"], "author", True),
        (["physician"], "someone-else", True),
        (["nurse"], "someone-else", False),
        (["technician"], "someone-else", False),
        (["him-director"], "someone-else", False),
        (["coder"], "author", False),  # named author without a charting role now
        ([], "author", False),
    ],
)
def test_who_amends_and_retracts(
    decide: Decide, roles: list[str], actor: str, allowed: bool
) -> None:
    decision = decide(roles, actor=actor, author="author")
    assert decision.allowed is allowed
    assert decision.policy_version == POLICY_VERSION


@pytest.mark.parametrize(
    ("roles", "allowed"),
    [
        (["him-director"], True),
        (["physician"], True),
        (["nurse"], False),
        (["technician"], False),
        (["roi-specialist"], False),
        (["administrator"], False),
        ([], False),
    ],
)
def test_who_denies_an_amendment_request(roles: list[str], allowed: bool) -> None:
    decision = may_deny_amendment(roles)
    assert decision.allowed is allowed
    assert decision.policy_version == POLICY_VERSION


@pytest.mark.parametrize("role", sorted(ROLES))
def test_only_an_interface_may_say_the_discharge_status_is_not_known(role: str) -> None:
    """A person discharging knows where the patient went (a NUBC status); an interface recording
    another system's closed encounter may have none to give."""
    decision = may_give_unknown_disposition([role])
    assert decision.allowed is (role == "interface")
    assert decision.policy_version == POLICY_VERSION
    if not decision.allowed:
        assert decision.reason.startswith("only an interface may discharge without a discharge")
    assert may_give_unknown_disposition(["nurse", "interface"]).allowed
    assert not may_give_unknown_disposition([]).allowed


@pytest.mark.parametrize(
    ("effective", "recorded", "discharged", "late"),
    [
        (T0, T0, None, False),
        (T0, T0 + timedelta(hours=24), None, False),  # exactly 24 h: on the limit
        (T0, T0 + timedelta(hours=24, seconds=1), None, True),
        (T0, T0 + timedelta(days=30), None, True),
        (T0, T0 + timedelta(hours=1), T0 + timedelta(minutes=30), True),  # about the stay
        (T0, T0 + timedelta(hours=1), T0, True),
        (T0 + timedelta(minutes=45), T0 + timedelta(hours=1), T0, False),  # after discharge
    ],
)
def test_late_documentation(
    effective: datetime, recorded: datetime, discharged: datetime | None, late: bool
) -> None:
    assert is_late(effective, recorded, discharged_at=discharged) is late


# -- one open inpatient stay (issue 17, item 5) -------------------------------------------------

ADMITTED = datetime(2026, 3, 4, 5, 6, tzinfo=UTC)


def _open(klass: str, at: datetime = ADMITTED, id_: str = "enc-1") -> OpenEncounter:
    return OpenEncounter(id_, klass, at)


def test_a_second_open_inpatient_stay_is_refused_naming_the_first() -> None:
    refused = may_open_encounter(
        "inpatient", [_open("outpatient", id_="visit"), _open("inpatient")]
    )
    assert not refused.allowed
    assert "enc-1" in refused.reason and "2026-03-04T05:06+00:00" in refused.reason
    assert "transfer" in refused.reason and "discharge" in refused.reason
    assert refused.policy_version == POLICY_VERSION
    # Of two open stays (a ledger from before the rule), the earliest is named.
    earlier = _open("inpatient", ADMITTED - timedelta(days=2), "enc-0")
    assert "enc-0" in may_open_encounter("inpatient", [_open("inpatient"), earlier]).reason


def test_the_admission_time_is_named_in_utc() -> None:
    local = datetime(2026, 3, 4, 7, 6, tzinfo=timezone(timedelta(hours=2)))
    assert (
        "2026-03-04T05:06+00:00"
        in may_open_encounter("inpatient", [_open("inpatient", local)]).reason
    )


def test_visits_overlap_a_stay_and_each_other_and_a_stay_may_follow_a_visit() -> None:
    stay, visit, emergency = _open("inpatient"), _open("outpatient"), _open("emergency")
    for klass in ("outpatient", "emergency"):
        assert may_open_encounter(klass, [stay, visit, emergency]).allowed
    # Admitted from the emergency department while that visit is still open.
    assert may_open_encounter("inpatient", [visit, emergency]).allowed
    assert may_open_encounter("inpatient", []).allowed
    assert ONE_AT_A_TIME == {"inpatient"} and ONE_AT_A_TIME <= ENCOUNTER_CLASSES


def test_the_entry_kinds_are_listed_once_in_the_order_offered() -> None:
    assert len(ENTRY_KIND_CHOICES) == len(set(ENTRY_KIND_CHOICES))
    assert frozenset(ENTRY_KIND_CHOICES) == ENTRY_KINDS
    assert ENTRY_KIND_CHOICES[0] == "presenting-symptoms"
