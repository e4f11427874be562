"""Nursing units: who may manage them, what a unit code is, and which unit a bed belongs to.

Pure: plain inputs, a decision or a sentence out. A unit code is 1 to 12 capital letters and
digits (typed in any case, kept upper case); a bed label names its unit by the part before the
first "-" (bed "4W-12" is in unit "4W"), so `unit_of_bed` maps an encounter's bed to its unit
without a table of beds (decisions §45).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from policies.roles import ADMINISTRATOR, Decision

POLICY_VERSION = "units/1"

UNIT_MANAGERS = frozenset({"him-director", ADMINISTRATOR})
"""Who opens, resizes and closes units: the HIM director (the statistics are theirs) and an
administrator (who sets the hospital up)."""

MAX_CODE_CHARS = 12
MAX_COUNT = 10_000
"""More beds than any one nursing unit holds: a typo, not a unit."""

_CODE = re.compile(rf"[A-Z0-9]{{1,{MAX_CODE_CHARS}}}")


def may_manage_units(actor_roles: Iterable[str]) -> Decision:
    """Only the HIM director or an administrator opens, resizes or closes a nursing unit."""
    if UNIT_MANAGERS & set(actor_roles):
        return Decision(
            True, "the HIM director and administrators manage nursing units", POLICY_VERSION
        )
    return Decision(
        False, "only the HIM director or an administrator may manage nursing units", POLICY_VERSION
    )


def normal_code(value: str) -> str:
    """A unit code as the ledger keeps it: trimmed, upper case (not yet checked)."""
    return value.strip().upper()


def code_problem(value: str) -> str | None:
    """None for a usable unit code, else one sentence (the value is not repeated)."""
    if not value.strip().isascii() or not _CODE.fullmatch(normal_code(value)):
        return (
            f"A unit code is 1 to {MAX_CODE_CHARS} letters and digits, with no spaces or '-' "
            "(a bed label is the unit code, '-', and the bed: 4W-12)."
        )
    return None


def count_problem(value: int, *, what: str) -> str | None:
    """None for a usable count of beds or bassinets, else one sentence."""
    if isinstance(value, bool) or not isinstance(value, int):
        return f"The {what} must be a whole number."
    if value < 0:
        return f"The {what} cannot be below zero."
    if value > MAX_COUNT:
        return f"The {what} cannot be more than {MAX_COUNT} in one unit."
    return None


def unit_of_bed(label: str | None) -> str | None:
    """The unit code a bed label names (the part before the first "-"), or None when the label
    names none: no bed, no "-", or a prefix that is not a unit code."""
    if label is None:
        return None
    prefix, dash, rest = label.strip().partition("-")
    if not dash or not rest.strip():
        return None
    return normal_code(prefix) if code_problem(prefix) is None else None
