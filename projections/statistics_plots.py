"""Plots of hospital statistics as SVG or PNG bytes, the same bytes for the same figures (§49).

matplotlib is imported inside the functions (it costs ~0.4 s: `chartledger --help` must not pay
it) and drawn on a `Figure` of its own with no pyplot, so no global backend or window is
involved; every setting is made inside `matplotlib.rc_context`, so nothing global is left
changed. Reproducible bytes: the SVG ids are hashed with a fixed salt (`svg.hashsalt`), text is
kept as text (`svg.fonttype` none: no font outlines that differ between font builds), and the
files carry no date, creator or software metadata (matplotlib's creator names its web site).
A figure that is None (it does not exist that day or month) is a gap in the line, not a zero.
"""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, cast

if TYPE_CHECKING:
    from ledger.application import Ledger

Format = Literal["svg", "png"]
FORMATS: tuple[Format, ...] = ("svg", "png")

Number = int | float | Decimal | Fraction

HASH_SALT = "chartledger-statistics"
WIDTH_INCHES = 7.0
HEIGHT_INCHES = 3.0
PNG_DPI = 150
COLOURS = ("#1f4e79", "#c0504d", "#4f7f3a", "#7f6000", "#5b3f86")
_SETTINGS: dict[str, Any] = {
    "svg.hashsalt": HASH_SALT,
    "svg.fonttype": "none",
    "font.family": "DejaVu Sans",
    "font.size": 9,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "path.simplify": False,
}
_METADATA: dict[Format, dict[str, None]] = {
    "svg": {"Date": None, "Creator": None, "Format": None, "Type": None},
    "png": {"Software": None},
}


def renderer_version() -> str:
    """What draws the plots: the bytes depend on matplotlib's version (recorded with a report)."""
    import matplotlib

    return f"matplotlib {matplotlib.__version__}"


def _check(fmt: str, labels: Sequence[str], series: Mapping[str, Sequence[Number | None]]) -> None:
    if fmt not in FORMATS:
        raise ValueError(f"A plot is SVG or PNG, not '{fmt}'.")
    if not labels:
        raise ValueError("A plot needs at least one day or month to draw.")
    for name, values in series.items():
        if len(values) != len(labels):
            raise ValueError(
                f"The series '{name}' has {len(values)} values for {len(labels)} days."
            )


def _float(value: Number | None) -> float:
    return float("nan") if value is None else float(value)


def _save(figure: Any, fmt: Format) -> bytes:
    buffer = io.BytesIO()
    options: dict[str, Any] = {"format": fmt, "metadata": _METADATA[fmt]}
    if fmt == "png":
        options["dpi"] = PNG_DPI
    figure.savefig(buffer, **options)
    return buffer.getvalue()


def _ticks(axes: Any, labels: Sequence[str]) -> None:
    """At most about 16 labelled ticks (a month's days, a year's months), the last always."""
    step = max(1, -(-len(labels) // 16))
    shown = sorted({*range(0, len(labels), step), len(labels) - 1})
    axes.set_xticks(shown, [labels[i] for i in shown], rotation=45, ha="right")


def line_chart(
    title: str,
    labels: Sequence[str],
    series: Mapping[str, Sequence[Number | None]],
    y_label: str,
    *,
    fmt: Format = "svg",
    steps: Sequence[str] = (),
) -> bytes:
    """One line per series over `labels` (days or months, in order); the series named in
    `steps` are drawn as steps (bed counts change from a day on)."""
    _check(fmt, labels, series)
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(cast(Any, _SETTINGS)):
        figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), layout="constrained")
        axes = figure.add_subplot()
        xs = list(range(len(labels)))
        for colour, (name, values) in zip(_cycle(len(series)), series.items(), strict=True):
            ys = [_float(v) for v in values]
            if name in steps:
                axes.step(xs, ys, where="mid", label=name, color=colour, linestyle="--")
            else:
                axes.plot(xs, ys, label=name, color=colour, marker="o", markersize=2.5)
        axes.set_title(title)
        axes.set_ylabel(y_label)
        axes.set_ylim(bottom=0)
        _ticks(axes, labels)
        axes.grid(axis="y", linewidth=0.4, color="#cccccc")
        if len(series) > 1:
            axes.legend(loc="best", frameon=True, framealpha=0.9, fontsize=8)
        return _save(figure, fmt)


def bar_chart(
    title: str,
    labels: Sequence[str],
    values: Sequence[Number | None],
    y_label: str,
    *,
    fmt: Format = "svg",
) -> bytes:
    """One bar per label (a unit, a service, a diagnosis), in the order given."""
    _check(fmt, labels, {"values": values})
    import matplotlib
    from matplotlib.figure import Figure

    with matplotlib.rc_context(cast(Any, _SETTINGS)):
        figure = Figure(figsize=(WIDTH_INCHES, HEIGHT_INCHES), layout="constrained")
        axes = figure.add_subplot()
        xs = list(range(len(labels)))
        axes.bar(xs, [_float(v) for v in values], color=COLOURS[0], width=0.6)
        axes.set_title(title)
        axes.set_ylabel(y_label)
        axes.set_ylim(bottom=0)
        turned = len(labels) > 6
        axes.set_xticks(
            xs, list(labels), rotation=30 if turned else 0, ha="right" if turned else "center"
        )
        axes.grid(axis="y", linewidth=0.4, color="#cccccc")
        return _save(figure, fmt)


