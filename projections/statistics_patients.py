"""The patients behind a figure: the drill-down of a statistic, recorded before it is shown.

A census or a death rate names nobody; the list of the stays behind it does. `stays_behind`
picks the stays a figure counted with the formulas' own rules (`policies.statistics`: the day
an admission or discharge counts on, the scope of where the patient lay, the readmission
pairs), so the list has as many lines as the figure says, then records the access through the
gate (`access.record_shown`, section "encounters") before anything is returned, and returns
only the rows the access policy shows the reader, saying how many it withheld.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

from ledger.aggregates.access import Shown
from ledger.application import Ledger
from ledger.commands import access
from ledger.commands.units import load_unit
from ledger.errors import UsageError
from ledger.integrity.keys import Identity
from ledger.reads.charts import chart_mrn
from policies import statistics
from policies.units import normal_code
from projections.statistics import caught_up_statistics, period_of

FIGURES = ("admissions", "discharges", "deaths", "readmissions")
"""What a drill-down can list: the stays behind each of these figures."""

SECTION = "encounters"
"""The part of a chart a drill-down shows (an encounter's dates, place and disposition)."""


@dataclass(frozen=True)
class StayLine:
    """One stay behind a figure (for readmissions: the index stay and its readmission)."""

    mrn: str
    encounter_id: str
    admitted: datetime
    discharged: datetime | None
    unit: str
    service: str
    attending: str | None
    disposition: str | None
    readmission_id: str | None = None
    readmitted: datetime | None = None

    @property
    def days_to_readmission(self) -> int | None:
        if self.readmitted is None or self.discharged is None:
            return None
        return (self.readmitted.date() - self.discharged.date()).days

    def as_dict(self) -> dict[str, Any]:
        return {
            "mrn": self.mrn,
            "encounter_id": self.encounter_id,
            "admitted": self.admitted.isoformat(),
            "discharged": None if self.discharged is None else self.discharged.isoformat(),
            "unit": self.unit,
            "service": self.service,
            "attending": self.attending,
            "disposition": self.disposition,
            "readmission_id": self.readmission_id,
            "readmitted": None if self.readmitted is None else self.readmitted.isoformat(),
            "days_to_readmission": self.days_to_readmission,
        }


def _picked(
    stays: list[statistics.Stay], figure: str, period: statistics.Period, scope: statistics.Scope
) -> list[tuple[statistics.Stay, statistics.Stay | None]]:
    """The stays `figure` counts in `period` and `scope`, each with its readmission (if any)."""
    if figure == "admissions":
        return [
            (stay, None)
            for stay in stays
            if stay.newborn == scope.newborn
            and (scope.attending is None or stay.attending == scope.attending)
            and statistics.census_day(stay.admitted) in period
            and scope.places(stay.moves[0] if stay.moves else None)
        ]
    found = statistics.discharges(stays, period, scope=scope)
    if figure == "discharges":
        return [(stay, None) for stay in found]
    if figure == "deaths":
        return [(stay, None) for stay in found if stay.died]
    try:
        pairs = statistics.readmissions(stays, period, scope=scope).readmitted_encounters
    except statistics.PeriodProblem as problem:
        raise UsageError(str(problem)) from None
    by_id = {stay.encounter_id: stay for stay in stays}
    return [(by_id[index], by_id[again]) for index, again in pairs]


def stays_behind(
    ledger: Ledger,
    figure: str,
    *,
    start: date,
    end: date,
    actor: Identity,
    unit: str | None = None,
    service: str | None = None,
    newborn: bool = False,
    as_of: datetime | None = None,
    purpose: str = "operations",
) -> Shown[StayLine]:
    """The stays behind `figure` from `start` to `end` (both included), as of `as_of`, the
    access recorded first. An unknown figure, an end before the start: one sentence."""
    if figure not in FIGURES:
        raise UsageError(f"'{figure}' is not a figure to list (give one of {', '.join(FIGURES)}).")
    period = period_of(start, end)
    if unit is not None:
        load_unit(ledger, unit)  # a code that is not a unit's: one sentence, as the census says
    scope = statistics.Scope(
        newborn=newborn,
        unit=None if unit is None else normal_code(unit),
        service=None if service is None or not service.strip() else service.strip(),
    )
    reach = end + timedelta(days=statistics.READMISSION_WINDOW_DAYS)
    view = caught_up_statistics(ledger)
    stays = view.stays(as_of=as_of, between=(start, reach))
    picked = _picked(stays, figure, period, scope)
    opened_under = view.mrns([stay.encounter_id for stay, _ in picked])
    charts = {mrn: chart_mrn(ledger, mrn) for mrn in set(opened_under.values())}
    mrns = {encounter: charts[mrn] for encounter, mrn in opened_under.items()}
    listed = access.record_shown(
        ledger, set(mrns.values()), actor=actor, section=SECTION, purpose=purpose
    )
    rows: Shown[StayLine] = Shown([])
    for stay, again in picked:
        mrn = mrns[stay.encounter_id]
        if not listed.allows(mrn):
            rows.withheld += 1
            continue
        placed = stay.admitted if figure == "admissions" else stay.discharged or stay.admitted
        where = stay.where(placed)
        rows.append(
            StayLine(
                mrn=mrn,
                encounter_id=str(UUID(stay.encounter_id)),
                admitted=stay.admitted,
                discharged=stay.discharged,
                unit=where.unit if where else "",
                service=where.service if where else "",
                attending=stay.attending,
                disposition=stay.disposition,
                readmission_id=None if again is None else str(UUID(again.encounter_id)),
                readmitted=None if again is None else again.admitted,
            )
        )
    return rows
