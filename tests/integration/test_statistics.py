"""The planner's statistics (PostgreSQL): refreshed by the ledger itself as the log grows, so a
server with autovacuum off still plans an aggregate read as an index lookup."""

from __future__ import annotations

import pytest

from ledger.integrity import merkle_log
from projections.audit import caught_up_trail
from tests.conftest import Hospital
from tests.rawdb import RawDB


def analysed(hospital: Hospital) -> dict[str, bool]:
    raw = RawDB(hospital.store_url)
    rows = raw._run(
        "SELECT relname, last_analyze IS NOT NULL FROM pg_stat_user_tables WHERE schemaname=?",
        (hospital.ledger.store.schema,),
        fetch=True,
    )
    return {str(name): bool(done) for name, done in rows}


def test_statistics_are_refreshed_when_the_log_grows_by_a_tenth(
    hospital: Hospital, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = hospital.ledger
    if not ledger.db.is_postgres:
        ledger.db.refresh_statistics()  # nothing to do on SQLite, and no error
        return
    monkeypatch.setattr(merkle_log, "ANALYZE_AFTER", 5)

    def enrol(*numbers: int) -> int:
        for i in numbers:
            hospital.enrol(f"tech{i}", ["technician"])
        ledger.merkle_log.catch_up()
        return int(ledger.merkle_log.meta("statistics_at_size") or 0)

    assert ledger.merkle_log.meta("statistics_at_size") is None  # the genesis: 2 events
    assert not analysed(hospital)["chartledger_events"]
    # Each enrolment is two events (the invitation and the enrolment).
    assert enrol(1, 2, 3) == 8 == ledger.merkle_log.size()  # grown by 8: refreshed
    assert analysed(hospital)["chartledger_events"] and analysed(hospital)["merkle_leaves"]
    assert enrol(4) == 8  # grown by 2 since: not yet
    assert enrol(5, 6) == 14  # grown by 6 since: refreshed again
    # A view that catches up ANALYZE_AFTER events or more refreshes them too.
    assert "audit_trail" not in analysed(hospital)
    caught_up_trail(ledger)
    assert analysed(hospital)["audit_trail"]
