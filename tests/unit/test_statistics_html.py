"""The monthly HTML page (decisions §49), from figures written by hand: self-contained (no
script, no link, no image file, no address), every text escaped, ids unique across its plots,
the same figures the same bytes, and the only time in it the moment the ledger was read as of."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

from ledger.reads.units import BedCount as UnitBedCount
from policies.statistics import Move, Stay
from projections.statistics import CensusDay, CensusReport
from projections.statistics_html import (
    MonthlyFigures,
    UnitLine,
    figures_from,
    inline_svg,
    month_title,
    render_monthly_report,
)
from projections.statistics_plots import line_chart

AS_OF = datetime(2026, 2, 1, 6, 30, 15, 250000, tzinfo=UTC)


class Page(HTMLParser):
    """Every tag and attribute of a page, and its text."""

    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attributes: list[tuple[str, str, str]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attributes += [(tag, name, value or "") for name, value in attrs]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def parsed(content: bytes) -> Page:
    page = Page()
    page.feed(content.decode("utf-8"))
    page.close()
    return page


def words(content: bytes) -> str:
    return " ".join(" ".join(parsed(content).text).split())


def assert_self_contained(content: bytes) -> None:
    """No script, no link, no image or frame, no event handler, no address: only the page's
    own `#id` references (the plots' markers and clip paths)."""
    page = parsed(content)
    assert not {"script", "link", "img", "iframe", "object", "embed", "base"} & set(page.tags)
    assert "svg" in page.tags and "style" in page.tags
    for tag, name, value in page.attributes:
        assert not name.startswith("on"), (tag, name)
        if name in {"src", "href", "xlink:href", "action"}:
            assert value.startswith("#"), (tag, name, value)
    assert b"http" not in content.lower() and b"//" not in content
    assert b"url(" not in content.replace(b"url(#", b"")
    ids = [value for _, name, value in page.attributes if name == "id"]
    assert len(ids) == len(set(ids)), "an id is used twice"
    referred = re.findall(rb'(?:href="#|url\(#)([^")]+)', content)
    assert referred and {r.decode() for r in referred} <= set(ids)


def january(*, units: tuple[UnitLine, ...] | None = None, census: int = 4) -> MonthlyFigures:
    """January 2026 of one 2-bed unit: one patient in a bed at the censuses of the 2nd to
    the 5th (`census` days in all), admitted on the 2nd and discharged on the 6th."""
    days = tuple(
        CensusDay(
            date(2026, 1, 1) + timedelta(days=i),
            1 if 1 <= i < 1 + census else 0,
            1 if i == 1 else 0,
            1 if i == 1 + census else 0,
            0,
            0,
        )
        for i in range(31)
    )
    report = CensusReport(
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),
        scope="adults and children",
        days=days,
        service_days=census,
        average_daily_census=Decimal("0.13"),
        bed_count_days=62,
        occupancy_percent=Decimal("6.45"),
        overfilled_days=(),
        bed_turnover=Decimal("0.50"),
    )
    line = UnitLine("4W", 62, 3, Decimal("0.10"), Decimal("4.84"), 1, 1, 1, 1)
    return MonthlyFigures(
        month="2026-01",
        start=date(2026, 1, 1),
        end=date(2026, 1, 31),
        as_of=AS_OF,
        adults_and_children=report,
        beds=(2,) * 31,
        units=(line,) if units is None else units,
        newborns=None,
    )


def test_the_page_is_self_contained_and_says_the_period_and_moment_only() -> None:
    content = render_monthly_report(january())
    assert content.startswith(b"<!DOCTYPE html>")
    assert_self_contained(content)
    text = words(content)
    assert text.startswith("Monthly statistics report, January 2026")
    assert (
        "The period 2026-01-01 to 2026-01-31, both included, as the ledger stood at "
        "2026-02-01 06:30:15.250000 UTC." in text
    )
    assert "Percentage of occupancy 6.45 " in text and "4W 62 3 0.10 4.84 1 1 1 1" in text
    times = re.findall(rb"\d\d:\d\d(?::\d\d)?", content)
    assert times == [b"06:30:15"], times  # no clock of rendering, only the as-of moment
    assert b"break-before: page" in content and b"@page" in content


