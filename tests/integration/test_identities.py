"""Users, roles and keys as signed events, on every store: a key belongs to its person."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ledger.aggregates.user import User, new_enrolment_code
from ledger.commands import users
from ledger.errors import (
    ConfigurationError,
    ConflictError,
    IdentityError,
    IntegrityViolation,
    NotAuthorised,
    NotFound,
    UsageError,
)
from ledger.integrity.keys import Identity
from ledger.verifier.envelope import unpack
from ledger.verifier.identities import normalise_code, user_id
from tests.conftest import Hospital


def last_event(hospital: Hospital) -> tuple[str, bytes, bytes]:
    """(topic, signer fingerprint, state) of the newest stored event."""
    note = hospital.ledger.recorder.select_notifications(start=None, limit=10_000)[-1]
    return note.topic, unpack(note.state).signer, note.state


def count(hospital: Hospital) -> int:
    return hospital.ledger.recorder.max_notification_id() or 0


def test_genesis_is_the_self_signed_first_administrator(hospital: Hospital) -> None:
    ledger = hospital.ledger
    assert ledger.genesis_fingerprint() == hospital.admin.fingerprint
    names = [u.name for u in ledger.users()]
    assert names == ["admin", "node"]
    assert ledger.user("admin").roles == ["administrator"]
    assert ledger.user("admin").key_protection == "none"  # the fixture's explicit choice
    assert hospital.home.config()["genesis"] == hospital.admin.fingerprint.hex()


def test_an_invited_user_enrols_a_key_they_made_and_the_enrolment_is_signed_by_it(
    hospital: Hospital,
) -> None:
    ledger = hospital.ledger
    code = users.invite(ledger, "tech1", ["technician"], actor=hospital.admin)
    topic, signer, state = last_event(hospital)
    assert topic == User.Invited.TOPIC and signer == hospital.admin.fingerprint
    assert code.encode() not in state and code.replace("-", "").encode() not in state
    with pytest.raises(IdentityError, match="has not enrolled yet"):
        ledger.authenticate(Identity.generate("tech1"))
    tech = Identity.generate("tech1")
    users.enrol(ledger, tech, code, key_protection="passphrase")
    topic, signer, _ = last_event(hospital)
    assert topic == User.Enrolled.TOPIC and signer == tech.fingerprint  # proof of possession
    user = ledger.user("tech1")
    assert user.roles == ["technician"] and user.key_protection == "passphrase"
    assert ledger.authenticate(tech).name == "tech1"
    ledger.merkle_log.catch_up()
    record = ledger.merkle_log.registry().keys[tech.fingerprint]
    assert record.user == "tech1" and record.revoked_at is None
    assert [u.name for u in ledger.users()] == ["admin", "node", "tech1"]
    ledger.verify()


def test_only_an_administrator_may_invite(hospital: Hospital) -> None:
    ledger = hospital.ledger
    tech = hospital.enrol("tech1", ["technician"])
    before = count(hospital)
    with pytest.raises(NotAuthorised, match="Only an administrator"):
        users.invite(ledger, "x", ["nurse"], actor=tech)
    assert count(hospital) == before


@pytest.mark.parametrize(
    ("name", "roles", "message"),
    [
        ("bad name", ["nurse"], "user name"),
        ("node", ["nurse"], "reserved"),
        ("nurse1", ["surgeon-general"], "Unknown role"),
        ("admin", ["nurse"], "already a user"),
    ],
)
def test_bad_invitations_are_refused_and_nothing_is_written(
    hospital: Hospital, name: str, roles: list[str], message: str
) -> None:
    before = count(hospital)
    with pytest.raises(UsageError, match=message):
        users.invite(hospital.ledger, name, roles, actor=hospital.admin)
    assert count(hospital) == before


def test_a_wrong_used_or_expired_code_is_refused_and_nothing_is_written(
    hospital: Hospital,
) -> None:
    ledger = hospital.ledger
    code = users.invite(ledger, "dr.a", ["physician"], actor=hospital.admin)
    before = count(hospital)
    with pytest.raises(NotAuthorised, match=r"not the enrolment code issued for user 'dr\.a'"):
        users.enrol(ledger, Identity.generate("dr.a"), new_enrolment_code(), key_protection="none")
    with pytest.raises(NotFound, match=r"no invitation for a user named 'dr\.b'"):
        users.enrol(ledger, Identity.generate("dr.b"), code, key_protection="none")
    assert count(hospital) == before
    real = Identity.generate("dr.a")
    users.enrol(
        ledger, real, code.lower().replace("-", " "), key_protection="none"
    )  # as read aloud
    with pytest.raises(ConflictError, match="already used"):
        users.enrol(ledger, Identity.generate("dr.a"), code, key_protection="none")
    brief = users.invite(
        ledger, "dr.c", ["physician"], actor=hospital.admin, valid_for=timedelta(milliseconds=10)
    )
    time.sleep(0.02)
    after = count(hospital)
    with pytest.raises(NotAuthorised, match="has expired"):
        users.enrol(ledger, Identity.generate("dr.c"), brief, key_protection="none")
    assert count(hospital) == after
    assert ledger.authenticate(real).name == "dr.a"
    ledger.verify()


def test_the_administrator_cannot_choose_or_obtain_another_users_key(hospital: Hospital) -> None:
    ledger = hospital.ledger
    doc = hospital.enrol("doc", ["physician"])
    chosen = Identity.generate("doc")
    before = count(hospital)
    with pytest.raises(NotAuthorised, match="Only a user may rotate their own key"):
        users.rotate_key(ledger, "doc", chosen.public_raw, actor=hospital.admin)
    assert not hasattr(ledger, "add_user")
    assert count(hospital) == before
    with pytest.raises(IdentityError):
        ledger.authenticate(chosen)
    assert ledger.authenticate(doc).name == "doc"


def test_a_rotated_key_stops_working_and_the_new_one_works(hospital: Hospital) -> None:
    ledger = hospital.ledger
    old = hospital.enrol("doc", ["physician"])
    new = Identity.generate("doc")
    users.rotate_key(ledger, "doc", new.public_raw, actor=old)  # a user rotates their own key
    with pytest.raises(IdentityError, match="not the key the ledger holds"):
        users.rotate_key(ledger, "doc", Identity.generate("doc").public_raw, actor=old)
    with pytest.raises(UsageError, match="used once only"):
        users.rotate_key(ledger, "doc", old.public_raw, actor=new)
    users.rotate_key(ledger, "doc", Identity.generate("doc").public_raw, actor=new)
    assert len(ledger.user("doc").past_keys) == 2
    ledger.verify()


def test_a_user_may_not_rotate_someone_elses_key(hospital: Hospital) -> None:
    ledger = hospital.ledger
    a = hospital.enrol("a1", ["nurse"])
    hospital.enrol("b1", ["nurse"])
    with pytest.raises(NotAuthorised):
        users.rotate_key(ledger, "b1", Identity.generate("b1").public_raw, actor=a)


def test_a_revoked_user_can_neither_act_nor_rotate(hospital: Hospital) -> None:
    ledger = hospital.ledger
    second_admin = hospital.enrol("admin2", ["administrator"])
    users.revoke_key(ledger, "admin2", "laptop stolen", actor=hospital.admin)
    before = count(hospital)
    with pytest.raises(IdentityError, match="revoked"):
        users.invite(ledger, "x1", ["nurse"], actor=second_admin)
    with pytest.raises(IdentityError, match="revoked"):
        users.rotate_key(
            ledger, "admin2", Identity.generate("admin2").public_raw, actor=second_admin
        )
    assert ledger.user("admin2").revoked  # a rotation never makes a revoked user active again
    with pytest.raises(UsageError, match="already revoked"):
        users.revoke_key(ledger, "admin2", "again", actor=hospital.admin)
    with pytest.raises(UsageError, match="own key"):
        users.revoke_key(ledger, "admin", "oops", actor=hospital.admin)
    assert count(hospital) == before
    ledger.verify()


def test_reinstating_needs_a_reason_a_new_code_and_a_new_key(hospital: Hospital) -> None:
    ledger = hospital.ledger
    old = hospital.enrol("nurse1", ["nurse"])
    colleague = hospital.enrol("nurse2", ["nurse"])
    with pytest.raises(UsageError, match="not revoked"):
        users.reinstate(ledger, "nurse1", "back", actor=hospital.admin)
    users.revoke_key(ledger, "nurse1", "on leave", actor=hospital.admin)
    with pytest.raises(NotAuthorised, match="revoked"):
        users.enrol(
            ledger, Identity.generate("nurse1"), new_enrolment_code(), key_protection="none"
        )
    before = count(hospital)
    with pytest.raises(UsageError, match="reason"):
        users.reinstate(ledger, "nurse1", "  ", actor=hospital.admin)
    with pytest.raises(NotAuthorised):
        users.reinstate(ledger, "nurse1", "back", actor=colleague)
    assert count(hospital) == before
    code = users.reinstate(ledger, "nurse1", "back from leave", actor=hospital.admin)
    topic, signer, _ = last_event(hospital)
    assert topic == User.Reinstated.TOPIC and signer == hospital.admin.fingerprint
    with pytest.raises(IdentityError, match="revoked"):
        ledger.authenticate(old)  # reinstated, not yet enrolled: still nothing works
    with pytest.raises(UsageError, match="already belongs"):
        users.enrol(ledger, old, code, key_protection="none")  # the revoked key never comes back
    fresh = Identity.generate("nurse1")
    users.enrol(ledger, fresh, code, key_protection="passphrase")
    user = ledger.user("nurse1")
    assert not user.revoked and user.reinstatements == ["back from leave"]
    assert ledger.authenticate(fresh).roles == ["nurse"]
    with pytest.raises(IdentityError):
        ledger.authenticate(old)
    ledger.verify()


def test_an_unknown_user_is_a_clear_error(hospital: Hospital) -> None:
    with pytest.raises(NotFound, match="no user named 'ghost'"):
        hospital.ledger.user("ghost")
    with pytest.raises(IdentityError, match="no user named 'ghost'"):
        users.invite(hospital.ledger, "x1", ["nurse"], actor=Identity.generate("ghost"))


def test_concurrent_writers_one_wins_the_other_gets_a_conflict(hospital: Hospital) -> None:
    first = hospital.ledger
    second = hospital.home.open()
    try:
        doc = hospital.enrol("doc", ["physician"])
        seen_by_first = first.user("doc")
        seen_by_second = second.user("doc")
        winner, loser = Identity.generate("doc"), Identity.generate("doc")
        seen_by_first.rotate_key(winner.public_raw, actor="doc")
        seen_by_second.rotate_key(loser.public_raw, actor="doc")
        first.save(seen_by_first, signer=doc)
        with pytest.raises(ConflictError, match="nothing was saved"):
            second.save(seen_by_second, signer=doc)
        assert second.user("doc").public_key == winner.public_raw
        second.verify()
    finally:
        second.close()


def test_the_merkle_log_survives_a_restart_and_admits_each_event_once(hospital: Hospital) -> None:
    ledger = hospital.ledger
    for n in range(5):
        hospital.enrol(f"n{n}", ["nurse"])
    ledger.merkle_log.catch_up()
    assert ledger.merkle_log.size() == 12
    root = ledger.merkle_log.root(12)
    ledger = hospital.reopen()
    assert ledger.merkle_log.catch_up() == 0
    assert ledger.merkle_log.size() == 12
    assert ledger.merkle_log.root(12) == root
    code = users.invite(
        ledger, "n9", ["nurse"], actor=hospital.admin
    )  # the invitation survived too
    ledger = hospital.reopen()
    users.enrol(ledger, Identity.generate("n9"), code, key_protection="none")
    ledger.merkle_log.catch_up()
    assert ledger.merkle_log.size() == 14
    assert ledger.merkle_log.root(12) == root
    ledger.verify()


def test_a_follower_keeps_the_log_current_until_stopped(hospital: Hospital) -> None:
    import threading

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
            hospital.enrol(f"f{n}", ["nurse"])
        deadline = time.monotonic() + 10
        while follower_ledger.merkle_log.size() < 8 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert follower_ledger.merkle_log.size() == 8
    finally:
        stop.set()
        thread.join(timeout=10)
        follower_ledger.close()
    assert not thread.is_alive()
    assert failures == []


# -- forged key events: the registry refuses them on entry, and verify names them ---------------


def forge_enrolment(user: User, public_key: bytes, code: str) -> None:
    """The event a forger writes past `User.enrol`'s checks (a wrong or used code)."""
    user.trigger_event(
        User.Enrolled,
        public_key=public_key,
        code=normalise_code(code),
        key_protection="none",
        actor=user.name,
    )


