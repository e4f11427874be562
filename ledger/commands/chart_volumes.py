"""Chart locations, the commands: register a volume, ask for it, check it out, transfer it,
check it in, report it lost or found, file loose sheets into it, and route the electronic record.

Each authenticates the actor, asks `policies.records` whether they may, loads the volume and
calls the move on it (`ChartVolume` keeps its custody: a volume checked out
is not checked out again, a lost one is not pulled, the electronic record is routed, never
checked out), then saves once. The clock is `ledger.now()`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, cast

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.access_policy import current_access_config
from ledger.aggregates.chart_volume import ChartVolume, chart_volume, electronic_barcode, volume_id
from ledger.commands import access
from ledger.errors import AccessDenied, UsageError, require
from policies import access as access_policy
from policies.purposes import PURPOSES
from policies.records import PERSON_KINDS, may_move_charts, may_request_charts

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def register_volume(
    ledger: Ledger,
    mrn: str,
    *,
    barcode: str,
    record_type: str,
    volume: int,
    home: str,
    actor: Identity,
) -> str:
    """Register a physical volume of a patient's record; returns its barcode as stored."""
    require(may_move_charts(ledger.authenticate(actor).roles))
    patient = ledger.patient(mrn)
    record = ChartVolume.register(
        barcode=barcode,
        mrn=patient.mrn,
        record_type=record_type,
        volume=volume,
        home=home,
        actor=actor.name,
    )
    if record.id in ledger.repository:
        raise UsageError(f"Barcode {record.barcode} is already a chart volume.")
    ledger.save(record, signer=actor)
    return record.barcode


def request_volume(
    ledger: Ledger,
    barcode: str,
    *,
    requestor: str,
    needed_by: datetime,
    purpose: str,
    actor: Identity,
) -> None:
    require(may_request_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    record.ask_for(
        requestor=requestor,
        needed_by=needed_by,
        purpose=purpose,
        now=ledger.now(),
        actor=actor.name,
    )
    ledger.save(record, signer=actor)


def check_out(
    ledger: Ledger,
    barcode: str,
    *,
    holder: str,
    holder_kind: str,
    due: datetime,
    actor: Identity,
    transfer: bool = False,
) -> None:
    """Check a volume out to a holder (or, with `transfer`, hand it from holder to holder)."""
    require(may_move_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    move = record.transfer if transfer else record.check_out
    move(holder=holder, holder_kind=holder_kind, due=due, now=ledger.now(), actor=actor.name)
    ledger.save(record, signer=actor)


def check_in(
    ledger: Ledger, barcode: str, *, location: str | None, actor: Identity, found: bool = False
) -> None:
    """Check a volume back in (or, with `found`, record a lost one found)."""
    require(may_move_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    back = record.found if found else record.check_in
    back(location=location, actor=actor.name)
    ledger.save(record, signer=actor)


def report_lost(ledger: Ledger, barcode: str, *, note: str, actor: Identity) -> None:
    require(may_move_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    record.report_lost(note=note, actor=actor.name)
    ledger.save(record, signer=actor)


def file_loose(ledger: Ledger, barcode: str, *, what: str, actor: Identity) -> None:
    require(may_move_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    record.file_loose(what=what, actor=actor.name)
    ledger.save(record, signer=actor)


def route_record(
    ledger: Ledger,
    mrn: str,
    *,
    to: str,
    holder_kind: str,
    purpose: str,
    due: datetime,
    actor: Identity,
) -> str:
    """Route the patient's electronic record; returns the electronic volume's barcode."""
    require(may_move_charts(ledger.authenticate(actor).roles))
    patient = ledger.patient(mrn)
    if patient.merged_into is not None:
        raise UsageError(f"{patient.mrn} was merged into {patient.merged_into}; route that record.")
    now = ledger.now()
    ChartVolume.check_route(to=to, holder_kind=holder_kind, due=due, now=now)
    mrn = patient.mrn
    decision = _recipient_decision(ledger, mrn, to.strip(), holder_kind, purpose, now)
    try:
        record = cast(ChartVolume, ledger.repository.get(volume_id(electronic_barcode(mrn))))
    except AggregateNotFoundError:
        record = ChartVolume.electronic(mrn, actor=actor.name)
    record.route(
        to=to,
        holder_kind=holder_kind,
        due=due,
        now=now,
        purpose=purpose,
        decision=decision,
        actor=actor.name,
    )
    ledger.save(record, signer=actor)
    return record.barcode


def _recipient_decision(
    ledger: Ledger, mrn: str, to: str, holder_kind: str, purpose: str, now: datetime
) -> str:
    """The access policy's word on the recipient, or `AccessDenied` (nothing is written)."""
    config = current_access_config(ledger)
    if purpose not in PURPOSES:
        raise UsageError(f"'{purpose}' is not a purpose of use.")
    if holder_kind not in PERSON_KINDS:
        return f"a {holder_kind}: each reader is checked on opening ({config.policy_version})"
    recipient = ledger.user(to)
    if recipient.revoked:
        raise AccessDenied(f"The record cannot be routed to {to}: their key was revoked.")
    relationship = access.relationship_to(ledger, mrn, to, now=now, window_days=config.window_days)
    decision = access_policy.decide(
        recipient.roles,
        purpose,
        actor=to,
        patient=access_policy.PatientFacts(mrn, relationship),
        sections=["chart"],
        config=config,
    )
    if not decision.allowed:
        raise AccessDenied(f"The record cannot be routed to {to}: {decision.reason}.")
    return f"{decision.reason} ({decision.policy_version})"
