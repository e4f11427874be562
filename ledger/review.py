"""A compliance officer's finding on one access: `chartledger audit review EVENT`.

One `AccessReview` aggregate per reviewed event, its id derived from the event's reference, so
every finding on the same access (a first look, a follow-up) is a version of the same record.
The reviewed event must be in the log. Reviews are audit metadata: not encrypted.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.errors import UsageError, require
from policies.monitoring import OUTCOMES, may_review

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Identity

REVIEW_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/access-review")


def review_id(event: str) -> UUID:
    return uuid5(REVIEW_NAMESPACE, event)


class AccessReview(Aggregate):
    """The findings on one access event, in order."""

    TOPIC = "chartledger/access-review"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/access-review/created"

    class Started(Aggregate.Created):
        TOPIC = "chartledger/access-review/started"
        event: str

    class Recorded(Aggregate.Event):
        TOPIC = "chartledger/access-review/recorded"
        event: str
        outcome: str
        note: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.outcome = self.outcome

    def __init__(self, event: str) -> None:
        self.event = event
        self.outcome: str | None = None

    @classmethod
    def start(cls, event: str) -> AccessReview:
        return cls._create(cls.Started, id=review_id(event), event=event)


def record_review(ledger: Ledger, event: str, *, outcome: str, note: str, actor: Identity) -> str:
    """Record a finding on an access event; returns the event reference reviewed."""
    require(may_review(ledger.authenticate(actor).roles))
    if outcome not in OUTCOMES:
        raise UsageError(f"The outcome must be one of: {', '.join(OUTCOMES)}.")
    if not note.strip():
        raise UsageError("Give a note saying what the review found.")
    leaf = ledger.find_event(event)  # unknown events are one sentence
    reference = f"{leaf.originator_id}/{leaf.originator_version}"
    if not leaf.originator_version or not _is_access(ledger, leaf.originator_id):
        raise UsageError(f"Event {reference} is not an access to a patient's record.")
    try:
        review = cast(AccessReview, ledger.repository.get(review_id(reference)))
    except AggregateNotFoundError:
        review = AccessReview.start(reference)
    review.trigger_event(
        AccessReview.Recorded, event=reference, outcome=outcome, note=note.strip(), actor=actor.name
    )
    ledger.save(review, signer=actor)
    return reference


def _is_access(ledger: Ledger, originator_id: UUID) -> bool:
    from ledger.access import Access

    try:
        return isinstance(ledger.repository.get(originator_id), Access)
    except AggregateNotFoundError:
        return False
