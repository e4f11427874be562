"""Release of information, read side: a release's contents, the due list, the accounting.

`package_contents` gathers exactly the entries and documents a request covers, for the release
command (`ledger.commands.release.release_package`), which records the disclosure before it
reads them and records `Released` after writing them. `accounting_of` gives a patient's
accounting of disclosures (164.528) and records that it was read; `accounting_html` renders it
as a printable letter.
"""

from __future__ import annotations

import html
from datetime import date, datetime
from functools import partial
from pathlib import Path
from typing import Any
from uuid import UUID

from ledger.aggregates.patient import patient_id
from ledger.aggregates.release import (
    ReleaseRequest,
    all_requests,
    release_request,
    suspensions_of,
)
from ledger.application import Ledger
from ledger.commands import access
from ledger.commands.release import Package, PackageDocument
from ledger.errors import UsageError, require
from ledger.integrity.keys import Identity
from ledger.reads import charts
from ledger.reads.documents import documents_of, read_document
from ledger.reads.work_items import work_items
from policies import release as rules
from policies.access import may_read_audit_trail
from projections.queries import attribution

ENTRY_SECTIONS_ALL = "chart"


def _in_range(moment: datetime | date, request: ReleaseRequest) -> bool:
    day = moment.date() if isinstance(moment, datetime) else moment
    if request.date_from is not None and day < request.date_from:
        return False
    return not (request.date_to is not None and day > request.date_to)


def package_contents(ledger: Ledger, request: ReleaseRequest) -> Package:
    """Exactly the entries and documents the request covers (read once the disclosure has been
    recorded: `ledger.commands.release.release_package` calls it)."""
    wanted = set(request.sections)
    every = ENTRY_SECTIONS_ALL in wanted
    entries: list[dict[str, Any]] = []
    for encounter in charts.encounters(ledger, request.mrn):
        for entry in encounter.entries.values():
            if entry.retracted:
                continue  # entered in error (often: about another patient): never disclosed
            if (every or entry.kind in wanted) and _in_range(entry.effective_at, request):
                entries.append(
                    {
                        "id": f"{encounter.id}:{entry.id}",
                        "kind": entry.kind,
                        "text": entry.text,
                        "effective_at": entry.effective_at.isoformat(),
                        "author": entry.author,
                        "attribution": attribution(entry),
                        "amended": entry.amended,
                        "retracted": entry.retracted,
                    }
                )
    chart_ids = {patient_id(m) for m in (request.mrn, *ledger.patient(request.mrn).absorbed)}
    documents = [
        d
        for d in documents_of(ledger, request.mrn)
        if d.patient_id in chart_ids  # a document refiled away to another chart stays here
        and (every or "documents" in wanted or f"documents:{d.kind}" in wanted)
        and _in_range(d.created_on, request)
    ]
    return Package(
        entries,
        [
            PackageDocument(
                document.id,
                f"{document.id}-{Path(document.filename).name}",  # never a path out of the folder
                partial(_content, ledger, document.id),
            )
            for document in documents
        ],
    )


def _content(ledger: Ledger, document_id: UUID) -> bytes:
    return read_document(ledger, document_id)[1]


def requests(ledger: Ledger, *, actor: Identity, open_only: bool = False) -> list[ReleaseRequest]:
    """Every request, or the open ones (neither released nor denied), in the order received
    (ROI staff only; the list names MRNs and requesters, not clinical data)."""
    require(rules.may_handle_releases(ledger.authenticate(actor).roles))
    if not open_only:
        return all_requests(ledger)
    ids = work_items(ledger).ids("release-request", open_only=True)
    return [release_request(ledger, request_id) for request_id in ids]


def due(found: list[ReleaseRequest], *, on: date) -> list[ReleaseRequest]:
    """Open patient-access requests due on or before `on`, soonest first."""
    open_ = [
        r
        for r in found
        if r.due is not None and r.status not in ("released", "denied") and r.due <= on
    ]
    return sorted(open_, key=lambda r: (r.due or on, r.received))


def accounting_of(
    ledger: Ledger, mrn: str, *, requested_on: date, actor: Identity
) -> rules.Accounting:
    """A patient's accounting of disclosures for a request made on `requested_on`."""
    patient = ledger.patient(mrn)
    if requested_on > ledger.now().date():
        raise UsageError("The accounting cannot be requested in the future.")
    roles = ledger.authenticate(actor).roles
    if not may_read_audit_trail(roles).allowed:  # compliance and HIM oversee disclosures too
        require(rules.may_handle_releases(roles))
    access.record_access(
        ledger,
        [patient.mrn],
        actor=actor,
        action="query",
        sections=["disclosures"],
        purpose="patient-request",
    )
    disclosures = []
    ids = work_items(ledger).ids("release-request", patient_ids=[patient.id])
    for request in (release_request(ledger, request_id) for request_id in ids):
        if request.mrn != patient.mrn or request.status != "released":
            continue
        for event in ledger.events.get(request.id):
            if isinstance(event, ReleaseRequest.Released):
                disclosures.append(
                    rules.Disclosure(
                        event=f"{event.originator_id}/{event.originator_version}",
                        released_on=event.timestamp.date(),
                        recipient=event.recipient,
                        recipient_address=event.recipient_address,
                        requester_kind=event.requester_kind,
                        purpose=event.purpose,
                        basis=event.basis,
                        description=event.description,
                        entries=tuple(event.entries),
                        documents=tuple(event.documents),
                    )
                )
    return rules.accounting(
        disclosures, requested_on=requested_on, suspensions=suspensions_of(ledger, patient.mrn)
    )


def _sent(disclosure: rules.Disclosure) -> str:
    """Exactly what went, by id."""
    parts = [f"entry {e}" for e in disclosure.entries]
    parts += [f"document {d}" for d in disclosure.documents]
    return ", ".join(parts) or "nothing"


def accounting_html(report: rules.Accounting, *, mrn: str, origin: str) -> str:
    """The accounting as a letter, printable to PDF from any browser."""
    rows = "\n".join(
        "<tr>"
        + "".join(
            f"<td>{html.escape(cell)}</td>"
            for cell in (
                d.released_on.isoformat(),
                d.recipient,
                d.recipient_address or "",
                f"{d.description} (sent: {_sent(d)})",
                d.purpose,
            )
        )
        + "</tr>"
        for d in report.lines
    )
    body = rows or '<tr><td colspan="5">No disclosures to account for in this period.</td></tr>'
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<title>Accounting of disclosures {html.escape(mrn)}</title>
<style>body{{font-family:serif;margin:2cm}}table{{border-collapse:collapse;width:100%}}
td,th{{border:1px solid #444;padding:4px;text-align:left}}</style></head><body>
<p>{html.escape(origin)}</p>
<h1>Accounting of disclosures</h1>
<p>Medical record number {html.escape(mrn)}. Disclosures from
{report.period_start.isoformat()} to {report.period_end.isoformat()}, as 45 CFR 164.528 requires.
Disclosures for treatment, payment and health care operations, to you, under your authorization,
and the others the rule excludes are not listed.</p>
<table><thead><tr><th>Date</th><th>Recipient</th><th>Address</th><th>What was disclosed</th>
<th>Purpose</th></tr></thead><tbody>
{body}
</tbody></table></body></html>
"""
