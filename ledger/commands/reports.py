"""Issue a statistical report: write its file and record, signed, which figures went to whom.

Only the HIM director or an administrator may (`policies.reports.may_issue_reports`). The bytes
are written to a hidden file beside the destination first (0600, synced), then the signed
`IssuedReport.Issued` event (period, as-of moment, SHA-256, size, renderer, recipient, actor) is
saved, and only then is the file renamed into place: a full disk or a bad path is one sentence
with no event recorded and no file left, and a refused save leaves no file (decisions §49).
"""

from __future__ import annotations

import hashlib
import os
from datetime import date, datetime
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import uuid4

from ledger.aggregates.statistics_report import IssuedReport
from ledger.errors import UsageError, require
from ledger.files import check_new_file, create_file
from ledger.text_checks import check_text
from policies.reports import MAX_RECIPIENT_CHARS, REPORT_KINDS, may_issue_reports

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def sha256_of(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def checked_recipient(recipient: str) -> str:
    """To whom a report is given: one line of printable text, required."""
    text = check_text(recipient, what="the recipient", limit=MAX_RECIPIENT_CHARS).strip()
    if not text:
        raise UsageError("Say to whom the report is given (--to).")
    return text


def _write_aside(staging: Path, content: bytes, shown: Path) -> None:
    fd = create_file(staging)
    try:
        view = memoryview(content)
        while view:
            written = os.write(fd, view)
            view = view[written:]
        os.fsync(fd)
    except OSError as error:
        os.close(fd)
        staging.unlink(missing_ok=True)
        raise UsageError(f"{shown} could not be written ({error.strerror or 'refused'}).") from None
    os.close(fd)


def _move_into_place(staging: Path, path: Path, *, force: bool) -> None:
    """The issue is recorded: put its bytes at `path` (never over a file that appeared
    meanwhile, without `force`); if that fails, keep them where they are and say so."""
    try:
        if force:
            os.replace(staging, path)
        else:
            os.link(staging, path)  # refuses an existing file, unlike a rename
            staging.unlink()
    except OSError as error:
        raise UsageError(
            f"The report was issued and recorded, but {path} could not be written "
            f"({error.strerror or 'refused'}); its bytes are in {staging}: move them there."
        ) from None


def issue_report(
    ledger: Ledger,
    path: Path,
    content: bytes,
    *,
    kind: str,
    period_start: date,
    period_end: date,
    as_of: datetime,
    renderer: str,
    recipient: str,
    actor: Identity,
    force: bool = False,
) -> IssuedReport:
    """Write `content` to the new file `path` and record that it was given to `recipient`."""
    require(may_issue_reports(ledger.authenticate(actor).roles))
    to = checked_recipient(recipient)
    if kind not in REPORT_KINDS:
        raise UsageError(f"There is no kind of report '{kind}'.")
    if period_end < period_start:
        raise UsageError(f"The period ends ({period_end}) before it starts ({period_start}).")
    path = Path(path)
    check_new_file(path, force=force)
    staging = path.parent / f".{path.name}.report-{uuid4().hex[:12]}"
    _write_aside(staging, content, path)
    try:
        record = IssuedReport.issue(
            kind=kind,
            period_start=period_start,
            period_end=period_end,
            as_of=as_of,
            sha256=sha256_of(content),
            size=len(content),
            renderer=renderer,
            recipient=to,
            actor=actor.name,
        )
        ledger.save(record, signer=actor)
    except BaseException:
        staging.unlink(missing_ok=True)  # nothing recorded: nothing left behind
        raise
    _move_into_place(staging, path, force=force)
    return record
