"""Length of stay, deaths, readmissions, diagnoses, procedures, case mix and monthly trends
(issue 13, items 3 and 4; decisions §48).

Two layers. The first takes `policies.statistics.Stay`s and a `Period` and returns frozen
reports: it only filters and groups the stays and calls the formulas of `policies.statistics`,
which compute every figure (exact `Fraction`s, kept so in the reports; `as_dict` rounds half up
to two places for showing). The second (`*_report(ledger, …)`) reads the stays from the
statistics view (as the ledger stood at `as_of`, when given) and calls the first.

Aggregate figures only: no MRN, no encounter id, no patient id is in any report (physicians are
the attending's user names: staff, not patients), so no report records an access.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from functools import partial
from typing import Any, TypeVar

from ledger.application import Ledger
from ledger.errors import UsageError
from policies import statistics
from policies.statistics import (
    ADULTS_AND_CHILDREN,
    EXCLUDED_FROM_READMISSION,
    READMISSION_WINDOW_DAYS,
    CaseMix,
    DeathRates,
    LengthOfStay,
    ObservedExpected,
    Period,
    PeriodProblem,
    Readmissions,
    Scope,
    Stay,
)

NOT_CODED = "not coded"
"""The group of the stays with no final coding abstract (no principal diagnosis, no DRG)."""
NO_UNIT = "no unit"
"""The group of the discharges from a bed that names no nursing unit."""
NO_ATTENDING = "no attending"
ALL = "all"
"""The one group of `--by none`."""

LOS_GROUPINGS = ("none", "service", "physician", "unit")
DEATH_GROUPINGS = ("none", "service", "physician")
READMISSION_GROUPINGS = ("none", "diagnosis", "category", "mdc", "drg", "service")
CASEMIX_GROUPINGS = ("none", "service", "physician", "drg")
CODE_GROUPINGS = ("code", "category")

T = TypeVar("T")


def _text(value: Fraction | Decimal | None) -> str | None:
    """A figure for showing: a `Fraction` rounded half up to two places, as a string."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return str(value)
    return str(statistics.rounded(value))


def _utc(moment: datetime | None) -> str | None:
    """A moment in JSON: ISO 8601 in UTC, as every listing gives its times."""
    return None if moment is None else moment.astimezone(UTC).isoformat()


def _choose(by: str, choices: Sequence[str], what: str) -> str:
    chosen = by.strip().lower()
    if chosen not in choices:
        shown = by if len(by) <= 40 else by[:40] + "…"
        raise UsageError(
            f"'{shown}' is not a grouping of the {what} (give {', '.join(choices[:-1])} or "
            f"{choices[-1]})."
        )
    return chosen


def _at_discharge(stay: Stay) -> statistics.Move | None:
    return None if stay.discharged is None else stay.where(stay.discharged)


def _key(by: str) -> Callable[[Stay], str]:
    """Which group a discharge belongs to: where the patient lay at discharge (unit, service),
    the stay's attending, or the final abstract's principal diagnosis, its category, the MDC or
    the DRG (`NOT_CODED` without a final abstract)."""

    def service(stay: Stay) -> str:
        move = _at_discharge(stay)
        return move.service if move is not None and move.service else "no service"

    def unit(stay: Stay) -> str:
        move = _at_discharge(stay)
        return move.unit if move is not None and move.unit else NO_UNIT

    def physician(stay: Stay) -> str:
        return stay.attending or NO_ATTENDING

    def diagnosis(stay: Stay) -> str:
        return stay.principal_diagnosis or NOT_CODED

    def category(stay: Stay) -> str:
        return stay.principal_diagnosis[:3] if stay.principal_diagnosis else NOT_CODED

    def mdc(stay: Stay) -> str:
        return NOT_CODED if stay.mdc is None else f"{stay.mdc:02d}"

    def drg(stay: Stay) -> str:
        return stay.drg or NOT_CODED

    keys: dict[str, Callable[[Stay], str]] = {
        "none": lambda stay: ALL,
        "service": service,
        "unit": unit,
        "physician": physician,
        "diagnosis": diagnosis,
        "category": category,
        "mdc": mdc,
        "drg": drg,
    }
    return keys[by]