def forged(hospital: Hospital, aggregate: User, signer: Identity) -> IntegrityViolation:
    """Save a key event the commands would refuse, as someone with database access could, and
    return what `verify` says about it (the Merkle log refuses to admit it, too)."""
    position = count(hospital)
    try:
        hospital.ledger.save(aggregate, signer=signer)
    except IntegrityViolation:
        pass  # the log refused it on entry; the event is stored all the same
    ledger = hospital.reopen()
    with pytest.raises(IntegrityViolation) as on_entry:
        ledger.merkle_log.catch_up()
    with pytest.raises(IntegrityViolation) as caught:
        ledger.verify()
    assert caught.value.position == position == on_entry.value.position
    assert caught.value.check == on_entry.value.check
    return caught.value


def test_a_forged_enrolment_with_a_wrong_code_is_named(hospital: Hospital) -> None:
    users.invite(hospital.ledger, "dr.a", ["physician"], actor=hospital.admin)
    user = hospital.ledger.user("dr.a")
    mallory = Identity.generate("dr.a")
    forge_enrolment(user, mallory.public_raw, new_enrolment_code())
    failure = forged(hospital, user, mallory)
    assert failure.check == "enrolment" and "does not match" in str(failure)


def test_a_replayed_code_is_named(hospital: Hospital) -> None:
    code = users.invite(hospital.ledger, "dr.a", ["physician"], actor=hospital.admin)
    users.enrol(hospital.ledger, Identity.generate("dr.a"), code, key_protection="none")
    user = hospital.ledger.user("dr.a")
    second = Identity.generate("dr.a")
    forge_enrolment(user, second.public_raw, code)  # the code is public in the log now
    failure = forged(hospital, user, second)
    assert failure.check == "enrolment" and "already used" in str(failure)


