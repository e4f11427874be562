"""Release of information, the commands: log a request, validate, extend, approve, deny, release,
and suspend an agency's accounting.

Each authenticates the actor, asks `policies.release` whether they handle releases, loads the
request and calls the step on it (`ReleaseRequest` keeps the order requested →
validated → approved → released, or denied), then saves once. The clock is `ledger.now()`.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.release import (
    DisclosureSuspension,
    ReleaseRequest,
    release_request,
    suspension_id,
)
from ledger.commands import access
from ledger.errors import require
from ledger.files import check_new_folder, new_folder, subfolder, write_bytes, write_text
from policies import release as rules

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def _handler(ledger: Ledger, actor: Identity) -> None:
    require(rules.may_handle_releases(ledger.authenticate(actor).roles))


def request_release(
    ledger: Ledger,
    mrn: str,
    *,
    requester_kind: str,
    requester: str,
    address: str | None,
    asks: str,
    sections: list[str],
    purpose: str,
    received: date,
    actor: Identity,
    date_from: date | None = None,
    date_to: date | None = None,
) -> UUID:
    """Log a request for a patient's information; returns its id."""
    _handler(ledger, actor)
    patient = ledger.patient(mrn)
    request = ReleaseRequest.request(
        patient_id=patient.id,
        mrn=patient.mrn,
        requester_kind=requester_kind,
        requester=requester,
        address=address,
        asks=asks,
        sections=sections,
        date_from=date_from,
        date_to=date_to,
        purpose=purpose,
        received=received,
        today=ledger.now().date(),
        actor=actor.name,
    )
    ledger.save(request, signer=actor)
    return request.id


def validate_release(
    ledger: Ledger,
    request_id: UUID,
    *,
    basis: str,
    actor: Identity,
    authorizations: list[rules.Authorization] | None = None,
    notice_to_patient: bool = False,
    protective_order: bool = False,
) -> rules.Validation:
    """Check the request's legal basis and record the verdict (valid or not, with why)."""
    _handler(ledger, actor)
    request = release_request(ledger, request_id)
    verdict = rules.validate(
        requester_kind=request.requester_kind,
        purpose=request.purpose,
        basis=basis,
        sections=request.sections,
        today=ledger.now().date(),
        authorizations=authorizations or [],
        notice_to_patient=notice_to_patient,
        protective_order=protective_order,
    )
    request.validate(verdict, basis=basis, authorizations=authorizations or [], actor=actor.name)
    ledger.save(request, signer=actor)
    return verdict


def extend_release(ledger: Ledger, request_id: UUID, *, reason: str, actor: Identity) -> date:
    """The one 30-day extension of a patient's request; returns the new due date."""
    _handler(ledger, actor)
    request = release_request(ledger, request_id)
    due = request.extend(reason=reason, today=ledger.now().date(), actor=actor.name)
    ledger.save(request, signer=actor)
    return due


def approve_release(ledger: Ledger, request_id: UUID, *, actor: Identity) -> None:
    _handler(ledger, actor)
    request = release_request(ledger, request_id)
    request.approve(actor=actor.name)
    ledger.save(request, signer=actor)


def deny_release(
    ledger: Ledger,
    request_id: UUID,
    *,
    reason: str,
    exception: str | None,
    actor: Identity,
) -> None:
    _handler(ledger, actor)
    request = release_request(ledger, request_id)
    request.deny(reason=reason, exception=exception, actor=actor.name)
    ledger.save(request, signer=actor)


@dataclass(frozen=True)
class PackageDocument:
    """One document of a release: its id, its file name in `documents/`, and how to read it
    (read when written, so one document at a time is in memory)."""

    id: UUID
    name: str
    read: Callable[[], bytes]


@dataclass(frozen=True)
class Package:
    """What a release holds: the entries as `entries.json` lists them, and the documents."""

    entries: list[dict[str, Any]]
    documents: list[PackageDocument]


Contents = Callable[["Ledger", ReleaseRequest], Package]
"""The read that gathers a request's package (`projections.release.package_contents`); called
only after the disclosure has been recorded."""


@dataclass(frozen=True)
class Released:
    request: UUID
    mrn: str
    folder: Path
    entries: int
    documents: int
    package_sha256: str
    accountable: bool


def release_package(
    ledger: Ledger,
    request_id: UUID,
    *,
    contents: Contents,
    out: Path,
    method: str,
    fee: str,
    actor: Identity,
    force: bool = False,
) -> Released:
    """Write the release of an approved request into `out` (a new or empty folder, or any folder
    with `force`) and record it: the disclosure is recorded as an access first (refused: nothing
    is written), the package's manifest of SHA-256s last, in `Released`."""
    request = release_request(ledger, request_id)
    amount = request.releasable(method=method, fee=fee)
    check_new_folder(out, force=force)
    out = Path(out)
    _handler(ledger, actor)
    access.record_access(
        ledger,
        [request.mrn],
        actor=actor,
        action="disclose",
        sections=list(request.sections),
        purpose=request.access_purpose,
    )
    package = contents(ledger, request)
    new_folder(out, force=force)
    write_text(out / "entries.json", json.dumps(package.entries, indent=2) + "\n", force=True)
    if package.documents:
        subfolder(out / "documents")
    for document in package.documents:
        write_bytes(out / "documents" / document.name, document.read(), force=True)
    files = {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file()
    }
    manifest = json.dumps(
        {"request": str(request.id), "mrn": request.mrn, "files": files},
        indent=2,
        sort_keys=True,
    ).encode("utf-8")
    write_bytes(out / "MANIFEST.json", manifest, force=True)
    digest = hashlib.sha256(manifest).hexdigest()
    request.release(
        entries=[e["id"] for e in package.entries],
        documents=[str(d.id) for d in package.documents],
        package_sha256=digest,
        method=method,
        fee=amount,
        today=ledger.now().date(),
        actor=actor.name,
    )
    ledger.save(request, signer=actor)
    return Released(
        request.id,
        request.mrn,
        out,
        len(package.entries),
        len(package.documents),
        digest,
        request.accountable,
    )


def suspend_accounting(
    ledger: Ledger,
    mrn: str,
    *,
    agency: str,
    until: date,
    oral: bool,
    actor: Identity,
) -> date:
    """Record an agency's suspension; returns the day it ends (30 days at most if oral)."""
    _handler(ledger, actor)
    patient = ledger.patient(mrn)
    try:
        record = cast(DisclosureSuspension, ledger.repository.get(suspension_id(patient.mrn)))
    except AggregateNotFoundError:
        record = DisclosureSuspension.start(patient_id=patient.id, mrn=patient.mrn)
    ends = record.suspend(
        agency=agency, until=until, oral=oral, today=ledger.now().date(), actor=actor.name
    )
    ledger.save(record, signer=actor)
    return ends
