"""Users, roles and keys as signed events, on every store."""

from __future__ import annotations

import pytest

from ledger.errors import ConflictError, IdentityError, NotAuthorised, NotFound, UsageError
from ledger.keys import Identity
from tests.conftest import Hospital


def test_genesis_is_the_self_signed_first_administrator(hospital: Hospital) -> None:
    ledger = hospital.ledger
    assert ledger.genesis_fingerprint() == hospital.admin.fingerprint
    names = [u.name for u in ledger.users()]
    assert names == ["admin", "node"]
    assert ledger.user("admin").roles == ["administrator"]
    assert hospital.home.config()["genesis"] == hospital.admin.fingerprint.hex()


def test_an_administrator_enrols_users_and_each_event_is_signed_by_the_actor(
    hospital: Hospital,
) -> None:
    ledger = hospital.ledger
    tech = hospital.enrol("tech1", ["technician"])
    assert ledger.user("tech1").roles == ["technician"]
    ledger.merkle_log.catch_up()
    record = ledger.merkle_log.registry().keys[tech.fingerprint]
    assert record.user == "tech1" and record.revoked_at is None
    # The enrolment event itself carries the administrator's signature, not the new user's.
    last = ledger.recorder.select_notifications(start=None, limit=100)[-1]
    from ledger.envelope import unpack

    assert unpack(last.state).signer == hospital.admin.fingerprint


def test_only_an_administrator_may_enrol(hospital: Hospital) -> None:
    ledger = hospital.ledger
    tech = hospital.enrol("tech1", ["technician"])
    before = ledger.recorder.max_notification_id()
    with pytest.raises(NotAuthorised, match="Only an administrator"):
        ledger.add_user("x", ["nurse"], Identity.generate("x").public_raw, actor=tech)
    assert ledger.recorder.max_notification_id() == before


@pytest.mark.parametrize(
    ("name", "roles", "message"),
    [
        ("bad name", ["nurse"], "user name"),
        ("node", ["nurse"], "reserved"),
        ("nurse1", ["surgeon-general"], "Unknown role"),
        ("admin", ["nurse"], "already a user"),
    ],
)
def test_bad_enrolments_are_refused_and_nothing_is_written(
    hospital: Hospital, name: str, roles: list[str], message: str
) -> None:
    ledger = hospital.ledger
    before = ledger.recorder.max_notification_id()
    with pytest.raises(UsageError, match=message):
        ledger.add_user(name, roles, Identity.generate("n").public_raw, actor=hospital.admin)
    assert ledger.recorder.max_notification_id() == before


def test_a_rotated_key_stops_working_and_the_new_one_works(hospital: Hospital) -> None:
    ledger = hospital.ledger
    old = hospital.enrol("doc", ["physician"])
    new = Identity.generate("doc")
    ledger.rotate_key("doc", new.public_raw, actor=old)  # a user may rotate their own key
    with pytest.raises(IdentityError, match="not the key the ledger holds"):
        ledger.rotate_key("doc", Identity.generate("doc").public_raw, actor=old)
    ledger.rotate_key("doc", Identity.generate("doc").public_raw, actor=hospital.admin)
    assert len(ledger.user("doc").past_keys) == 2
    ledger.verify()


def test_a_user_may_not_rotate_someone_elses_key(hospital: Hospital) -> None:
    ledger = hospital.ledger
    a, b = Identity.generate("a1"), Identity.generate("b1")
    ledger.add_user("a1", ["nurse"], a.public_raw, actor=hospital.admin)
    ledger.add_user("b1", ["nurse"], b.public_raw, actor=hospital.admin)
    with pytest.raises(NotAuthorised):
        ledger.rotate_key("b1", Identity.generate("b1").public_raw, actor=a)


def test_a_revoked_key_can_no_longer_act(hospital: Hospital) -> None:
    ledger = hospital.ledger
    second_admin = hospital.enrol("admin2", ["administrator"])
    ledger.revoke_key("admin2", "laptop stolen", actor=hospital.admin)
    with pytest.raises(IdentityError, match="revoked"):
        ledger.add_user("x1", ["nurse"], Identity.generate("x1").public_raw, actor=second_admin)
    with pytest.raises(UsageError, match="already revoked"):
        ledger.revoke_key("admin2", "again", actor=hospital.admin)
    with pytest.raises(UsageError, match="own key"):
        ledger.revoke_key("admin", "oops", actor=hospital.admin)
    ledger.verify()


def test_an_unknown_user_is_a_clear_error(hospital: Hospital) -> None:
    with pytest.raises(NotFound, match="no user named 'ghost'"):
        hospital.ledger.user("ghost")
    with pytest.raises(IdentityError, match="no user named 'ghost'"):
        hospital.ledger.add_user(
            "x1", ["nurse"], Identity.generate("x").public_raw, actor=Identity.generate("ghost")
        )


def test_concurrent_writers_one_wins_the_other_gets_a_conflict(hospital: Hospital) -> None:
    first = hospital.ledger
    second = hospital.home.open()
    try:
        doc = Identity.generate("doc")
        first.add_user("doc", ["physician"], doc.public_raw, actor=hospital.admin)
        seen_by_first = first.user("doc")
        seen_by_second = second.user("doc")
        winner, loser = Identity.generate("doc"), Identity.generate("doc")
        seen_by_first.rotate_key(winner.public_raw, actor="admin")
        seen_by_second.rotate_key(loser.public_raw, actor="admin")
        first.save(seen_by_first, signer=hospital.admin)
        with pytest.raises(ConflictError, match="nothing was saved"):
            second.save(seen_by_second, signer=hospital.admin)
        assert second.user("doc").public_key == winner.public_raw
        second.verify()
    finally:
        second.close()


def test_the_merkle_log_survives_a_restart_and_admits_each_event_once(hospital: Hospital) -> None:
    ledger = hospital.ledger
    for n in range(5):
        ledger.add_user(
            f"n{n}", ["nurse"], Identity.generate(f"n{n}").public_raw, actor=hospital.admin
        )
    ledger.merkle_log.catch_up()
    assert ledger.merkle_log.size() == 7
    root = ledger.merkle_log.root(7)
    ledger = hospital.reopen()
    assert ledger.merkle_log.catch_up() == 0
    assert ledger.merkle_log.size() == 7
    assert ledger.merkle_log.root(7) == root
    ledger.add_user("n9", ["nurse"], Identity.generate("n9").public_raw, actor=hospital.admin)
    ledger.merkle_log.catch_up()
    assert ledger.merkle_log.size() == 8
    assert ledger.merkle_log.root(7) == root
    ledger.verify()


def test_a_follower_keeps_the_log_current_until_stopped(hospital: Hospital) -> None:
    import threading
    import time

    follower_ledger = hospital.home.open()
    stop = threading.Event()
    failures: list[BaseException] = []

    def run() -> None:
        try:
            follower_ledger.merkle_log.follow(stop, poll_seconds=0.05)
        except BaseException as error:  # the test reports it below
            failures.append(error)

    thread = threading.Thread(target=run)
    thread.start()
    try:
        for n in range(3):
            hospital.ledger.add_user(
                f"f{n}", ["nurse"], Identity.generate(f"f{n}").public_raw, actor=hospital.admin
            )
        deadline = time.monotonic() + 10
        while follower_ledger.merkle_log.size() < 5 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert follower_ledger.merkle_log.size() == 5
    finally:
        stop.set()
        thread.join(timeout=10)
        follower_ledger.close()
    assert not thread.is_alive()
    assert failures == []
