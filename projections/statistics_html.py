"""The monthly statistics report: one self-contained HTML page an HIM director prints (§49).

`monthly_figures` reads the ledger as it stood at a moment (the stays of the statistics view
and the bed counts recorded by then) and computes, through `policies.statistics`, the month's
figures; `render_monthly_report` turns them into bytes. The page holds its plots as inline SVG,
its style in one `<style>` element (A4 and Letter: 180 mm wide at most, a page break before
each section), no script, no link, no image file, no address of anything outside: it can be
opened, printed and kept with nothing else. Every text in it is escaped (`html.escape`).

**Reproducible.** The bytes depend only on the figures: the period, the moment the ledger is
read as of ("as the ledger stood at …", the only time in the page: never the clock of
rendering), the plots (`statistics_plots`, byte-stable) and the layout version
(`LAYOUT`). Month names are spelled here, not by the locale. The same ledger, month and moment
give the same bytes, so an issued report can be shown later to be what was given.

Aggregate figures only: no MRN, no encounter, no patient id, no name, so it records no access.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

from ledger.errors import LedgerError, NotFound, UsageError, require
from policies import statistics
from policies.reports import month_of, month_period, month_problem, months_ending
from policies.statistics import EXCLUDED_FROM_READMISSION
from projections.statistics import CensusReport, caught_up_statistics, census_of_stays
from projections.statistics_reports import CaseMixFigures

if TYPE_CHECKING:
    from ledger.aggregates.statistics_report import IssuedReport
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity
    from ledger.reads.reports import IssuedReportRow
    from ledger.reads.units import BedCount as UnitBedCount
    from projections.statistics_reports import CodeReport, GroupedReport, MonthFigures

T = TypeVar("T")

LAYOUT = "chartledger monthly report/1"
"""The page's layout version: raise it whenever the bytes for the same figures change."""

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def renderer() -> str:
    """What makes a monthly report's bytes besides the ledger: this layout, the plotting
    library's version, and the code sets the diagnosis and procedure titles come from."""
    from ledger.coding import icd10cm, icd10pcs
    from projections.statistics_plots import renderer_version

    return f"{LAYOUT}; {renderer_version()}; {icd10cm.CODE_SET_RELEASE}; {icd10pcs.DATA_FILE}"


def month_title(month: str) -> str:
    first, _ = month_period(month)
    return f"{MONTH_NAMES[first.month - 1]} {first.year}"


# -- the figures ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class UnitLine:
    """One nursing unit's month: its beds, its patient days and its movements."""

    unit: str
    bed_count_days: int
    service_days: int
    average_daily_census: Decimal
    occupancy_percent: Decimal | None
    admissions: int
    discharges: int
    transfers_in: int
    transfers_out: int


@dataclass(frozen=True)
class Outcomes:
    """The month's discharge figures (§48's reports, over the same stays); each None where
    it does not exist (no discharge; no discharge grouped to a DRG)."""

    length_of_stay: GroupedReport | None
    deaths: GroupedReport | None
    readmissions: GroupedReport | None
    diagnoses: CodeReport | None
    procedures: CodeReport | None
    case_mix: GroupedReport | None
    trends: tuple[MonthFigures, ...]


NO_OUTCOMES = Outcomes(None, None, None, None, None, None, ())


@dataclass(frozen=True)
class MonthlyFigures:
    """Everything a monthly report shows; nothing about any one patient."""

    month: str
    start: date
    end: date
    as_of: datetime
    adults_and_children: CensusReport
    beds: tuple[int, ...]
    """The beds set up each day of the month (all units), for the plot."""
    units: tuple[UnitLine, ...]
    newborns: CensusReport | None
    """None when no newborn was in the nursery that month."""
    outcomes: Outcomes = NO_OUTCOMES


def _line(unit: str, report: CensusReport) -> UnitLine:
    return UnitLine(
        unit=unit,
        bed_count_days=report.bed_count_days or 0,
        service_days=report.service_days,
        average_daily_census=report.average_daily_census,
        occupancy_percent=report.occupancy_percent,
        admissions=sum(d.admissions for d in report.days),
        discharges=sum(d.discharges for d in report.days),
        transfers_in=sum(d.transfers_in for d in report.days),
        transfers_out=sum(d.transfers_out for d in report.days),
    )


