"""The disease, operation and physician indexes on every store, with real codes: filtered by code,
category, root operation, surgeon, physician and discharge period; final-coded stays unless
asked (then marked); the access recorded first, row by row; CSV cells a spreadsheet would run
are neutralised. The expected figures are computed here from the stays and their groupings."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date
from decimal import ROUND_HALF_UP, Decimal

import pytest

from ledger.aggregates.access import Access
from ledger.errors import AccessDenied, UsageError
from projections.coding import (
    DiseaseIndexRow,
    OperationIndexRow,
    PhysicianIndexRow,
    disease_index,
    operation_index,
    physician_index,
    write_index_csv,
)
from tests.conftest import Hospital
from tests.integration.test_coding_worklist import Department, _access_events, build


@pytest.fixture
def department(hospital: Hospital) -> Department:
    return build(hospital)


def _stays(d: Department, rows: list) -> list[str]:
    names = {v: k for k, v in d.stays.items()}
    return [names[r.encounter_id] for r in rows]


def test_the_disease_index_by_code_category_and_period(department: Department) -> None:
    d = department
    coder = d.staff["coder1"]
    every = disease_index(d.ledger, purpose="operations", actor=coder)
    # Final-coded stays only: S1 and S2 (S3 is grouped, S5 in progress, S4 not coded).
    assert set(_stays(d, every)) == {"S1", "S2"}
    assert sorted((r.code, r.place) for r in every) == sorted(
        [("I50.21", "principal"), ("N17.9", "secondary"), ("E11.65", "secondary"),
         ("K35.80", "principal"), ("E11.9", "secondary")]
    )  # fmt: skip
    assert [r.code for r in every] == sorted(
        (r.code for r in every), key=lambda c: c.replace(".", "")
    )
    e11 = disease_index(d.ledger, purpose="operations", actor=coder, code="E11")
    assert [(r.code, r.mrn) for r in e11] == [("E11.65", d.mrns["Ada"]), ("E11.9", d.mrns["Bo"])]
    assert all(r.description and r.final for r in e11)
    assert "diabetes" in (e11[0].description or "").lower()
    narrower = disease_index(d.ledger, purpose="operations", actor=coder, code="e11.6")
    assert [r.code for r in narrower] == ["E11.65"]
    exact = disease_index(d.ledger, purpose="operations", actor=coder, code="I50.21")
    row = exact[0]
    assert (row.mrn, row.encounter_id, row.discharged_on) == (
        d.mrns["Ada"],
        d.stays["S1"],
        date(2026, 3, 14),
    )
    assert row.principal and row.poa == "Y" and row.attending == "dr1"
    april = disease_index(
        d.ledger, purpose="operations", actor=coder, since=date(2026, 4, 1),
        until=date(2026, 4, 30),
    )  # fmt: skip
    assert set(_stays(d, april)) == {"S2"}
    upto = disease_index(d.ledger, purpose="operations", actor=coder, until=date(2026, 4, 2))
    assert set(_stays(d, upto)) == {"S1"}  # S2 was discharged on 3 April
    unfinal = disease_index(d.ledger, purpose="operations", actor=coder, include_unfinal=True)
    assert set(_stays(d, unfinal)) == {"S1", "S2", "S3", "S5"}
    assert {_stays(d, [r])[0] for r in unfinal if not r.final} == {"S3", "S5"}


def test_the_operation_index_by_code_root_operation_and_surgeon(department: Department) -> None:
    from ledger.coding import icd10pcs

    d = department
    coder = d.staff["coder1"]
    every = operation_index(d.ledger, purpose="operations", actor=coder, include_unfinal=True)
    assert [(r.code, _stays(d, [r])[0]) for r in every] == [
        ("02HV33Z", "S1"), ("0DTJ4ZZ", "S2"), ("0FT44ZZ", "S3")
    ]  # fmt: skip
    resections = operation_index(
        d.ledger, purpose="operations", actor=coder, root="T", include_unfinal=True
    )
    assert [r.code for r in resections] == ["0DTJ4ZZ", "0FT44ZZ"]
    assert {r.root_operation_name for r in resections} == {icd10pcs.root_operation_name("0DT")}
    by_name = operation_index(
        d.ledger, purpose="operations", actor=coder, root="Resection", include_unfinal=True
    )
    assert by_name == resections
    final_only = operation_index(d.ledger, purpose="operations", actor=coder, root="t")
    assert [(r.code, r.surgeon, r.performed_on, r.mrn) for r in final_only] == [
        ("0DTJ4ZZ", "dr2", date(2026, 4, 2), d.mrns["Bo"])
    ]
    assert final_only[0].title == icd10pcs.title("0DTJ4ZZ")
    by_code = operation_index(d.ledger, purpose="operations", actor=coder, code="02H")
    assert [r.code for r in by_code] == ["02HV33Z"]
    by_surgeon = operation_index(
        d.ledger, purpose="operations", actor=coder, surgeon="dr1", include_unfinal=True
    )
    assert [r.code for r in by_surgeon] == ["02HV33Z", "0FT44ZZ"]
    may = operation_index(
        d.ledger, purpose="operations", actor=coder, since=date(2026, 5, 1),
        until=date(2026, 5, 1), include_unfinal=True,
    )  # fmt: skip
    assert [(r.code, r.final) for r in may] == [("0FT44ZZ", False)]


def _mean(values: list[Decimal], places: str) -> Decimal:
    return (sum(values, Decimal(0)) / len(values)).quantize(Decimal(places), ROUND_HALF_UP)


def test_the_physician_index_by_attending(department: Department) -> None:
    d = department
    d.final("S3")
    rows = physician_index(d.ledger, purpose="operations", actor=d.staff["him1"])
    assert [r.physician for r in rows] == ["dr1", "dr2"]
    dr1 = rows[0]
    assert _stays(d, dr1.stays) == ["S1", "S3"]
    los = {"S1": (date(2026, 3, 14) - date(2026, 3, 10)).days, "S3": 1}  # S3: in and out
    assert [s.length_of_stay for s in dr1.stays] == [los["S1"], los["S3"]]
    assert dr1.discharges == 2 and dr1.patients == 2 and dr1.patient_days == sum(los.values())
    assert dr1.average_length_of_stay == _mean([Decimal(v) for v in los.values()], "0.01")
    drgs = [d.abstract(s).last_grouping.drg for s in ("S1", "S3")]
    assert sorted(x.drg for x in dr1.drgs) == sorted(set(drgs))
    assert sum(x.stays for x in dr1.drgs) == 2
    assert dr1.case_mix_index == _mean([d.weight("S1"), d.weight("S3")], "0.0001")
    only = physician_index(d.ledger, purpose="operations", actor=d.staff["him1"], physician="dr2")
    assert [r.physician for r in only] == ["dr2"] and _stays(d, only[0].stays) == ["S2"]
    with_unfinal = physician_index(
        d.ledger, purpose="operations", actor=d.staff["him1"], physician="dr2",
        include_unfinal=True,
    )  # fmt: skip
    dr2 = with_unfinal[0]
    assert _stays(d, dr2.stays) == ["S2", "S5"] and [s.final for s in dr2.stays] == [True, False]
    assert dr2.case_mix_index == _mean([d.weight("S2")], "0.0001")  # final stays only
    march = physician_index(
        d.ledger, purpose="operations", actor=d.staff["him1"], until=date(2026, 3, 31)
    )
    assert [(r.physician, r.discharges) for r in march] == [("dr1", 1)]


def test_every_index_records_the_mrns_it_shows_first_and_withholds_row_by_row(
    department: Department,
) -> None:
    from ledger.commands.policy import load_access_policy

    d = department
    coder = d.staff["coder1"]
    reads = [
        lambda: disease_index(d.ledger, purpose="operations", actor=coder),
        lambda: operation_index(d.ledger, purpose="operations", actor=coder),
        lambda: physician_index(d.ledger, purpose="operations", actor=coder),
    ]
    for read in reads:
        before = len(_access_events(d.ledger))
        rows = read()
        recorded = _access_events(d.ledger)[before:]
        assert len(recorded) == 1 and isinstance(recorded[0], Access.RecordAccessed)
        shown = {s.mrn for r in rows for s in getattr(r, "stays", [r])}
        assert sorted(recorded[0].mrns) == sorted(shown) == sorted([d.mrns["Ada"], d.mrns["Bo"]])
        assert recorded[0].sections == ["coding"]
    privacy = d.hospital.enrol("privacy1", ["compliance-officer"])
    load_access_policy(
        d.ledger, f'version = "guard.1"\n[patients]\nrestricted = ["{d.mrns["Bo"]}"]\n',
        actor=privacy,
    )  # fmt: skip
    for read, withheld in zip(reads, (2, 1, 1), strict=True):  # lines: S2 has two codes
        rows = read()
        shown = {s.mrn for r in rows for s in getattr(r, "stays", [r])}
        assert shown == {d.mrns["Ada"]} and rows.withheld == withheld
        assert isinstance(_access_events(d.ledger)[-1], Access.AccessDenied)
    # A nurse reads no coding list: refused and recorded, naming no patient.
    before = d.events()
    with pytest.raises(AccessDenied):
        disease_index(d.ledger, purpose="operations", actor=d.staff["nurse1"])
    assert d.events() == before + 1


def test_bad_filters_are_one_sentence_and_record_nothing(department: Department) -> None:
    d = department
    coder = d.staff["coder1"]
    before = d.events()
    for read, said in [
        (lambda: disease_index(d.ledger, purpose="operations", actor=coder, code="0DT"),
         "not an ICD-10-CM code or category"),
        (lambda: disease_index(d.ledger, purpose="operations", actor=coder, code="EE1"),
         "not an ICD-10-CM code"),
        (lambda: operation_index(d.ledger, purpose="operations", actor=coder, code="0DTJ4ZZO"),
         "not an ICD-10-PCS code"),
        (lambda: operation_index(d.ledger, purpose="operations", actor=coder, root="T1"),
         "not a root operation"),
        # A word that names no root operation matches nothing: refused, not an empty index.
        (lambda: operation_index(d.ledger, purpose="operations", actor=coder, root="ZZ"),
         "not a root operation"),
        (lambda: physician_index(d.ledger, purpose="operations", actor=coder,
                                 since=date(2026, 5, 1), until=date(2026, 4, 1)),
         "before it starts"),
    ]:  # fmt: skip
        with pytest.raises(UsageError) as caught:
            read()
        text = str(caught.value)
        assert said in text and "\n" not in text and text.endswith("."), text
    assert d.events() == before


def test_csv_cells_a_spreadsheet_would_run_are_neutralised(department: Department) -> None:
    d = department
    d.hospital.enrol("-surgeon", ["physician"])  # a user name may begin with '-'
    from ledger.commands import coding

    coding.code_procedure(
        d.ledger, d.stays["S5"], code="0DTJ4ZZ", on=date(2026, 7, 2),
        operating_physician="-surgeon", actor=d.staff["coder2"],
    )  # fmt: skip
    rows = operation_index(
        d.ledger, purpose="operations", actor=d.staff["coder1"], surgeon="-surgeon",
        include_unfinal=True,
    )  # fmt: skip
    out = io.StringIO()
    write_index_csv(out, OperationIndexRow.CSV_COLUMNS, rows)
    table = list(csv.reader(io.StringIO(out.getvalue())))
    assert table[0] == list(OperationIndexRow.CSV_COLUMNS)
    line = dict(zip(table[0], table[1], strict=True))
    assert line["surgeon"] == "'-surgeon" and line["mrn"] == d.mrns["Bo"]
    assert line["final"] == "no" and line["performed"] == "2026-07-02"
    assert out.getvalue().endswith("\r\n")
    for columns, read in [
        (DiseaseIndexRow.CSV_COLUMNS, disease_index),
        (PhysicianIndexRow.CSV_COLUMNS, physician_index),
    ]:
        out = io.StringIO()
        found = read(d.ledger, purpose="operations", actor=d.staff["coder1"])
        write_index_csv(out, columns, found)
        lines = list(csv.reader(io.StringIO(out.getvalue())))
        assert lines[0] == list(columns)
        stays = sum(len(getattr(r, "stays", [r])) for r in found)
        assert len(lines) == 1 + stays


def test_an_open_stay_is_in_no_discharge_period(department: Department) -> None:
    from datetime import datetime

    from ledger.commands import coding, encounters

    d = department
    stay = encounters.open_encounter(
        d.ledger, d.mrns["Cy"], encounter_class="inpatient", attending="dr1",
        service="medicine", effective_at=datetime(2026, 11, 20, tzinfo=UTC),
        actor=d.staff["tech1"],
    )  # fmt: skip
    coding.code_diagnosis(
        d.ledger, stay, code="J18.9", poa="Y", principal=True, actor=d.staff["coder1"]
    )
    rows = disease_index(
        d.ledger, purpose="operations", actor=d.staff["coder1"], code="J18", include_unfinal=True
    )
    assert [r.encounter_id for r in rows] == [d.stays["S5"]]
