"""The role rules of policies/roles.py, each both ways."""

from __future__ import annotations

import pytest

from policies.roles import (
    ROLES,
    may_import_records,
    may_maintain_index,
    may_manage_identities,
    may_rotate_key,
    unknown_roles,
)


@pytest.mark.parametrize("role", sorted(ROLES))
def test_only_an_interface_may_import(role: str) -> None:
    assert may_import_records([role]).allowed is (role == "interface")


@pytest.mark.parametrize("role", sorted(ROLES))
def test_only_an_administrator_manages_identities(role: str) -> None:
    assert may_manage_identities([role]).allowed is (role == "administrator")


def test_only_a_user_rotates_their_own_key_not_even_an_administrator_another_s() -> None:
    assert may_rotate_key(["nurse"], actor="ann", subject="ann").allowed
    assert not may_rotate_key(["nurse"], actor="ann", subject="bob").allowed
    refused = may_rotate_key(["administrator"], actor="root", subject="bob")
    assert not refused.allowed and "own key" in refused.reason


def test_the_index_is_health_information_work() -> None:
    assert may_maintain_index(["technician"]).allowed
    assert may_maintain_index(["interface"]).allowed
    assert not may_maintain_index(["physician", "nurse"]).allowed


def test_unknown_roles_are_named_in_order() -> None:
    assert unknown_roles(["nurse", "wizard", "technician", "bard"]) == ["wizard", "bard"]