def test_an_enrolment_signed_by_the_administrator_is_named(hospital: Hospital) -> None:
    code = users.invite(hospital.ledger, "dr.a", ["physician"], actor=hospital.admin)
    user = hospital.ledger.user("dr.a")
    user.enrol(Identity.generate("dr.a").public_raw, code, "none", now=datetime.now(UTC))
    failure = forged(hospital, user, hospital.admin)
    assert failure.check == "enrolment" and "not signed by the key it enrols" in str(failure)


def test_an_administrator_signed_rotation_of_another_user_is_named(hospital: Hospital) -> None:
    hospital.enrol("dr.a", ["physician"])
    user = hospital.ledger.user("dr.a")
    user.rotate_key(Identity.generate("dr.a").public_raw, actor="admin")
    failure = forged(hospital, user, hospital.admin)
    assert failure.check == "authority" and "rotation of dr.a's key" in str(failure)


def test_an_administrator_signed_registration_of_a_person_is_named(hospital: Hospital) -> None:
    chosen = Identity.generate("mallory")
    person = User.register("mallory", ["administrator"], chosen.public_raw, actor="admin")
    assert person.id == user_id("mallory")
    failure = forged(hospital, person, hospital.admin)
    assert failure.check == "registration" and "only the node's key" in str(failure)


