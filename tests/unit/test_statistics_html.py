"""The monthly HTML page (decisions §47b), from figures written by hand: self-contained (no
script, no link, no image file, no address), every text escaped, ids unique across its plots,
the same figures the same bytes, and the only time in it the moment the ledger was read as of."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from html.parser import HTMLParser

from projections.statistics import CensusDay, CensusReport
from projections.statistics_html import (
    MonthlyFigures,
    UnitLine,
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