def group_stays(stays: Iterable[Stay], key: Callable[[Stay], str]) -> list[tuple[str, list[Stay]]]:
    """The stays by `key`, in the order of their keys (`NOT_CODED` and the other "no …" groups
    last), each group's stays in the order given: the one grouping every report uses."""
    groups: dict[str, list[Stay]] = {}
    for stay in stays:
        groups.setdefault(key(stay), []).append(stay)
    missing = {NOT_CODED, NO_UNIT, NO_ATTENDING, "no service"}
    return sorted(groups.items(), key=lambda item: (item[0] in missing, item[0]))


def _problem(call: Callable[[], T]) -> T | None:
    """A formula's answer, or None where the figure does not exist (`PeriodProblem`)."""
    try:
        return call()
    except PeriodProblem:
        return None


# -- the shape of a grouped report ----------------------------------------------------------------


@dataclass(frozen=True)
class CaseMixFigures:
    """A group's case mix: its discharges, the CMI of those grouped to a DRG and their observed
    over expected LOS (None when none grouped: then every discharge is ungrouped)."""

    discharges: int
    case_mix: CaseMix | None
    observed_expected: ObservedExpected | None

    @property
    def ungrouped(self) -> int:
        return self.discharges if self.case_mix is None else self.case_mix.ungrouped


Figures = LengthOfStay | DeathRates | Readmissions | CaseMixFigures


def figures_dict(figures: Figures) -> dict[str, Any]:
    """A group's figures as shown: counts as numbers, rates rounded to two places as strings."""
    if isinstance(figures, LengthOfStay):
        return {
            "discharges": figures.discharges,
            "discharge_days": figures.discharge_days,
            "average_length_of_stay": _text(figures.average),
        }
    if isinstance(figures, DeathRates):
        return {
            "discharges": figures.discharges,
            "deaths": figures.deaths,
            "deaths_under_48_hours": figures.early_deaths,
            "gross_death_rate_percent": _text(figures.gross_percent),
            "net_death_rate_percent": _text(figures.net_percent),
        }
    if isinstance(figures, Readmissions):
        return {
            "measure": figures.label,
            "adjusted": figures.adjusted,
            "window_days": figures.window_days,
            "index_discharges": figures.index_discharges,
            "readmitted": figures.readmitted,
            "readmission_rate_percent": (
                _text(figures.percent) if figures.index_discharges else None
            ),
            "excluded": [
                {
                    "exclusion": reason,
                    "description": EXCLUDED_FROM_READMISSION[reason],
                    "discharges": count,
                }
                for reason, count in figures.excluded
            ],
        }
    mix, oe = figures.case_mix, figures.observed_expected
    return {
        "discharges": figures.discharges,
        "grouped": 0 if mix is None else mix.grouped,
        "ungrouped": figures.ungrouped,
        "weight_total": None if mix is None else str(mix.weight_total),
        "case_mix_index": None if mix is None else _text(mix.index),
        "observed_days": None if oe is None else oe.observed_days,
        "expected_days": None if oe is None else str(oe.expected_days),
        "observed_average_los": None if oe is None else _text(oe.observed_average),
        "expected_average_los": None if oe is None else _text(oe.expected_average),
        "observed_expected_ratio": None if oe is None else _text(oe.ratio),
    }


def _flat(figures: Figures) -> dict[str, Any]:
    """The figures as one CSV row (the exclusions one column each)."""
    shown = figures_dict(figures)
    excluded = shown.pop("excluded", None)
    for row in excluded or ():
        shown[f"excluded_{row['exclusion']}"] = row["discharges"]
    return shown


@dataclass(frozen=True)
class Group:
    group: str
    figures: Figures


@dataclass(frozen=True)
class GroupedReport:
    """A period's figures per group and in total (`by` "none": the total alone, as one group)."""

    report: str
    period: Period
    scope: str
    by: str
    groups: tuple[Group, ...]
    total: Figures
    as_of: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": self.report,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "scope": self.scope,
            "by": self.by,
            "as_of": _utc(self.as_of),
            "groups": [{"group": g.group, **figures_dict(g.figures)} for g in self.groups],
            "total": figures_dict(self.total),
        }

    def csv_rows(self) -> list[dict[str, Any]]:
        """One row per group and a last one for the total (`row` says which)."""
        rows = [{"row": "group", "group": g.group, **_flat(g.figures)} for g in self.groups]
        rows.append({"row": "total", "group": "", **_flat(self.total)})
        return rows


def _discharged(stays: Sequence[Stay], period: Period, scope: Scope, what: str) -> list[Stay]:
    found = list(statistics.discharges(stays, period, scope=scope))
    if not found:
        raise PeriodProblem(
            f"No {scope.describe()} were discharged from {period}, so there is no {what}."
        )
    return found