def test_a_workstation_home_is_made_by_enrolling_and_left_unmade_by_a_refusal(
    hospital: Hospital,
) -> None:
    from ledger.home import LedgerHome

    code = users.invite(hospital.ledger, "dr.a", ["physician"], actor=hospital.admin)
    desk = LedgerHome(hospital.homes / "dr.a")
    before = count(hospital)
    with pytest.raises(NotAuthorised):
        desk.enrol_here("dr.a", new_enrolment_code(), db=hospital.store_url, passphrase=None)
    with pytest.raises(ConfigurationError, match="genesis fingerprint is not the one you gave"):
        desk.enrol_here("dr.a", code, db=hospital.store_url, genesis=bytes(32), passphrase=b"pw")
    assert not desk.path.exists() and count(hospital) == before
    master = hospital.home.keys_dir / "master.key"
    me = desk.enrol_here(
        "dr.a",
        code,
        db=hospital.store_url,
        genesis=hospital.admin.fingerprint,
        passphrase=b"my own passphrase",
        master_key=master,
    )
    assert desk.path.stat().st_mode & 0o777 == 0o700
    assert desk.keys_dir.stat().st_mode & 0o777 == 0o700
    assert desk.key_path("dr.a").stat().st_mode & 0o777 == 0o600
    assert [p.name for p in desk.keys_dir.iterdir()] == ["dr.a.key"]
    assert desk.config()["genesis"] == hospital.admin.fingerprint.hex()
    assert desk.master_key() == master.read_bytes()
    with pytest.raises(IdentityError, match="protected"):
        desk.identity("dr.a")
    mine = desk.identity("dr.a", passphrase=b"my own passphrase")
    assert mine.public_raw == me.public_raw
    with desk.open() as ledger:
        assert ledger.authenticate(mine).name == "dr.a"
        assert ledger.user("dr.a").key_protection == "passphrase"


