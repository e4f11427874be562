"""Nursing units, read: the units and the bed counts in force each day of a period (§45).

Units name no patient, so these reads record no access and ask no role: a statistic of beds is
the hospital's capacity. `as_of` reads the units as the ledger stood at that moment (the events
recorded by then), so a report of a past day can be given again as it was.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from ledger.aggregates.nursing_unit import CountPeriod, NursingUnit
from ledger.commands.units import load_unit
from ledger.errors import UsageError

if TYPE_CHECKING:
    from ledger.application import Ledger


@dataclass(frozen=True)
class BedCount:
    """The beds and bassinets of one unit in force on one day."""

    day: date
    unit: str
    service: str | None
    beds: int
    bassinets: int

    def as_dict(self) -> dict[str, Any]:
        return {**asdict(self), "day": self.day.isoformat()}


@dataclass(frozen=True)
class CountChange:
    """One period of a unit's counts, as `unit show` lists them."""

    effective_from: date
    beds: int
    bassinets: int
    reason: str | None
    actor: str
    recorded_at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "effective_from": self.effective_from.isoformat(),
            "recorded_at": self.recorded_at.isoformat(),
        }


@dataclass(frozen=True)
class UnitShown:
    """A nursing unit: its code, name, service, opening and closing, and counts on a day."""

    code: str
    name: str
    service: str | None
    opened_from: date
    closed_from: date | None
    close_reason: str | None
    beds: int
    """On the day asked for (0 when it was not open that day)."""
    bassinets: int
    open_on_day: bool
    history: tuple[CountChange, ...]

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "name": self.name,
            "service": self.service,
            "opened_from": self.opened_from.isoformat(),
            "closed_from": self.closed_from.isoformat() if self.closed_from else None,
            "close_reason": self.close_reason,
            "beds": self.beds,
            "bassinets": self.bassinets,
            "open": self.open_on_day,
            "history": [change.as_dict() for change in self.history],
        }


def _units(ledger: Ledger, as_of: datetime | None) -> list[NursingUnit]:
    opened = ledger.recorder.select_notifications(
        start=None, limit=1_000_000, topics=[NursingUnit.Opened.TOPIC]
    )
    units = []
    for note in opened:
        unit = _unit(ledger, cast(UUID, note.originator_id), as_of)
        if unit is not None:
            units.append(unit)
    return sorted(units, key=lambda unit: unit.code)


def _unit(ledger: Ledger, id: UUID, as_of: datetime | None) -> NursingUnit | None:
    if as_of is None:
        return cast(NursingUnit, ledger.repository.get(id))
    from ledger.application import project_events

    events = [e for e in ledger.events.get(id) if cast(Any, e).timestamp <= as_of]
    return cast(NursingUnit | None, project_events(None, events) if events else None)


def _shown(unit: NursingUnit, day: date) -> UnitShown:
    period = unit.counts_on(day)
    return UnitShown(
        code=unit.code,
        name=unit.name,
        service=unit.service,
        opened_from=unit.opened_from,
        closed_from=unit.closed_from,
        close_reason=unit.close_reason,
        beds=period.beds if period else 0,
        bassinets=period.bassinets if period else 0,
        open_on_day=period is not None,
        history=tuple(_change(p) for p in unit.periods),
    )


def _change(period: CountPeriod) -> CountChange:
    return CountChange(
        period.start, period.beds, period.bassinets, period.reason, period.actor, period.recorded_at
    )


def list_units(ledger: Ledger, *, on: date, as_of: datetime | None = None) -> list[UnitShown]:
    """Every unit ever opened (by code), with the counts in force on `on`."""
    return [_shown(unit, on) for unit in _units(ledger, as_of)]


def show_unit(ledger: Ledger, code: str, *, on: date) -> UnitShown:
    """One unit, its history and its counts on `on`; `NotFound` for an unknown code."""
    return _shown(load_unit(ledger, code), on)


def days(start: date, end: date) -> Iterator[date]:
    """Each day from `start` to `end`, both included."""
    day = start
    while day <= end:
        yield day
        day += timedelta(days=1)


def bed_counts(
    ledger: Ledger,
    *,
    on: date | None = None,
    between: tuple[date, date] | None = None,
    unit: str | None = None,
    as_of: datetime | None = None,
) -> list[BedCount]:
    """The counts in force each day of a period (`on` one day, or `between` two days, both
    included), one row per open unit per day, by day then unit code. `unit` keeps one unit
    (`NotFound` if there is none). Sum `beds` over the rows for the bed-count days."""
    if (on is None) == (between is None):
        raise UsageError("Give one day or a period (a start and an end), not both.")
    start, end = (on, on) if on is not None else cast(tuple[date, date], between)
    if end < start:
        raise UsageError(f"The end of the period ({end}) is before its start ({start}).")
    units = [load_unit(ledger, unit)] if unit is not None else _units(ledger, as_of)
    if unit is not None and as_of is not None:
        units = [u for u in _units(ledger, as_of) if u.code == units[0].code]
    rows = []
    for day in days(start, end):
        for each in units:
            period = each.counts_on(day)
            if period is not None:
                rows.append(BedCount(day, each.code, each.service, period.beds, period.bassinets))
    return rows
