"""Hospital statistics: the formulas, pure (issue 13).

Plain facts in (`Stay`, `BedCount`, a `Period`), exact figures out (`Fraction`s inside frozen
dataclasses; `rounded` rounds half up the way HIM reports do). No I/O, no clock: every date is
given. The definitions are those of Horton, *Calculating and Reporting Healthcare Statistics*
(AHIMA), and the AHIMA / CMS glossary terms they rest on; each function names its own.

Adults and children (A&C) are counted apart from newborns (NB): a `Scope` says which, and
optionally a unit, a service and an attending. A period is a start and an end date, both
inclusive. A period that ends before it starts, or that no fact touches, is a `PeriodProblem`:
one sentence, the CLI prints it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction

from policies.limits import discharge_disposition

DEATH_DISPOSITIONS = frozenset(
    {"expired", "expired-at-home", "expired-in-medical-facility", "expired-place-unknown"}
)
"""NUBC patient discharge status 20, 40, 41 and 42 (`limits.DISCHARGE_DISPOSITIONS` words)."""

READMISSION_WINDOW_DAYS = 30
NET_DEATH_HOURS = 48
MIDNIGHT = time(0)

EXCLUDED_FROM_READMISSION: dict[str, str] = {
    "expired": "discharged by death (NUBC 20, 40, 41, 42)",
    "short-term-hospital": "transferred to another acute care hospital (NUBC 02)",
    "against-medical-advice": "left against medical advice (NUBC 07)",
}
"""Index discharges a crude 30-day readmission rate leaves out, and why (the CMS measures'
exclusions that need no claims history: death, transfer to acute care, AMA)."""


class PeriodProblem(ValueError):
    """A period the formulas cannot answer for; its text is one sentence the CLI prints."""


def rounded(value: Fraction, places: int = 2) -> Decimal:
    """`value` rounded half up to `places` decimals (Horton's rule: 0.5 and above rounds up)."""
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


# -- facts ----------------------------------------------------------------------------------------


MAX_PERIOD_DAYS = 50 * 365
"""The longest period a figure is computed for (each day of it is counted, per unit)."""


@dataclass(frozen=True)
class Period:
    """The days from `start` to `end`, both included."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end < self.start:
            raise PeriodProblem(f"The period ends ({self.end}) before it starts ({self.start}).")
        if (self.end - self.start).days >= MAX_PERIOD_DAYS:
            raise PeriodProblem(
                f"The period {self} is longer than {MAX_PERIOD_DAYS // 365} years: ask for less."
            )

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def each_day(self) -> Iterator[date]:
        for offset in range(self.days):
            yield self.start + timedelta(days=offset)

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def __str__(self) -> str:
        return f"{self.start} to {self.end}"


@dataclass(frozen=True)
class Move:
    """From `at` on, the patient lay in `unit` under `service` (the admission is the first)."""

    at: datetime
    unit: str
    service: str


@dataclass(frozen=True)
class Stay:
    """One inpatient stay as the statistics see it: no names, only keys and times.

    `moves` is the unit and service history, oldest first (the admission's placement first);
    `disposition` a NUBC patient discharge status, as code or word (`limits.discharge_disposition`).
    `drg_weight` and `gmlos` are the relative weight and geometric mean LOS of the DRG the stay
    grouped to, when it did. `principal_diagnosis` (ICD-10-CM, no dot), `procedures` (ICD-10-PCS,
    the principal first), `drg`, `mdc`, `drg_weight` and `gmlos` come from the stay's final coding
    abstract and the grouping it was signed with; an uncoded stay has none of them."""

    encounter_id: str
    patient: str
    admitted: datetime
    discharged: datetime | None
    moves: tuple[Move, ...]
    newborn: bool = False
    disposition: str | None = None
    attending: str | None = None
    drg: str | None = None
    drg_weight: Decimal | None = None
    gmlos: Decimal | None = None
    principal_diagnosis: str | None = None
    procedures: tuple[str, ...] = ()
    mdc: int | None = None

    @property
    def disposition_word(self) -> str | None:
        return None if self.disposition is None else discharge_disposition(self.disposition)

    @property
    def died(self) -> bool:
        """Discharged by death: NUBC 20 (expired), 40, 41 or 42 (hospice patients who expired)."""
        return self.discharged is not None and self.disposition_word in DEATH_DISPOSITIONS

    def where(self, at: datetime) -> Move | None:
        """The unit and service at `at` (the last move at or before it; the first before any)."""
        if not self.moves:
            return None
        found = self.moves[0]
        for move in self.moves:
            if move.at <= at:
                found = move
        return found

    def length_of_stay(self) -> int:
        """Discharge days (Horton, ch. 5, "length of stay"): discharge date minus admission date,
        in whole days; a patient admitted and discharged the same day counts one day."""
        if self.discharged is None:
            raise PeriodProblem(f"Encounter {self.encounter_id} has not been discharged.")
        return max(1, (self.discharged.date() - self.admitted.date()).days)


@dataclass(frozen=True)
class BedCount:
    """From `start` to `end` (inclusive; `None`: still in force) `unit` had `beds` inpatient beds
    and `bassinets` newborn bassinets set up and staffed (Horton, ch. 4, "inpatient bed count")."""

    unit: str
    beds: int
    bassinets: int
    start: date
    end: date | None = None

    def in_force(self, day: date) -> bool:
        return self.start <= day and (self.end is None or day <= self.end)


@dataclass(frozen=True)
class Scope:
    """Which patients a figure counts: adults and children (`newborn=False`) or newborns, and
    optionally one unit, service or attending (the unit and service where the patient lay at the
    census, or at discharge for discharge figures)."""

    newborn: bool = False
    unit: str | None = None
    service: str | None = None
    attending: str | None = None

    def admits(self, stay: Stay, at: datetime) -> bool:
        if stay.newborn != self.newborn:
            return False
        if self.attending is not None and stay.attending != self.attending:
            return False
        if self.unit is None and self.service is None:
            return True
        return self.places(stay.where(at))

    def places(self, move: Move | None) -> bool:
        """Whether a placement is in this scope's unit and service (any, when none is given)."""
        if self.unit is None and self.service is None:
            return True
        if move is None:
            return False
        return (self.unit is None or move.unit == self.unit) and (
            self.service is None or move.service == self.service
        )

    def counts_on(self, stay: Stay, day: date, census_hour: time = MIDNIGHT) -> bool:
        """Whether `stay` counts in this scope at the census of `day`: where it lay is its last
        move made within or before that day's 24 hours (`census_day`)."""
        if stay.newborn != self.newborn:
            return False
        if self.attending is not None and stay.attending != self.attending:
            return False
        if self.unit is None and self.service is None:
            return True
        found = stay.moves[0] if stay.moves else None
        for move in stay.moves:
            if census_day(move.at, census_hour) <= day:
                found = move
        return self.places(found)

    def describe(self) -> str:
        parts = ["newborns" if self.newborn else "adults and children"]
        parts += [f"unit {self.unit}"] if self.unit else []
        parts += [f"service {self.service}"] if self.service else []
        parts += [f"attending {self.attending}"] if self.attending else []
        return ", ".join(parts)


ADULTS_AND_CHILDREN = Scope()
NEWBORNS = Scope(newborn=True)


# -- census ---------------------------------------------------------------------------------------


def census_instant(day: date, census_hour: time = MIDNIGHT) -> datetime:
    """When the census of `day` is taken: midnight ends the day (24:00, the next day's 00:00)."""
    if census_hour == MIDNIGHT:
        return datetime.combine(day + timedelta(days=1), MIDNIGHT)
    return datetime.combine(day, census_hour)


def census_day(instant: datetime, census_hour: time = MIDNIGHT) -> date:
    """The day whose census counts what happened at `instant`: the 24 hours after the previous
    day's census up to (and, for an hour other than midnight, including) this day's. At
    midnight, the instant's own date."""
    if census_hour == MIDNIGHT or instant.time() <= census_hour:
        return instant.date()
    return instant.date() + timedelta(days=1)


def _census_days(stay: Stay, census_hour: time) -> tuple[date, date | None, date | None]:
    """When a stay counts: in a bed at the census of each day from the first to the last
    (`None`: still in), or, when it was never in a bed at a census, admitted and discharged
    in the 24 hours that end at the census of the day returned last."""
    if census_hour == MIDNIGHT:  # by dates, so that census days and discharge days agree
        first = stay.admitted.date()
        if stay.discharged is None:
            return first, None, None
        if stay.discharged.date() == first:
            return first, first - timedelta(days=1), first
        return first, stay.discharged.date() - timedelta(days=1), None
    first = stay.admitted.date()
    if stay.admitted.time() > census_hour:
        first += timedelta(days=1)
    if stay.discharged is None:
        return first, None, None
    if stay.discharged <= datetime.combine(first, census_hour):
        return first, first - timedelta(days=1), first
    last = stay.discharged.date()
    if stay.discharged.time() <= census_hour:
        last -= timedelta(days=1)
    return first, last, None


@dataclass(frozen=True)
class DailyCensus:
    """One day's census: `in_beds` at the census hour, `admitted_and_discharged` the same day
    (not in a bed at that hour), and their sum, `daily_inpatient_census`."""

    day: date
    in_beds: int
    admitted_and_discharged: int

    @property
    def daily_inpatient_census(self) -> int:
        return self.in_beds + self.admitted_and_discharged


def _touches(stays: Iterable[Stay], period: Period) -> bool:
    return any(
        stay.admitted.date() <= period.end
        and (stay.discharged is None or stay.discharged.date() >= period.start)
        for stay in stays
    )


def _require_stays(stays: Sequence[Stay], period: Period, what: str) -> None:
    if not _touches(stays, period):
        raise PeriodProblem(f"No stay was in the hospital from {period}, so there is no {what}.")


def _censuses(
    stays: Sequence[Stay], period: Period, scope: Scope, census_hour: time
) -> tuple[DailyCensus, ...]:
    """Each stay is visited once and adds to the days it counts on (not every day asks every
    stay): the work is the stays plus their days in the period."""
    in_beds = dict.fromkeys(period.each_day(), 0)
    same_day = dict.fromkeys(period.each_day(), 0)
    for stay in stays:
        if stay.newborn != scope.newborn:
            continue
        if scope.attending is not None and stay.attending != scope.attending:
            continue
        first, last, admitted_and_discharged = _census_days(stay, census_hour)
        if admitted_and_discharged is not None:
            if admitted_and_discharged in period and scope.admits(stay, stay.admitted):
                same_day[admitted_and_discharged] += 1
            continue
        day = max(first, period.start)
        end = period.end if last is None else min(last, period.end)
        while day <= end:
            in_beds[day] += scope.counts_on(stay, day, census_hour)
            day += timedelta(days=1)
    return tuple(DailyCensus(day, in_beds[day], same_day[day]) for day in period.each_day())


def daily_census(
    stays: Sequence[Stay],
    day: date,
    *,
    scope: Scope = ADULTS_AND_CHILDREN,
    census_hour: time = MIDNIGHT,
) -> DailyCensus:
    """Daily inpatient census (Horton, ch. 3; AHIMA glossary): the number of inpatients present
    at the census-taking time each day, plus any inpatients who were both admitted and
    discharged after the census-taking time the previous day. Midnight by default: a patient
    counts on each day from the admission date to the day before the discharge date."""
    one_day = Period(day, day)
    _require_stays(stays, one_day, "census")
    return _censuses(stays, one_day, scope, census_hour)[0]


def daily_censuses(
    stays: Sequence[Stay],
    period: Period,
    *,
    scope: Scope = ADULTS_AND_CHILDREN,
    census_hour: time = MIDNIGHT,
) -> tuple[DailyCensus, ...]:
    """The daily inpatient census of every day of `period`, in order."""
    _require_stays(stays, period, "census")
    return _censuses(stays, period, scope, census_hour)


def inpatient_service_days(
    stays: Sequence[Stay],
    period: Period,
    *,
    scope: Scope = ADULTS_AND_CHILDREN,
    census_hour: time = MIDNIGHT,
) -> int:
    """Inpatient service days (Horton, ch. 3; AHIMA glossary): the services received by one
    inpatient in one 24-hour period; for a period, the sum of its daily inpatient censuses."""
    return sum(
        c.daily_inpatient_census
        for c in daily_censuses(stays, period, scope=scope, census_hour=census_hour)
    )


def average_daily_census(
    stays: Sequence[Stay],
    period: Period,
    *,
    scope: Scope = ADULTS_AND_CHILDREN,
    census_hour: time = MIDNIGHT,
) -> Fraction:
    """Average daily inpatient census (Horton, ch. 3): total inpatient service days for the
    period divided by the number of days in the period."""
    days = inpatient_service_days(stays, period, scope=scope, census_hour=census_hour)
    return Fraction(days, period.days)


@dataclass(frozen=True)
class Movements:
    """The day's recapitulation of a unit (Horton, ch. 3, the daily census report): admissions,
    discharges (deaths included), intrahospital transfers in and out, and those admitted and
    discharged the same day. Admissions and discharges include the admitted-and-discharged, so
    census = previous census + admissions - discharges + transfers in - transfers out, and the
    daily inpatient census adds `admitted_and_discharged` (who hold no bed at the census)."""

    day: date
    admissions: int
    discharges: int
    transfers_in: int
    transfers_out: int
    admitted_and_discharged: int


def movements(
    stays: Sequence[Stay],
    period: Period,
    *,
    scope: Scope = ADULTS_AND_CHILDREN,
    census_hour: time = MIDNIGHT,
) -> tuple[Movements, ...]:
    """Admissions, discharges, transfers in and out for each day of `period`, each counted on
    the day whose census follows it (`census_day`). A transfer is a move to another unit or
    service; it is in or out of the scope when the scope names a unit or a service (a
    hospital-wide scope has none: the hospital's transfers in and out cancel)."""
    _require_stays(stays, period, "census")
    zero = dict.fromkeys(period.each_day(), 0)
    admitted, left, came, went, same = dict(zero), dict(zero), dict(zero), dict(zero), dict(zero)
    for stay in stays:
        if stay.newborn != scope.newborn:
            continue
        if scope.attending is not None and stay.attending != scope.attending:
            continue
        first = stay.moves[0] if stay.moves else None
        day = census_day(stay.admitted, census_hour)
        if day in period and scope.places(first):
            admitted[day] += 1
        last = first
        for move in stay.moves[1:]:
            day = census_day(move.at, census_hour)
            before, after = scope.places(last), scope.places(move)
            if day in period and before != after:
                (came if after else went)[day] += 1
            last = move
        if stay.discharged is not None:
            day = census_day(stay.discharged, census_hour)
            if day in period and scope.places(last):
                left[day] += 1
        _, _, both = _census_days(stay, census_hour)
        if both is not None and both in period and scope.admits(stay, stay.admitted):
            same[both] += 1
    return tuple(
        Movements(day, admitted[day], left[day], came[day], went[day], same[day])
        for day in period.each_day()
    )


# -- beds -----------------------------------------------------------------------------------------


def _beds_on(counts: Sequence[BedCount], day: date, unit: str | None, newborn: bool) -> int:
    """The beds (or bassinets) in force on `day`: per unit, the count that started last."""
    latest: dict[str, BedCount] = {}
    for count in counts:
        if count.in_force(day) and (unit is None or count.unit == unit):
            held = latest.get(count.unit)
            if held is None or count.start >= held.start:
                latest[count.unit] = count
    return sum(c.bassinets if newborn else c.beds for c in latest.values())


def bed_count_days(
    counts: Sequence[BedCount], period: Period, *, scope: Scope = ADULTS_AND_CHILDREN
) -> int:
    """Bed count days (Horton, ch. 4): the sum of the inpatient bed count of each day of the
    period, each day's count being the one in force that day (bassinet count days for
    newborns). Where two counts of a unit overlap, the one that started later is in force."""
    if not any(
        c.start <= period.end
        and (c.end is None or c.end >= period.start)
        and (scope.unit is None or c.unit == scope.unit)
        for c in counts
    ):
        where = f" for unit {scope.unit}" if scope.unit else ""
        raise PeriodProblem(f"No bed count{where} was in force from {period}.")
    return sum(_beds_on(counts, day, scope.unit, scope.newborn) for day in period.each_day())


def average_bed_count(
    counts: Sequence[BedCount], period: Period, *, scope: Scope = ADULTS_AND_CHILDREN
) -> Fraction:
    """Average bed count for the period: bed count days divided by the days in the period."""
    return Fraction(bed_count_days(counts, period, scope=scope), period.days)


@dataclass(frozen=True)
class Occupancy:
    """Percentage of occupancy (Horton, ch. 4): inpatient service days x 100 / bed count days.

    Never capped: above 100 % the beds were overfilled (a disaster, an epidemic, beds set up in
    a corridor), and `overfilled` says so, with the days whose census exceeded their beds."""

    service_days: int
    bed_count_days: int
    overfilled_days: tuple[date, ...]

    @property
    def percent(self) -> Fraction:
        if self.bed_count_days == 0:
            raise PeriodProblem("No beds were in force in the period, so there is no occupancy.")
        return Fraction(self.service_days * 100, self.bed_count_days)

    @property
    def overfilled(self) -> bool:
        return bool(self.overfilled_days)


def occupancy(
    stays: Sequence[Stay],
    counts: Sequence[BedCount],
    period: Period,
    *,
    scope: Scope = ADULTS_AND_CHILDREN,
    census_hour: time = MIDNIGHT,
) -> Occupancy:
    """Percentage of occupancy (bed occupancy ratio; bassinet occupancy for newborns): the
    ratio of inpatient service days to bed count days in the period (Horton, ch. 4)."""
    bed_days = bed_count_days(counts, period, scope=scope)
    censuses = (
        daily_censuses(stays, period, scope=scope, census_hour=census_hour)
        if _touches(stays, period)
        else tuple(DailyCensus(day, 0, 0) for day in period.each_day())
    )
    service = 0
    over: list[date] = []
    for census in censuses:
        service += census.daily_inpatient_census
        if census.daily_inpatient_census > _beds_on(counts, census.day, scope.unit, scope.newborn):
            over.append(census.day)
    return Occupancy(service, bed_days, tuple(over))


# -- discharges -----------------------------------------------------------------------------------


def discharges(
    stays: Sequence[Stay], period: Period, *, scope: Scope = ADULTS_AND_CHILDREN
) -> tuple[Stay, ...]:
    """The stays discharged in `period` (deaths included: a death is a discharge, Horton ch. 5),
    counted in the scope of where the patient lay at discharge."""
    return tuple(
        stay
        for stay in stays
        if stay.discharged is not None
        and stay.discharged.date() in period
        and scope.admits(stay, stay.discharged)
    )


def _require_discharges(found: Sequence[Stay], period: Period, scope: Scope, what: str) -> None:
    if not found:
        raise PeriodProblem(
            f"No {scope.describe()} were discharged from {period}, so there is no {what}."
        )


def bed_turnover_rate(
    stays: Sequence[Stay],
    counts: Sequence[BedCount],
    period: Period,
    *,
    scope: Scope = ADULTS_AND_CHILDREN,
) -> Fraction:
    """Direct bed turnover rate (Horton, ch. 4): the number of discharges (including deaths) in
    the period divided by the average bed count of the period."""
    found = discharges(stays, period, scope=scope)
    _require_discharges(found, period, scope, "bed turnover rate")
    average = average_bed_count(counts, period, scope=scope)
    if average == 0:
        raise PeriodProblem(f"No beds were in force from {period}, so there is no bed turnover.")
    return Fraction(len(found)) / average


@dataclass(frozen=True)
class LengthOfStay:
    """Total discharge days (the sum of the lengths of stay of the patients discharged in the
    period) and the average length of stay: total discharge days / discharges."""

    discharges: int
    discharge_days: int

    @property
    def average(self) -> Fraction:
        return Fraction(self.discharge_days, self.discharges)


def length_of_stay(
    stays: Sequence[Stay], period: Period, *, scope: Scope = ADULTS_AND_CHILDREN
) -> LengthOfStay:
    """Discharge days and average length of stay (Horton, ch. 5): the length of stay of each
    patient discharged in the period (discharge date - admission date; same day: one day),
    their sum, divided by the number of discharges including deaths."""
    found = discharges(stays, period, scope=scope)
    _require_discharges(found, period, scope, "length of stay")
    return LengthOfStay(len(found), sum(stay.length_of_stay() for stay in found))


@dataclass(frozen=True)
class DeathRates:
    """Gross death rate (hospital death rate) and net death rate (institutional death rate),
    Horton, ch. 6: `deaths` of `discharges` (deaths included); `early_deaths` died less than
    48 hours after admission."""

    discharges: int
    deaths: int
    early_deaths: int

    @property
    def gross_percent(self) -> Fraction:
        """Inpatient deaths x 100 / discharges (including deaths)."""
        return Fraction(self.deaths * 100, self.discharges)

    @property
    def net_percent(self) -> Fraction:
        """(Deaths - deaths < 48 h) x 100 / (discharges - deaths < 48 h); 0 when every
        discharge was a death under 48 hours (no death is left to count)."""
        remaining = self.discharges - self.early_deaths
        if remaining == 0:
            return Fraction(0)
        return Fraction((self.deaths - self.early_deaths) * 100, remaining)


def death_rates(
    stays: Sequence[Stay], period: Period, *, scope: Scope = ADULTS_AND_CHILDREN
) -> DeathRates:
    """Gross and net death rates of the stays discharged in the period (see `DeathRates`)."""
    found = discharges(stays, period, scope=scope)
    _require_discharges(found, period, scope, "death rate")
    died = [stay for stay in found if stay.died]
    early = [
        stay
        for stay in died
        if stay.discharged is not None
        and stay.discharged - stay.admitted < timedelta(hours=NET_DEATH_HOURS)
    ]
    return DeathRates(len(found), len(died), len(early))


# -- readmissions ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Readmissions:
    """A crude, unadjusted 30-day readmission rate: of the `index_discharges` (the eligible
    discharges of the period), how many were followed by an inpatient admission of the same
    patient within 30 days of the discharge date. `excluded` says which exclusions were applied
    and how many discharges each left out (every exclusion is listed, even at zero)."""

    index_discharges: int
    readmitted: int
    excluded: tuple[tuple[str, int], ...]
    readmitted_encounters: tuple[tuple[str, str], ...] = field(default=())
    adjusted: bool = False
    window_days: int = READMISSION_WINDOW_DAYS

    @property
    def percent(self) -> Fraction:
        """Readmitted x 100 / index discharges; 0 when every discharge was excluded."""
        if self.index_discharges == 0:
            return Fraction(0)
        return Fraction(self.readmitted * 100, self.index_discharges)

    @property
    def label(self) -> str:
        return f"crude {self.window_days}-day readmission rate (unadjusted)"


def _exclusion(stay: Stay) -> str | None:
    if stay.died:
        return "expired"
    word = stay.disposition_word
    return word if word in EXCLUDED_FROM_READMISSION else None


def readmissions(
    stays: Sequence[Stay],
    period: Period,
    *,
    scope: Scope = ADULTS_AND_CHILDREN,
    window_days: int = READMISSION_WINDOW_DAYS,
) -> Readmissions:
    """Readmissions within 30 days of an eligible discharge (crude, unadjusted; the CMS
    Hospital-Wide Readmission measure's all-cause definition without its risk adjustment or
    planned-readmission algorithm). Index discharges are those of the period in `scope`,
    leaving out discharges by death, transfers to another acute hospital (NUBC 02) and
    discharges against medical advice (NUBC 07). A readmission is any stay of the same patient
    admitted after the index discharge and no more than 30 days after its date (it may fall
    after the period: give the stays that follow it). `readmitted_encounters` pairs each
    readmitted index encounter id with its first readmission's. `window_days` other than 30
    is for a local measure (a 7-day rate), labelled with its window."""
    if window_days < 1:
        raise PeriodProblem(f"A readmission window of {window_days} days is not a window.")
    found = discharges(stays, period, scope=scope)
    _require_discharges(found, period, scope, "readmission rate")
    excluded = dict.fromkeys(EXCLUDED_FROM_READMISSION, 0)
    by_patient: dict[str, list[Stay]] = {}
    for stay in stays:
        by_patient.setdefault(stay.patient, []).append(stay)
    index = 0
    pairs: list[tuple[str, str]] = []
    for stay in found:
        reason = _exclusion(stay)
        if reason is not None:
            excluded[reason] += 1
            continue
        index += 1
        left = stay.discharged
        if left is None:  # discharges() keeps only discharged stays
            continue
        later = sorted(
            (
                other
                for other in by_patient[stay.patient]
                if other.encounter_id != stay.encounter_id
                and other.admitted >= left
                and (other.admitted.date() - left.date()).days <= window_days
            ),
            key=lambda other: other.admitted,
        )
        if later:
            pairs.append((stay.encounter_id, later[0].encounter_id))
    return Readmissions(
        index_discharges=index,
        readmitted=len(pairs),
        excluded=tuple(excluded.items()),
        readmitted_encounters=tuple(pairs),
        window_days=window_days,
    )


# -- case mix -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseMix:
    """Case mix index (CMS): the sum of the DRG relative weights of the discharges of the
    period divided by their number. `ungrouped` discharges had no weight and are left out."""

    grouped: int
    weight_total: Decimal
    ungrouped: int

    @property
    def index(self) -> Fraction:
        return Fraction(self.weight_total) / self.grouped


def case_mix_index(
    stays: Sequence[Stay], period: Period, *, scope: Scope = ADULTS_AND_CHILDREN
) -> CaseMix:
    """Case mix index (CMS; Horton, ch. 9): the mean relative weight of the MS-DRGs of the
    stays discharged in the period."""
    found = discharges(stays, period, scope=scope)
    _require_discharges(found, period, scope, "case mix index")
    weights = [stay.drg_weight for stay in found if stay.drg_weight is not None]
    if not weights:
        raise PeriodProblem(f"No stay discharged from {period} was grouped to a DRG.")
    return CaseMix(len(weights), sum(weights, Decimal(0)), len(found) - len(weights))


@dataclass(frozen=True)
class ObservedExpected:
    """Observed over expected length of stay: the stays' discharge days over the sum of their
    DRGs' geometric mean LOS (CMS's GMLOS, the expected days). `ungrouped` stays had no GMLOS."""

    stays: int
    observed_days: int
    expected_days: Decimal
    ungrouped: int

    @property
    def observed_average(self) -> Fraction:
        return Fraction(self.observed_days, self.stays)

    @property
    def expected_average(self) -> Fraction:
        return Fraction(self.expected_days) / self.stays

    @property
    def ratio(self) -> Fraction:
        return Fraction(self.observed_days) / Fraction(self.expected_days)


def observed_expected_los(
    stays: Sequence[Stay], period: Period, *, scope: Scope = ADULTS_AND_CHILDREN
) -> ObservedExpected:
    """Observed/expected LOS against GMLOS (CMS, the IPPS Table 5 geometric mean length of
    stay): for the stays discharged in the period that grouped, their total length of stay
    divided by the total of their DRGs' GMLOS (above 1: longer than expected)."""
    found = discharges(stays, period, scope=scope)
    _require_discharges(found, period, scope, "observed/expected length of stay")
    grouped = [stay for stay in found if stay.gmlos is not None and stay.gmlos > 0]
    if not grouped:
        raise PeriodProblem(f"No stay discharged from {period} has a DRG with a GMLOS.")
    expected = sum((stay.gmlos for stay in grouped if stay.gmlos is not None), Decimal(0))
    return ObservedExpected(
        stays=len(grouped),
        observed_days=sum(stay.length_of_stay() for stay in grouped),
        expected_days=expected,
        ungrouped=len(found) - len(grouped),
    )