@pytest.mark.parametrize("forgery", ["rotation", "enrolment"])
def test_an_export_verified_offline_names_a_forged_key_event(
    hospital: Hospital, tmp_path: Path, forgery: str
) -> None:
    """The same registry rules from the events alone: an export with a forged line appended."""
    import base64
    import json

    from ledger.verifier.export import verify_export
    from ledger.verifier.transcoder import MsgpackTranscoder

    code = users.invite(hospital.ledger, "dr.a", ["physician"], actor=hospital.admin)
    if forgery == "rotation":
        users.enrol(hospital.ledger, Identity.generate("dr.a"), code, key_protection="none")
    hospital.ledger.checkpoint(hospital.node())
    folder = tmp_path / "export"
    size = hospital.ledger.export(folder, node=hospital.node())
    assert verify_export(folder, transcoder=MsgpackTranscoder()).events == size
    user = hospital.ledger.user("dr.a")
    if forgery == "rotation":
        user.rotate_key(Identity.generate("dr.a").public_raw, actor="admin")
        signer = hospital.admin
    else:
        signer = Identity.generate("dr.a")
        forge_enrolment(user, signer.public_raw, code + "X")
    hospital.ledger.save(user, signer=signer)  # stored; the Merkle log will not admit it
    with pytest.raises(IntegrityViolation):
        hospital.reopen().merkle_log.catch_up()
    note = hospital.ledger.recorder.select_notifications(start=None, limit=10_000)[-1]
    line = {
        "position": size,
        "originator_id": str(note.originator_id),
        "originator_version": note.originator_version,
        "topic": note.topic,
        "state": base64.b64encode(note.state).decode(),
    }
    with (folder / "events.ndjson").open("a", encoding="utf-8") as out:
        out.write(json.dumps(line) + "\n")
    with pytest.raises(IntegrityViolation) as caught:
        verify_export(folder, transcoder=MsgpackTranscoder())
    assert caught.value.position == size
    assert caught.value.check == ("authority" if forgery == "rotation" else "enrolment")
