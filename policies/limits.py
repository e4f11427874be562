"""What the ledger accepts as text, numbers and sizes: bounded, printable, closed where closed.

Pure checks (no I/O, imports nothing of ours). Each returns `None` when the value is acceptable
and otherwise one plain sentence naming the field (never the value: it may be patient data, or
a terminal escape). The ledger turns a sentence into a `UsageError`; the CLI escapes what it
prints with `escape`. Limits come from the access policy's `[limits]` table (`Limits.from_mapping`),
the defaults when no policy is loaded.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

MIB = 1024 * 1024

# Hard ceilings: no policy may raise a limit above these (a policy is configuration, not a way to
# store a gigabyte in an event).
MAX_TEXT_CHARS = 1_000_000
MAX_FIELD_CHARS = 10_000
MAX_DOCUMENT_BYTES = 2048 * MIB


@dataclass(frozen=True)
class Limits:
    """Sizes the ledger accepts; `[limits]` in the access policy overrides any of them."""

    name_chars: int = 200
    """Names: patients' given and family names, user names, recipients."""
    field_chars: int = 1000
    """One-line fields: reasons, addresses, identifiers, dispositions, file names."""
    text_chars: int = 100_000
    """Multi-line texts: clinical entries, notes, statements."""
    document_bytes: int = 100 * MIB
    """A filed document."""

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any]) -> Limits:
        """The `[limits]` table of a policy document; ValueError names what is wrong."""
        table = document.get("limits", {})
        if not isinstance(table, Mapping):
            raise ValueError("[limits] must be a table")
        ceilings = {
            "name_chars": MAX_FIELD_CHARS,
            "field_chars": MAX_FIELD_CHARS,
            "text_chars": MAX_TEXT_CHARS,
            "document_bytes": MAX_DOCUMENT_BYTES,
        }
        unknown = set(table) - set(ceilings)
        if unknown:
            raise ValueError(f"[limits] has no setting '{sorted(unknown)[0]}'")
        values: dict[str, int] = {}
        for key, ceiling in ceilings.items():
            if key not in table:
                continue
            value = table[key]
            if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= ceiling:
                raise ValueError(f"[limits] {key} must be a whole number from 1 to {ceiling}")
            values[key] = value
        return cls(**values)


DEFAULT_LIMITS = Limits()

# C0 controls, DEL and C1 controls; newline and tab are allowed in multi-line texts only.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_CONTROL_MULTILINE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")


def text_problem(value: str, *, what: str, limit: int, multiline: bool = False) -> str | None:
    """Why `value` cannot be stored as `what`, or None.

    Refused: invalid UTF-8 (the surrogate escapes Python gives undecodable bytes), control
    characters (newline and tab only in multi-line texts), and more than `limit` characters.
    """
    if not isinstance(value, str):
        return f"{_cap(what)} must be text."
    if value.isascii() and value.isprintable() and len(value) <= limit:
        return None  # the common case, at once: printable ASCII has no control or surrogate
    if _SURROGATE.search(value):
        return f"{_cap(what)} is not valid UTF-8 text."
    if (_CONTROL_MULTILINE if multiline else _CONTROL).search(value):
        if multiline:
            return (
                f"{_cap(what)} contains a control character (only newlines and tabs may be used)."
            )
        return f"{_cap(what)} contains a control character (one line of printable text only)."
    if len(value) > limit:
        return f"{_cap(what)} is longer than {limit} characters."
    return None


def argument_problem(value: str) -> str | None:
    """Why a command-line argument cannot be taken at all (before any command sees it)."""
    if _SURROGATE.search(value):
        return "An argument is not valid UTF-8 text; give it in UTF-8."
    if _CONTROL_MULTILINE.search(value):
        return "An argument contains a control character (only newlines and tabs may be used)."
    if len(value) > MAX_TEXT_CHARS:
        return f"An argument is longer than {MAX_TEXT_CHARS} characters."
    return None


def finite_decimal(value: str, *, what: str) -> Decimal | str:
    """A finite decimal number, or the sentence saying why `value` is not one (NaN, infinity)."""
    try:
        number = Decimal(value.strip())
    except (InvalidOperation, ValueError, AttributeError):
        return f"{_cap(what)} must be a number."
    if not number.is_finite():
        return f"{_cap(what)} must be a finite number (not NaN or infinity)."
    return number


