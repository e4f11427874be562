"""The statistics view: one row per stay and one per move, kept by the follower (decisions §46).

Statistics come from a view that follows the log (issue 13, item 7), not from rebuilding every
encounter for every report. The view keeps, from the `Encounter` events the catalogue declares
(`catalogue.STATISTICS_EVENTS`), what `policies.statistics.Stay` needs: the encounter and patient
ids, the admission and discharge times, each placement (bed, its unit, service, attending) from
the admission on, whether the stay is a newborn's, the disposition and the attending. Each row
notes the log position that last changed it, so a report as of a past moment can filter later.

The census report (`census`) gives aggregate figures only: no patient is named, so it records
no access. It computes nothing itself: every figure is `policies.statistics`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from ledger import catalogue
from ledger.aggregates.encounter import Encounter
from ledger.application import Ledger
from ledger.errors import UsageError
from ledger.stores.database import Cursor, Database
from policies import statistics
from policies.units import normal_code, unit_of_bed
from projections.audit import parse_stamp, stamp

NEWBORN_SERVICES = frozenset({"newborn", "nursery"})
"""A stay admitted under one of these services is a newborn's (counted against bassinets)."""

NO_UNIT = ""
"""The unit of a placement whose bed names none (no bed, or a label with no unit prefix)."""


def is_newborn(service: str) -> bool:
    return service.strip().lower() in NEWBORN_SERVICES


class StatisticsView:
    """`stat_stays` (one row per encounter) and `stat_moves` (one per placement), in log order."""

    name = "statistics"
    version = 1
    tables = ("stat_stays", "stat_moves")
    topics = catalogue.topics_of(catalogue.STATISTICS_EVENTS)

    def __init__(self, db: Database) -> None:
        self.db = db
        self.stays_table = db.table("stat_stays")
        self.moves_table = db.table("stat_moves")

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.stays_table} (encounter_id TEXT PRIMARY KEY,"
            " patient_id TEXT NOT NULL, encounter_class TEXT NOT NULL, newborn INTEGER NOT NULL,"
            " admitted TEXT NOT NULL, discharged TEXT, disposition TEXT,"
            " bed TEXT, service TEXT NOT NULL, attending TEXT NOT NULL,"
            " position BIGINT NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.moves_table} (position BIGINT PRIMARY KEY,"
            " encounter_id TEXT NOT NULL, at TEXT NOT NULL, bed TEXT, unit TEXT NOT NULL,"
            " service TEXT NOT NULL, attending TEXT NOT NULL)"
        )
        cur.execute(
            "CREATE INDEX IF NOT EXISTS stat_moves_by_encounter "
            f"ON {self.moves_table} (encounter_id, at, position)"
        )

    def _move(
        self, cur: Cursor, position: int, encounter: str, at: datetime, bed: str | None,
        service: str, attending: str,
    ) -> None:  # fmt: skip
        cur.execute(
            f"INSERT INTO {self.moves_table} VALUES (?, ?, ?, ?, ?, ?, ?)",
            (position, encounter, stamp(at), bed, unit_of_bed(bed) or NO_UNIT, service, attending),
        )

    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None:
        encounter = event.originator_id.hex
        if isinstance(event, Encounter.Opened):
            cur.execute(
                f"INSERT INTO {self.stays_table} (encounter_id, patient_id, encounter_class,"
                " newborn, admitted, bed, service, attending, position)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    encounter,
                    event.patient_id.hex,
                    event.encounter_class,
                    int(is_newborn(event.service)),
                    stamp(event.effective_at),
                    event.bed,
                    event.service,
                    event.attending,
                    notification_id,
                ),
            )
            self._move(
                cur, notification_id, encounter, event.effective_at, event.bed, event.service,
                event.attending,
            )  # fmt: skip
        elif isinstance(event, Encounter.Transferred):
            cur.execute(
                f"SELECT bed, service, attending FROM {self.stays_table} WHERE encounter_id=?",
                (encounter,),
            )
            row = cur.fetchone()
            if row is None:  # every encounter opens first; a move of none is not a stay's
                return
            bed = event.bed if event.bed is not None else row["bed"]
            service = event.service or str(row["service"])
            attending = event.attending or str(row["attending"])
            cur.execute(
                f"UPDATE {self.stays_table} SET bed=?, service=?, attending=?, position=?"
                " WHERE encounter_id=?",
                (bed, service, attending, notification_id, encounter),
            )
            self._move(cur, notification_id, encounter, event.effective_at, bed, service, attending)
        elif isinstance(event, Encounter.Discharged):
            cur.execute(
                f"UPDATE {self.stays_table} SET discharged=?, disposition=?, position=?"
                " WHERE encounter_id=?",
                (stamp(event.effective_at), event.disposition, notification_id, encounter),
            )

    # -- reading ----------------------------------------------------------------------------------
    def stays(
        self, *, as_of: datetime | None = None, encounter_class: str | None = "inpatient"
    ) -> list[statistics.Stay]:
        """Every stay (of `encounter_class`; None: every class) as the formulas take it, in the
        order admitted, each with its moves oldest first; with `as_of`, as the ledger stood
        then (only what was recorded by that moment)."""
        if as_of is not None:
            raise UsageError("As-of statistics are not built yet.")
        where = "" if encounter_class is None else "WHERE encounter_class=?"
        params: tuple[Any, ...] = () if encounter_class is None else (encounter_class,)
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                f"SELECT * FROM {self.stays_table} {where} ORDER BY admitted, position", params
            )
            rows = cur.fetchall()
            cur.execute(
                f"SELECT encounter_id, at, unit, service FROM {self.moves_table} "
                "ORDER BY encounter_id, at, position"
            )
            moves: dict[str, list[statistics.Move]] = {}
            for m in cur.fetchall():
                moves.setdefault(str(m["encounter_id"]), []).append(
                    statistics.Move(parse_stamp(m["at"]), str(m["unit"]), str(m["service"]))
                )
        return [
            statistics.Stay(
                encounter_id=str(r["encounter_id"]),
                patient=str(r["patient_id"]),
                admitted=parse_stamp(r["admitted"]),
                discharged=None if r["discharged"] is None else parse_stamp(r["discharged"]),
                moves=tuple(moves.get(str(r["encounter_id"]), ())),
                newborn=bool(r["newborn"]),
                disposition=r["disposition"],
                attending=str(r["attending"]),
            )
            for r in rows
        ]

    def positions(self) -> dict[str, int]:
        """The log position that last changed each stay's row."""
        with self.db.transaction(commit=False) as cur:
            cur.execute(f"SELECT encounter_id, position FROM {self.stays_table}")
            return {str(r["encounter_id"]): int(r["position"]) for r in cur.fetchall()}