TREND_MONTHS = 12
"""The trends plotted: the twelve months that end with the report's month."""
TOP_CODES = 10
READMISSIONS_BY = "category"
"""Readmissions by the index stay's principal diagnosis category (three characters)."""

Title = Callable[[str], "str | None"]


def _maybe(call: Callable[[], T]) -> T | None:
    try:
        return call()
    except statistics.PeriodProblem:
        return None


def outcomes_of(
    stays: Sequence[statistics.Stay],
    month: str,
    *,
    diagnosis_title: Title | None = None,
    procedure_title: Title | None = None,
) -> Outcomes:
    """Length of stay and deaths by service, readmissions by diagnosis category, the most
    frequent principal diagnoses and procedures, case mix by service, and the twelve months'
    trends ending with `month`: every figure `projections.statistics_reports`' (§48)."""
    from projections import statistics_reports as reports

    start, end = month_period(month)
    period = statistics.Period(start, end)
    months = tuple(statistics.Period(*month_period(m)) for m in months_ending(month, TREND_MONTHS))
    return Outcomes(
        length_of_stay=_maybe(lambda: reports.length_of_stay_by(stays, period, by="service")),
        deaths=_maybe(lambda: reports.deaths_by(stays, period, by="service")),
        readmissions=_maybe(lambda: reports.readmissions_by(stays, period, by=READMISSIONS_BY)),
        diagnoses=_maybe(
            lambda: reports.top_diagnoses(stays, period, top=TOP_CODES, title=diagnosis_title)
        ),
        procedures=_maybe(
            lambda: reports.top_procedures(stays, period, top=TOP_CODES, title=procedure_title)
        ),
        case_mix=_maybe(lambda: reports.case_mix_by(stays, period, by="service")),
        trends=reports.monthly_trends(stays, months),
    )


def figures_from(
    stays: Sequence[statistics.Stay],
    rows: Sequence[UnitBedCount],
    month: str,
    *,
    as_of: datetime,
    diagnosis_title: Title | None = None,
    procedure_title: Title | None = None,
) -> MonthlyFigures:
    """The figures of `month` from stays and the bed counts in force each day (pure: what
    `monthly_figures` reads from the ledger, or what a test writes by hand)."""
    start, end = month_period(month)
    counts = [statistics.BedCount(r.unit, r.beds, r.bassinets, r.day, r.day) for r in rows]
    listed = list(stays)
    whole = census_of_stays(listed, counts, start=start, end=end, scope=statistics.Scope())
    beds = {day: 0 for day in statistics.Period(start, end).each_day()}
    for row in rows:
        if row.day in beds:
            beds[row.day] += row.beds
    units = []
    for code in sorted({r.unit for r in rows}):
        mine = [c for c in counts if c.unit == code]
        scope = statistics.Scope(unit=code)
        line = _line(code, census_of_stays(listed, mine, start=start, end=end, scope=scope))
        if line.bed_count_days or line.service_days:  # a nursery's bassinets are not beds
            units.append(line)
    newborns = census_of_stays(listed, counts, start=start, end=end, scope=statistics.NEWBORNS)
    nursery_used = newborns.service_days or any(d.admissions for d in newborns.days)
    return MonthlyFigures(
        month=month_of(start),
        start=start,
        end=end,
        as_of=as_of,
        adults_and_children=whole,
        beds=tuple(beds.values()),
        units=tuple(units),
        newborns=newborns if nursery_used else None,
        outcomes=outcomes_of(
            listed, month, diagnosis_title=diagnosis_title, procedure_title=procedure_title
        ),
    )


def _diagnosis_title(code: str) -> str | None:
    from ledger.coding import icd10cm

    return icd10cm.describe(code)


def _procedure_title(code: str) -> str | None:
    from ledger.coding import icd10pcs

    return icd10pcs.title(code)


