"""Who reads the department's coding reports (pure): productivity for every role both ways, and
the classes the worklist follows."""

from __future__ import annotations

import pytest

from policies.coding import WORKLIST_CLASSES, may_read_coding, may_read_productivity
from policies.roles import ROLES


@pytest.mark.parametrize("role", sorted(ROLES))
def test_productivity_for_every_role(role: str) -> None:
    everyone = may_read_productivity([role], own=False)
    own = may_read_productivity([role], own=True)
    if role in ("him-director", "compliance-officer"):
        assert everyone.allowed and own.allowed
    elif role == "coder":
        assert own.allowed and not everyone.allowed
        assert "their own" in everyone.reason
    else:
        assert not everyone.allowed and not own.allowed
    assert everyone.policy_version == "coding/1"


@pytest.mark.parametrize("role", sorted(ROLES))
def test_the_lists_are_for_coding_readers_without_a_stay_of_their_own(role: str) -> None:
    allowed = may_read_coding([role]).allowed
    assert allowed == (role in ("coder", "him-director", "compliance-officer"))


def test_the_worklist_follows_the_stays_ms_drg_groups() -> None:
    assert WORKLIST_CLASSES == {"inpatient"}
