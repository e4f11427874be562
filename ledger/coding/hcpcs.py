"""HCPCS Level II (CMS January 2025 alpha-numeric file), carried trimmed in `data/`.

`data/hcpcs_2025.tsv.gz`: code, kind (procedure or modifier), short and long description, added
date and termination date (see `data/README.md`). A code is valid on a date from its added date
to its termination date, both included (modifier JG: valid on 2024-12-31, not on 2025-01-01).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

RELEASE = "HCPCS Level II January 2025 (CMS)"


@dataclass(frozen=True)
class HcpcsCode:
    """A HCPCS Level II code or modifier from the carried file."""

    code: str
    kind: str
    """"procedure" (procedures, supplies, drugs: five characters) or "modifier" (two)."""
    short: str
    long: str
    added: date | None
    terminated: date | None

    def valid_on(self, on: date) -> bool:
        """Added on or before `on` and not terminated before it."""
        return (self.added is None or self.added <= on) and (
            self.terminated is None or on <= self.terminated
        )


def lookup(code: str) -> HcpcsCode | None:
    """The carried row for `code` (any case), or None."""
    raise NotImplementedError


def check_hcpcs(code: str, *, on: date) -> HcpcsCode:
    """The code if it is valid on `on`; otherwise one sentence (`UsageError`): unknown, not yet
    added, or discontinued (with the date)."""
    raise NotImplementedError


def active_on(on: date) -> int:
    """How many carried codes are valid on `on` (7,477 on 2025-01-01)."""
    raise NotImplementedError