# -- layer 1: over stays --------------------------------------------------------------------------


def length_of_stay_by(
    stays: Sequence[Stay], period: Period, *, by: str = "none", scope: Scope = ADULTS_AND_CHILDREN
) -> GroupedReport:
    """Discharges, discharge days and ALOS per group (where the patient lay at discharge, or
    the stay's attending) and in total."""
    by = _choose(by, LOS_GROUPINGS, "length of stay")
    total = statistics.length_of_stay(stays, period, scope=scope)
    found = _discharged(stays, period, scope, "length of stay")
    groups = tuple(
        Group(name, statistics.length_of_stay(members, period, scope=scope))
        for name, members in group_stays(found, _key(by))
    )
    return GroupedReport("length of stay", period, scope.describe(), by, groups, total)


def deaths_by(
    stays: Sequence[Stay], period: Period, *, by: str = "none", scope: Scope = ADULTS_AND_CHILDREN
) -> GroupedReport:
    """Discharges, deaths, deaths under 48 hours, gross and net death rates per group."""
    by = _choose(by, DEATH_GROUPINGS, "death rates")
    total = statistics.death_rates(stays, period, scope=scope)
    found = _discharged(stays, period, scope, "death rate")
    groups = tuple(
        Group(name, statistics.death_rates(members, period, scope=scope))
        for name, members in group_stays(found, _key(by))
    )
    return GroupedReport("death rates", period, scope.describe(), by, groups, total)


def readmissions_by(
    stays: Sequence[Stay],
    period: Period,
    *,
    by: str = "none",
    window_days: int = READMISSION_WINDOW_DAYS,
    scope: Scope = ADULTS_AND_CHILDREN,
) -> GroupedReport:
    """The crude (unadjusted) readmission rate per group of index discharges: by the INDEX
    stay's principal diagnosis, its category, MDC, DRG (`NOT_CODED` without a final abstract)
    or service at discharge. A readmission may be any later stay of the patient, in the period
    or after it, in the group or not: the formula is given the group's discharges and, as
    admissions only (no discharge, so never an index), the patients' other stays."""
    by = _choose(by, READMISSION_GROUPINGS, "readmission rate")
    total = statistics.readmissions(stays, period, scope=scope, window_days=window_days)
    found = _discharged(stays, period, scope, "readmission rate")
    admissions: dict[str, list[Stay]] = {}
    for stay in stays:
        admissions.setdefault(stay.patient, []).append(replace(stay, discharged=None))
    groups = []
    for name, members in group_stays(found, _key(by)):
        inside = {stay.encounter_id for stay in members}
        others = [
            other
            for patient in dict.fromkeys(stay.patient for stay in members)
            for other in admissions[patient]
            if other.encounter_id not in inside
        ]
        figures = statistics.readmissions(
            [*members, *others], period, scope=scope, window_days=window_days
        )
        groups.append(Group(name, figures))
    return GroupedReport(total.label, period, scope.describe(), by, tuple(groups), total)


def case_mix_figures(
    stays: Sequence[Stay], period: Period, *, scope: Scope = ADULTS_AND_CHILDREN
) -> CaseMixFigures:
    """The CMI and O/E LOS of the period's discharges; None for either where no stay grouped."""
    found = statistics.discharges(stays, period, scope=scope)
    return CaseMixFigures(
        discharges=len(found),
        case_mix=_problem(lambda: statistics.case_mix_index(stays, period, scope=scope)),
        observed_expected=_problem(
            lambda: statistics.observed_expected_los(stays, period, scope=scope)
        ),
    )


def case_mix_by(
    stays: Sequence[Stay], period: Period, *, by: str = "none", scope: Scope = ADULTS_AND_CHILDREN
) -> GroupedReport:
    """CMI over the discharges grouped to a DRG (ungrouped ones counted apart) and O/E LOS
    against GMLOS, per group and in total. No grouped discharge at all: one sentence."""
    by = _choose(by, CASEMIX_GROUPINGS, "case mix")
    statistics.case_mix_index(stays, period, scope=scope)  # no discharge, none grouped: refused
    total = case_mix_figures(stays, period, scope=scope)
    found = _discharged(stays, period, scope, "case mix index")
    groups = tuple(
        Group(name, case_mix_figures(members, period, scope=scope))
        for name, members in group_stays(found, _key(by))
    )
    return GroupedReport("case mix", period, scope.describe(), by, groups, total)


