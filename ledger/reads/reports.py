"""Issued statistical reports, read: every report given, and those with a given content hash.

An issued report names no patient (aggregate figures only), so these reads record no access.
`last_recorded_at` is the moment a new report is read as of by default: the recorded time of
the ledger's last event that is not itself a report's issue, so that giving the same report to
a second recipient gives the same bytes (decisions §49).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from ledger.aggregates.statistics_report import IssuedReport
from ledger.errors import UsageError

if TYPE_CHECKING:
    from ledger.application import Ledger

_WINDOW = 200


@dataclass(frozen=True)
class IssuedReportRow:
    """One issued report: when, by whom, to whom, which period, as of when, and its hash."""

    report_id: UUID
    issued_at: datetime
    actor: str
    recipient: str
    kind: str
    period_start: date
    period_end: date
    as_of: datetime
    sha256: str
    size: int
    renderer: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "report": str(self.report_id),
            "issued_at": self.issued_at.astimezone(UTC).isoformat(),
            "issued_by": self.actor,
            "recipient": self.recipient,
            "kind": self.kind,
            "from": self.period_start.isoformat(),
            "to": self.period_end.isoformat(),
            "as_of": self.as_of.astimezone(UTC).isoformat(),
            "sha256": self.sha256,
            "size": self.size,
            "renderer": self.renderer,
        }


def _row(report: IssuedReport) -> IssuedReportRow:
    return IssuedReportRow(
        report_id=report.id,
        issued_at=report.created_on,
        actor=report.actor,
        recipient=report.recipient,
        kind=report.kind,
        period_start=report.period_start,
        period_end=report.period_end,
        as_of=report.as_of,
        sha256=report.sha256,
        size=report.size,
        renderer=report.renderer,
    )


def issued_reports(ledger: Ledger) -> list[IssuedReportRow]:
    """Every report issued, in the order they were issued."""
    rows = []
    start: int | None = None
    while True:
        notes = ledger.recorder.select_notifications(
            start=start, limit=1_000, topics=[IssuedReport.Issued.TOPIC]
        )
        for note in notes:
            report = cast(IssuedReport, ledger.repository.get(cast(UUID, note.originator_id)))
            rows.append(_row(report))
        if len(notes) < 1_000:
            return rows
        start = notes[-1].id + 1


def reports_with_hash(ledger: Ledger, sha256: str) -> list[IssuedReportRow]:
    """The issues of the report whose bytes have this SHA-256 (hex), oldest first."""
    wanted = sha256.strip().lower()
    return [row for row in issued_reports(ledger) if row.sha256 == wanted]


def last_recorded_at(ledger: Ledger) -> datetime:
    """When the ledger's last event that is not a report's issue was recorded."""
    stop = ledger.recorder.max_notification_id()
    while stop:
        start = max(1, stop - _WINDOW + 1)
        notes = ledger.recorder.select_notifications(start=start, limit=_WINDOW, stop=stop)
        for note in reversed(notes):
            if note.topic != IssuedReport.Issued.TOPIC:
                event = ledger.mapper.to_domain_event(note)
                return cast(datetime, cast(Any, event).timestamp)
        stop = start - 1
    raise UsageError("The ledger holds no event yet, so there is nothing to report.")