def _cycle(count: int) -> list[str]:
    return [COLOURS[i % len(COLOURS)] for i in range(count)]


# -- plots of the ledger's figures ----------------------------------------------------------------


def format_of(path: Path) -> Format:
    """The plot format a file's name asks for (.svg or .png), else one sentence."""
    from ledger.errors import UsageError

    suffix = path.suffix.lower().lstrip(".")
    if suffix == "svg":
        return "svg"
    if suffix == "png":
        return "png"
    raise UsageError(f"Name the plot's file .svg or .png ({path.name} is neither).")


def census_plot(
    ledger: Ledger,
    *,
    start: date,
    end: date,
    unit: str | None = None,
    as_of: datetime | None = None,
    fmt: Format = "svg",
) -> bytes:
    """The daily inpatient census of adults and children (the hospital's, or a unit's) against
    the beds set up each day, from `start` to `end`."""
    from ledger.reads.units import bed_counts
    from policies.units import normal_code
    from projections.statistics import census

    report = census(ledger, start=start, end=end, unit=unit, as_of=as_of)
    beds = {d.day: 0 for d in report.days}
    for row in bed_counts(ledger, between=(start, end), unit=unit, as_of=as_of):
        beds[row.day] += row.beds
    where = "the hospital" if unit is None else f"unit {normal_code(unit)}"
    return line_chart(
        f"Daily inpatient census and beds, {where}, {start} to {end}",
        [d.day.isoformat()[5:] for d in report.days],
        {"census (adults and children)": [d.census for d in report.days],
         "beds set up": list(beds.values())},
        "patients / beds",
        fmt=fmt,
        steps=("beds set up",),
    )  # fmt: skip


def write_census_plot(
    ledger: Ledger,
    out: Path,
    *,
    start: date,
    end: date,
    unit: str | None = None,
    as_of: datetime | None = None,
    force: bool = False,
) -> int:
    """Draw `census_plot` into the new file `out` (its format from its name); its size."""
    from ledger.files import check_new_file, write_bytes
    from ledger.reads.as_of import check_as_of

    fmt = format_of(Path(out))
    check_new_file(Path(out), force=force)
    moment = None if as_of is None else check_as_of(as_of, now=ledger.now())
    content = census_plot(ledger, start=start, end=end, unit=unit, as_of=moment, fmt=fmt)
    write_bytes(Path(out), content, force=force)
    return len(content)


TREND_FIGURES: dict[str, tuple[str, tuple[tuple[str, str], ...], str]] = {
    "alos": ("Average length of stay", (("ALOS", "average_length_of_stay"),), "days"),
    "deaths": (
        "Gross and net death rates",
        (("gross death rate", "gross_death_rate"), ("net death rate", "net_death_rate")),
        "%",
    ),
    "readmissions": (
        "Crude 30-day readmission rate (unadjusted)",
        (("readmission rate", "readmission_rate"),),
        "%",
    ),
    "cmi": ("Case mix index", (("CMI", "case_mix_index"),), "mean relative weight"),
    "oe": (
        "Observed over expected length of stay",
        (("O/E LOS", "observed_expected_los"),),
        "ratio",
    ),
}
"""Each figure `stats plot trends --figure` draws: title, (label, MonthFigures field)…, unit."""


def trends_plot(
    ledger: Ledger,
    *,
    first_month: str,
    last_month: str,
    figure: str,
    as_of: datetime | None = None,
    fmt: Format = "svg",
) -> bytes:
    """One monthly figure (or two: the death rates) from `first_month` to `last_month`
    (YYYY-MM, both included), as the ledger stood at `as_of`."""
    from ledger.errors import UsageError
    from policies.reports import month_period, month_problem
    from projections.statistics_reports import trends_report

    chosen = figure.strip().lower()
    if chosen not in TREND_FIGURES:
        shown = figure if len(figure) <= 40 else figure[:40] + "…"
        raise UsageError(f"'{shown}' is not a trend figure (give {', '.join(TREND_FIGURES)}).")
    for month in (first_month, last_month):
        problem = month_problem(month)
        if problem is not None:
            raise UsageError(problem)
    first, _ = month_period(first_month)
    _, last = month_period(last_month)
    report = trends_report(ledger, first=first, last=last, as_of=as_of)
    title, fields, unit = TREND_FIGURES[chosen]
    return line_chart(
        f"{title}, {report.months[0].label} to {report.months[-1].label}",
        [m.label for m in report.months],
        {label: [getattr(m, name) for m in report.months] for label, name in fields},
        unit,
        fmt=fmt,
    )


def write_trends_plot(
    ledger: Ledger,
    out: Path,
    *,
    first_month: str,
    last_month: str,
    figure: str,
    as_of: datetime | None = None,
    force: bool = False,
) -> int:
    """Draw `trends_plot` into the new file `out` (its format from its name); its size."""
    from ledger.files import check_new_file, write_bytes
    from ledger.reads.as_of import check_as_of

    fmt = format_of(Path(out))
    check_new_file(Path(out), force=force)
    moment = None if as_of is None else check_as_of(as_of, now=ledger.now())
    content = trends_plot(
        ledger, first_month=first_month, last_month=last_month, figure=figure, as_of=moment,
        fmt=fmt,
    )  # fmt: skip
    write_bytes(Path(out), content, force=force)
    return len(content)