# -- the most frequent codes ----------------------------------------------------------------------


@dataclass(frozen=True)
class CodeCount:
    code: str
    title: str | None
    count: int
    share: Fraction
    """count x 100 / the codes counted."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "code": self.code,
            "title": self.title,
            "count": self.count,
            "percent": _text(self.share),
        }


@dataclass(frozen=True)
class CodeReport:
    """The most frequent principal diagnoses (or procedures) of a period's discharges."""

    report: str
    period: Period
    scope: str
    by: str
    discharges: int
    not_coded: int
    """Discharges with no final coding abstract (counted in no row)."""
    counted: int
    """Codes counted: one per coded discharge (a principal code), or every procedure (`--all`)."""
    rows: tuple[CodeCount, ...]
    without_code: int = 0
    """Coded discharges with no procedure (procedures only)."""
    as_of: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": self.report,
            "from": self.period.start.isoformat(),
            "to": self.period.end.isoformat(),
            "scope": self.scope,
            "by": self.by,
            "as_of": _utc(self.as_of),
            "discharges": self.discharges,
            "not_coded": self.not_coded,
            "without_code": self.without_code,
            "counted": self.counted,
            "rows": [row.as_dict() for row in self.rows],
        }


def _top(
    codes: Iterable[str], top: int, title: Callable[[str], str | None] | None
) -> tuple[int, tuple[CodeCount, ...]]:
    if top < 1:
        raise UsageError(f"--top must be 1 or more, not {top}.")
    counts = Counter(codes)
    counted = sum(counts.values())
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:top]
    rows = tuple(
        CodeCount(code, title(code) if title else None, n, Fraction(n * 100, counted))
        for code, n in ranked
    )
    return counted, rows


def top_diagnoses(
    stays: Sequence[Stay],
    period: Period,
    *,
    by: str = "code",
    top: int = 10,
    scope: Scope = ADULTS_AND_CHILDREN,
    title: Callable[[str], str | None] | None = None,
) -> CodeReport:
    """The `top` most frequent principal diagnoses (ICD-10-CM code, or its 3-character category)
    of the discharges of the period that have a final abstract; ties by code."""
    by = _choose(by, CODE_GROUPINGS, "diagnoses")
    found = _discharged(stays, period, scope, "list of diagnoses")
    coded = [stay.principal_diagnosis for stay in found if stay.principal_diagnosis]
    size = 3 if by == "category" else None
    counted, rows = _top((code[:size] for code in coded), top, title)
    return CodeReport(
        "principal diagnoses", period, scope.describe(), by, len(found),
        len(found) - len(coded), counted, rows,
    )  # fmt: skip


def top_procedures(
    stays: Sequence[Stay],
    period: Period,
    *,
    by: str = "code",
    top: int = 10,
    every: bool = False,
    scope: Scope = ADULTS_AND_CHILDREN,
    title: Callable[[str], str | None] | None = None,
) -> CodeReport:
    """The `top` most frequent principal procedures (every procedure with `every`) of the
    period's coded discharges, by ICD-10-PCS code or category (its first three characters:
    section, body system, root operation); ties by code."""
    by = _choose(by, CODE_GROUPINGS, "procedures")
    found = _discharged(stays, period, scope, "list of procedures")
    coded = [stay for stay in found if stay.principal_diagnosis]
    lists = [stay.procedures if every else stay.procedures[:1] for stay in coded]
    size = 3 if by == "category" else None
    counted, rows = _top((code[:size] for codes in lists for code in codes), top, title)
    return CodeReport(
        "procedures" if every else "principal procedures", period, scope.describe(), by,
        len(found), len(found) - len(coded), counted, rows,
        without_code=sum(1 for codes in lists if not codes),
    )  # fmt: skip


# -- monthly trends -------------------------------------------------------------------------------


