"""An issued statistical report: which figures were given to whom (issue 13, item 5; §49).

One `IssuedReport` aggregate per issue, one event (`Issued`), never contended. The event holds
what is needed to show later that a file is the report that was given, and to give it again:
its kind ("monthly"), its period (both days included), the moment the ledger is read as of,
the SHA-256 and size of the bytes, the renderer that made them, to whom it was given and who
issued it (who also signs the event). A report holds aggregate figures only, so the event
names no patient.
"""

from __future__ import annotations

from datetime import date, datetime
from uuid import uuid4

from eventsourcing.domain import Aggregate


class IssuedReport(Aggregate):
    """One report given to someone (one event)."""

    TOPIC = "chartledger/statistics-report"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/statistics-report/created"

    class Issued(Aggregate.Created):
        TOPIC = "chartledger/statistics-report/issued"  # stored for ever: never rename it
        kind: str
        period_start: date
        period_end: date
        as_of: datetime
        """The figures are those of the events recorded at or before this moment."""
        sha256: str
        """Of the report's bytes (hex)."""
        size: int
        renderer: str
        """What rendered the bytes (the report's layout version and the plotting library's):
        the same ledger, period and renderer give the same bytes."""
        recipient: str
        actor: str

    def __init__(
        self,
        kind: str,
        period_start: date,
        period_end: date,
        as_of: datetime,
        sha256: str,
        size: int,
        renderer: str,
        recipient: str,
        actor: str,
    ) -> None:
        self.kind = kind
        self.period_start = period_start
        self.period_end = period_end
        self.as_of = as_of
        self.sha256 = sha256
        self.size = size
        self.renderer = renderer
        self.recipient = recipient
        self.actor = actor

    @classmethod
    def issue(
        cls,
        *,
        kind: str,
        period_start: date,
        period_end: date,
        as_of: datetime,
        sha256: str,
        size: int,
        renderer: str,
        recipient: str,
        actor: str,
    ) -> IssuedReport:
        return cls._create(
            cls.Issued,
            id=uuid4(),
            kind=kind,
            period_start=period_start,
            period_end=period_end,
            as_of=as_of,
            sha256=sha256,
            size=size,
            renderer=renderer,
            recipient=recipient,
            actor=actor,
        )
