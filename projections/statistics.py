"""The statistics view: one row per stay and one per move, kept by the follower (decisions §46).

Statistics come from a view that follows the log (issue 13, item 7), not from rebuilding every
encounter for every report. The view keeps, from the `Encounter` events the catalogue declares
(`catalogue.STATISTICS_TOPICS`), what `policies.statistics.Stay` needs: the encounter and patient
ids, the admission and discharge times, each placement (bed, its unit, service, attending) from
the admission on, whether the stay is a newborn's, the disposition and the attending. Each row
notes the log position that last changed it, so a report as of a past moment can filter later.

The census report (`census`) gives aggregate figures only: no patient is named, so it records
no access. It computes nothing itself: every figure is `policies.statistics`'s.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import Decimal
from typing import Any, cast

from eventsourcing.utils import get_topic

from ledger import catalogue
from ledger.aggregates.coding import CodingAbstract
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
    """The stays, their moves and discharges, and the stays' final coding, each row as recorded.

    Every table is appended to, never updated: a row notes its log position and the moment its
    event was recorded, so `stays(as_of=T)` gives the stays as the ledger stood at T (§47).
    `stat_abstracts` is the one working table: each abstract's current codes and groupings, from
    which a `SignedFinal` takes the principal diagnosis, the procedures and the grouping it signed.
    Rows are buffered and written once per batch (`flush`), as the audit trail does (§21).
    """

    name = "statistics"
    version = 3
    tables = ("stat_stays", "stat_moves", "stat_discharges", "stat_abstracts", "stat_finals")
    topics = catalogue.STATISTICS_TOPICS

    def __init__(self, db: Database) -> None:
        self.db = db
        self.stays_table = db.table("stat_stays")
        self.moves_table = db.table("stat_moves")
        self.discharges_table = db.table("stat_discharges")
        self.abstracts_table = db.table("stat_abstracts")
        self.finals_table = db.table("stat_finals")
        self._stays: list[tuple[Any, ...]] = []
        self._moves: list[tuple[Any, ...]] = []
        self._discharges: list[tuple[Any, ...]] = []
        self._finals: list[tuple[Any, ...]] = []
        self._placed: dict[str, tuple[str | None, str, str]] = {}
        """This batch's last placement (bed, service, attending) of each stay it touched."""
        self._abstracts: dict[str, dict[str, Any]] = {}
        """This batch's working state of each abstract it touched (written back at the flush)."""
        self._known: set[str] = set()
        """The abstracts of `_abstracts` that already have a row."""

    def create_tables(self, cur: Cursor) -> None:
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.stays_table} (encounter_id TEXT PRIMARY KEY,"
            " patient_id TEXT NOT NULL, encounter_class TEXT NOT NULL, newborn INTEGER NOT NULL,"
            " admitted TEXT NOT NULL, recorded TEXT NOT NULL, position BIGINT NOT NULL,"
            " mrn TEXT NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.moves_table} (position BIGINT PRIMARY KEY,"
            " encounter_id TEXT NOT NULL, at TEXT NOT NULL, bed TEXT, unit TEXT NOT NULL,"
            " service TEXT NOT NULL, attending TEXT NOT NULL, recorded TEXT NOT NULL)"
        )
        cur.execute(
            "CREATE INDEX IF NOT EXISTS stat_moves_by_encounter "
            f"ON {self.moves_table} (encounter_id, position)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.discharges_table} (position BIGINT PRIMARY KEY,"
            " encounter_id TEXT NOT NULL, discharged TEXT NOT NULL, disposition TEXT,"
            " recorded TEXT NOT NULL)"
        )
        cur.execute(
            "CREATE INDEX IF NOT EXISTS stat_discharges_by_encounter "
            f"ON {self.discharges_table} (encounter_id)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.abstracts_table} (abstract_id TEXT PRIMARY KEY,"
            " encounter_id TEXT NOT NULL, state TEXT NOT NULL)"
        )
        cur.execute(
            f"CREATE TABLE IF NOT EXISTS {self.finals_table} (position BIGINT PRIMARY KEY,"
            " encounter_id TEXT NOT NULL, final INTEGER NOT NULL, principal_diagnosis TEXT,"
            " procedures TEXT NOT NULL, drg INTEGER, mdc INTEGER, weight TEXT, gmlos TEXT,"
            " recorded TEXT NOT NULL)"
        )

    # -- following the log ------------------------------------------------------------------------
    def prepare(self, cur: Cursor, events: list[Any]) -> None:
        """Read, in a few queries, what the batch's events need of earlier batches: the state of
        each abstract a coding event changes and the last placement of each stay moved. The
        follower calls it before it applies a batch; `apply` reads only what it left (and what
        the batch itself made), never the tables."""
        abstracts = {
            cast(Any, e).originator_id.hex
            for e in events
            if get_topic(type(e)) in CODING_TOPICS and not isinstance(e, CodingAbstract.Started)
        } - set(self._abstracts)
        moved = {e.originator_id.hex for e in events if isinstance(e, Encounter.Transferred)} - set(
            self._placed
        )
        for chunk in _chunks(sorted(abstracts)):
            marks = ", ".join("?" * len(chunk))
            cur.execute(
                f"SELECT abstract_id, encounter_id, state FROM {self.abstracts_table}"
                f" WHERE abstract_id IN ({marks})",
                chunk,
            )
            for row in cur.fetchall():
                abstract = str(row["abstract_id"])
                self._abstracts[abstract] = {
                    "encounter": str(row["encounter_id"]),
                    **json.loads(str(row["state"])),
                }
                self._known.add(abstract)
        for chunk in _chunks(sorted(moved)):
            marks = ", ".join("?" * len(chunk))
            cur.execute(
                f"SELECT encounter_id, bed, service, attending FROM {self.moves_table}"
                f" WHERE encounter_id IN ({marks}) ORDER BY position",
                chunk,
            )
            for row in cur.fetchall():  # the last placement of each, in log order, wins
                self._placed[str(row["encounter_id"])] = (
                    row["bed"], str(row["service"]), str(row["attending"])
                )  # fmt: skip

    def apply(self, cur: Cursor, event: Any, notification_id: int) -> None:
        if get_topic(type(event)) in CODING_TOPICS:
            self._coding(event, notification_id)
            return
        encounter = event.originator_id.hex
        recorded = stamp(event.timestamp)
        if isinstance(event, Encounter.Opened):
            self._stays.append(
                (encounter, event.patient_id.hex, event.encounter_class,
                 int(is_newborn(event.service)), stamp(event.effective_at), recorded,
                 notification_id, event.mrn)
            )  # fmt: skip
            self._place(notification_id, encounter, event.effective_at, event.bed,
                        event.service, event.attending, recorded)  # fmt: skip
        elif isinstance(event, Encounter.Transferred):
            last = self._placed.get(encounter)  # `prepare` read it, or this batch placed it
            if last is None:  # every encounter opens first; a move of none is not a stay's
                return
            bed = event.bed if event.bed is not None else last[0]
            self._place(notification_id, encounter, event.effective_at, bed,
                        event.service or last[1], event.attending or last[2], recorded)  # fmt: skip
        elif isinstance(event, Encounter.Discharged):
            self._discharges.append(
                (notification_id, encounter, stamp(event.effective_at), event.disposition,
                 recorded)
            )  # fmt: skip

    def _place(
        self, position: int, encounter: str, at: datetime, bed: str | None, service: str,
        attending: str, recorded: str,
    ) -> None:  # fmt: skip
        self._moves.append(
            (position, encounter, stamp(at), bed, unit_of_bed(bed) or NO_UNIT, service,
             attending, recorded)
        )  # fmt: skip
        self._placed[encounter] = (bed, service, attending)

    def _coding(self, event: Any, position: int) -> None:
        abstract = event.originator_id.hex
        if isinstance(event, CodingAbstract.Started):
            self._abstracts[abstract] = {
                "encounter": event.encounter_id.hex, "dx": [], "px": [], "groupings": {}
            }  # fmt: skip
            return
        state = self._abstracts.get(abstract)  # `prepare` read it, or this batch started it
        if state is None:  # every abstract starts first
            return
        dx: list[list[Any]] = state["dx"]
        px: list[str] = state["px"]
        if isinstance(event, CodingAbstract.DiagnosisCoded):
            dx.append([event.code, bool(event.principal)])
        elif isinstance(event, CodingAbstract.DiagnosisChanged):
            state["dx"] = [[event.new, p] if code == event.old else [code, p] for code, p in dx]
        elif isinstance(event, CodingAbstract.DiagnosisRemoved):
            state["dx"] = [[code, p] for code, p in dx if code != event.code]
        elif isinstance(event, CodingAbstract.ProcedureCoded):
            px.append(event.code)
        elif isinstance(event, CodingAbstract.ProcedureChanged):
            state["px"] = [event.new if code == event.old else code for code in px]
        elif isinstance(event, CodingAbstract.ProcedureRemoved):
            state["px"] = [code for code in px if code != event.code]
        elif isinstance(event, CodingAbstract.Grouped):
            state["groupings"][str(event.originator_version)] = [
                event.drg, event.mdc,
                None if event.relative_weight is None else str(event.relative_weight),
                None if event.gmlos is None else str(event.gmlos),
            ]  # fmt: skip
        elif isinstance(event, CodingAbstract.SignedFinal):
            drg, mdc, weight, gmlos = state["groupings"].get(
                str(event.grouping_version), [event.drg, None, None, None]
            )
            principal = next((code for code, p in state["dx"] if p), None)
            self._finals.append(
                (position, state["encounter"], 1, principal, " ".join(state["px"]), drg, mdc,
                 weight, gmlos, stamp(event.timestamp))
            )  # fmt: skip
        elif isinstance(event, CodingAbstract.Reopened):
            self._finals.append(
                (position, state["encounter"], 0, None, "", None, None, None, None,
                 stamp(event.timestamp))
            )  # fmt: skip

    def flush(self, cur: Cursor) -> None:
        """Write the batch's rows, a statement a table (the follower calls it before it records
        how far the view has come, in the same transaction)."""
        writes = (
            (self.stays_table, self._stays),
            (self.moves_table, self._moves),
            (self.discharges_table, self._discharges),
            (self.finals_table, self._finals),
        )
        for table, rows in writes:
            if rows:
                marks = ", ".join("?" * len(rows[0]))
                cur.executemany(f"INSERT INTO {table} VALUES ({marks})", rows)
        states = [
            (abstract, state["encounter"],
             json.dumps({k: v for k, v in state.items() if k != "encounter"}, sort_keys=True))
            for abstract, state in self._abstracts.items()
        ]  # fmt: skip
        fresh = [row for row in states if row[0] not in self._known]
        again = [(row[2], row[0]) for row in states if row[0] in self._known]
        if fresh:
            cur.executemany(f"INSERT INTO {self.abstracts_table} VALUES (?, ?, ?)", fresh)
        if again:
            cur.executemany(f"UPDATE {self.abstracts_table} SET state=? WHERE abstract_id=?", again)
        self.discard()

    def discard(self) -> None:
        """Forget the batch (written, or its transaction failed)."""
        self._stays, self._moves, self._discharges, self._finals = [], [], [], []
        self._placed, self._abstracts, self._known = {}, {}, set()

    # -- reading ----------------------------------------------------------------------------------
    def stays(
        self,
        *,
        as_of: datetime | None = None,
        between: tuple[date, date] | None = None,
        encounter_class: str | None = "inpatient",
    ) -> list[statistics.Stay]:
        """Every stay (of `encounter_class`; None: every class) as the formulas take it, in the
        order admitted, each with its moves oldest first and its final coding, if any.

        With `as_of`, as the ledger stood then: only what was recorded by that moment (a stay
        admitted, moved, discharged or signed final later is not yet so). With `between`, only the
        stays that were in the hospital some time from the first day to the last (admitted by its
        end and not discharged before its start): what a report of that period needs."""
        where = ["1=1"]
        params: list[Any] = []
        join = ""
        if as_of is not None:
            join = " AND d.recorded <= ?"
            params.append(stamp(as_of))
        if encounter_class is not None:
            where.append("s.encounter_class=?")
            params.append(encounter_class)
        if as_of is not None:
            where.append("s.recorded <= ?")
            params.append(stamp(as_of))
        if between is not None:
            first, last = between
            where.append("s.admitted < ?")
            params.append(stamp(datetime.combine(last + timedelta(days=1), time(), UTC)))
            where.append("(d.discharged IS NULL OR d.discharged >= ?)")
            params.append(stamp(datetime.combine(first, time(), UTC)))
        chosen = (
            f"FROM {self.stays_table} s LEFT JOIN {self.discharges_table} d"
            f" ON d.encounter_id = s.encounter_id{join} WHERE {' AND '.join(where)}"
        )
        later = "" if as_of is None else " WHERE x.recorded <= ?"
        recorded: tuple[Any, ...] = () if as_of is None else (stamp(as_of),)
        with self.db.transaction(commit=False) as cur:
            cur.execute(
                "SELECT s.encounter_id, s.patient_id, s.newborn, s.admitted, s.position,"
                f" d.discharged, d.disposition {chosen} ORDER BY s.admitted, s.position",
                params,
            )
            rows = cur.fetchall()
            cur.execute(
                "SELECT x.encounter_id, x.at, x.unit, x.service, x.attending"
                f" FROM {self.moves_table} x JOIN (SELECT s.encounter_id {chosen}) w"
                f" ON w.encounter_id = x.encounter_id{later} ORDER BY x.position",
                (*params, *recorded),
            )
            moves: dict[str, list[tuple[datetime, str, str, str]]] = {}
            for m in cur.fetchall():
                moves.setdefault(str(m["encounter_id"]), []).append(
                    (parse_stamp(m["at"]), str(m["unit"]), str(m["service"]), str(m["attending"]))
                )
            cur.execute(
                f"SELECT x.* FROM {self.finals_table} x JOIN (SELECT s.encounter_id {chosen}) w"
                f" ON w.encounter_id = x.encounter_id{later} ORDER BY x.position",
                (*params, *recorded),
            )
            finals: dict[str, Any] = {}
            for f in cur.fetchall():  # the last signing or reopening as of the read decides
                finals[str(f["encounter_id"])] = f if f["final"] else None
        return [_stay(r, moves.get(str(r["encounter_id"]), []),
                      finals.get(str(r["encounter_id"]))) for r in rows]  # fmt: skip

    def mrns(self, encounter_ids: Sequence[str]) -> dict[str, str]:
        """The MRN each encounter was opened under (a drill-down follows merges from it)."""
        found: dict[str, str] = {}
        with self.db.transaction(commit=False) as cur:
            for chunk in _chunks(sorted(set(encounter_ids))):
                marks = ", ".join("?" * len(chunk))
                cur.execute(
                    f"SELECT encounter_id, mrn FROM {self.stays_table}"
                    f" WHERE encounter_id IN ({marks})",
                    chunk,
                )
                found.update({str(r["encounter_id"]): str(r["mrn"]) for r in cur.fetchall()})
        return found

    def positions(self) -> dict[str, int]:
        """The log position that last changed each stay (its admission, a move or discharge)."""
        found: dict[str, int] = {}
        with self.db.transaction(commit=False) as cur:
            for table in (self.stays_table, self.moves_table, self.discharges_table):
                cur.execute(f"SELECT encounter_id, MAX(position) AS p FROM {table} GROUP BY 1")
                for r in cur.fetchall():
                    key = str(r["encounter_id"])
                    found[key] = max(found.get(key, 0), int(r["p"]))
        return found