def month_period(year: int, month: int) -> Period:
    """The calendar month as a period."""
    start = date(year, month, 1)
    following = date(year + month // 12, month % 12 + 1, 1)
    return Period(start, date.fromordinal(following.toordinal() - 1))


def months_between(first: date, last: date) -> tuple[Period, ...]:
    """Every calendar month from `first`'s to `last`'s, both included."""
    if (last.year, last.month) < (first.year, first.month):
        raise PeriodProblem(f"The months end ({last:%Y-%m}) before they start ({first:%Y-%m}).")
    months = []
    year, month = first.year, first.month
    while (year, month) <= (last.year, last.month):
        months.append(month_period(year, month))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return tuple(months)


@dataclass(frozen=True)
class MonthFigures:
    """One month's figures, exact; None where the figure does not exist that month (no
    discharge; no discharge grouped to a DRG). What the plots and the monthly report draw."""

    month: Period
    discharges: int
    average_length_of_stay: Fraction | None
    gross_death_rate: Fraction | None
    net_death_rate: Fraction | None
    readmission_rate: Fraction | None
    case_mix_index: Fraction | None
    observed_expected_los: Fraction | None
    readmission_label: str = field(
        default=f"crude {READMISSION_WINDOW_DAYS}-day readmission rate (unadjusted)"
    )

    @property
    def label(self) -> str:
        return f"{self.month.start:%Y-%m}"

    def as_dict(self) -> dict[str, Any]:
        return {
            "month": self.label,
            "discharges": self.discharges,
            "average_length_of_stay": _text(self.average_length_of_stay),
            "gross_death_rate_percent": _text(self.gross_death_rate),
            "net_death_rate_percent": _text(self.net_death_rate),
            "readmission_rate_percent": _text(self.readmission_rate),
            "readmission_measure": self.readmission_label,
            "case_mix_index": _text(self.case_mix_index),
            "observed_expected_los": _text(self.observed_expected_los),
        }


def monthly_trends(
    stays: Sequence[Stay], months: Sequence[Period], *, scope: Scope = ADULTS_AND_CHILDREN
) -> tuple[MonthFigures, ...]:
    """Per month: discharges, ALOS, gross and net death rates, the crude readmission rate
    (readmissions may fall in a later month: every stay is given), CMI and O/E LOS."""
    found = []
    for month in months:
        discharged = len(statistics.discharges(stays, month, scope=scope))
        los: LengthOfStay | None = None
        died: DeathRates | None = None
        back: Readmissions | None = None
        if discharged:
            los = statistics.length_of_stay(stays, month, scope=scope)
            died = statistics.death_rates(stays, month, scope=scope)
            back = statistics.readmissions(stays, month, scope=scope)
        mix = _problem(partial(statistics.case_mix_index, stays, month, scope=scope))
        oe = _problem(partial(statistics.observed_expected_los, stays, month, scope=scope))
        found.append(
            MonthFigures(
                month=month,
                discharges=discharged,
                average_length_of_stay=None if los is None else los.average,
                gross_death_rate=None if died is None else died.gross_percent,
                net_death_rate=None if died is None else died.net_percent,
                readmission_rate=None
                if back is None or not back.index_discharges
                else back.percent,
                case_mix_index=None if mix is None else mix.index,
                observed_expected_los=None if oe is None else oe.ratio,
            )
        )
    return tuple(found)


@dataclass(frozen=True)
class TrendsReport:
    months: tuple[MonthFigures, ...]
    scope: str
    as_of: datetime | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": "monthly trends",
            "from_month": self.months[0].label,
            "to_month": self.months[-1].label,
            "scope": self.scope,
            "as_of": _utc(self.as_of),
            "months": [m.as_dict() for m in self.months],
        }


# -- layer 2: from the ledger ---------------------------------------------------------------------


def _stays(
    ledger: Ledger, as_of: datetime | None, first: date, last: date, after: int = 0
) -> list[Stay]:
    """The stays in the hospital some time from `first` to `after` days past `last` (where a
    readmission may be), as the ledger stood at `as_of`."""
    from projections.statistics import caught_up_statistics

    until = last + timedelta(days=after)
    return caught_up_statistics(ledger).stays(as_of=as_of, between=(first, until))


def _period(start: date, end: date) -> Period:
    from projections.statistics import period_of

    return period_of(start, end)


def _answer(call: Callable[[], T]) -> T:
    """The formulas' refusals (a period with no discharges…) as one sentence for the CLI."""
    try:
        return call()
    except PeriodProblem as problem:
        raise UsageError(str(problem)) from None


def length_of_stay_report(
    ledger: Ledger, *, start: date, end: date, by: str = "none", newborn: bool = False,
    as_of: datetime | None = None,
) -> GroupedReport:  # fmt: skip
    """Discharges, discharge days and ALOS of the period (both days included), per group."""
    period, scope = _period(start, end), Scope(newborn=newborn)
    by = _choose(by, LOS_GROUPINGS, "length of stay")
    stays = _stays(ledger, as_of, start, end)
    report = _answer(lambda: length_of_stay_by(stays, period, by=by, scope=scope))
    return replace(report, as_of=as_of)


