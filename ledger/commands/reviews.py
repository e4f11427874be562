"""Access reviews, the command: a compliance officer's finding on one access event.

It authenticates the actor, asks `policies.review` whether they review, checks that the
event is an access in the log, and records the finding on that event's `AccessReview` (made on
the first finding), then saves once.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.access import Access
from ledger.aggregates.review import AccessReview, review_id
from ledger.errors import UsageError, require
from policies.review import may_review

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def record_review(ledger: Ledger, event: str, *, outcome: str, note: str, actor: Identity) -> str:
    """Record a finding on an access event; returns the event reference reviewed."""
    require(may_review(ledger.authenticate(actor).roles))
    AccessReview.check_finding(outcome=outcome, note=note)
    leaf = ledger.find_event(event)  # unknown events are one sentence
    reference = f"{leaf.originator_id}/{leaf.originator_version}"
    if not leaf.originator_version or not _is_access(ledger, leaf.originator_id):
        raise UsageError(f"Event {reference} is not an access to a patient's record.")
    try:
        review = cast(AccessReview, ledger.repository.get(review_id(reference)))
    except AggregateNotFoundError:
        review = AccessReview.start(reference)
    review.record(outcome=outcome, note=note, actor=actor.name)
    ledger.save(review, signer=actor)
    return reference


def _is_access(ledger: Ledger, originator_id: UUID) -> bool:
    try:
        return isinstance(ledger.repository.get(originator_id), Access)
    except AggregateNotFoundError:
        return False
