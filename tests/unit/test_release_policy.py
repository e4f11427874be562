"""Release-of-information rules (policies/release.py): authorizations, orders, deadlines, the
accounting of disclosures with every exclusion, its six-year window and agency suspensions."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.release import (
    Authorization,
    Disclosure,
    Suspension,
    accounting,
    authorization_problems,
    check_denial,
    due_date,
    exclusion,
    may_extend,
    may_handle_releases,
    validate,
)

TODAY = date(2026, 11, 23)
VALID = Authorization(
    description="discharge summary of the March admission",
    discloser="St. Mary's HIM department",
    recipient="Lund & Berg LLP",
    purpose="personal injury claim",
    expires_on=TODAY + timedelta(days=90),
    signed_on=TODAY - timedelta(days=3),
    signed_by="the patient",
    right_to_revoke=True,
    no_conditioning=True,
    redisclosure=True,
)


def test_a_complete_unexpired_authorization_is_valid() -> None:
    assert authorization_problems(VALID, today=TODAY) == []
    assert validate(
        requester_kind="attorney",
        purpose="legal",
        basis="authorization",
        sections=["chart"],
        today=TODAY,
        authorizations=[VALID],
    ).valid


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        ({"description": ""}, "description"),
        ({"discloser": ""}, "who may disclose"),
        ({"recipient": ""}, "who may receive"),
        ({"purpose": ""}, "the purpose"),
        ({"signed_by": ""}, "the signer"),
        ({"expires_on": None}, "expiration"),
        ({"signed_on": None}, "not dated"),
        ({"right_to_revoke": False}, "right to revoke"),
        ({"no_conditioning": False}, "not conditioned"),
        ({"redisclosure": False}, "redisclosed"),
        ({"expires_on": TODAY - timedelta(days=1)}, "expired on 2026-11-22"),
    ],
)
def test_each_missing_element_or_expiry_is_named(change: dict[str, object], problem: str) -> None:
    problems = authorization_problems(replace(VALID, **change), today=TODAY)  # type: ignore[arg-type]
    assert len(problems) == 1 and problem in problems[0]


def test_an_authorization_expiring_today_is_still_good_and_an_event_may_replace_the_date() -> None:
    assert authorization_problems(replace(VALID, expires_on=TODAY), today=TODAY) == []
    by_event = replace(VALID, expires_on=None, expiry_event="end of the litigation")
    assert authorization_problems(by_event, today=TODAY) == []


def test_psychotherapy_notes_and_substance_use_need_their_own_authorization() -> None:
    for section, own in (
        ("psychotherapy-notes", replace(VALID, psychotherapy_notes=True)),
        ("substance-use", replace(VALID, substance_use=True)),
    ):
        general = validate(
            requester_kind="attorney",
            purpose="legal",
            basis="authorization",
            sections=["chart", section],
            today=TODAY,
            authorizations=[VALID],
        )
        assert not general.valid
        assert any("of their own" in p or "Part 2" in p for p in general.problems)
        assert validate(
            requester_kind="attorney",
            purpose="legal",
            basis="authorization",
            sections=["chart", section],
            today=TODAY,
            authorizations=[VALID, own],
        ).valid


def test_a_subpoena_needs_assurance_and_a_court_order_does_not() -> None:
    bare = validate(
        requester_kind="attorney",
        purpose="legal",
        basis="subpoena",
        sections=["chart"],
        today=TODAY,
    )
    assert not bare.valid and "satisfactory assurance" in bare.problems[0]
    for assurance in ({"notice_to_patient": True}, {"protective_order": True}):
        assert validate(
            requester_kind="attorney",
            purpose="legal",
            basis="subpoena",
            sections=["chart"],
            today=TODAY,
            **assurance,  # type: ignore[arg-type]
        ).valid
    assert validate(
        requester_kind="court",
        purpose="legal",
        basis="court-order",
        sections=["chart"],
        today=TODAY,
    ).valid
    assert not validate(
        requester_kind="attorney",
        purpose="legal",
        basis="court-order",
        sections=["chart"],
        today=TODAY,
    ).valid


def test_the_right_of_access_is_the_patients() -> None:
    assert validate(
        requester_kind="patient",
        purpose="patient-request",
        basis="patient-access",
        sections=["chart"],
        today=TODAY,
    ).valid
    assert not validate(
        requester_kind="insurer",
        purpose="patient-request",
        basis="patient-access",
        sections=["chart"],
        today=TODAY,
    ).valid


def test_thirty_days_and_one_extension_before_the_deadline() -> None:
    received = date(2026, 11, 1)
    assert due_date(received) == date(2026, 12, 1)
    assert due_date(received, extended=True) == date(2026, 12, 31)
    assert may_extend(received, today=date(2026, 12, 1), already=False).allowed  # the last day
    assert not may_extend(received, today=date(2026, 12, 2), already=False).allowed
    assert not may_extend(received, today=date(2026, 11, 5), already=True).allowed


def test_denials_name_a_real_information_blocking_exception() -> None:
    assert check_denial("would endanger the patient's life", "preventing-harm") == []
    assert check_denial("", None) == ["a denial needs its reason"]
    assert "not an information-blocking exception" in check_denial("x", "inconvenience")[0]


def test_only_roi_staff_handle_releases() -> None:
    assert may_handle_releases(["roi-specialist"]).allowed
    assert may_handle_releases(["him-director"]).allowed
    assert not may_handle_releases(["physician", "compliance-officer"]).allowed


ACCOUNTABLE = Disclosure(
    event="e1/1",
    released_on=date(2024, 5, 2),
    recipient="Kansas Department of Health",
    recipient_address="1000 SW Jackson, Topeka",
    requester_kind="government-agency",
    purpose="public-health",
    basis="permitted",
    description="reportable disease notification",
)


@pytest.mark.parametrize(
    ("change", "reason"),
    [
        ({"purpose": "treatment"}, "treatment, payment"),
        ({"purpose": "payment"}, "treatment, payment"),
        ({"purpose": "operations"}, "treatment, payment"),
        ({"requester_kind": "patient"}, "to the individual"),
        ({"requester_kind": "personal-representative"}, "to the individual"),
        ({"purpose": "incidental"}, "incident to"),
        ({"basis": "authorization"}, "under an authorization"),
        ({"purpose": "facility-directory"}, "facility directory"),
        ({"purpose": "involved-in-care"}, "involved in the patient's care"),
        ({"purpose": "national-security"}, "national security"),
        ({"purpose": "correctional"}, "correctional"),
        ({"purpose": "limited-data-set"}, "limited data set"),
        ({"released_on": date(2003, 4, 13)}, "before the compliance date"),
    ],
)
def test_every_exclusion_of_164_528_a_1(change: dict[str, object], reason: str) -> None:
    assert exclusion(ACCOUNTABLE) is None
    why = exclusion(replace(ACCOUNTABLE, **change))  # type: ignore[arg-type]
    assert why is not None and reason in why


def test_the_six_year_window_is_inclusive_at_its_start() -> None:
    asked = date(2026, 11, 23)
    edge = replace(ACCOUNTABLE, event="edge/1", released_on=date(2020, 11, 23))
    before = replace(ACCOUNTABLE, event="old/1", released_on=date(2020, 11, 22))
    later = replace(ACCOUNTABLE, event="later/1", released_on=date(2026, 11, 24))
    report = accounting([edge, before, later], requested_on=asked)
    assert [d.event for d in report.lines] == ["edge/1"]
    assert report.period_start == date(2020, 11, 23)


def test_an_agency_suspension_holds_while_in_force() -> None:
    asked = date(2026, 11, 23)
    agency = ACCOUNTABLE.recipient
    written = Suspension(agency, start=date(2026, 11, 1), until=date(2027, 1, 1))
    assert accounting([ACCOUNTABLE], requested_on=asked, suspensions=[written]).lines == ()
    expired = Suspension(agency, start=date(2026, 1, 1), until=date(2026, 11, 22))
    assert accounting([ACCOUNTABLE], requested_on=asked, suspensions=[expired]).lines
    oral = Suspension(agency, start=date(2026, 10, 1), until=date(2027, 1, 1), oral=True)
    assert oral.ends == date(2026, 10, 31)  # an oral request holds 30 days
    assert accounting([ACCOUNTABLE], requested_on=asked, suspensions=[oral]).lines
    other = Suspension("FBI", start=date(2026, 11, 1), until=date(2027, 1, 1))
    assert accounting([ACCOUNTABLE], requested_on=asked, suspensions=[other]).lines


@given(st.lists(st.dates(min_value=date(2000, 1, 1), max_value=date(2030, 1, 1)), max_size=20))
def test_the_accounting_only_lists_accountable_disclosures_in_its_window(days: list[date]) -> None:
    asked = date(2026, 11, 23)
    items = [replace(ACCOUNTABLE, event=f"e{i}/1", released_on=d) for i, d in enumerate(days)]
    report = accounting(items, requested_on=asked)
    for line in report.lines:
        assert report.period_start <= line.released_on <= asked and exclusion(line) is None
    listed = {d.event for d in report.lines} | {d.event for d, _ in report.excluded}
    assert listed == {d.event for d in items if report.period_start <= d.released_on <= asked}