def deaths_report(
    ledger: Ledger, *, start: date, end: date, by: str = "none", newborn: bool = False,
    as_of: datetime | None = None,
) -> GroupedReport:  # fmt: skip
    """Gross and net death rates of the period's discharges, per group."""
    period, scope = _period(start, end), Scope(newborn=newborn)
    by = _choose(by, DEATH_GROUPINGS, "death rates")
    stays = _stays(ledger, as_of, start, end)
    report = _answer(lambda: deaths_by(stays, period, by=by, scope=scope))
    return replace(report, as_of=as_of)


def readmissions_report(
    ledger: Ledger, *, start: date, end: date, by: str = "none",
    window_days: int = READMISSION_WINDOW_DAYS, newborn: bool = False,
    as_of: datetime | None = None,
) -> GroupedReport:  # fmt: skip
    """The crude (unadjusted) readmission rate of the period's index discharges, per group."""
    period, scope = _period(start, end), Scope(newborn=newborn)
    by = _choose(by, READMISSION_GROUPINGS, "readmission rate")
    if not 1 <= window_days <= 365:
        raise UsageError(f"The readmission window must be 1 to 365 days, not {window_days}.")
    stays = _stays(ledger, as_of, start, end, window_days)
    report = _answer(
        lambda: readmissions_by(stays, period, by=by, window_days=window_days, scope=scope)
    )
    return replace(report, as_of=as_of)


def case_mix_report(
    ledger: Ledger, *, start: date, end: date, by: str = "none", newborn: bool = False,
    as_of: datetime | None = None,
) -> GroupedReport:  # fmt: skip
    """CMI and O/E LOS of the period's discharges grouped to a DRG, per group."""
    period, scope = _period(start, end), Scope(newborn=newborn)
    by = _choose(by, CASEMIX_GROUPINGS, "case mix")
    stays = _stays(ledger, as_of, start, end)
    report = _answer(lambda: case_mix_by(stays, period, by=by, scope=scope))
    return replace(report, as_of=as_of)


def diagnoses_report(
    ledger: Ledger, *, start: date, end: date, by: str = "code", top: int = 10,
    newborn: bool = False, as_of: datetime | None = None,
) -> CodeReport:  # fmt: skip
    """The most frequent principal diagnoses of the period's discharges, with their titles."""
    from ledger.coding import icd10cm

    period, scope = _period(start, end), Scope(newborn=newborn)
    by = _choose(by, CODE_GROUPINGS, "diagnoses")
    if top < 1:
        raise UsageError(f"--top must be 1 or more, not {top}.")
    stays = _stays(ledger, as_of, start, end)
    report = _answer(
        lambda: top_diagnoses(stays, period, by=by, top=top, scope=scope, title=icd10cm.describe)
    )
    return replace(report, as_of=as_of)


def procedures_report(
    ledger: Ledger, *, start: date, end: date, by: str = "code", top: int = 10,
    every: bool = False, newborn: bool = False, as_of: datetime | None = None,
) -> CodeReport:  # fmt: skip
    """The most frequent principal (or all) procedures of the period's discharges, titled."""
    from ledger.coding import icd10pcs

    period, scope = _period(start, end), Scope(newborn=newborn)
    by = _choose(by, CODE_GROUPINGS, "procedures")
    if top < 1:
        raise UsageError(f"--top must be 1 or more, not {top}.")
    stays = _stays(ledger, as_of, start, end)
    report = _answer(
        lambda: top_procedures(
            stays, period, by=by, top=top, every=every, scope=scope, title=icd10pcs.title
        )
    )
    return replace(report, as_of=as_of)


def trends_report(
    ledger: Ledger, *, first: date, last: date, newborn: bool = False,
    as_of: datetime | None = None,
) -> TrendsReport:  # fmt: skip
    """Monthly figures from `first`'s month to `last`'s (a month with none: empty figures)."""
    months = _answer(lambda: months_between(first, last))
    scope = Scope(newborn=newborn)
    stays = _stays(ledger, as_of, months[0].start, months[-1].end, READMISSION_WINDOW_DAYS)
    figures = monthly_trends(stays, months, scope=scope)
    if not any(m.discharges for m in figures):
        raise UsageError(
            f"No {scope.describe()} were discharged from {figures[0].label} to "
            f"{figures[-1].label}, so there are no trends."
        )
    return TrendsReport(figures, scope.describe(), as_of)
