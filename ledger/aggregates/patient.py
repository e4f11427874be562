"""The master patient index: `Patient` (one per medical record number) and `MrnRegistry`.

A patient's events carry protected health information, so their bodies are encrypted with the
patient's data key. Medical record numbers come from the format the `MrnRegistry` holds, numbered
1, 2, 3 …: a patient's aggregate id is derived from its MRN, so a number is taken exactly when
its patient exists, never reused (patients are never deleted), and two registrations of the same
number conflict on that patient's first event rather than share it. The taken numbers are
therefore always 1 … k, and the next one is found by a logarithmic search (`next_number`), not
by replaying a counter that grows with every patient. (Ledgers written before this recorded an
`Issued` event per number on the registry; those events are still read, and no longer written.)
A merge never rewrites history: the retired record says where it went, the survivor says what
it absorbed, and an unmerge records the reverse.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

from ledger.errors import UsageError
from policies.patients import DEMOGRAPHIC_FIELDS

PATIENT_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/patient")
MRN_REGISTRY_ID = uuid5(NAMESPACE_URL, "https://chartledger.invalid/mrn-registry")
DEFAULT_MRN_FORMAT = "MR{number:07d}"


def patient_id(mrn: str) -> UUID:
    """A patient's aggregate id, derived from the MRN, so an MRN finds its record directly."""
    return uuid5(PATIENT_NAMESPACE, mrn.strip().upper())


def check_mrn_format(template: str) -> None:
    """An MRN format is a Python format string with one `{number}` field, e.g. MR{number:07d}."""
    try:
        sample = template.format(number=1)
    except (KeyError, IndexError, ValueError):
        raise UsageError(
            "An MRN format needs exactly one {number} field, e.g. MR{number:07d}."
        ) from None
    if "{number" not in template or not re.fullmatch(r"[A-Za-z0-9-]{3,32}", sample):
        raise UsageError(
            "An MRN format must make 3 to 32 letters, digits or '-', from one {number} field."
        )


class MrnRegistry(Aggregate):
    """Issues medical record numbers in order, each once."""

    TOPIC = "chartledger/mrn-registry"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/mrn-registry/created"

    class Configured(Aggregate.Created):
        TOPIC = "chartledger/mrn-registry/configured"
        template: str
        actor: str

    class Issued(Aggregate.Event):
        TOPIC = "chartledger/mrn-registry/issued"
        number: int
        mrn: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.issued = self.number

    def __init__(self, template: str, actor: str) -> None:
        self.template = template
        self.issued = 0

    @classmethod
    def configure(cls, template: str, *, actor: str) -> MrnRegistry:
        check_mrn_format(template)
        return cls._create(cls.Configured, id=MRN_REGISTRY_ID, template=template, actor=actor)

    def mrn(self, number: int) -> str:
        """The MRN of a number in this registry's format."""
        return self.template.format(number=number).upper()


def next_number(taken: Callable[[int], bool], *, known: int = 0) -> int:
    """The lowest number not taken, when the taken ones are exactly 1 … k.

    `known` is a number already seen taken (0 if none): the search gallops up from it, then
    halves, so it asks `taken` about 2 log2(k - known) numbers.
    """
    low = known if known > 0 and taken(known) else 0
    step = 1
    high = low + step
    while taken(high):
        low = high
        step *= 2
        high = low + step
    while high - low > 1:
        middle = (low + high) // 2
        if taken(middle):
            low = middle
        else:
            high = middle
    return high


class Patient(Aggregate):
    """One master patient index entry: an MRN, demographics, and merges."""

    TOPIC = "chartledger/patient"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/patient/created"

    class Registered(Aggregate.Created):
        """A patient was given an MRN; `override` says why despite likely duplicates."""

        TOPIC = "chartledger/patient/registered"
        ENCRYPT_FOR = "originator_id"
        mrn: str
        demographics: dict[str, Any]
        actor: str
        likely_matches: list[str]
        override: str | None

    class DemographicsCorrected(Aggregate.Event):
        TOPIC = "chartledger/patient/demographics-corrected"
        ENCRYPT_FOR = "originator_id"
        changes: dict[str, Any]
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.demographics = {**aggregate.demographics, **self.changes}

    class MergedInto(Aggregate.Event):
        """This record was a duplicate: its history now belongs with the survivor."""

        TOPIC = "chartledger/patient/merged-into"
        survivor_mrn: str
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.merged_into = self.survivor_mrn

    class Absorbed(Aggregate.Event):
        """A duplicate record's history was brought under this one."""

        TOPIC = "chartledger/patient/absorbed"
        retired_mrn: str
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.absorbed = [*aggregate.absorbed, self.retired_mrn]

    class MergeUndone(Aggregate.Event):
        """A wrong merge was undone (recorded on both records)."""

        TOPIC = "chartledger/patient/merge-undone"
        survivor_mrn: str
        retired_mrn: str
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            if aggregate.mrn == self.retired_mrn:
                aggregate.merged_into = None
            else:
                aggregate.absorbed = [m for m in aggregate.absorbed if m != self.retired_mrn]

    def __init__(
        self,
        mrn: str,
        demographics: dict[str, Any],
        actor: str,
        likely_matches: list[str],
        override: str | None,
    ) -> None:
        self.mrn = mrn
        self.demographics = dict(demographics)
        self.registered_by = actor
        self.likely_matches = list(likely_matches)
        self.override = override
        self.merged_into: str | None = None
        self.absorbed: list[str] = []

    @classmethod
    def register(
        cls,
        mrn: str,
        demographics: dict[str, Any],
        *,
        actor: str,
        likely_matches: list[str],
        override: str | None,
    ) -> Patient:
        unknown = set(demographics) - set(DEMOGRAPHIC_FIELDS)
        if unknown:
            raise UsageError(f"Unknown demographic field '{sorted(unknown)[0]}'.")
        return cls._create(
            cls.Registered,
            id=patient_id(mrn),
            mrn=mrn,
            demographics=dict(demographics),
            actor=actor,
            likely_matches=list(likely_matches),
            override=override,
        )

    def correct(self, changes: dict[str, Any], *, reason: str, actor: str) -> None:
        self.trigger_event(self.DemographicsCorrected, changes=changes, reason=reason, actor=actor)

    @staticmethod
    def merge(survivor: Patient, retired: Patient, *, reason: str, actor: str) -> None:
        """Bring a duplicate record under the survivor: the retired record says where it went,
        the survivor what it absorbed. Neither may be merged already, nor both be one record."""
        if survivor.mrn == retired.mrn:
            raise UsageError("A record cannot be merged into itself.")
        for record in (survivor, retired):
            if record.merged_into is not None:
                raise UsageError(f"{record.mrn} was already merged into {record.merged_into}.")
        retired.trigger_event(
            retired.MergedInto, survivor_mrn=survivor.mrn, reason=reason, actor=actor
        )
        survivor.trigger_event(
            survivor.Absorbed, retired_mrn=retired.mrn, reason=reason, actor=actor
        )

    @staticmethod
    def unmerge(survivor: Patient, retired: Patient, *, reason: str, actor: str) -> None:
        """Undo a merge of `retired` into `survivor`, recorded on both records."""
        if retired.merged_into != survivor.mrn:
            raise UsageError(f"{retired.mrn} is not merged into {survivor.mrn}.")
        for record in (retired, survivor):
            record.trigger_event(
                record.MergeUndone,
                survivor_mrn=survivor.mrn,
                retired_mrn=retired.mrn,
                reason=reason,
                actor=actor,
            )
