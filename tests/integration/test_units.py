"""Nursing units and their beds on every store: the counts in force each day, signed events,
and refusals that write nothing (decisions §45)."""

from __future__ import annotations

from datetime import date

import pytest

from ledger.commands.units import change_beds, close_unit, open_unit
from ledger.errors import NotAuthorised, NotFound, UsageError
from ledger.integrity.keys import Identity
from ledger.reads.units import bed_counts, list_units, show_unit
from tests.conftest import Hospital
from tests.rawdb import RawDB

D = date.fromisoformat


def stored(hospital: Hospital) -> int:
    db = RawDB(hospital.store_url)
    return int(db._run(f"SELECT COUNT(*) FROM {db.events}", fetch=True)[0][0])


@pytest.fixture
def him(hospital: Hospital) -> Identity:
    return hospital.enrol("him1", ["him-director"])


def january(hospital: Hospital, him: Identity) -> None:
    ledger = hospital.ledger
    open_unit(ledger, "4w", name="Four West", beds=30, service="medicine",
              effective_from=D("2025-12-01"), actor=him)  # fmt: skip
    change_beds(ledger, "4W", beds=24, effective_from=D("2026-01-21"), reason="refit", actor=him)
    open_unit(ledger, "NICU", name="Nursery", beds=0, bassinets=8,
              effective_from=D("2026-01-10"), actor=hospital.admin)  # fmt: skip
    close_unit(ledger, "nicu", effective_from=D("2026-01-25"), reason="moved", actor=him)


def test_bed_count_days_follow_every_change(hospital: Hospital, him: Identity) -> None:
    january(hospital, him)
    rows = bed_counts(hospital.ledger, between=(D("2026-01-01"), D("2026-01-31")))
    four_west = [r for r in rows if r.unit == "4W"]
    assert len(four_west) == 31 and {r.service for r in four_west} == {"medicine"}
    assert sum(r.beds for r in four_west) == 20 * 30 + 11 * 24
    nursery = [r for r in rows if r.unit == "NICU"]
    assert (nursery[0].day, nursery[-1].day) == (D("2026-01-10"), D("2026-01-24"))
    assert len(nursery) == 15
    assert sum(r.bassinets for r in nursery) == 15 * 8 and sum(r.beds for r in nursery) == 0
    assert rows == sorted(rows, key=lambda r: (r.day, r.unit))
    one_day = bed_counts(hospital.ledger, on=D("2026-01-21"))
    assert [(r.unit, r.beds, r.bassinets) for r in one_day] == [("4W", 24, 0), ("NICU", 0, 8)]
    only = bed_counts(hospital.ledger, between=(D("2026-01-01"), D("2026-01-31")), unit="nicu")
    assert only == nursery
    report = hospital.ledger.verify()  # every unit event signed, in the log
    assert report.events == report.signatures == stored(hospital)


def test_list_and_show(hospital: Hospital, him: Identity) -> None:
    january(hospital, him)
    listed = list_units(hospital.ledger, on=D("2026-01-30"))
    assert [(u.code, u.beds, u.open_on_day) for u in listed] == [
        ("4W", 24, True),
        ("NICU", 0, False),
    ]
    shown = show_unit(hospital.ledger, "4w", on=D("2026-01-01"))
    assert shown.beds == 30 and [c.reason for c in shown.history] == [None, "refit"]
    assert [c.actor for c in shown.history] == ["him1", "him1"]
    nicu = show_unit(hospital.ledger, "NICU", on=D("2026-01-12"))
    assert nicu.closed_from == D("2026-01-25") and nicu.close_reason == "moved"
    assert nicu.as_dict()["history"][0]["bassinets"] == 8


def test_as_of_a_moment_reads_the_units_as_they_stood(hospital: Hospital, him: Identity) -> None:
    ledger = hospital.ledger
    open_unit(ledger, "4W", name="Four West", beds=30, effective_from=D("2026-01-01"), actor=him)
    before_change = ledger.now()
    change_beds(ledger, "4W", beds=10, effective_from=D("2026-01-01"), reason="late", actor=him)
    then = bed_counts(ledger, on=D("2026-01-05"), as_of=before_change)
    now = bed_counts(ledger, on=D("2026-01-05"))
    assert [r.beds for r in then] == [30] and [r.beds for r in now] == [10]
    assert bed_counts(ledger, on=D("2026-01-05"), unit="4W", as_of=before_change) == then


def test_refusals_write_nothing(hospital: Hospital, him: Identity) -> None:
    ledger = hospital.ledger
    tech = hospital.enrol("tech1", ["technician"])
    open_unit(ledger, "4W", name="Four West", beds=30, effective_from=D("2026-01-01"), actor=him)
    before = stored(hospital)
    refusals = [
        (NotFound, "no nursing unit 5E", lambda: change_beds(
            ledger, "5e", beds=3, effective_from=D("2026-02-01"), reason="r", actor=him)),
        (NotFound, "no nursing unit 5E", lambda: close_unit(
            ledger, "5E", effective_from=D("2026-02-01"), reason="r", actor=him)),
        (NotFound, "no nursing unit 5E", lambda: show_unit(ledger, "5E", on=D("2026-02-01"))),
        (UsageError, "below zero", lambda: change_beds(
            ledger, "4W", beds=-1, effective_from=D("2026-02-01"), reason="r", actor=him)),
        (UsageError, "below zero", lambda: open_unit(
            ledger, "5E", name="Five East", beds=-2, effective_from=D("2026-02-01"), actor=him)),
        (UsageError, "before that", lambda: change_beds(
            ledger, "4W", beds=3, effective_from=D("2025-12-01"), reason="r", actor=him)),
        (UsageError, "already open", lambda: open_unit(
            ledger, "4w", name="Again", beds=2, effective_from=D("2026-02-01"), actor=him)),
        (UsageError, "unit code", lambda: open_unit(
            ledger, "4-W", name="Dash", beds=2, effective_from=D("2026-02-01"), actor=him)),
        (UsageError, r"end of the period \(2026-01-01\) is before its start", lambda: bed_counts(
            ledger, between=(D("2026-02-01"), D("2026-01-01")))),
        (NotAuthorised, "HIM director or an administrator", lambda: open_unit(
            ledger, "5E", name="Five East", beds=2, effective_from=D("2026-02-01"), actor=tech)),
        (NotAuthorised, "HIM director or an administrator", lambda: change_beds(
            ledger, "4W", beds=2, effective_from=D("2026-02-01"), reason="r", actor=tech)),
    ]  # fmt: skip
    for error, words, attempt in refusals:
        with pytest.raises(error, match=words) as raised:
            attempt()
        assert "\n" not in str(raised.value) and str(raised.value).endswith(".")
    assert stored(hospital) == before
    assert [r.beds for r in bed_counts(ledger, on=D("2026-03-01"))] == [30]
