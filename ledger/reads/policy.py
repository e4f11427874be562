"""The access policy, read: what `policy show` prints, through the access gate.

The policy names restricted and VIP patients and which staff member is which patient, so the
reader's role is checked and the read recorded (naming those MRNs) before anything is returned.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ledger.aggregates.access_policy import LoadedPolicy, current_access_config, policy_history
from ledger.commands import access
from ledger.errors import NotAuthorised
from policies.access import OVERSIGHT_READERS, AccessConfig

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def shown_policy(ledger: Ledger, *, reader: Identity) -> tuple[AccessConfig, list[LoadedPolicy]]:
    """The policy in force and its history, for `policy show`: it names restricted and VIP
    patients and which staff member is which patient, so the reader's role is checked and the
    read recorded (naming those MRNs) before anything is returned."""

    roles = ledger.authenticate(reader).roles
    if not OVERSIGHT_READERS["access-policy"] & set(roles):
        raise NotAuthorised(
            "Only an administrator, a compliance officer or the HIM director may see the "
            "access policy."
        )
    config = current_access_config(ledger)
    named = {*config.restricted, *config.vip, *config.staff_mrns.values()}
    access.record_access(
        ledger, sorted(named), actor=reader, action="query", sections=["access-policy"],
        purpose="operations",
    )  # fmt: skip
    return config, policy_history(ledger)