def monthly_figures(ledger: Ledger, month: str, *, as_of: datetime) -> MonthlyFigures:
    """The figures of `month` (YYYY-MM) as the ledger stood at `as_of`: the stays of the
    twelve months' trends and the readmission window after the month, read once. A month no
    stay touches, or a bad month, is one sentence (`UsageError`)."""
    from ledger.reads.units import bed_counts
    from policies.statistics import READMISSION_WINDOW_DAYS

    problem = month_problem(month)
    if problem is not None:
        raise UsageError(problem)
    start, end = month_period(month)
    first, _ = month_period(months_ending(month, TREND_MONTHS)[0])
    until = end + timedelta(days=READMISSION_WINDOW_DAYS)
    stays = caught_up_statistics(ledger).stays(as_of=as_of, between=(first, until))
    rows = bed_counts(ledger, between=(start, end), as_of=as_of)
    try:
        return figures_from(
            stays,
            rows,
            month,
            as_of=as_of,
            diagnosis_title=_diagnosis_title,
            procedure_title=_procedure_title,
        )
    except statistics.PeriodProblem as problem_:
        raise UsageError(str(problem_)) from None


# -- the page -------------------------------------------------------------------------------------

STYLE = """
@page { margin: 15mm; }
* { box-sizing: border-box; }
body { font-family: "DejaVu Sans", Helvetica, Arial, sans-serif; font-size: 10pt; color: #111;
  max-width: 180mm; margin: 0 auto; }
h1 { font-size: 16pt; margin: 0 0 2mm 0; }
h2 { font-size: 13pt; border-bottom: 0.4mm solid #1f4e79; margin: 6mm 0 3mm 0; }
h3 { font-size: 11pt; margin: 4mm 0 2mm 0; }
p.lead { margin: 0 0 1mm 0; }
p.note { color: #444; font-size: 8.5pt; }
section + section { break-before: page; page-break-before: always; }
figure { margin: 0 0 3mm 0; break-inside: avoid; page-break-inside: avoid; }
figure svg { width: 100%; height: auto; }
figcaption { font-size: 8.5pt; color: #444; }
table { border-collapse: collapse; width: 100%; margin: 0 0 3mm 0; break-inside: avoid;
  page-break-inside: avoid; }
table.days { break-inside: auto; page-break-inside: auto; }
th, td { border-bottom: 0.2mm solid #bbb; padding: 0.8mm 1.2mm; text-align: right; }
table.wide { font-size: 8.5pt; }
table.codes td:nth-child(2), table.codes th:nth-child(2) { text-align: left; }
th:first-child, td:first-child { text-align: left; }
thead th { border-bottom: 0.4mm solid #333; }
tr { break-inside: avoid; page-break-inside: avoid; }
"""

_PROLOGUE = re.compile(rb"\A\s*<\?xml[^>]*\?>\s*(<!DOCTYPE[^>]*>\s*)?")
_NAMESPACES = re.compile(rb'\s+xmlns(:xlink)?="[^"]*"')
_IDS = re.compile(rb'id="([^"]+)"')


def inline_svg(svg: bytes, prefix: str) -> str:
    """An SVG file as an element of the page: no XML prologue or doctype, no namespace names
    (HTML knows SVG), and its ids prefixed so that two plots never share one."""
    body = _NAMESPACES.sub(b"", _PROLOGUE.sub(b"", svg), count=2)
    ids = set(_IDS.findall(body))
    for name in sorted(ids, key=len, reverse=True):
        fresh = prefix.encode() + b"-" + name
        body = body.replace(b'id="' + name + b'"', b'id="' + fresh + b'"')
        body = body.replace(b"#" + name + b")", b"#" + fresh + b")")
        body = body.replace(b'"#' + name + b'"', b'"#' + fresh + b'"')
    return body.decode("utf-8").strip()


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _cell(value: object) -> str:
    return "—" if value is None else _e(value)


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{_cell(c)}</td>" for c in r) + "</tr>" for r in rows)
    attr = f' class="{_e(cls)}"' if cls else ""
    return f"<table{attr}><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _moment(value: datetime) -> str:
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f UTC")


def _census_figures(report: CensusReport, beds: str) -> list[tuple[str, object]]:
    overfilled = (
        "yes: " + ", ".join(d.isoformat() for d in report.overfilled_days)
        if report.overfilled
        else "no"
    )
    return [
        ("Inpatient service days", report.service_days),
        ("Average daily census", report.average_daily_census),
        (f"{beds} count days", report.bed_count_days),
        ("Percentage of occupancy", report.occupancy_percent),
        ("Census above the count set up", overfilled),
        ("Bed turnover rate", report.bed_turnover),
        ("Admissions", sum(d.admissions for d in report.days)),
        ("Discharges (deaths included)", sum(d.discharges for d in report.days)),
    ]


