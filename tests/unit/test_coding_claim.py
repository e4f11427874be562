"""The typed claim and the exact msdrg input it becomes (ledger.coding.claim)."""

from __future__ import annotations

import hashlib
import json
from datetime import date

import msdrg
import pytest

from ledger.coding.claim import Claim, CodedDiagnosis, CodedProcedure, inputs_sha256
from ledger.errors import UsageError

STAY = Claim(
    discharge=date(2026, 1, 5),
    age=70,
    sex="M",
    discharge_status="01",
    admission_source="1",
    principal=CodedDiagnosis("I50.20", "Y"),
    secondary=(CodedDiagnosis("e11.65", "Y"), CodedDiagnosis("N17.9", "1")),
    procedures=(CodedProcedure("0dtj4zz", date(2026, 1, 2)),),
)


def test_the_msdrg_input_is_what_msdrg_create_claim_builds_plus_the_hospital_terms() -> None:
    built = msdrg.create_claim(
        version=430,
        age=70,
        sex=0,
        discharge_status=1,
        pdx="I5020",
        pdx_poa="Y",
        sdx=[("E1165", "Y"), ("N179", " ")],
        procedures=["0DTJ4ZZ"],
    )
    ours = STAY.msdrg_input(430)
    assert ours == {
        **built,
        "discharge_date": 20260105,
        "hospital_status": "NOT_EXEMPT",
        "tie_breaker": "CLINICAL_SIGNIFICANCE",
    }


def test_the_hash_is_of_canonical_json() -> None:
    inputs = STAY.msdrg_input(430)
    text = json.dumps(inputs, sort_keys=True, separators=(",", ":"))
    assert inputs_sha256(inputs) == hashlib.sha256(text.encode()).hexdigest()
    reordered = dict(reversed(list(inputs.items())))
    assert inputs_sha256(reordered) == inputs_sha256(inputs)
    other = Claim.from_fields(
        STAY.as_fields()
        | {"secondary": [{"code": "E1165", "poa": "N"}, {"code": "N179", "poa": "1"}]}
    )
    assert inputs_sha256(other.msdrg_input(430)) != inputs_sha256(inputs)


def test_fields_round_trip() -> None:
    assert Claim.from_fields(STAY.as_fields()) == STAY
    assert STAY.secondary[0].code == "E1165" and STAY.procedures[0].code == "0DTJ4ZZ"


@pytest.mark.parametrize(
    "change",
    [
        {"sex": "X"},
        {"age": -1},
        {"age": 125},
        {"discharge_status": "1"},
        {"discharge_status": "AB"},
    ],
)
def test_a_claim_the_grouper_cannot_take_is_refused(change: dict[str, object]) -> None:
    with pytest.raises(UsageError):
        Claim.from_fields(STAY.as_fields() | change)


def test_an_unknown_poa_is_refused() -> None:
    with pytest.raises(UsageError, match="present-on-admission"):
        CodedDiagnosis("I10", "X")


def test_what_if_moves_the_old_principal_to_the_secondaries() -> None:
    swapped = STAY.with_principal(CodedDiagnosis("N17.9", "Y"))
    assert swapped.principal.code == "N179"
    assert [d.code for d in swapped.secondary] == ["I5020", "E1165"]
    dropped = STAY.with_principal(CodedDiagnosis("J18.9"), keep_old=False)
    assert [d.code for d in dropped.secondary] == ["E1165", "N179"]