def test_the_same_figures_give_the_same_bytes_and_another_figure_other_bytes() -> None:
    first = render_monthly_report(january())
    assert render_monthly_report(january()) == first
    assert render_monthly_report(january(census=5)) != first
    later = january()
    assert (
        render_monthly_report(
            MonthlyFigures(**{**later.__dict__, "as_of": AS_OF + timedelta(microseconds=1)})
        )
        != first
    )


def test_every_text_is_escaped() -> None:
    hostile = UnitLine("<script>x</script>&\"'", 1, 0, Decimal(0), None, 0, 0, 0, 0)
    content = render_monthly_report(january(units=(hostile,)))
    assert_self_contained(content)
    assert b"&lt;script&gt;x&lt;/script&gt;&amp;&quot;&#x27;" in content
    assert "<script>x</script>&\"'" in words(content)  # as typed, to the reader
    assert "— " in words(content)  # a figure that does not exist: a dash, not a zero


def test_two_plots_inline_share_no_id() -> None:
    plot = line_chart("c", ["1", "2"], {"a": [1, 2], "b": [2, 1]}, "y")
    one, two = inline_svg(plot, "p1"), inline_svg(plot, "p2")
    assert one.startswith("<svg") and "<?xml" not in one and "DOCTYPE" not in one
    assert "xmlns" not in one and one.replace("p1-", "p2-") == two
    ids = re.findall(r'id="([^"]+)"', one + two)
    assert len(ids) == len(set(ids)) and all(i.startswith(("p1-", "p2-")) for i in ids)


def test_month_titles_are_spelled_here_not_by_the_locale() -> None:
    assert month_title("2026-01") == "January 2026" and month_title("1999-12") == "December 1999"


# -- the sections of discharges, from stays written by hand ---------------------------------------


def _stay(
    encounter: str, patient: str, service: str, unit: str, admitted: str, discharged: str,
    disposition: str = "home", **coded: object,
) -> Stay:  # fmt: skip
    at = datetime.fromisoformat(admitted)
    return Stay(
        encounter_id=encounter,
        patient=patient,
        admitted=at,
        discharged=datetime.fromisoformat(discharged),
        moves=(Move(at, unit, service),),
        disposition=disposition,
        attending="dr1",
        **coded,  # type: ignore[arg-type]
    )


def _coded(
    diagnosis: str, drg: str, weight: str, gmlos: str, mdc: int, *px: str
) -> dict[str, object]:
    return {"principal_diagnosis": diagnosis, "drg": drg, "drg_weight": Decimal(weight),
            "gmlos": Decimal(gmlos), "mdc": mdc, "procedures": px}  # fmt: skip


STAYS = (
    # A: heart failure, 4 days, home; readmitted on the 20th (14 days later), 3 days, uncoded
    _stay("s1", "A", "medicine", "4W", "2026-01-02T10:00", "2026-01-06T12:00",
          **_coded("I5021", "292", "0.9", "3.0", 5)),
    # B: appendicitis, operated, died 50 hours after admission (a net death: 48 h or more)
    _stay("s2", "B", "surgery", "5E", "2026-01-10T08:00", "2026-01-12T10:00", "expired",
          **_coded("K3580", "343", "1.0", "1.5", 6, "0DTJ4ZZ")),
    _stay("s3", "A", "medicine", "4W", "2026-01-20T09:00", "2026-01-23T09:00"),
    # C: pneumonia, in and out the same day against medical advice (one day)
    _stay("s4", "C", "medicine", "4W", "2026-01-25T08:00", "2026-01-25T20:00",
          "against-medical-advice", **_coded("J189", "195", "1.2", "2.0", 4)),
)  # fmt: skip
BEDS = tuple(
    UnitBedCount(date(2026, 1, 1) + timedelta(days=i), unit, service, beds, 0)
    for i in range(31)
    for unit, service, beds in (("4W", "medicine", 2), ("5E", "surgery", 1))
)