def _census_section(figures: MonthlyFigures) -> str:
    from projections.statistics_plots import line_chart

    report = figures.adults_and_children
    labels = [d.day.strftime("%d") for d in report.days]
    plot = line_chart(
        f"Daily inpatient census and beds, {month_title(figures.month)}",
        labels,
        {"census (adults and children)": [d.census for d in report.days],
         "beds set up": list(figures.beds)},
        "patients / beds",
        steps=("beds set up",),
    )  # fmt: skip
    parts = [
        '<section id="census"><h2>1. Census and use of beds</h2>',
        f"<figure>{inline_svg(plot, 'census')}<figcaption>The daily inpatient census (the "
        "midnight census plus those admitted and discharged the same day) of adults and "
        "children, against the beds set up each day.</figcaption></figure>",
        "<h3>Adults and children</h3>",
        _table(["Figure", "Month"], _census_figures(report, "Bed")),
    ]
    if figures.units:
        parts.append("<h3>By nursing unit</h3>")
        parts.append(
            _table(
                [
                    "Unit",
                    "Bed count days",
                    "Service days",
                    "Average daily census",
                    "Occupancy %",
                    "Admissions",
                    "Discharges",
                    "Transfers in",
                    "Transfers out",
                ],
                [
                    (
                        u.unit,
                        u.bed_count_days,
                        u.service_days,
                        u.average_daily_census,
                        u.occupancy_percent,
                        u.admissions,
                        u.discharges,
                        u.transfers_in,
                        u.transfers_out,
                    )
                    for u in figures.units
                ],
                "wide",
            )
        )
        parts.append(
            '<p class="note">A unit\'s service days count the patients who lay in its beds at '
            "each census, whatever their service; transfers are moves between units.</p>"
        )
    if figures.newborns is not None:
        parts.append("<h3>Newborns (against bassinets)</h3>")
        parts.append(_table(["Figure", "Month"], _census_figures(figures.newborns, "Bassinet")))
    parts.append("</section>")
    return "".join(parts)


def _days_section(figures: MonthlyFigures, number: int) -> str:
    days = [
        (d.day.isoformat(), d.census, d.admissions, d.discharges, d.transfers_in,
         d.transfers_out, beds)
        for d, beds in zip(figures.adults_and_children.days, figures.beds, strict=True)
    ]  # fmt: skip
    return (
        f'<section id="days"><h2>{number}. The daily census of adults and children</h2>'
        + _table(
            ["Day", "Census", "Admissions", "Discharges", "Transfers in", "Transfers out", "Beds"],
            days,
            "days",
        )
        + "</section>"
    )


def _shown(value: Fraction | Decimal | None) -> Decimal | None:
    """A figure as shown: exact until here, rounded half up to two places."""
    if value is None or isinstance(value, Decimal):
        return value
    return statistics.rounded(value)


def _none(what: str) -> str:
    return f'<p class="note">{_e(what)}</p>'


def _outcome_rows(los: GroupedReport, deaths: GroupedReport | None) -> list[tuple[object, ...]]:
    died = {} if deaths is None else {g.group: g.figures for g in deaths.groups}
    rows: list[tuple[object, ...]] = []
    for name, stay, death in [
        *((g.group, g.figures, died.get(g.group)) for g in los.groups),
        ("All services", los.total, None if deaths is None else deaths.total),
    ]:
        if not isinstance(stay, statistics.LengthOfStay):
            continue
        rates = death if isinstance(death, statistics.DeathRates) else None
        rows.append((
            name, stay.discharges, stay.discharge_days, _shown(stay.average),
            None if rates is None else rates.deaths,
            None if rates is None else rates.early_deaths,
            None if rates is None else _shown(rates.gross_percent),
            None if rates is None else _shown(rates.net_percent),
        ))  # fmt: skip
    return rows