def caught_up_statistics(ledger: Ledger) -> StatisticsView:
    from ledger.follower import Follower

    view = StatisticsView(ledger.db)
    Follower(ledger, [view]).catch_up()
    return view


# -- the census report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CensusDay:
    """One day of a census report: the daily inpatient census and the day's movements."""

    day: date
    census: int
    admissions: int
    discharges: int
    transfers_in: int
    transfers_out: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "day": self.day.isoformat(),
            "census": self.census,
            "admissions": self.admissions,
            "discharges": self.discharges,
            "transfers_in": self.transfers_in,
            "transfers_out": self.transfers_out,
        }


@dataclass(frozen=True)
class CensusReport:
    """A period's census: each day, and the period's figures (exact `Fraction`s are rounded to
    two places here, half up, only for showing; None where the figure does not exist: no bed
    count in force, or no discharge to turn a bed over)."""

    start: date
    end: date
    scope: str
    days: tuple[CensusDay, ...]
    service_days: int
    average_daily_census: Decimal
    bed_count_days: int | None
    occupancy_percent: Decimal | None
    overfilled_days: tuple[date, ...]
    bed_turnover: Decimal | None

    @property
    def overfilled(self) -> bool:
        return bool(self.overfilled_days)

    def as_dict(self) -> dict[str, Any]:
        def text(value: Decimal | None) -> str | None:
            return None if value is None else str(value)

        return {
            "from": self.start.isoformat(),
            "to": self.end.isoformat(),
            "scope": self.scope,
            "days": [d.as_dict() for d in self.days],
            "service_days": self.service_days,
            "average_daily_census": text(self.average_daily_census),
            "bed_count_days": self.bed_count_days,
            "occupancy_percent": text(self.occupancy_percent),
            "overfilled": self.overfilled,
            "overfilled_days": [d.isoformat() for d in self.overfilled_days],
            "bed_turnover": text(self.bed_turnover),
        }


def _bed_counts(
    ledger: Ledger, start: date, end: date, unit: str | None, service: str | None
) -> list[statistics.BedCount]:
    from ledger.reads.units import bed_counts

    rows = bed_counts(ledger, between=(start, end), unit=unit)
    return [
        statistics.BedCount(r.unit, r.beds, r.bassinets, r.day, r.day)
        for r in rows
        if service is None or r.service == service
    ]


def census(
    ledger: Ledger,
    *,
    start: date,
    end: date,
    unit: str | None = None,
    service: str | None = None,
    newborn: bool = False,
) -> CensusReport:
    """The census of `start` to `end` (both included) for the hospital, a unit or a service:
    adults and children, or newborns. An end before the start, an unknown unit, or a period no
    stay touches is one sentence (`UsageError`, `NotFound`)."""
    if end < start:
        raise UsageError(f"The period ends ({end}) before it starts ({start}).")
    unit = None if unit is None else normal_code(unit)
    service = None if service is None or not service.strip() else service.strip()
    counts = _bed_counts(ledger, start, end, unit, service)  # an unknown unit: NotFound
    stays = caught_up_statistics(ledger).stays()
    period = statistics.Period(start, end)
    scope = statistics.Scope(newborn=newborn, unit=unit, service=service)
    try:
        censuses = statistics.daily_censuses(stays, period, scope=scope)
    except statistics.PeriodProblem as problem:
        raise UsageError(str(problem)) from None
    moved = statistics.movements(stays, period, scope=scope)
    days = tuple(
        CensusDay(c.day, c.daily_inpatient_census, m.admissions, m.discharges,
                  m.transfers_in, m.transfers_out)
        for c, m in zip(censuses, moved, strict=True)
    )  # fmt: skip
    service_days = sum(d.census for d in days)
    bed_days: int | None = None
    occupancy: Decimal | None = None
    overfilled: tuple[date, ...] = ()
    turnover: Decimal | None = None
    try:
        filled = statistics.occupancy(stays, counts, period, scope=scope)
        bed_days = filled.bed_count_days
        overfilled = filled.overfilled_days
        if bed_days:
            occupancy = statistics.rounded(filled.percent)
            turnover = statistics.rounded(
                statistics.bed_turnover_rate(stays, counts, period, scope=scope)
            )
    except statistics.PeriodProblem:
        pass  # no bed count in force, or no discharge: the figure does not exist (None)
    return CensusReport(
        start=start,
        end=end,
        scope=scope.describe(),
        days=days,
        service_days=service_days,
        average_daily_census=statistics.rounded(
            statistics.average_daily_census(stays, period, scope=scope)
        ),
        bed_count_days=bed_days,
        occupancy_percent=occupancy,
        overfilled_days=overfilled,
        bed_turnover=turnover,
    )
