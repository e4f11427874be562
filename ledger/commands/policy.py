"""The access policy, the command: load a new version of the TOML document.

Only an administrator or a compliance officer may (`policies.access.may_load_policy`); a
document that does not parse or check is one sentence and nothing is written, and loading the
text in force again writes nothing. The `AccessPolicy` aggregate keeps the history.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.access_policy import ACCESS_POLICY_ID, AccessPolicy, parse_policy
from ledger.errors import require
from policies.access import may_load_policy

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def load_access_policy(ledger: Ledger, text: str, *, actor: Identity) -> bool:
    """Record a new version of the policy; False if this exact text is already in force."""
    require(may_load_policy(ledger.authenticate(actor).roles))
    config = parse_policy(text)
    try:
        policy = cast(AccessPolicy, ledger.repository.get(ACCESS_POLICY_ID))
    except AggregateNotFoundError:
        policy = AccessPolicy.start(actor=actor.name)
    if policy.text == text:
        return False
    policy.load(text, version=config.version, actor=actor.name)
    ledger.save(policy, signer=actor)
    return True