def _stays_section(outcomes: Outcomes, number: int) -> str:
    parts = [f'<section id="stays"><h2>{number}. Length of stay and deaths by service</h2>']
    if outcomes.length_of_stay is None:
        parts.append(_none("No adult or child was discharged in the month."))
    else:
        parts.append(
            _table(
                [
                    "Service at discharge",
                    "Discharges",
                    "Discharge days",
                    "ALOS",
                    "Deaths",
                    "Deaths under 48 h",
                    "Gross death %",
                    "Net death %",
                ],
                _outcome_rows(outcomes.length_of_stay, outcomes.deaths),
                "wide",
            )
        )
        parts.append(
            _none(
                "Average length of stay: discharge days over discharges (a stay admitted and "
                "discharged the same day counts one day). Gross death rate: deaths over "
                "discharges (deaths included); net: less the deaths under 48 hours after "
                "admission, over the discharges less those."
            )
        )
    parts.append("</section>")
    return "".join(parts)


def _readmissions_section(outcomes: Outcomes, number: int) -> str:
    parts = [f'<section id="readmissions"><h2>{number}. Readmissions (crude, unadjusted)</h2>']
    report = outcomes.readmissions
    total = None if report is None else report.total
    if report is None or not isinstance(total, statistics.Readmissions):
        parts.append(_none("No adult or child was discharged in the month."))
        parts.append("</section>")
        return "".join(parts)
    rate = _shown(total.percent) if total.index_discharges else None
    parts.append(
        f'<p class="lead">{_e(total.label[:1].upper() + total.label[1:])}: '
        f"{_cell(rate)} % ({total.readmitted} of {total.index_discharges} index discharges "
        f"readmitted within {total.window_days} days).</p>"
    )
    parts.append("<h3>Index discharges left out</h3>")
    parts.append(
        _table(
            ["Exclusion", "Discharges"],
            [(EXCLUDED_FROM_READMISSION[reason], count) for reason, count in total.excluded],
        )
    )
    rows = []
    for group in report.groups:
        figures = group.figures
        if isinstance(figures, statistics.Readmissions):
            shown = _shown(figures.percent) if figures.index_discharges else None
            rows.append((group.group, figures.index_discharges, figures.readmitted, shown))
    parts.append("<h3>By principal diagnosis category of the index stay</h3>")
    parts.append(_table(["Category", "Index discharges", "Readmitted", "Rate %"], rows))
    parts.append(
        _none(
            "A readmission is a later stay of the same patient admitted within the window "
            "after an index discharge, in the month or after it, as far as the ledger knew "
            "when this report was read: a readmission recorded later is not in it. Not risk "
            "adjusted; not comparable with the CMS measures."
        )
    )
    parts.append("</section>")
    return "".join(parts)


def dotted_diagnosis(code: str) -> str:
    """An ICD-10-CM code as people read it: the dot after the category (I5021: I50.21)."""
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _codes_table(report: CodeReport | None, what: str, shown: Callable[[str], str] = str) -> str:
    if report is None:
        return _none("No adult or child was discharged in the month.")
    if not report.rows:
        return _none(
            f"None of the {report.discharges} discharges has a {what} in a final abstract."
        )
    table = _table(
        ["Code", "Title", "Count", "%"],
        [(shown(row.code), row.title, row.count, _shown(row.share)) for row in report.rows],
        "codes",
    )
    missing = f"{report.not_coded} of {report.discharges} discharges have no final abstract"
    if report.without_code:
        missing += f"; {report.without_code} coded ones have no procedure"
    return table + _none(missing + ".")


def _codes_section(outcomes: Outcomes, number: int) -> str:
    return (
        f'<section id="codes"><h2>{number}. The most frequent principal diagnoses and '
        "procedures</h2><h3>Principal diagnoses (ICD-10-CM)</h3>"
        + _codes_table(outcomes.diagnoses, "principal diagnosis", dotted_diagnosis)
        + "<h3>Principal procedures (ICD-10-PCS)</h3>"
        + _codes_table(outcomes.procedures, "procedure")
        + "</section>"
    )