CODING_TOPICS = catalogue.STATISTICS_CODING_TOPICS


def _chunks(keys: list[str], size: int = 500) -> list[list[str]]:
    """Keys in groups small enough for one `IN (…)` on every store."""
    return [keys[i : i + size] for i in range(0, len(keys), size)]


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _stay(row: Any, moves: list[tuple[datetime, str, str, str]], final: Any) -> statistics.Stay:
    """A view row, its moves (oldest recorded first, then put in the order they took effect) and
    its final coding row (None: not final as of the read) as one `statistics.Stay`."""
    ordered = sorted(moves, key=lambda m: m[0])  # stable: the same instant keeps log order
    return statistics.Stay(
        encounter_id=str(row["encounter_id"]),
        patient=str(row["patient_id"]),
        admitted=parse_stamp(row["admitted"]),
        discharged=None if row["discharged"] is None else parse_stamp(row["discharged"]),
        moves=tuple(statistics.Move(at, unit, service) for at, unit, service, _ in ordered),
        newborn=bool(row["newborn"]),
        disposition=row["disposition"],
        attending=moves[-1][3] if moves else None,
        drg=None if final is None or final["drg"] is None else f"{int(final['drg']):03d}",
        drg_weight=None if final is None else _decimal(final["weight"]),
        gmlos=None if final is None else _decimal(final["gmlos"]),
        principal_diagnosis=None if final is None else final["principal_diagnosis"],
        procedures=() if final is None else tuple(str(final["procedures"]).split()),
        mdc=None if final is None or final["mdc"] is None else int(final["mdc"]),
    )


