"""Access monitoring rules (policies/monitoring.py): each fires in one scenario, not another."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from policies.monitoring import (
    RULES,
    AccessLine,
    MonitoringConfig,
    PatientFacts,
    StaffFacts,
    after_hours,
    alerts,
)
from policies.review import may_review

NOON = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
STAFF = {
    "tech1": StaffFacts("tech1", "Okafor", "12 Elm St Wichita", "MR0000012"),
    "nurse1": StaffFacts("nurse1", "Salo", "1 Oak Ave Olathe"),
    "gone1": StaffFacts("gone1", deactivated_at=NOON - timedelta(hours=1)),
}
CONFIG = MonitoringConfig(
    vip=frozenset({"MR0000007"}), restricted=frozenset({"MR0000004"}), staff=STAFF
)
PATIENTS = {
    "MR0000001": PatientFacts("MR0000001", "Okafor", "99 Pine Rd Topeka"),
    "MR0000002": PatientFacts("MR0000002", "Mbeki", "12 Elm St, Wichita"),
    "MR0000003": PatientFacts("MR0000003", "Mbeki", "3 Ash Ct Topeka", NOON - timedelta(days=2)),
    "MR0000009": PatientFacts("MR0000009", "Lund", "5 Birch Ln Salina"),
}


def line(
    mrn: str = "MR0000009",
    actor: str = "nurse1",
    *,
    at: datetime = NOON,
    purpose: str = "operations",
    granted: bool = True,
    glass: str | None = None,
    relationship: str | None = "attending",
    event: str = "e/1",
) -> AccessLine:
    return AccessLine(event, at, actor, mrn, purpose, granted, glass, relationship)


def rules(*lines: AccessLine, **kwargs: object) -> set[str]:
    found = alerts(list(lines), config=CONFIG, patients=PATIENTS, **kwargs)  # type: ignore[arg-type]
    return {a.rule for a in found}


def test_an_ordinary_access_raises_nothing() -> None:
    assert rules(line()) == set()


@pytest.mark.parametrize(
    ("fires", "quiet", "rule"),
    [
        (line(purpose="treatment", relationship=None), line(purpose="treatment"), "unexplained"),
        (line("MR0000012", "tech1"), line("MR0000009", "tech1"), "self-access"),
        (line("MR0000001", "tech1"), line("MR0000001", "nurse1"), "family"),
        (line("MR0000002", "tech1"), line("MR0000002", "nurse1"), "neighbour"),
        (line("MR0000012", "nurse1"), line("MR0000009", "nurse1"), "co-worker"),
        (line("MR0000007"), line("MR0000009"), "vip"),
        (line("MR0000004"), line("MR0000009"), "restricted"),
        (line("MR0000003"), line("MR0000002", "nurse1"), "deceased"),
        (line(at=NOON.replace(hour=22)), line(at=NOON.replace(hour=18, minute=59)), "after-hours"),
        (
            line(actor="gone1"),
            line(actor="gone1", at=NOON - timedelta(hours=2)),
            "after-deactivation",
        ),
        (line(glass="arrest"), line(glass=None), "break-glass-unreviewed"),
    ],
)
def test_each_rule_fires_and_stays_quiet(fires: AccessLine, quiet: AccessLine, rule: str) -> None:
    assert rule in rules(fires)
    assert rule not in rules(quiet)


def test_a_reviewed_break_glass_is_answered() -> None:
    assert "break-glass-unreviewed" not in rules(line(glass="arrest"), reviewed=frozenset({"e/1"}))


def test_denied_attempts_fire_the_who_rules_but_not_unexplained() -> None:
    found = rules(line("MR0000001", "tech1", purpose="treatment", relationship=None, granted=False))
    assert "family" in found and "unexplained" not in found


def test_after_hours_boundaries_in_the_configured_zone() -> None:
    config = MonitoringConfig(working_hours=(time(7), time(19)), zone="America/Chicago")
    local_seven = datetime(2026, 11, 23, 13, 0, tzinfo=UTC)  # 07:00 in Chicago (UTC-6)
    assert not after_hours(local_seven, config)
    assert after_hours(local_seven - timedelta(seconds=1), config)
    assert after_hours(datetime(2026, 11, 24, 1, 0, tzinfo=UTC), config)  # 19:00 local
    assert not after_hours(datetime(2026, 11, 24, 0, 59, tzinfo=UTC), config)


def test_volume_far_above_the_users_own_baseline() -> None:
    history = [
        line(at=NOON - timedelta(days=d), event=f"h{d}/1") for d in range(1, 31) for _ in range(2)
    ]
    busy = [line(at=NOON + timedelta(seconds=i), event=f"b{i}/1") for i in range(25)]
    found = alerts(busy, config=CONFIG, patients=PATIENTS, history=history)
    assert [a.rule for a in found if a.rule == "volume"] == ["volume"]
    # 25 against a baseline of 2 a day fires; 20 with a baseline of 8 a day does not (3 x 8 = 24).
    steady = [
        line(at=NOON - timedelta(days=d), event=f"s{d}-{i}/1")
        for d in range(1, 31)
        for i in range(8)
    ]
    normal = busy[:20]
    assert not [
        a
        for a in alerts(normal, config=CONFIG, patients=PATIENTS, history=steady)
        if a.rule == "volume"
    ]
    # A first day with few accesses never fires (the minimum).
    assert not [a for a in alerts(busy[:5], config=CONFIG, patients=PATIENTS) if a.rule == "volume"]


def test_the_configuration_is_read_from_the_policy_document() -> None:
    config = MonitoringConfig.from_mapping(
        {
            "monitoring": {"working_hours": ["08:00", "17:30"], "time_zone": "Europe/Oslo"},
            "patients": {"vip": ["mr0000007"]},
            "staff": {"tech1": {"family_name": "Okafor", "patient_mrn": "mr0000012"}},
        }
    )
    assert config.working_hours == (time(8), time(17, 30)) and config.zone == "Europe/Oslo"
    assert config.vip == frozenset({"MR0000007"})
    assert config.staff["tech1"].patient_mrn == "MR0000012"
    with pytest.raises(ValueError, match="time_zone"):
        MonitoringConfig.from_mapping({"monitoring": {"time_zone": "Mars/Olympus"}})
    with pytest.raises(ValueError, match="working_hours"):
        MonitoringConfig.from_mapping({"monitoring": {"working_hours": ["late"]}})


def test_only_a_compliance_officer_reviews() -> None:
    assert may_review(["compliance-officer"]).allowed
    assert not may_review(["him-director", "physician"]).allowed


mrns = st.sampled_from([*sorted(PATIENTS), "MR0000004", "MR0000007", "MR0000012"])
actors = st.sampled_from(sorted(STAFF))
lines = st.builds(
    line,
    mrns,
    actors,
    at=st.datetimes(
        min_value=datetime(2026, 1, 1), max_value=datetime(2026, 12, 31), timezones=st.just(UTC)
    ),
    purpose=st.sampled_from(["treatment", "operations"]),
    granted=st.booleans(),
    relationship=st.sampled_from([None, "attending"]),
    event=st.uuids().map(lambda u: f"{u}/1"),
)


@given(st.lists(lines, max_size=8), lines)
def test_an_unrelated_access_never_removes_another_alert(
    base: list[AccessLine], extra: AccessLine
) -> None:
    before = {
        (a.rule, a.event)
        for a in alerts(base, config=CONFIG, patients=PATIENTS)
        if a.rule != "volume"
    }
    after = {
        (a.rule, a.event)
        for a in alerts([*base, extra], config=CONFIG, patients=PATIENTS)
        if a.rule != "volume"
    }
    assert before <= after
    assert {rule for rule, _ in after} <= set(RULES)