def _case_mix_section(outcomes: Outcomes, number: int) -> str:
    parts = [f'<section id="casemix"><h2>{number}. Case mix and length of stay against '
             "GMLOS</h2>"]  # fmt: skip
    report = outcomes.case_mix
    if report is None:
        parts.append(_none("No discharge of the month was grouped to an MS-DRG."))
        parts.append("</section>")
        return "".join(parts)
    rows = []
    for name, figures in [*((g.group, g.figures) for g in report.groups),
                          ("All services", report.total)]:  # fmt: skip
        if not isinstance(figures, CaseMixFigures):
            continue
        mix, oe = figures.case_mix, figures.observed_expected
        rows.append((
            name, figures.discharges, 0 if mix is None else mix.grouped, figures.ungrouped,
            None if mix is None else _shown(mix.index),
            None if oe is None else _shown(oe.observed_average),
            None if oe is None else _shown(oe.expected_average),
            None if oe is None else _shown(oe.ratio),
        ))  # fmt: skip
    parts.append(
        _table(
            [
                "Service at discharge",
                "Discharges",
                "Grouped",
                "Not grouped",
                "CMI",
                "ALOS",
                "GMLOS",
                "O/E",
            ],
            rows,
            "wide",
        )
    )
    parts.append(
        _none(
            "Case mix index: the mean MS-DRG relative weight of the discharges grouped on a "
            "final abstract (the others are counted apart). O/E: their discharge days over "
            "the sum of their DRGs' geometric mean length of stay."
        )
    )
    parts.append("</section>")
    return "".join(parts)


def _trends_section(figures: MonthlyFigures, number: int) -> str:
    from projections.statistics_plots import line_chart

    months = figures.outcomes.trends
    parts = [f'<section id="trends"><h2>{number}. Twelve months to {_e(figures.month)}</h2>']
    if not months:
        parts.append(_none("No trends were computed."))
        parts.append("</section>")
        return "".join(parts)
    labels = [m.label for m in months]
    plots = (
        ("alos", "Average length of stay", {"ALOS": [m.average_length_of_stay for m in months]},
         "days"),
        ("rates", "Death and readmission rates",
         {"gross death rate": [m.gross_death_rate for m in months],
          "net death rate": [m.net_death_rate for m in months],
          "readmission rate (crude)": [m.readmission_rate for m in months]}, "%"),
        ("mix", "Case mix index and O/E length of stay",
         {"CMI": [m.case_mix_index for m in months],
          "O/E LOS": [m.observed_expected_los for m in months]}, "index / ratio"),
    )  # fmt: skip
    for key, title, series, unit in plots:
        plot = line_chart(title, labels, series, unit)
        parts.append(f"<figure>{inline_svg(plot, key)}</figure>")
    parts.append(
        _table(
            [
                "Month",
                "Discharges",
                "ALOS",
                "Gross death %",
                "Net death %",
                "Readmission %",
                "CMI",
                "O/E",
            ],
            [
                (
                    m.label,
                    m.discharges,
                    _shown(m.average_length_of_stay),
                    _shown(m.gross_death_rate),
                    _shown(m.net_death_rate),
                    _shown(m.readmission_rate),
                    _shown(m.case_mix_index),
                    _shown(m.observed_expected_los),
                )
                for m in months
            ],
            "wide",
        )
    )
    parts.append(
        _none(
            "A month with no discharge (or none grouped to a DRG) has no figure: a gap in the "
            "line and a dash in the table. Readmission rates are crude and unadjusted."
        )
    )
    parts.append("</section>")
    return "".join(parts)


def render_monthly_report(figures: MonthlyFigures) -> bytes:
    """The page for these figures, as UTF-8 bytes (the same figures, the same bytes)."""
    title = f"Monthly statistics report, {month_title(figures.month)}"
    head = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f"<title>{_e(title)}</title><style>{STYLE}</style></head><body>"
    )
    header = (
        f"<header><h1>{_e(title)}</h1>"
        f'<p class="lead">The period {_e(figures.start.isoformat())} to '
        f"{_e(figures.end.isoformat())}, both included, as the ledger stood at "
        f"{_e(_moment(figures.as_of))}.</p>"
        '<p class="note">Aggregate figures only: no patient is named. Figures are exact until '
        "shown, then rounded half up to two places. Definitions: Horton, <i>Calculating and "
        "Reporting Healthcare Statistics</i> (AHIMA). This report's issue is a signed event "
        "in the ledger: <code>chartledger stats verify-report FILE</code> shows to whom it "
        "was given and that it matches the ledger.</p></header>"
    )
    outcomes = figures.outcomes
    sections = (
        _census_section(figures)
        + _stays_section(outcomes, 2)
        + _readmissions_section(outcomes, 3)
        + _codes_section(outcomes, 4)
        + _case_mix_section(outcomes, 5)
        + _trends_section(figures, 6)
        + _days_section(figures, 7)
    )
    page = head + header + sections + "</body></html>\n"
    return page.encode("utf-8")