def test_the_discharge_sections_show_the_figures_counted_by_hand() -> None:
    titles = {"I5021": "Acute systolic heart failure", "K3580": "Acute appendicitis"}
    figures = figures_from(
        STAYS, BEDS, "2026-01", as_of=AS_OF, diagnosis_title=titles.get,
        procedure_title={"0DTJ4ZZ": "Resection of Appendix"}.get,
    )  # fmt: skip
    content = render_monthly_report(figures)
    assert_self_contained(content)
    text = words(content)
    # length of stay and deaths by service at discharge: medicine 3 discharges, 4 + 3 + 1 = 8
    # days, ALOS 2.67; surgery 1 discharge of 2 days, a death at 50 hours (in the net rate);
    # all: 4 discharges, 10 days, ALOS 2.50, 1 death: gross and net 25.00 %
    assert "medicine 3 8 2.67 0 0 0.00 0.00" in text
    assert "surgery 1 2 2.00 1 0 100.00 100.00" in text
    assert "All services 4 10 2.50 1 0 25.00 25.00" in text
    # readmissions: index discharges s1 and s3 (s2 died, s4 left AMA); s1 readmitted by s3
    assert (
        "Crude 30-day readmission rate (unadjusted): 50.00 % (1 of 2 index discharges "
        "readmitted within 30 days)." in text
    )
    assert "discharged by death (NUBC 20, 40, 41, 42) 1" in text
    assert "transferred to another acute care hospital (NUBC 02) 0" in text
    assert "left against medical advice (NUBC 07) 1" in text
    assert "I50 1 1 100.00" in text and "not coded 1 0 0.00" in text
    # principal diagnoses: three coded discharges, one each (33.33 %), ties by code
    assert (
        "I50.21 Acute systolic heart failure 1 33.33 J18.9 — 1 33.33 "
        "K35.80 Acute appendicitis 1 33.33" in text
    )
    assert "1 of 4 discharges have no final abstract." in text
    assert "0DTJ4ZZ Resection of Appendix 1 100.00" in text
    assert "1 of 4 discharges have no final abstract; 2 coded ones have no procedure." in text
    # case mix: medicine grouped s1 (0.9) and s4 (1.2): CMI 1.05, 5 days against 3.0 + 2.0
    # GMLOS: O/E 1.00; surgery 1.00, 2 days against 1.5: 1.33; all: 3.1 / 3 = 1.03, 7 / 6.5
    assert "medicine 3 2 1 1.05 2.50 2.50 1.00" in text
    assert "surgery 1 1 0 1.00 2.00 1.50 1.33" in text
    assert "All services 4 3 1 1.03 2.33 2.17 1.08" in text
    # twelve months to January: only January has discharges
    assert "2026-01 4 2.50 25.00 25.00 50.00 1.03 1.08" in text
    assert "2025-02 0 — — — — — —" in text and text.count(" 0 — — — — — —") == 11
    assert "Twelve months to 2026-01" in text and content.count(b"<svg") == 4


def test_a_month_with_no_discharge_says_so_in_each_section() -> None:
    figures = figures_from(STAYS[:1], BEDS, "2026-01", as_of=AS_OF)
    quiet = figures_from(
        [replace(STAYS[0], discharged=None)], BEDS, "2026-01", as_of=AS_OF
    )  # in the hospital all month from the 2nd, never discharged
    text = words(render_monthly_report(quiet))
    assert text.count("No adult or child was discharged in the month.") == 4
    assert "No discharge of the month was grouped to an MS-DRG." in text
    assert "medicine 1 4 4.00" in words(render_monthly_report(figures))
