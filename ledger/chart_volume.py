"""Chart locations: a `ChartVolume` per physical record volume, and every movement of it.

A volume is found by its barcode (the aggregate id is derived from it). It is created at its
home location (the file room); then requested (who needs it, by when, why), checked out to a
department, clinic, physician or person with a due date, transferred from holder to holder,
checked in, reported lost and found again; loose sheets filed into it are recorded too. The
events name the MRN and places and people, never clinical content, so they are not encrypted.

The electronic record moves the same way: `route_record` sends it to admissions, the emergency
department, a physician or other staff as a `Routed` event on the patient's electronic volume
(barcode `E-<MRN>`, made on first routing), and it comes back with a check-in. A record routed
to a person is first checked by the access policy: that person must be allowed to read the
chart for the stated purpose, or nothing is routed. A department is not a reader; each reader
there is checked when they open the chart.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.access_policy import current_access_config
from ledger.commands import access
from ledger.errors import AccessDenied, NotFound, UsageError, require
from policies import access as access_policy
from policies.purposes import PURPOSES
from policies.roles import Decision

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.keys import Identity

VOLUME_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/chart-volume")
HOLDER_KINDS = ("department", "clinic", "physician", "person")
RECORD_TYPES = ("medical-record", "radiology", "emergency", "outpatient", "legal-hold", "other")
ELECTRONIC = "electronic"
ELECTRONIC_HOME = "Electronic record (HIM)"
PERSON_KINDS = frozenset({"physician", "person"})
FILE_ROOM_ROLES = frozenset({"technician", "him-director"})
REQUESTER_ROLES = frozenset({"technician", "him-director", "physician", "nurse", "coder"})


def may_move_charts(roles: list[str]) -> Decision:
    if FILE_ROOM_ROLES & set(roles):
        return Decision(True, "the file room moves charts")
    return Decision(False, "only technicians or the HIM director move charts")


def may_request_charts(roles: list[str]) -> Decision:
    if REQUESTER_ROLES & set(roles):
        return Decision(True, "clinical and HIM staff request charts")
    return Decision(False, "your role may not request charts")


def volume_id(barcode: str) -> UUID:
    return uuid5(VOLUME_NAMESPACE, barcode.strip().upper())


class ChartVolume(Aggregate):
    """One physical volume of a patient's record and where it is."""

    TOPIC = "chartledger/chart-volume"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/chart-volume/created"

    class Registered(Aggregate.Created):
        TOPIC = "chartledger/chart-volume/registered"
        barcode: str
        mrn: str
        record_type: str
        volume: int
        home: str
        actor: str

    class Requested(Aggregate.Event):
        TOPIC = "chartledger/chart-volume/requested"
        requestor: str
        needed_by: datetime
        purpose: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.request = (self.requestor, self.needed_by, self.purpose)

    class CheckedOut(Aggregate.Event):
        TOPIC = "chartledger/chart-volume/checked-out"
        holder: str
        holder_kind: str
        due: datetime
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status, aggregate.holder = "out", self.holder
            aggregate.holder_kind, aggregate.due = self.holder_kind, self.due
            aggregate.request = None

    class Transferred(CheckedOut):
        TOPIC = "chartledger/chart-volume/transferred"

    class Routed(CheckedOut):
        """The electronic record sent to a department or a person, for a purpose."""

        TOPIC = "chartledger/chart-volume/routed"
        purpose: str
        decision: str
        """Why the access policy let the recipient have it (with the policy version)."""

    class CheckedIn(Aggregate.Event):
        TOPIC = "chartledger/chart-volume/checked-in"
        location: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status, aggregate.holder = "in", self.location
            aggregate.holder_kind, aggregate.due = "file-room", None

    class Lost(Aggregate.Event):
        TOPIC = "chartledger/chart-volume/lost"
        note: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.status = "lost"

    class Found(CheckedIn):
        TOPIC = "chartledger/chart-volume/found"

    class LooseFiled(Aggregate.Event):
        TOPIC = "chartledger/chart-volume/loose-filed"
        what: str
        actor: str

    def __init__(
        self, barcode: str, mrn: str, record_type: str, volume: int, home: str, actor: str
    ) -> None:
        self.barcode = barcode
        self.mrn = mrn
        self.record_type = record_type
        self.volume = volume
        self.home = home
        self.status = "in"
        self.holder = home
        self.holder_kind = "file-room"
        self.due: datetime | None = None
        self.request: tuple[str, datetime, str] | None = None


def _paper(record: ChartVolume, what: str) -> None:
    if record.record_type == ELECTRONIC:
        raise UsageError(f"{record.barcode} is an electronic record: it is routed, not {what}.")


def chart_volume(ledger: Ledger, barcode: str) -> ChartVolume:
    try:
        return cast(ChartVolume, ledger.repository.get(volume_id(barcode)))
    except AggregateNotFoundError:
        code = barcode.strip().upper()
        raise NotFound(f"There is no chart volume with barcode {code}.") from None


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
    require(may_move_charts(ledger.authenticate(actor).roles))
    patient = ledger.patient(mrn)
    code = barcode.strip().upper()
    if not code or not code.replace("-", "").isalnum():
        raise UsageError("A barcode is letters, digits and '-'.")
    if code.startswith("E-"):
        raise UsageError("Barcodes starting E- name electronic records; give another.")
    if record_type not in RECORD_TYPES:
        raise UsageError(f"The record type must be one of: {', '.join(RECORD_TYPES)}.")
    if volume < 1 or not home.strip():
        raise UsageError("Give a volume number from 1 and the home location.")
    if volume_id(code) in ledger.repository:
        raise UsageError(f"Barcode {code} is already a chart volume.")
    record = _new_volume(code, patient.mrn, record_type, volume, home.strip(), actor.name)
    ledger.save(record, signer=actor)
    return code