def monthly_report(ledger: Ledger, month: str, *, as_of: datetime) -> tuple[MonthlyFigures, bytes]:
    """The month's figures as the ledger stood at `as_of`, and the page that shows them."""
    figures = monthly_figures(ledger, month, as_of=as_of)
    return figures, render_monthly_report(figures)


# -- issuing and verifying ------------------------------------------------------------------------


class ReportMismatch(LedgerError):
    """A file that was issued as a report, which the ledger no longer reproduces."""

    exit_code = 1


def issue_monthly_report(
    ledger: Ledger,
    month: str,
    out: Path,
    *,
    recipient: str,
    actor: Identity,
    as_of: datetime | None = None,
    force: bool = False,
) -> tuple[MonthlyFigures, IssuedReport]:
    """Render the month's report as the ledger stands at `as_of` (default: when its last
    event was recorded), write it to `out` and record, signed, that it went to `recipient`."""
    from ledger.commands.reports import checked_recipient, issue_report
    from ledger.files import check_new_file
    from ledger.reads.as_of import check_as_of
    from ledger.reads.reports import last_recorded_at
    from policies.reports import may_issue_reports

    require(may_issue_reports(ledger.authenticate(actor).roles))  # before the work
    checked_recipient(recipient)
    check_new_file(Path(out), force=force)
    moment = last_recorded_at(ledger) if as_of is None else check_as_of(as_of, now=ledger.now())
    figures, content = monthly_report(ledger, month, as_of=moment)
    record = issue_report(
        ledger,
        Path(out),
        content,
        kind="monthly",
        period_start=figures.start,
        period_end=figures.end,
        as_of=moment,
        renderer=renderer(),
        recipient=recipient,
        actor=actor,
        force=force,
    )
    return figures, record


def _when(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def _issues(rows: Sequence[IssuedReportRow]) -> str:
    return ", and ".join(f"to {row.recipient} by {row.actor} on {_when(row.issued_at)}"
                         for row in rows)  # fmt: skip


def verify_report(ledger: Ledger, content: bytes) -> str:
    """The sentence saying which issued report these bytes are and that the ledger, as it
    stood at the report's moment, gives the same bytes again; `NotFound` when no report with
    these bytes was issued, `ReportMismatch` when it was but the ledger no longer gives them."""
    from ledger.commands.reports import sha256_of
    from ledger.reads.reports import reports_with_hash

    digest = sha256_of(content)
    rows = reports_with_hash(ledger, digest)
    if not rows:
        raise NotFound(f"No report with these bytes was ever issued (SHA-256 {digest}).")
    first = rows[0]
    month = month_of(first.period_start)
    what = f"the {first.kind} report for {month} issued {_issues(rows)}"
    if first.renderer != renderer():
        raise ReportMismatch(
            f"This is {what}, but it was rendered by {first.renderer} and this installation "
            f"renders with {renderer()}, so it cannot be rendered again to compare."
        )
    _, again = monthly_report(ledger, month, as_of=first.as_of)
    if sha256_of(again) != digest:
        raise ReportMismatch(
            f"This is {what}, but the ledger as it stood at {_moment(first.as_of)} now gives "
            "different figures: it does not match the ledger."
        )
    return f"This is {what}; it matches the ledger."


MAX_REPORT_BYTES = 64 * 1024 * 1024
"""Larger than any monthly report: a file this big is not one."""


def read_report(path: Path) -> bytes:
    """The bytes of a report file to verify; a missing, special or huge file is one sentence."""
    import os
    import stat

    try:
        st = os.stat(path)
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"{path} is not a file; give the report's file.")
        if st.st_size > MAX_REPORT_BYTES:
            raise UsageError(f"{path} is larger than any report ({st.st_size} bytes).")
        with open(path, "rb") as data:
            return data.read(MAX_REPORT_BYTES + 1)
    except FileNotFoundError:
        raise UsageError(f"There is no file {path}.") from None
    except OSError as error:
        raise UsageError(f"{path} cannot be read ({error.strerror or 'refused'}).") from None
