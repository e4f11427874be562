"""The monthly statistics report: one self-contained HTML page an HIM director prints (§47b).

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
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

from ledger.errors import LedgerError, NotFound, UsageError, require
from policies import statistics
from policies.reports import month_of, month_period, month_problem
from projections.statistics import CensusReport, caught_up_statistics, census_of_stays

if TYPE_CHECKING:
    from ledger.aggregates.statistics_report import IssuedReport
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity
    from ledger.reads.reports import IssuedReportRow

LAYOUT = "chartledger monthly report/1"
"""The page's layout version: raise it whenever the bytes for the same figures change."""

MONTH_NAMES = (
    "January", "February", "March", "April", "May", "June",
    "July", "August", "September", "October", "November", "December",
)  # fmt: skip


def renderer() -> str:
    """What makes a monthly report's bytes: this layout and the plotting library's version."""
    from projections.statistics_plots import renderer_version

    return f"{LAYOUT}; {renderer_version()}"


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


def monthly_figures(ledger: Ledger, month: str, *, as_of: datetime) -> MonthlyFigures:
    """The figures of `month` (YYYY-MM) as the ledger stood at `as_of`. A month no stay
    touches, or a bad month, is one sentence (`UsageError`)."""
    from ledger.reads.units import bed_counts

    problem = month_problem(month)
    if problem is not None:
        raise UsageError(problem)
    start, end = month_period(month)
    stays = caught_up_statistics(ledger).stays(as_of=as_of, between=(start, end))
    rows = bed_counts(ledger, between=(start, end), as_of=as_of)
    counts = [statistics.BedCount(r.unit, r.beds, r.bassinets, r.day, r.day) for r in rows]
    whole = census_of_stays(stays, counts, start=start, end=end, scope=statistics.Scope())
    beds = {day: 0 for day in statistics.Period(start, end).each_day()}
    for row in rows:
        beds[row.day] += row.beds
    units = []
    for code in sorted({r.unit for r in rows}):
        mine = [c for c in counts if c.unit == code]
        scope = statistics.Scope(unit=code)
        line = _line(code, census_of_stays(stays, mine, start=start, end=end, scope=scope))
        if line.bed_count_days or line.service_days:  # a nursery's bassinets are not beds
            units.append(line)
    newborns = census_of_stays(stays, counts, start=start, end=end, scope=statistics.NEWBORNS)
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
    )


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
    days = [
        (d.day.isoformat(), d.census, d.admissions, d.discharges, d.transfers_in,
         d.transfers_out, beds)
        for d, beds in zip(report.days, figures.beds, strict=True)
    ]  # fmt: skip
    parts.append('<section id="days"><h2>2. The daily census of adults and children</h2>')
    parts.append(
        _table(
            ["Day", "Census", "Admissions", "Discharges", "Transfers in", "Transfers out", "Beds"],
            days,
            "days",
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
    page = head + header + _census_section(figures) + "</body></html>\n"
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
