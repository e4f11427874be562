"""A compliance officer's finding on one access: `chartledger audit review EVENT`.

One `AccessReview` aggregate per reviewed event, its id derived from the event's reference, so
every finding on the same access (a first look, a follow-up) is a version of the same record.
The reviewed event must be in the log. Reviews are audit metadata: not encrypted. The command
is `ledger.commands.reviews`; who may review is `policies.review`.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.errors import UsageError
from policies.review import OUTCOMES

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

    @staticmethod
    def check_finding(*, outcome: str, note: str) -> None:
        """What every finding says (checked before the reviewed event is looked up)."""
        if outcome not in OUTCOMES:
            raise UsageError(f"The outcome must be one of: {', '.join(OUTCOMES)}.")
        if not note.strip():
            raise UsageError("Give a note saying what the review found.")

    def record(self, *, outcome: str, note: str, actor: str) -> None:
        """One more finding on the reviewed access (a first look, a follow-up)."""
        self.check_finding(outcome=outcome, note=note)
        self.trigger_event(
            self.Recorded, event=self.event, outcome=outcome, note=note.strip(), actor=actor
        )
