"""Plots as bytes (decisions §49): the same figures give the same bytes, SVG and PNG; another
figure gives other bytes; no date, software or address is in them; nothing global is changed;
matplotlib is imported only when a plot is drawn."""

from __future__ import annotations

import struct
import subprocess
import sys
import zlib
from decimal import Decimal
from fractions import Fraction

import matplotlib
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from projections.statistics_plots import bar_chart, line_chart

DAYS = [f"{d:02d}" for d in range(1, 11)]
CENSUS = [3, 4, 4, 5, 6, 6, 5, 4, 4, 3]
BEDS = [6] * 5 + [5] * 5


def census(fmt: str = "svg", values: list[int] | None = None) -> bytes:
    return line_chart(
        "Daily census", DAYS, {"census": values or CENSUS, "beds": BEDS}, "patients",
        fmt=fmt, steps=("beds",),  # type: ignore[arg-type]
    )  # fmt: skip


def png_chunks(data: bytes) -> list[bytes]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    chunks, at = [], 8
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        body = data[at + 8 : at + 8 + length]
        (crc,) = struct.unpack(">I", data[at + 8 + length : at + 12 + length])
        assert zlib.crc32(kind + body) == crc
        chunks.append(kind)
        at += 12 + length
    return chunks


@pytest.mark.parametrize("fmt", ["svg", "png"])
def test_the_same_figures_give_the_same_bytes_and_another_figure_other_bytes(fmt: str) -> None:
    first = census(fmt)
    assert census(fmt) == first
    assert census(fmt, [*CENSUS[:-1], 4]) != first  # one day's census more
    assert line_chart("Daily census", DAYS, {"census": CENSUS}, "patients", fmt=fmt) != first  # type: ignore[arg-type]


def test_svg_has_no_date_creator_or_address_and_keeps_text_as_text() -> None:
    svg = census("svg")
    assert b"<dc:date>" not in svg and b"<metadata" not in svg
    assert b"matplotlib.org" not in svg and b"Matplotlib v" not in svg
    assert b">Daily census</text>" in svg  # svg.fonttype none: text, not glyph outlines
    body = svg.split(b"<svg", 1)[1]
    assert body.count(b"http://") == 2  # only the two namespace names on the root element


def test_png_has_no_text_or_time_chunks() -> None:
    chunks = png_chunks(census("png"))
    assert chunks[0] == b"IHDR" and chunks[-1] == b"IEND"
    assert not {b"tEXt", b"iTXt", b"zTXt", b"tIME"} & set(chunks)


def test_nothing_global_is_left_changed() -> None:
    before = dict(matplotlib.rcParams)
    backend = matplotlib.get_backend()
    census("svg")
    bar_chart("By unit", ["4W", "5E"], [Decimal("81.25"), Fraction(1, 3)], "%")
    assert dict(matplotlib.rcParams) == before and matplotlib.get_backend() == backend
    if "matplotlib.pyplot" in sys.modules:  # savefig may import it; no figure is left open
        assert sys.modules["matplotlib.pyplot"].get_fignums() == []


def test_a_missing_figure_is_a_gap_not_a_zero() -> None:
    gap = line_chart("ALOS", ["01", "02", "03"], {"alos": [4, None, 5]}, "days")
    zero = line_chart("ALOS", ["01", "02", "03"], {"alos": [4, 0, 5]}, "days")
    assert gap != zero


def test_bad_input_is_one_sentence() -> None:
    with pytest.raises(ValueError, match=r"The series 'census' has 2 values for 3 days\."):
        line_chart("x", ["1", "2", "3"], {"census": [1, 2]}, "y")
    with pytest.raises(ValueError, match=r"A plot is SVG or PNG, not 'pdf'\."):
        line_chart("x", ["1"], {"c": [1]}, "y", fmt="pdf")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="at least one day"):
        bar_chart("x", [], [], "y")


@settings(max_examples=12, deadline=None)
@given(
    st.lists(st.one_of(st.none(), st.integers(0, 400)), min_size=1, max_size=31),
    st.sampled_from(["svg", "png"]),
)
def test_any_series_renders_the_same_twice(values: list[int | None], fmt: str) -> None:
    labels = [str(i) for i in range(len(values))]
    first = line_chart("t", labels, {"s": values}, "y", fmt=fmt)  # type: ignore[arg-type]
    assert line_chart("t", labels, {"s": values}, "y", fmt=fmt) == first  # type: ignore[arg-type]


def test_matplotlib_is_imported_only_to_draw() -> None:
    code = (
        "import sys, projections.statistics_plots, projections.statistics_html, "
        "cli.statistics, cli.statistics_report; print('matplotlib' in sys.modules)"
    )
    shown = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert shown.strip() == "False"
    helped = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "cli", "stats", "report", "--help"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert "--month" in helped.stdout and "matplotlib" not in helped.stderr