def period_of(start: date, end: date) -> statistics.Period:
    """The period from `start` to `end`, or its refusal as one sentence (`UsageError`)."""
    try:
        return statistics.Period(start, end)
    except statistics.PeriodProblem as problem:
        raise UsageError(str(problem)) from None


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
    ledger: Ledger,
    start: date,
    end: date,
    unit: str | None,
    service: str | None,
    as_of: datetime | None = None,
) -> list[statistics.BedCount]:
    from ledger.reads.units import bed_counts

    rows = bed_counts(ledger, between=(start, end), unit=unit, as_of=as_of)
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
    as_of: datetime | None = None,
) -> CensusReport:
    """The census of `start` to `end` (both included) for the hospital, a unit or a service:
    adults and children, or newborns; with `as_of`, as the ledger stood then (the stays and the
    bed counts recorded by that moment). An end before the start, an unknown unit, or a period
    no stay touches is one sentence (`UsageError`, `NotFound`)."""
    period_of(start, end)  # an end before the start, or too long a period: one sentence
    unit = None if unit is None else normal_code(unit)
    service = None if service is None or not service.strip() else service.strip()
    counts = _bed_counts(ledger, start, end, unit, service, as_of)  # unknown unit: NotFound
    stays = caught_up_statistics(ledger).stays(as_of=as_of, between=(start, end))
    scope = statistics.Scope(newborn=newborn, unit=unit, service=service)
    return census_of_stays(stays, counts, start=start, end=end, scope=scope)


def census_of_stays(
    stays: list[statistics.Stay],
    counts: list[statistics.BedCount],
    *,
    start: date,
    end: date,
    scope: statistics.Scope,
) -> CensusReport:
    """The census report of stays and bed counts already read (`census` reads them; the
    monthly report reads them once for the hospital, each unit and the nursery)."""
    period = statistics.Period(start, end)
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
