"""A nursing unit and its beds as facts: opened, its bed and bassinet counts changed, closed,
each effective from a calendar day (decisions §45).

One `NursingUnit` aggregate per unit code (its id is uuid5 of the code, so a code names one
unit for ever). The counts in force on a day are those of the latest change effective on or
before it; a closed unit has none from the day it closed. The invariants: counts are whole
numbers from 0; a change or the closing cannot be dated before the opening or an earlier
change; a closed unit does not change. A unit's events name no patient.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.errors import UsageError
from policies.units import code_problem, count_problem, normal_code


def unit_id(code: str) -> UUID:
    """The id of the unit with this code (any case)."""
    return uuid5(NAMESPACE_URL, f"https://chartledger.invalid/nursing-unit/{normal_code(code)}")


@dataclass(frozen=True)
class CountPeriod:
    """The beds and bassinets in force from `start` on (until the next period or the closing)."""

    start: date
    beds: int
    bassinets: int
    reason: str | None
    actor: str
    recorded_at: datetime


def _checked_count(value: int, what: str) -> int:
    problem = count_problem(value, what=what)
    if problem is not None:
        raise UsageError(problem)
    return value


def _text(value: str | None, what: str) -> str:
    cleaned = (value or "").strip()
    if not cleaned:
        raise UsageError(f"Give {what}.")
    return cleaned


class NursingUnit(Aggregate):
    """One nursing unit: its name, service, and the history of its counts."""

    TOPIC = "chartledger/nursing-unit"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/nursing-unit/created"

    class Opened(Aggregate.Created):
        TOPIC = "chartledger/nursing-unit/opened"  # stored for ever: never rename it
        code: str
        name: str
        service: str | None
        beds: int
        bassinets: int
        effective_from: date
        actor: str

    class CountsChanged(Aggregate.Event):
        TOPIC = "chartledger/nursing-unit/counts-changed"
        beds: int
        bassinets: int
        effective_from: date
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.periods = [
                *aggregate.periods,
                CountPeriod(
                    self.effective_from,
                    self.beds,
                    self.bassinets,
                    self.reason,
                    self.actor,
                    self.timestamp,
                ),
            ]

    class Closed(Aggregate.Event):
        TOPIC = "chartledger/nursing-unit/closed"
        effective_from: date
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.closed_from = self.effective_from
            aggregate.close_reason = self.reason
            aggregate.closed_by = self.actor

    def __init__(
        self,
        code: str,
        name: str,
        service: str | None,
        beds: int,
        bassinets: int,
        effective_from: date,
        actor: str,
    ) -> None:
        self.code = code
        self.name = name
        self.service = service
        self.opened_from = effective_from
        self.periods = [CountPeriod(effective_from, beds, bassinets, None, actor, self.created_on)]
        self.closed_from: date | None = None
        self.close_reason: str | None = None
        self.closed_by: str | None = None

    @classmethod
    def open(
        cls,
        code: str,
        *,
        name: str,
        service: str | None,
        beds: int,
        bassinets: int,
        effective_from: date,
        actor: str,
    ) -> NursingUnit:
        problem = code_problem(code)
        if problem is not None:
            raise UsageError(problem)
        return cls._create(
            cls.Opened,
            id=unit_id(code),
            code=normal_code(code),
            name=_text(name, "the unit's name"),
            service=_text(service, "a service, or none") if service is not None else None,
            beds=_checked_count(beds, "number of beds"),
            bassinets=_checked_count(bassinets, "number of bassinets"),
            effective_from=_day(effective_from),
            actor=actor,
        )

    def _after_the_latest(self, effective_from: date, what: str) -> None:
        if self.closed_from is not None:
            raise UsageError(f"Unit {self.code} was closed from {self.closed_from}; {what}.")
        latest = self.periods[-1].start
        if effective_from < latest:
            raise UsageError(
                f"Unit {self.code} has counts in force from {latest}; a change cannot be "
                "dated before that."
            )

    def change_counts(
        self, *, beds: int, bassinets: int | None, effective_from: date, reason: str, actor: str
    ) -> bool:
        """New counts from `effective_from` (on or after the latest; the same day replaces);
        False, and nothing triggered, when they are the counts in force already."""
        self._after_the_latest(_day(effective_from), "a closed unit does not change")
        kept = self.periods[-1].bassinets if bassinets is None else bassinets
        beds = _checked_count(beds, "number of beds")
        kept = _checked_count(kept, "number of bassinets")
        if (beds, kept) == (self.periods[-1].beds, self.periods[-1].bassinets):
            return False
        self.trigger_event(
            self.CountsChanged,
            beds=beds,
            bassinets=kept,
            effective_from=effective_from,
            reason=_text(reason, "the reason for the change"),
            actor=actor,
        )
        return True

    def close(self, *, effective_from: date, reason: str, actor: str) -> None:
        """No beds from `effective_from` on (the first day the unit is closed)."""
        self._after_the_latest(_day(effective_from), "it cannot close again")
        if effective_from == self.opened_from:
            raise UsageError(
                f"Unit {self.code} opened on {effective_from}; it can close from the next day."
            )
        self.trigger_event(
            self.Closed,
            effective_from=effective_from,
            reason=_text(reason, "the reason for closing"),
            actor=actor,
        )

    def counts_on(self, day: date) -> CountPeriod | None:
        """The counts in force on `day`, or None before the opening or from the closing on."""
        if day < self.opened_from or (self.closed_from is not None and day >= self.closed_from):
            return None
        found = None
        for period in self.periods:
            if period.start <= day:
                found = period  # a later change on the same day replaces an earlier one
        return found


def _day(value: date) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise UsageError("An effective date is a calendar day (YYYY-MM-DD).")
    return value