def _new_volume(
    code: str, mrn: str, record_type: str, volume: int, home: str, actor: str
) -> ChartVolume:
    return ChartVolume._create(
        ChartVolume.Registered,
        id=volume_id(code),
        barcode=code,
        mrn=mrn,
        record_type=record_type,
        volume=volume,
        home=home,
        actor=actor,
    )


def request_volume(
    ledger: Ledger,
    barcode: str,
    *,
    requestor: str,
    needed_by: datetime,
    purpose: str,
    now: datetime,
    actor: Identity,
) -> None:
    require(may_request_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    if not requestor.strip() or not purpose.strip():
        raise UsageError("Give who needs the chart and why.")
    if needed_by < now:
        raise UsageError("The chart cannot be needed by a time already past.")
    _paper(record, "pulled")
    if record.status == "lost":
        raise UsageError(f"Volume {record.barcode} is lost; it cannot be pulled.")
    record.trigger_event(
        ChartVolume.Requested,
        requestor=requestor.strip(),
        needed_by=needed_by,
        purpose=purpose.strip(),
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
    now: datetime,
    actor: Identity,
    transfer: bool = False,
) -> None:
    require(may_move_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    if holder_kind not in HOLDER_KINDS:
        raise UsageError(f"The holder must be one of: {', '.join(HOLDER_KINDS)}.")
    if not holder.strip():
        raise UsageError("Give who or where the chart goes to.")
    if due <= now:
        raise UsageError("The due date must be in the future.")
    _paper(record, "checked out")
    if transfer and record.status != "out":
        raise UsageError(f"Volume {record.barcode} is not checked out; check it out instead.")
    if not transfer and record.status != "in":
        raise UsageError(f"Volume {record.barcode} is {record.status}, held by {record.holder}.")
    event = ChartVolume.Transferred if transfer else ChartVolume.CheckedOut
    record.trigger_event(
        event, holder=holder.strip(), holder_kind=holder_kind, due=due, actor=actor.name
    )
    ledger.save(record, signer=actor)


def check_in(
    ledger: Ledger, barcode: str, *, location: str | None, actor: Identity, found: bool = False
) -> None:
    require(may_move_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    if found and record.status != "lost":
        raise UsageError(f"Volume {record.barcode} is not lost.")
    if not found and record.status != "out":
        raise UsageError(f"Volume {record.barcode} is {record.status}; nothing to check in.")
    event = ChartVolume.Found if found else ChartVolume.CheckedIn
    record.trigger_event(event, location=(location or record.home).strip(), actor=actor.name)
    ledger.save(record, signer=actor)


def report_lost(ledger: Ledger, barcode: str, *, note: str, actor: Identity) -> None:
    require(may_move_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    _paper(record, "lost")
    if record.status == "lost":
        raise UsageError(f"Volume {record.barcode} is already reported lost.")
    if not note.strip():
        raise UsageError("Say where the chart was last seen.")
    record.trigger_event(ChartVolume.Lost, note=note.strip(), actor=actor.name)
    ledger.save(record, signer=actor)


def file_loose(ledger: Ledger, barcode: str, *, what: str, actor: Identity) -> None:
    require(may_move_charts(ledger.authenticate(actor).roles))
    record = chart_volume(ledger, barcode)
    _paper(record, "given loose sheets")
    if not what.strip():
        raise UsageError("Say what loose sheets were filed.")
    record.trigger_event(ChartVolume.LooseFiled, what=what.strip(), actor=actor.name)
    ledger.save(record, signer=actor)


def electronic_barcode(mrn: str) -> str:
    return f"E-{mrn.strip().upper()}"


def route_record(
    ledger: Ledger,
    mrn: str,
    *,
    to: str,
    holder_kind: str,
    purpose: str,
    due: datetime,
    now: datetime,
    actor: Identity,
) -> str:
    """Route the patient's electronic record; returns the electronic volume's barcode."""
    require(may_move_charts(ledger.authenticate(actor).roles))
    patient = ledger.patient(mrn)
    if patient.merged_into is not None:
        raise UsageError(f"{patient.mrn} was merged into {patient.merged_into}; route that record.")
    if holder_kind not in HOLDER_KINDS:
        raise UsageError(f"The recipient must be one of: {', '.join(HOLDER_KINDS)}.")
    if not to.strip():
        raise UsageError("Give who or where the record goes to.")
    if due <= now:
        raise UsageError("The due date must be in the future.")
    decision = _recipient_decision(ledger, patient.mrn, to.strip(), holder_kind, purpose, now)
    code = electronic_barcode(patient.mrn)
    try:
        record = cast(ChartVolume, ledger.repository.get(volume_id(code)))
    except AggregateNotFoundError:
        record = _new_volume(code, patient.mrn, ELECTRONIC, 1, ELECTRONIC_HOME, actor.name)
    record.trigger_event(
        ChartVolume.Routed,
        holder=to.strip(),
        holder_kind=holder_kind,
        due=due,
        purpose=purpose,
        decision=decision,
        actor=actor.name,
    )
    ledger.save(record, signer=actor)
    return code


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
