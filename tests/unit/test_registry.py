"""Key validity by log position: genesis, rotation, revocation and who may change keys."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import pytest

from ledger.errors import IntegrityViolation
from ledger.keys import Identity
from ledger.registry import KeyRegistry
from ledger.user import User, user_id

REGISTERED, ROTATED, REVOKED = User.Registered.TOPIC, User.KeyRotated.TOPIC, User.KeyRevoked.TOPIC


def registration(who: Identity, roles: list[str]) -> dict[str, Any]:
    return {"name": who.name, "roles": roles, "public_key": who.public_raw, "actor": "x"}


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
    admit(registry, 1, REGISTERED, admin, "doc", registration(doc, ["physician"]))
    admit(registry, 2, ROTATED, doc, "doc", {"public_key": doc2.public_raw, "actor": "doc"})
    with pytest.raises(IntegrityViolation, match="revoked or replaced"):
        admit(registry, 3, "chartledger/note", doc, "doc", None)
    assert admit(registry, 3, "chartledger/note", doc2, "doc", None) == doc2.public_raw
    record = registry.keys[doc.fingerprint]
    assert (record.valid_from, record.revoked_at) == (1, 2)
    assert record.valid_at(1) and not record.valid_at(2)


def test_revocation_ends_a_key(started: tuple[KeyRegistry, Identity]) -> None:
    registry, admin = started
    tech = Identity.generate("tech")
    admit(registry, 1, REGISTERED, admin, "tech", registration(tech, ["technician"]))
    admit(registry, 2, REVOKED, admin, "tech", {"reason": "left", "actor": "admin"})
    with pytest.raises(IntegrityViolation, match="revoked"):
        admit(registry, 3, "chartledger/note", tech, "tech", None)
    assert registry.current_key(tech.fingerprint) is None


def test_only_administrators_change_keys_except_a_users_own_rotation(
    started: tuple[KeyRegistry, Identity],
) -> None:
    registry, admin = started
    tech, nurse = Identity.generate("tech"), Identity.generate("nurse")
    admit(registry, 1, REGISTERED, admin, "tech", registration(tech, ["technician"]))
    with pytest.raises(IntegrityViolation) as caught:
        admit(registry, 2, REGISTERED, tech, "nurse", registration(nurse, ["nurse"]))
    assert caught.value.check == "authority"
    with pytest.raises(IntegrityViolation, match="authority"):
        admit(registry, 2, REVOKED, tech, "admin", {"reason": "coup", "actor": "tech"})


def test_a_key_event_without_its_fields_is_refused(started: tuple[KeyRegistry, Identity]) -> None:
    registry, admin = started
    with pytest.raises(IntegrityViolation, match="'public_key'"):
        admit(registry, 1, REGISTERED, admin, "x", {"name": "x", "roles": [], "public_key": b"1"})


# -- the next free medical record number ----------------------------------------------------------

from hypothesis import given  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from ledger.patient import next_number  # noqa: E402


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
