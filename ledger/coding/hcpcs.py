"""HCPCS Level II (CMS January 2025 alpha-numeric file), carried trimmed in `data/`.

`data/hcpcs_2025.tsv.gz`: code, kind (procedure or modifier), short and long description, added
date and termination date (see `data/README.md`). A code is valid on a date from its added date
to its termination date, both included (modifier JG: valid on 2024-12-31, not on 2025-01-01).
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib import resources

from ledger.errors import UsageError

RELEASE = "HCPCS Level II January 2025 (CMS)"
DATA_FILE = "hcpcs_2025.tsv.gz"


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


def _date(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


@cache
def _table() -> dict[str, HcpcsCode]:
    data = resources.files("ledger.coding").joinpath("data", DATA_FILE).read_bytes()
    rows: dict[str, HcpcsCode] = {}
    for line in gzip.decompress(data).decode("utf-8").splitlines()[1:]:
        code, kind, short, long, added, terminated = line.split("\t")
        rows[code] = HcpcsCode(code, kind, short, long, _date(added), _date(terminated))
    return rows


def lookup(code: str) -> HcpcsCode | None:
    """The carried row for `code` (any case), or None."""
    return _table().get(code.strip().upper())


def check_hcpcs(code: str, *, on: date) -> HcpcsCode:
    """The code if it is valid on `on`; otherwise one sentence (`UsageError`): unknown, not yet
    added, or discontinued (with the date)."""
    found = lookup(code)
    if found is None:
        raise UsageError(
            f"{code.strip().upper()} is not in the CMS HCPCS Level II file of January 2025 "
            "(CPT codes are not carried): check the code."
        )
    if found.added is not None and on < found.added:
        raise UsageError(
            f"HCPCS {found.code} was added on {found.added.isoformat()}, after "
            f"{on.isoformat()}: use the code in force on that date."
        )
    if found.terminated is not None and found.terminated < on:
        raise UsageError(
            f"HCPCS {found.code} was discontinued after {found.terminated.isoformat()}, so it is "
            f"not valid on {on.isoformat()}: use a code in force on that date."
        )
    return found


def active_on(on: date) -> int:
    """How many carried codes are valid on `on` (7,477 on 2025-01-01)."""
    return sum(1 for row in _table().values() if row.valid_on(on))
