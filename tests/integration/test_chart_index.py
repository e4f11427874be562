"""The chart index (which encounters and documents are whose), on every store: it follows the
log, is rebuilt from nothing, and a row removed, moved or added behind the ledger's back is named
by `verify`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from uuid import UUID

import pytest

from ledger.aggregates.patient import patient_id
from ledger.application import Ledger
from ledger.commands import documents, encounters, patients, users
from ledger.errors import IntegrityViolation
from ledger.integrity.keys import Identity
from ledger.reads.chart_index import check_chart_index
from tests.conftest import Hospital
from tests.rawdb import RawDB

ADA = {"given_name": "Ada", "family_name": "Okafor", "birth_date": date(1961, 4, 2)}
BRAM = {"given_name": "Bram", "family_name": "Lindqvist", "birth_date": date(1979, 11, 23)}


TECH = Identity.generate("tech1")


def seed(hospital: Hospital, tmp_path: Path) -> tuple[str, str, UUID, UUID, UUID]:
    """Two patients, an encounter each, and a document filed to Ada's encounter:
    (ada, bram, ada's encounter, bram's encounter, the document)."""
    ledger = hospital.ledger
    tech = TECH
    code = users.invite(ledger, "tech1", ["technician"], actor=hospital.admin)
    users.enrol(ledger, tech, code, key_protection="none")  # TECH is this module's tech1 everywhere
    hospital.enrol("dr1", ["physician"])
    ada = patients.register_patient(ledger, ADA, actor=tech, likely_matches=[])
    bram = patients.register_patient(ledger, BRAM, actor=tech, likely_matches=[])
    visits = [
        encounters.open_encounter(
            ledger,
            mrn,
            encounter_class="inpatient",
            attending="dr1",
            service="medicine",
            effective_at=datetime.now(UTC),
            actor=tech,
        )
        for mrn in (ada, bram)
    ]
    scan = tmp_path / "consent.txt"
    scan.write_text("consent to treatment")
    document = documents.file_document(
        ledger, ada, scan, kind="consent", actor=tech, encounter_id=visits[0]
    )
    return ada, bram, visits[0], visits[1], document


def test_the_index_follows_the_log_and_is_rebuilt_from_nothing(
    hospital: Hospital, tmp_path: Path
) -> None:
    ada, bram, ada_visit, bram_visit, document = seed(hospital, tmp_path)
    index = hospital.ledger.chart_index()
    assert index.encounter_ids([patient_id(ada)]) == [ada_visit]
    assert index.encounter_ids([patient_id(bram)]) == [bram_visit]
    assert index.document_ids([patient_id(ada)]) == [document]
    assert index.document_kinds_by_encounter() == {ada_visit: ["consent"]}

    documents.refile_document(
        hospital.ledger, document, bram, reason="wrong patient", actor=TECH, encounter_id=bram_visit
    )
    index = hospital.ledger.chart_index()  # caught up again
    assert index.document_ids([patient_id(ada)]) == []
    assert index.document_ids([patient_id(bram)]) == [document]
    before = index.rows()

    tracking = RawDB(hospital.store_url).tracking
    with hospital.ledger.db.transaction(commit=True) as cur:
        cur.execute(f"DELETE FROM {index.table}")
        cur.execute(f"DELETE FROM {tracking} WHERE application_name='chart-index'")
    rebuilt = hospital.reopen().chart_index()
    assert rebuilt.rows() == before
    assert hospital.ledger.verify().indexed == 3


def _damage(ledger: Ledger, sql: str, *params: object) -> None:
    table = ledger.chart_index().table
    with ledger.db.transaction(commit=True) as cur:
        cur.execute(sql.format(table=table), params)


DAMAGE: dict[str, tuple[str, Callable[[str, str, UUID, UUID, UUID], tuple[object, ...]], str]] = {
    "a row removed": (
        "DELETE FROM {table} WHERE aggregate_id=?",
        lambda ada, bram, visit, other, doc: (visit.hex,),
        "is missing from the chart index",
    ),
    "a document moved to another chart": (
        "UPDATE {table} SET patient_id=? WHERE aggregate_id=?",
        lambda ada, bram, visit, other, doc: (patient_id(bram).hex, doc.hex),
        "is indexed under the wrong chart",
    ),
    "a row added": (
        "INSERT INTO {table} (aggregate_id, kind, patient_id, position) "
        "VALUES (?, 'encounter', ?, 999999)",
        lambda ada, bram, visit, other, doc: ("0" * 32, patient_id(ada).hex),
        "which no event opened",
    ),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_tampered_index_is_named_by_verify(
    hospital: Hospital, tmp_path: Path, damage: str
) -> None:
    facts = seed(hospital, tmp_path)
    sql, params, message = DAMAGE[damage]
    _damage(hospital.ledger, sql, *params(*facts))
    ledger = hospital.reopen()
    with pytest.raises(IntegrityViolation, match=message) as caught:
        ledger.verify()
    assert caught.value.check == "chart-index"


def test_verify_checks_the_index_only_as_far_as_it_has_caught_up(
    hospital: Hospital, tmp_path: Path
) -> None:
    ada, *_ = seed(hospital, tmp_path)
    ledger = hospital.ledger
    index = ledger.chart_index()
    upto = ledger.recorder.max_notification_id() or 0  # how far the index has caught up
    encounters.open_encounter(
        ledger,  # another process's write: in the log, not yet in the index
        ada,
        encounter_class="outpatient",
        attending="dr1",
        service="clinic",
        effective_at=datetime.now(UTC),
        actor=TECH,
    )
    assert check_chart_index(index, ledger._expected_chart_index(upto)) == 3
    with pytest.raises(IntegrityViolation, match="missing from the chart index"):
        check_chart_index(index, ledger._expected_chart_index(upto + 1))
    assert ledger.verify().indexed == 4  # verify catches the index up first


def test_a_view_that_cannot_be_caught_up_fails_loudly_instead_of_retrying(
    hospital: Hospital, tmp_path: Path
) -> None:
    seed(hospital, tmp_path)
    hospital.ledger.chart_index()
    tracking = RawDB(hospital.store_url).tracking
    with hospital.ledger.db.transaction(commit=True) as cur:  # the rows stay, the position goes
        cur.execute(f"DELETE FROM {tracking} WHERE application_name='chart-index'")
    ledger = hospital.reopen()
    with pytest.raises(IntegrityViolation, match="chart-index view cannot be brought up to date"):
        ledger.chart_index()
