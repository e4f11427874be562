"""Reviews of accesses: who records a finding on an access, and what a finding may say.

Apart from `policies.monitoring` (which accesses are worth a look) because the CLI offers the
outcomes as its choices, and this module is cheap to import.
"""

from __future__ import annotations

from collections.abc import Iterable

from policies.roles import Decision

OUTCOMES = ("appropriate", "inappropriate", "needs-follow-up")
REVIEWERS = frozenset({"compliance-officer"})


def may_review(roles: Iterable[str]) -> Decision:
    """A finding on an access is the compliance officer's to record."""
    if REVIEWERS & set(roles):
        return Decision(True, "compliance officers review accesses")
    return Decision(False, "only a compliance officer may record a review of an access")
