"""Key validity by log position: genesis, rotation, revocation and who may change keys."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

import pytest

from ledger.aggregates.user import User
from ledger.errors import IntegrityViolation
from ledger.integrity.keys import Identity
from ledger.verifier.identities import code_hash, user_id
from ledger.verifier.registry import KeyRecord, KeyRegistry, end_rotated_keys_exclusively

REGISTERED, ROTATED, REVOKED = User.Registered.TOPIC, User.KeyRotated.TOPIC, User.KeyRevoked.TOPIC
INVITED, ENROLLED, REINSTATED = User.Invited.TOPIC, User.Enrolled.TOPIC, User.Reinstated.TOPIC
CODE = "ABCDE-FGHIJ-KLMNO-PQRST"
NOW = datetime(2026, 1, 1, tzinfo=UTC)


def registration(who: Identity, roles: list[str]) -> dict[str, Any]:
    return {
        "name": who.name,
        "roles": roles,
        "public_key": who.public_raw,
        "actor": "x",
        "key_protection": "none",
    }


def invitation(name: str, roles: list[str], code: str = CODE) -> dict[str, Any]:
    expires = NOW + timedelta(hours=72)
    return {
        "name": name,
        "roles": roles,
        "code_hash": code_hash(user_id(name), code),
        "expires": expires,
        "actor": "admin",
        "timestamp": NOW,
    }


def enrolment(who: Identity, code: str = CODE, *, at: datetime = NOW) -> dict[str, Any]:
    return {
        "public_key": who.public_raw,
        "code": code,
        "key_protection": "none",
        "actor": who.name,
        "timestamp": at,
    }


def enrol(
    registry: KeyRegistry, position: int, admin: Identity, who: Identity, roles: list[str]
) -> None:
    """An invitation at POSITION and the enrolment answering it at POSITION + 1."""
    admit(registry, position, INVITED, admin, who.name, invitation(who.name, roles))
    admit(registry, position + 1, ENROLLED, who, who.name, enrolment(who))


def admit(
    registry: KeyRegistry,
    position: int,
    topic: str,
    signer: Identity,
    subject: str,
    body: dict[str, Any] | None,
) -> bytes:
    oid: UUID = user_id(subject)
    key = registry.signing_key(
        position=position,
        originator_id=oid,
        originator_version=1,
        topic=topic,
        signer=signer.fingerprint,
        body=body,
    )
    if body is not None:
        registry.apply(position=position, originator_id=oid, topic=topic, body=body)
    return key


@pytest.fixture
def started() -> tuple[KeyRegistry, Identity]:
    registry = KeyRegistry()
    admin = Identity.generate("admin")
    admit(registry, 0, REGISTERED, admin, "admin", registration(admin, ["administrator"]))
    return registry, admin


def test_the_genesis_must_be_a_self_signed_administrator() -> None:
    admin, other = Identity.generate("admin"), Identity.generate("other")
    cases = [
        ("chartledger/other", admin, registration(admin, ["administrator"]), "not a user"),
        (REGISTERED, other, registration(admin, ["administrator"]), "own key"),
        (REGISTERED, admin, registration(admin, ["nurse"]), "not an administrator"),
    ]
    for topic, signer, body, message in cases:
        with pytest.raises(IntegrityViolation, match=message) as caught:
            admit(KeyRegistry(), 0, topic, signer, "admin", body)
        assert caught.value.check == "genesis"


def test_a_genesis_anchors_the_registry(started: tuple[KeyRegistry, Identity]) -> None:
    registry, admin = started
    assert registry.genesis == admin.fingerprint
    assert registry.current_key(admin.fingerprint) == admin.public_raw


def test_an_unknown_key_is_refused(started: tuple[KeyRegistry, Identity]) -> None:
    registry, _ = started
    with pytest.raises(IntegrityViolation, match="unknown key"):
        admit(registry, 1, "chartledger/anything", Identity.generate("m"), "m", None)


def test_rotation_ends_the_old_key_and_starts_the_new_one(
    started: tuple[KeyRegistry, Identity],
) -> None:
    registry, admin = started
    doc, doc2 = Identity.generate("doc"), Identity.generate("doc")
    enrol(registry, 1, admin, doc, ["physician"])
    admit(registry, 3, ROTATED, doc, "doc", {"public_key": doc2.public_raw, "actor": "doc"})
    with pytest.raises(IntegrityViolation, match="revoked or replaced"):
        admit(registry, 4, "chartledger/note", doc, "doc", None)
    assert admit(registry, 4, "chartledger/note", doc2, "doc", None) == doc2.public_raw
    record = registry.keys[doc.fingerprint]
    # One rule for every bound: valid_from inclusive, revoked_at exclusive. The old key signed
    # its own rotation at 3, so it is valid at 3 and ends at 4, where the new key starts.
    assert (record.valid_from, record.revoked_at) == (2, 4)
    assert record.valid_at(3) and not record.valid_at(4)
    assert registry.keys[doc2.fingerprint].valid_from == 4


def test_revocation_ends_a_key(started: tuple[KeyRegistry, Identity]) -> None:
    registry, admin = started
    tech = Identity.generate("tech")
    enrol(registry, 1, admin, tech, ["technician"])
    admit(registry, 3, REVOKED, admin, "tech", {"reason": "left", "actor": "admin"})
    with pytest.raises(IntegrityViolation, match="revoked"):
        admit(registry, 4, "chartledger/note", tech, "tech", None)
    assert registry.current_key(tech.fingerprint) is None
    with pytest.raises(IntegrityViolation, match="revoked") as caught:  # no rotation back in
        admit(registry, 4, ROTATED, tech, "tech", {"public_key": Identity.generate("t").public_raw})
    assert caught.value.check == "signer"


def test_only_administrators_invite_revoke_and_reinstate(
    started: tuple[KeyRegistry, Identity],
) -> None:
    registry, admin = started
    tech = Identity.generate("tech")
    enrol(registry, 1, admin, tech, ["technician"])
    for topic, body in [
        (INVITED, invitation("nurse", ["nurse"])),
        (REVOKED, {"reason": "coup", "actor": "tech"}),
    ]:
        with pytest.raises(IntegrityViolation) as caught:
            admit(registry, 3, topic, tech, "nurse" if topic == INVITED else "admin", body)
        assert caught.value.check == "authority"


def test_nobody_rotates_another_users_key_not_even_an_administrator(
    started: tuple[KeyRegistry, Identity],
) -> None:
    registry, admin = started
    doc = Identity.generate("doc")
    enrol(registry, 1, admin, doc, ["physician"])
    body = {"public_key": Identity.generate("doc").public_raw, "actor": "admin"}
    with pytest.raises(IntegrityViolation, match="rotation of doc's key") as caught:
        admit(registry, 3, ROTATED, admin, "doc", body)
    assert caught.value.check == "authority"


def test_after_the_genesis_only_the_node_is_registered_directly(
    started: tuple[KeyRegistry, Identity],
) -> None:
    registry, admin = started
    person = Identity.generate("mallory")
    with pytest.raises(IntegrityViolation, match="only the node's key") as caught:
        admit(registry, 1, REGISTERED, admin, "mallory", registration(person, ["administrator"]))
    assert caught.value.check == "registration"
    node = Identity.generate("node")
    admit(registry, 1, REGISTERED, admin, "node", registration(node, ["node"]))
    with pytest.raises(IntegrityViolation, match="once"):
        admit(
            registry,
            2,
            REGISTERED,
            admin,
            "node",
            registration(Identity.generate("node"), ["node"]),
        )


@pytest.mark.parametrize(
    ("signer", "code", "at", "message"),
    [
        ("mallory", "ZZZZZ-ZZZZZ-ZZZZZ-ZZZZZ", NOW, "does not match"),
        ("admin", CODE, NOW, "not signed by the key it enrols"),
        ("mallory", CODE, NOW + timedelta(hours=73), "expired"),
    ],
)
def test_an_enrolment_proves_its_key_and_its_code(
    started: tuple[KeyRegistry, Identity], signer: str, code: str, at: datetime, message: str
) -> None:
    registry, admin = started
    mallory = Identity.generate("dr.a")
    admit(registry, 1, INVITED, admin, "dr.a", invitation("dr.a", ["physician"]))
    body = enrolment(mallory, code, at=at)
    with pytest.raises(IntegrityViolation, match=message) as caught:
        admit(registry, 2, ENROLLED, mallory if signer == "mallory" else admin, "dr.a", body)
    assert caught.value.check == "enrolment"


def test_a_code_enrols_once_and_a_reinstatement_needs_a_new_key(
    started: tuple[KeyRegistry, Identity],
) -> None:
    registry, admin = started
    doc = Identity.generate("doc")
    enrol(registry, 1, admin, doc, ["physician"])
    again = Identity.generate("doc")
    with pytest.raises(IntegrityViolation, match="already used"):
        admit(registry, 3, ENROLLED, again, "doc", enrolment(again))
    with pytest.raises(IntegrityViolation, match="not a revoked user") as caught:
        admit(registry, 3, REINSTATED, admin, "doc", {**invitation("doc", []), "reason": "r"})
    assert caught.value.check == "reinstatement"
    admit(registry, 3, REVOKED, admin, "doc", {"reason": "left", "actor": "admin"})
    second = "BCDEF-GHIJK-LMNOP-QRSTU"
    admit(
        registry, 4, REINSTATED, admin, "doc", {**invitation("doc", [], second), "reason": "back"}
    )
    with pytest.raises(IntegrityViolation, match="already belongs"):
        admit(registry, 5, ENROLLED, doc, "doc", enrolment(doc, second))
    admit(registry, 5, ENROLLED, again, "doc", enrolment(again, second))
    assert registry.current_key(again.fingerprint) == again.public_raw
    assert registry.keys[again.fingerprint].roles == ["physician"]
    assert registry.current_key(doc.fingerprint) is None


def test_a_key_event_without_its_fields_is_refused(started: tuple[KeyRegistry, Identity]) -> None:
    registry, admin = started
    with pytest.raises(IntegrityViolation, match="'public_key'"):
        admit(registry, 1, REGISTERED, admin, "x", {"name": "x", "roles": [], "public_key": b"1"})


@pytest.mark.parametrize("garbled", [{"qublic_key": b"k" * 32}, {"public_key": b"short"}, {}])
def test_a_rotation_whose_body_lost_its_key_is_named_not_a_crash(
    started: tuple[KeyRegistry, Identity], garbled: dict[str, Any]
) -> None:
    """A changed byte can rename or cut a field before any signature is checked (found by the
    tamper property test): the registry names it, it never fails with a KeyError."""
    registry, admin = started
    doc = Identity.generate("doc")
    enrol(registry, 1, admin, doc, ["physician"])
    with pytest.raises(IntegrityViolation, match="'public_key'"):
        admit(registry, 3, ROTATED, doc, "doc", {**garbled, "actor": "doc"})


# -- the next free medical record number ----------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ledger.aggregates.patient import next_number  # noqa: E402


@given(st.integers(min_value=0, max_value=10**7), st.data())
def test_next_number_is_the_first_free_one_found_in_logarithmic_probes(
    taken_up_to: int, data: st.DataObject
) -> None:
    known = data.draw(st.integers(min_value=0, max_value=taken_up_to))
    asked: list[int] = []

    def taken(number: int) -> bool:
        asked.append(number)
        return 1 <= number <= taken_up_to

    assert next_number(taken, known=known) == taken_up_to + 1
    assert len(asked) <= 2 * max(1, (taken_up_to - known + 1).bit_length()) + 2


def test_a_stale_or_wrong_hint_is_not_trusted() -> None:
    assert next_number(lambda n: 1 <= n <= 3, known=10) == 4


def test_an_administrator_does_not_revoke_their_own_key(
    started: tuple[KeyRegistry, Identity],
) -> None:
    """Under exclusive bounds a key revoked at p is not valid at p, so it cannot sign p."""
    registry, admin = started
    second = Identity.generate("admin2")
    enrol(registry, 1, admin, second, ["administrator"])
    with pytest.raises(IntegrityViolation, match="their own key") as caught:
        admit(registry, 3, REVOKED, second, "admin2", {"reason": "r", "actor": "admin2"})
    assert caught.value.check == "authority"
    admit(registry, 3, REVOKED, admin, "admin2", {"reason": "left", "actor": "admin"})
    record = registry.keys[second.fingerprint]
    assert record.revoked_at == 3 and record.valid_at(2) and not record.valid_at(3)


def test_stored_records_of_the_inclusive_rule_are_read_exclusively() -> None:
    """Rows a ledger stored before issue 17 end a rotated key at its rotation; a revoked key's
    bound is the same under both rules, and rows already exclusive are left alone."""
    uid = user_id("doc")

    def key(n: int, valid_from: int, revoked_at: int | None) -> KeyRecord:
        return KeyRecord(bytes([n]) * 32, bytes([n]) * 32, "doc", uid, [], valid_from, revoked_at)

    # rotation at 5 (old rule: 5), rotation at 6 (new rule: 7), revocation at 9, enrolment at 11
    records = [key(1, 2, 5), key(2, 6, 7), key(3, 7, 9), key(4, 11, None)]
    end_rotated_keys_exclusively(records)
    assert [r.revoked_at for r in records] == [6, 7, 9, None]
    registry = KeyRegistry.from_records([key(1, 2, 5), key(2, 6, None)], genesis=None)
    assert registry.keys[bytes([1]) * 32].valid_at(5)
    assert not registry.keys[bytes([1]) * 32].valid_at(6)
