"""The nursing unit in memory: its counts by day and its invariants; the units policy (§45)."""

from __future__ import annotations

from datetime import date, datetime

import pytest

from ledger.aggregates.nursing_unit import NursingUnit, unit_id
from ledger.errors import UsageError
from policies.roles import ROLES
from policies.units import code_problem, count_problem, may_manage_units, unit_of_bed

D = date.fromisoformat


def four_west(**kwargs: object) -> NursingUnit:
    fields: dict[str, object] = {
        "name": "Four West",
        "service": "medicine",
        "beds": 30,
        "bassinets": 0,
        "effective_from": D("2026-01-01"),
        "actor": "him1",
    }
    fields.update(kwargs)
    return NursingUnit.open("4w", **fields)  # type: ignore[arg-type]


def test_the_counts_in_force_follow_the_effective_days() -> None:
    unit = four_west()
    assert unit.code == "4W" and unit.id == unit_id("4W") == unit_id(" 4w ")
    unit.change_counts(
        beds=24, bassinets=None, effective_from=D("2026-02-10"), reason="refit", actor="him1"
    )
    unit.change_counts(
        beds=26, bassinets=2, effective_from=D("2026-02-10"), reason="recount", actor="him1"
    )
    unit.close(effective_from=D("2026-03-01"), reason="merged", actor="him1")
    assert unit.counts_on(D("2025-12-31")) is None
    first = unit.counts_on(D("2026-01-01"))
    assert first is not None and (first.beds, first.bassinets) == (30, 0)
    last_before = unit.counts_on(D("2026-02-09"))
    assert last_before is not None and last_before.beds == 30
    changed = unit.counts_on(D("2026-02-10"))  # the later change of the same day replaces
    assert changed is not None and (changed.beds, changed.bassinets) == (26, 2)
    still = unit.counts_on(D("2026-02-28"))
    assert still is not None and still.beds == 26
    assert unit.counts_on(D("2026-03-01")) is None


def test_bassinets_are_kept_when_a_change_gives_only_beds() -> None:
    unit = four_west(bassinets=6)
    unit.change_counts(
        beds=20, bassinets=None, effective_from=D("2026-01-05"), reason="r", actor="him1"
    )
    period = unit.counts_on(D("2026-01-05"))
    assert period is not None and (period.beds, period.bassinets) == (20, 6)


@pytest.mark.parametrize(
    ("change", "words"),
    [
        ({"beds": -1}, "below zero"),
        ({"bassinets": -3}, "below zero"),
        ({"beds": 10_001}, "more than"),
        ({"effective_from": D("2025-12-31")}, "cannot be dated before"),
        ({"reason": "  "}, "reason"),
        ({"effective_from": datetime(2026, 2, 1)}, "calendar day"),
    ],
)
def test_a_change_that_breaks_an_invariant_is_refused(
    change: dict[str, object], words: str
) -> None:
    unit = four_west()
    fields: dict[str, object] = {
        "beds": 12,
        "bassinets": None,
        "effective_from": D("2026-02-01"),
        "reason": "r",
        "actor": "him1",
    }
    fields.update(change)
    with pytest.raises(UsageError, match=words):
        unit.change_counts(**fields)  # type: ignore[arg-type]
    assert not unit.collect_events()[1:]  # only the opening is pending


def test_a_change_cannot_go_before_an_earlier_change() -> None:
    unit = four_west()
    unit.change_counts(
        beds=20, bassinets=None, effective_from=D("2026-03-01"), reason="r", actor="him1"
    )
    with pytest.raises(UsageError, match="from 2026-03-01"):
        unit.change_counts(
            beds=22, bassinets=None, effective_from=D("2026-02-01"), reason="r", actor="him1"
        )
    with pytest.raises(UsageError, match="from 2026-03-01"):
        unit.close(effective_from=D("2026-02-15"), reason="r", actor="him1")


def test_a_closed_unit_does_not_change_or_close_again() -> None:
    unit = four_west()
    unit.close(effective_from=D("2026-02-01"), reason="merged", actor="him1")
    with pytest.raises(UsageError, match="closed from 2026-02-01"):
        unit.change_counts(
            beds=5, bassinets=None, effective_from=D("2026-03-01"), reason="r", actor="him1"
        )
    with pytest.raises(UsageError, match="cannot close again"):
        unit.close(effective_from=D("2026-03-01"), reason="r", actor="him1")


def test_a_unit_cannot_close_the_day_it_opened() -> None:
    with pytest.raises(UsageError, match="next day"):
        four_west().close(effective_from=D("2026-01-01"), reason="r", actor="him1")


@pytest.mark.parametrize(
    ("fields", "words"),
    [
        ({"beds": -1}, "below zero"),
        ({"bassinets": -1}, "below zero"),
        ({"name": ""}, "name"),
        ({"service": " "}, "service"),
    ],
)
def test_an_opening_that_breaks_an_invariant_is_refused(
    fields: dict[str, object], words: str
) -> None:
    with pytest.raises(UsageError, match=words):
        four_west(**fields)


def test_the_counts_in_force_again_change_nothing() -> None:
    unit = four_west()
    unit.collect_events()
    kept = unit.change_counts(
        beds=30, bassinets=None, effective_from=D("2026-02-01"), reason="r", actor="him1"
    )
    assert kept is False and not unit.collect_events() and len(unit.periods) == 1


def test_a_zero_count_is_a_count() -> None:
    unit = four_west(beds=0, bassinets=12)
    period = unit.counts_on(D("2026-01-01"))
    assert period is not None and (period.beds, period.bassinets) == (0, 12)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_only_the_him_director_and_administrators_manage_units(role: str) -> None:
    decision = may_manage_units([role])
    assert decision.allowed is (role in {"him-director", "administrator"}), role
    assert decision.reason and decision.policy_version == "units/1"
    assert not may_manage_units([]).allowed


@pytest.mark.parametrize("code", ["4W", "4w", "NICU", "L1", "ABCDEFGHIJKL"])
def test_unit_codes_accepted(code: str) -> None:
    assert code_problem(code) is None


@pytest.mark.parametrize(
    "code", ["", " ", "4-W", "4 W", "ABCDEFGHIJKLM", "Ü1", "4W;", "ß1", "\ufb00", "\u01314"]
)
def test_unit_codes_refused(code: str) -> None:
    problem = code_problem(code)
    assert problem is not None and problem.startswith("A unit code is 1 to 12 letters")


@pytest.mark.parametrize(
    ("label", "unit"),
    [
        ("4W-12", "4W"),
        ("4w-12a", "4W"),
        (" NICU-3 ", "NICU"),
        ("L1-2-B", "L1"),
        ("4W", None),
        ("4W-", None),
        ("-12", None),
        ("Room 4-12", None),
        ("", None),
        (None, None),
        ("\ufb01-1", None),  # the ligature fi upper-cases to FI: not a unit code as typed
    ],
)
def test_the_unit_of_a_bed_is_its_label_before_the_first_dash(
    label: str | None, unit: str | None
) -> None:
    assert unit_of_bed(label) == unit


def test_counts_are_whole_numbers_from_zero() -> None:
    assert count_problem(0, what="beds") is None
    assert count_problem(True, what="beds") == "The beds must be a whole number."
    assert count_problem(-1, what="beds") == "The beds cannot be below zero."
