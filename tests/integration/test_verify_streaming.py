"""`verify` streams the log: nothing kept per event, signatures checked in worker processes."""

from __future__ import annotations

import dataclasses

import pytest

from ledger.errors import IntegrityViolation
from ledger.verifier.log import Report, verify_log
from tests.conftest import Hospital
from tests.integration.test_tamper import STAFF, flip_body_byte, seed
from tests.rawdb import RawDB


def streamed(hospital: Hospital, *, chunk: int, workers: int) -> Report:
    ledger = hospital.reopen()
    return verify_log(
        ledger.log_events(batch_size=4),
        ledger.merkle_log.checkpoints(),
        origin=ledger.origin,
        transcoder=ledger.mapper.transcoder,
        workers=workers,
        stored_hashes=ledger.merkle_log.stored_hashes(batch_size=3),
        chunk=chunk,
    )


def test_the_report_holds_no_list_per_event(hospital: Hospital) -> None:
    seed(hospital)
    report = hospital.reopen().verify()
    assert report.events == 2 + 2 * len(STAFF) + 1
    for item in dataclasses.fields(report):
        value = getattr(report, item.name)
        assert not isinstance(value, list | tuple | dict | set), item.name


def test_worker_processes_verify_a_log_of_many_chunks(hospital: Hospital) -> None:
    seed(hospital)
    report = streamed(hospital, chunk=3, workers=2)
    assert report.events == 2 + 2 * len(STAFF) + 1


@pytest.mark.parametrize("at", [2, 9])
def test_worker_processes_name_the_first_bad_signature(hospital: Hospital, at: int) -> None:
    seed(hospital)
    raw = RawDB(hospital.store_url)
    rows = raw.rows()
    _, oid, version, _, state = rows[at]
    raw.set_state(oid, version, flip_body_byte(state))
    _, later_oid, later_version, _, later_state = rows[-2]
    raw.set_state(later_oid, later_version, flip_body_byte(later_state))
    with pytest.raises(IntegrityViolation) as caught:
        streamed(hospital, chunk=3, workers=2)
    failure = caught.value
    assert (failure.position, failure.originator_id, failure.originator_version) == (
        at,
        oid,
        version,
    )