def escape(value: object) -> str:
    """`value` as one safe line for a terminal: control characters, invalid UTF-8 and line or
    paragraph separators become visible escapes (a stored newline cannot forge an output line,
    an ESC cannot drive the terminal). Multi-line output splits first, then escapes each line."""
    text = "" if value is None else str(value)
    out = []
    for char in text:
        code = ord(char)
        if code < 0x20 or 0x7F <= code <= 0x9F or 0xD800 <= code <= 0xDFFF:
            out.append({"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(char, f"\\x{code:02x}"))
        elif unicodedata.category(char) in ("Zl", "Zp", "Cf") and char not in "\u200d":
            out.append(f"\\u{code:04x}")
        else:
            out.append(char)
    return "".join(out)


def csv_cell(value: object) -> object:
    """A CSV cell a spreadsheet will not run: text starting with = + - @, tab or CR gets a `'`."""
    if isinstance(value, str) and value[:1] in ("=", "+", "-", "@", "\t", "\r"):
        return "'" + value
    return value


# NUBC UB-04 form locator 17, patient discharge status: code -> the plain word people type.
DISCHARGE_DISPOSITIONS: dict[str, str] = {
    "01": "home",
    "02": "short-term-hospital",
    "03": "skilled-nursing-facility",
    "04": "intermediate-care-facility",
    "05": "cancer-or-childrens-hospital",
    "06": "home-health",
    "07": "against-medical-advice",
    "09": "admitted-as-inpatient",
    "20": "expired",
    "21": "law-enforcement",
    "30": "still-patient",
    "40": "expired-at-home",
    "41": "expired-in-medical-facility",
    "42": "expired-place-unknown",
    "43": "federal-health-care-facility",
    "50": "hospice-home",
    "51": "hospice-medical-facility",
    "61": "swing-bed",
    "62": "inpatient-rehabilitation-facility",
    "63": "long-term-care-hospital",
    "64": "nursing-facility-medicaid",
    "65": "psychiatric-hospital",
    "66": "critical-access-hospital",
    "69": "disaster-alternative-care-site",
    "70": "other-institution",
}
_DISPOSITION_ALIASES = {
    "snf": "03",
    "ama": "07",
    "deceased": "20",
    "died": "20",
    "self-care": "01",
    "hospice": "50",
    "rehabilitation": "62",
    "psychiatric": "65",
}


def discharge_disposition(value: str) -> str | None:
    """The plain word of a discharge status (given as its NUBC code, e.g. `01` or `1`, its word
    `home`, or a common alias `snf`), or None if it is not one."""
    key = value.strip().lower().replace(" ", "-").replace("_", "-")
    if key.isdigit() and len(key) <= 2:
        key = key.zfill(2)
    if key in DISCHARGE_DISPOSITIONS:
        return DISCHARGE_DISPOSITIONS[key]
    if key in _DISPOSITION_ALIASES:
        return DISCHARGE_DISPOSITIONS[_DISPOSITION_ALIASES[key]]
    if key in DISCHARGE_DISPOSITIONS.values():
        return key
    return None


@dataclass(frozen=True)
class UnknownDisposition:
    """An interface's explicit "the discharge status is not known": the system it imports from
    recorded none, or words that name no NUBC status (a cancelled visit, a local code), or none
    applies (a record of history, not a stay). `words` say which, in that system's terms; they
    are stored as the disposition. Only an interface may give one
    (`policies.charting.may_give_unknown_disposition`): a person discharging a patient knows
    where the patient went, and gives the status."""

    words: str


def disposition_problem(value: str) -> str | None:
    if discharge_disposition(value) is None:
        return (
            "The discharge disposition is not a patient discharge status code "
            "(give the NUBC code, e.g. 01, or its word, e.g. home or expired)."
        )
    return None


def _cap(what: str) -> str:
    return what[:1].upper() + what[1:]


FIRST_YEAR, LAST_YEAR = 1000, 9000
"""The years a date typed into the ledger may fall in: outside them a date is a typing slip, and
a period near the calendar's ends would overflow the day arithmetic of every report."""


def year_problem(year: int) -> str | None:
    """None for a year the ledger keeps, else the clause that says which it keeps."""
    if FIRST_YEAR <= year <= LAST_YEAR:
        return None
    return f"the ledger keeps years {FIRST_YEAR} to {LAST_YEAR}"
