"""Chart locations: a `ChartVolume` per physical record volume, and every movement of it.

A volume is found by its barcode (the aggregate id is derived from it). It is created at its
home location (the file room); then requested (who needs it, by when, why), checked out to a
department, clinic, physician or person with a due date, transferred from holder to holder,
checked in, reported lost and found again; loose sheets filed into it are recorded too. The
events name the MRN and places and people, never clinical content, so they are not encrypted.

The electronic record moves the same way: routing it (`ledger.commands.chart_volumes`) sends it
to admissions, the emergency department, a physician or other staff as a `Routed` event on the
patient's electronic volume (barcode `E-<MRN>`, made on first routing), and it comes back with a
check-in. A record routed to a person is first checked by the access policy: that person must be
allowed to read the chart for the stated purpose, or nothing is routed. A department is not a
reader; each reader there is checked when they open the chart. Who may move or request charts,
and the kinds of holder and of volume, are `policies.records`.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.errors import NotFound, UsageError
from policies.records import HOLDER_KINDS, RECORD_TYPES

if TYPE_CHECKING:
    from ledger.application import Ledger

VOLUME_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/chart-volume")
ELECTRONIC = "electronic"
ELECTRONIC_HOME = "Electronic record (HIM)"


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

    # -- custody, each move one event ------------------------------------------------------------

    @classmethod
    def register(
        cls, *, barcode: str, mrn: str, record_type: str, volume: int, home: str, actor: str
    ) -> ChartVolume:
        """A physical volume, at its home location; `barcode` as printed (checked here)."""
        code = barcode.strip().upper()
        if not code or not code.replace("-", "").isalnum():
            raise UsageError("A barcode is letters, digits and '-'.")
        if code.startswith("E-"):
            raise UsageError("Barcodes starting E- name electronic records; give another.")
        if record_type not in RECORD_TYPES:
            raise UsageError(f"The record type must be one of: {', '.join(RECORD_TYPES)}.")
        if volume < 1 or not home.strip():
            raise UsageError("Give a volume number from 1 and the home location.")
        return cls._registered(code, mrn, record_type, volume, home.strip(), actor)

    @classmethod
    def electronic(cls, mrn: str, *, actor: str) -> ChartVolume:
        """The patient's electronic record as a volume (made on its first routing)."""
        code = electronic_barcode(mrn)
        return cls._registered(code, mrn, ELECTRONIC, 1, ELECTRONIC_HOME, actor)

    @classmethod
    def _registered(
        cls, code: str, mrn: str, record_type: str, volume: int, home: str, actor: str
    ) -> ChartVolume:
        return cls._create(
            cls.Registered,
            id=volume_id(code),
            barcode=code,
            mrn=mrn,
            record_type=record_type,
            volume=volume,
            home=home,
            actor=actor,
        )

    def _paper(self, what: str) -> None:
        if self.record_type == ELECTRONIC:
            raise UsageError(f"{self.barcode} is an electronic record: it is routed, not {what}.")

    def ask_for(
        self, *, requestor: str, needed_by: datetime, purpose: str, now: datetime, actor: str
    ) -> None:
        """Someone needs the volume pulled by `needed_by` (it joins the pull list)."""
        if not requestor.strip() or not purpose.strip():
            raise UsageError("Give who needs the chart and why.")
        if needed_by < now:
            raise UsageError("The chart cannot be needed by a time already past.")
        self._paper("pulled")
        if self.status == "lost":
            raise UsageError(f"Volume {self.barcode} is lost; it cannot be pulled.")
        self.trigger_event(
            self.Requested,
            requestor=requestor.strip(),
            needed_by=needed_by,
            purpose=purpose.strip(),
            actor=actor,
        )

    def check_out(
        self, *, holder: str, holder_kind: str, due: datetime, now: datetime, actor: str
    ) -> None:
        """From the file room to a holder, until `due`."""
        self._hand_over(holder, holder_kind, due, now)
        if self.status != "in":
            raise UsageError(f"Volume {self.barcode} is {self.status}, held by {self.holder}.")
        self.trigger_event(
            self.CheckedOut, holder=holder.strip(), holder_kind=holder_kind, due=due, actor=actor
        )

    def transfer(
        self, *, holder: str, holder_kind: str, due: datetime, now: datetime, actor: str
    ) -> None:
        """From the holder it is checked out to, to another."""
        self._hand_over(holder, holder_kind, due, now)
        if self.status != "out":
            raise UsageError(f"Volume {self.barcode} is not checked out; check it out instead.")
        self.trigger_event(
            self.Transferred, holder=holder.strip(), holder_kind=holder_kind, due=due, actor=actor
        )

    def _hand_over(self, holder: str, holder_kind: str, due: datetime, now: datetime) -> None:
        if holder_kind not in HOLDER_KINDS:
            raise UsageError(f"The holder must be one of: {', '.join(HOLDER_KINDS)}.")
        if not holder.strip():
            raise UsageError("Give who or where the chart goes to.")
        if due <= now:
            raise UsageError("The due date must be in the future.")
        self._paper("checked out")

    def check_in(self, *, location: str | None, actor: str) -> None:
        """Back from its holder, at `location` (default its home)."""
        if self.status != "out":
            raise UsageError(f"Volume {self.barcode} is {self.status}; nothing to check in.")
        self.trigger_event(self.CheckedIn, location=(location or self.home).strip(), actor=actor)

    def found(self, *, location: str | None, actor: str) -> None:
        """A lost volume found again, at `location` (default its home)."""
        if self.status != "lost":
            raise UsageError(f"Volume {self.barcode} is not lost.")
        self.trigger_event(self.Found, location=(location or self.home).strip(), actor=actor)

    def report_lost(self, *, note: str, actor: str) -> None:
        self._paper("lost")
        if self.status == "lost":
            raise UsageError(f"Volume {self.barcode} is already reported lost.")
        if not note.strip():
            raise UsageError("Say where the chart was last seen.")
        self.trigger_event(self.Lost, note=note.strip(), actor=actor)

    def file_loose(self, *, what: str, actor: str) -> None:
        self._paper("given loose sheets")
        if not what.strip():
            raise UsageError("Say what loose sheets were filed.")
        self.trigger_event(self.LooseFiled, what=what.strip(), actor=actor)

    @staticmethod
    def check_route(*, to: str, holder_kind: str, due: datetime, now: datetime) -> None:
        """What a routing must say, whatever the access policy then decides (checked first)."""
        if holder_kind not in HOLDER_KINDS:
            raise UsageError(f"The recipient must be one of: {', '.join(HOLDER_KINDS)}.")
        if not to.strip():
            raise UsageError("Give who or where the record goes to.")
        if due <= now:
            raise UsageError("The due date must be in the future.")

    def route(
        self,
        *,
        to: str,
        holder_kind: str,
        due: datetime,
        now: datetime,
        purpose: str,
        decision: str,
        actor: str,
    ) -> None:
        """The electronic record sent to `to` for `purpose`, as the access policy decided."""
        if self.record_type != ELECTRONIC:
            raise UsageError(f"{self.barcode} is a paper volume: it is checked out, not routed.")
        self.check_route(to=to, holder_kind=holder_kind, due=due, now=now)
        self.trigger_event(
            self.Routed,
            holder=to.strip(),
            holder_kind=holder_kind,
            due=due,
            purpose=purpose,
            decision=decision,
            actor=actor,
        )


def electronic_barcode(mrn: str) -> str:
    return f"E-{mrn.strip().upper()}"


def chart_volume(ledger: Ledger, barcode: str) -> ChartVolume:
    try:
        return cast(ChartVolume, ledger.repository.get(volume_id(barcode)))
    except AggregateNotFoundError:
        code = barcode.strip().upper()
        raise NotFound(f"There is no chart volume with barcode {code}.") from None
