"""Why a period's figures changed between two moments: what was recorded in between (§47).

A report given on the 3rd and the same report given on the 20th can differ only because events
were recorded between the two: a discharge entered late, a transfer back-dated, a stay coded
final or reopened. `changes` reads the period's stays as the ledger stood at each moment and
names, for each kind of change, how many stays it touched, with the figures then and now. It
counts; it names no stay (the drill-down `stats patients --as-of` lists either side).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from ledger.application import Ledger
from ledger.errors import UsageError
from policies import statistics
from projections.statistics import caught_up_statistics, period_of

KINDS = (
    (
        "recorded",
        "stay recorded late (admitted by the period's end)",
        "stays recorded late (admitted by the period's end)",
    ),
    ("discharged", "discharge recorded", "discharges recorded"),
    ("moved", "stay with a transfer recorded", "stays with a transfer recorded"),
    ("signed", "stay coded final", "stays coded final"),
    ("recoded", "stay whose final coding changed", "stays whose final coding changed"),
    ("reopened", "stay whose final coding was reopened", "stays whose final coding was reopened"),
)
"""Each kind of late change, and how the report words one of it and several."""


@dataclass(frozen=True)
class Figures:
    """The period's headline figures from one moment's stays."""

    stays: int
    service_days: int
    admissions: int
    discharges: int
    deaths: int
    coded_final: int

    def as_dict(self) -> dict[str, int]:
        return {
            "stays": self.stays,
            "service_days": self.service_days,
            "admissions": self.admissions,
            "discharges": self.discharges,
            "deaths": self.deaths,
            "coded_final": self.coded_final,
        }


@dataclass(frozen=True)
class Changes:
    start: date
    end: date
    since: datetime
    until: datetime | None
    then: Figures
    now: Figures
    counts: tuple[tuple[str, int], ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "since": self.since.isoformat(),
            "as_of": None if self.until is None else self.until.isoformat(),
            "then": self.then.as_dict(),
            "now": self.now.as_dict(),
            "changes": dict(self.counts),
        }


def figures(stays: list[statistics.Stay], period: statistics.Period) -> Figures:
    """Adults and children of the whole hospital: the headline figures of `period`."""
    kept = [s for s in stays if not s.newborn]
    try:
        days = statistics.inpatient_service_days(kept, period)
        admitted = sum(m.admissions for m in statistics.movements(kept, period))
    except statistics.PeriodProblem:  # no stay in the period at that moment: all zero
        days = admitted = 0
    left = statistics.discharges(kept, period)
    return Figures(
        stays=len(kept),
        service_days=days,
        admissions=admitted,
        discharges=len(left),
        deaths=sum(1 for s in left if s.died),
        coded_final=sum(1 for s in left if s.drg is not None),
    )


def _kinds(then: statistics.Stay | None, now: statistics.Stay) -> list[str]:
    if then is None:
        return ["recorded"]
    found = []
    if then.discharged is None and now.discharged is not None:
        found.append("discharged")
    if then.moves != now.moves:
        found.append("moved")
    coded_then = (then.principal_diagnosis, then.procedures, then.drg, then.drg_weight)
    coded_now = (now.principal_diagnosis, now.procedures, now.drg, now.drg_weight)
    if then.drg is None and then.principal_diagnosis is None and now.drg is not None:
        found.append("signed")
    elif now.drg is None and now.principal_diagnosis is None and then.drg is not None:
        found.append("reopened")
    elif coded_then != coded_now:
        found.append("recoded")
    return found


def changes(
    ledger: Ledger, *, start: date, end: date, since: datetime, until: datetime | None = None
) -> Changes:
    """What was recorded after `since` (and by `until`, default now) about the stays of
    `start` to `end`, counted by kind, with the period's figures at both moments."""
    period = period_of(start, end)
    if until is not None and until < since:
        raise UsageError("The later moment (--as-of) is before the earlier one (--since).")
    view = caught_up_statistics(ledger)
    window = (start, end + timedelta(days=statistics.READMISSION_WINDOW_DAYS))
    before = view.stays(as_of=since, between=window)
    after = view.stays(as_of=until, between=window)
    then = {s.encounter_id: s for s in before}
    counts = dict.fromkeys((kind for kind, _, _ in KINDS), 0)
    for stay in after:
        if stay.admitted.date() > end:
            continue
        for kind in _kinds(then.get(stay.encounter_id), stay):
            counts[kind] += 1
    in_period = [s for s in after if s.admitted.date() <= end]
    was = [s for s in before if s.admitted.date() <= end]
    return Changes(
        start=start,
        end=end,
        since=since,
        until=until,
        then=figures(was, period),
        now=figures(in_period, period),
        counts=tuple(counts.items()),
    )
