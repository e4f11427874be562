"""Issued statistical reports: who may issue one, and what a report's month is (issue 13, item 5).

Pure: plain inputs, a decision or a sentence out. A report given to someone (the medical staff
committee, the board) is recorded as a signed event with its period and content hash, so anyone
can later show which figures were given to whom; issuing one is the HIM director's work (the
statistics are theirs) or an administrator's (decisions §49).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import date, timedelta

from policies.limits import year_problem
from policies.roles import ADMINISTRATOR, Decision

POLICY_VERSION = "reports/1"

REPORT_ISSUERS = frozenset({"him-director", ADMINISTRATOR})
"""Who issues a report: the HIM director and an administrator."""

REPORT_KINDS = ("monthly",)
"""The kinds of report the ledger issues (an issued report names its kind)."""

MAX_RECIPIENT_CHARS = 200
"""To whom a report is given: a committee, a board, a person's name and office; one line."""

_MONTH = re.compile(r"(\d{4})-(\d{2})")


def may_issue_reports(actor_roles: Iterable[str]) -> Decision:
    """Only the HIM director or an administrator issues a statistical report."""
    if REPORT_ISSUERS & set(actor_roles):
        return Decision(
            True, "the HIM director and administrators issue statistical reports", POLICY_VERSION
        )
    return Decision(
        False,
        "only the HIM director or an administrator may issue a statistical report",
        POLICY_VERSION,
    )


def month_problem(text: str) -> str | None:
    """Why `text` is not a month written YYYY-MM (2026-01), or None."""
    found = _MONTH.fullmatch(text.strip()) if isinstance(text, str) else None
    shown = text if isinstance(text, str) and len(text) <= 40 else "That"
    if found is None or not 1 <= int(found.group(2)) <= 12 or int(found.group(1)) < 1:
        return f"'{shown}' is not a month (give YYYY-MM)."
    far = year_problem(int(found.group(1)))
    if far is not None:
        return f"'{shown}' is not a month: {far}."
    return None


def month_period(text: str) -> tuple[date, date]:
    """The first and last day of the month YYYY-MM (`month_problem` first: ValueError here)."""
    problem = month_problem(text)
    if problem is not None:
        raise ValueError(problem)
    year, month = (int(part) for part in text.strip().split("-"))
    first = date(year, month, 1)
    following = date(year + 1, 1, 1) if month == 12 else date(year, month + 1, 1)
    return first, following - timedelta(days=1)


def month_of(first: date) -> str:
    """The month YYYY-MM that starts on `first`."""
    return f"{first.year:04d}-{first.month:02d}"


def months_ending(last: str, count: int) -> tuple[str, ...]:
    """The `count` months that end with the month `last` (YYYY-MM), oldest first."""
    first, _ = month_period(last)
    index = first.year * 12 + first.month - 1
    return tuple(f"{i // 12:04d}-{i % 12 + 1:02d}" for i in range(index - count + 1, index + 1))
