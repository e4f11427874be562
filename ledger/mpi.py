"""The ledger's commands for the master patient index and for recording access to it.

Registration takes the likely matches the caller found (the search runs over the patient index,
a projection) and refuses to register over them unless a reason is given; the MRN is the next
free number (`ledger.patient.next_number`), taken by the registration itself. Merges record both
sides and never rewrite history.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable, Mapping
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any, Protocol, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.access import Access
from ledger.access_policy import current_access_config, current_limits
from ledger.errors import (
    AccessDenied,
    ConflictError,
    PatientNotFound,
    ProbableDuplicate,
    UsageError,
    require,
)
from ledger.keys import Identity
from ledger.patient import (
    DEFAULT_MRN_FORMAT,
    MRN_REGISTRY_ID,
    MrnRegistry,
    Patient,
    next_number,
    patient_id,
)
from ledger.text_checks import check_text
from policies import access as access_policy
from policies.access import AccessDecision
from policies.limits import DEFAULT_LIMITS, Limits
from policies.roles import may_maintain_index

_REGISTER_ATTEMPTS = 40
"""Tries at the next free MRN when other workstations take numbers at the same moment."""

if TYPE_CHECKING:
    from eventsourcing.application import Repository
    from eventsourcing.domain import MutableOrImmutableAggregate
    from eventsourcing.persistence import AggregateRecorder, Recording

    from ledger.access import Listed
    from ledger.application import Ledger
    from ledger.user import User


class _LedgerLike(Protocol):
    """What these commands use of the `Ledger` they are mixed into."""

    @property
    def repository(self) -> Repository[UUID]: ...

    def authenticate(self, identity: Identity) -> User: ...

    def save(
        self, *objs: MutableOrImmutableAggregate[UUID] | None, signer: Identity, **kwargs: Any
    ) -> list[Recording[UUID]]: ...

    @property
    def recorder(self) -> AggregateRecorder: ...

    def patient(self, mrn: str) -> Patient: ...

    def relationship_to(
        self, mrn: str, actor: str, *, now: datetime, window_days: int, restricted: bool = False
    ) -> str | None: ...

    def mrn_registry(self, *, actor: str) -> tuple[MrnRegistry, bool]: ...

    def next_mrn(self, registry: MrnRegistry) -> str: ...


def check_demographics(
    demographics: dict[str, Any], *, today: date, limits: Limits = DEFAULT_LIMITS
) -> None:
    """A registration needs a name and a plausible date of birth; every field is one line of
    printable text within the policy's limits (a newline in a name would forge a line)."""
    for field, value in demographics.items():
        if isinstance(value, str):
            name = field in ("given_name", "family_name")
            check_text(
                value,
                what=f"the {field.replace('_', ' ')}",
                limit=limits.name_chars if name else limits.field_chars,
            )
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, str):
                    what = f"the {field.replace('_', ' ')}"
                    check_text(item, what=what, limit=limits.field_chars)
    if not str(demographics.get("given_name") or "").strip():
        raise UsageError("A patient needs a given name.")
    if not str(demographics.get("family_name") or "").strip():
        raise UsageError("A patient needs a family name.")
    born = demographics.get("birth_date")
    if born is not None and not isinstance(born, date):
        raise UsageError("The date of birth must be a date (YYYY-MM-DD).")
    if isinstance(born, date) and (born > today or born.year < 1880):
        raise UsageError("The date of birth is not a plausible date.")
    sex = demographics.get("sex")
    if sex is not None and sex not in ("female", "male", "other", "unknown"):
        raise UsageError("Sex must be female, male, other or unknown.")


class PatientCommands:
    """Mixed into `Ledger`: every command names its actor and signs what it records."""

    def patient(self: _LedgerLike, mrn: str) -> Patient:
        """A patient's index entry (an aggregate read, checked against the log)."""
        try:
            return cast(Patient, self.repository.get(patient_id(mrn)))
        except AggregateNotFoundError:
            raise PatientNotFound(f"There is no patient with MRN {mrn.strip().upper()}.") from None

    def configure_mrns(self: _LedgerLike, template: str, *, actor: Identity) -> None:
        """Set the MRN format, once, before the first registration."""
        self.authenticate(actor)
        if MRN_REGISTRY_ID in self.repository:
            raise UsageError("The MRN format is already set; numbers once issued never change.")
        self.save(MrnRegistry.configure(template, actor=actor.name), signer=actor)

    def mrn_registry(self: _LedgerLike, *, actor: str) -> tuple[MrnRegistry, bool]:
        """The MRN format's registry, and whether it is new (to be saved with the first patient).

        Once saved it never changes, so each ledger object reads it once.
        """
        cached = self.__dict__.get("_mrn_registry")
        if isinstance(cached, MrnRegistry):
            return cached, False
        if MRN_REGISTRY_ID not in self.repository:
            return MrnRegistry.configure(DEFAULT_MRN_FORMAT, actor=actor), True
        registry = cast(MrnRegistry, self.repository.get(MRN_REGISTRY_ID))
        self.__dict__["_mrn_registry"] = registry
        return registry, False

    def next_mrn(self: _LedgerLike, registry: MrnRegistry) -> str:
        """The next free MRN: a search over which patients exist, from the last one seen."""

        def taken(number: int) -> bool:
            return bool(self.recorder.select_events(patient_id(registry.mrn(number)), limit=1))

        number = next_number(taken, known=int(self.__dict__.get("_mrn_known", 0)))
        self.__dict__["_mrn_known"] = number - 1
        return registry.mrn(number)

    def register_patient(
        self: _LedgerLike,
        demographics: dict[str, Any],
        *,
        actor: Identity,
        likely_matches: list[str],
        override: str | None = None,
        today: date | None = None,
    ) -> str:
        """Issue the next MRN to a new patient; returns it."""
        acting = self.authenticate(actor)
        require(may_maintain_index(acting.roles))
        limits = current_limits(self)
        check_demographics(demographics, today=today or date.today(), limits=limits)
        if override:
            check_text(override, what="the override reason", limit=limits.field_chars)
        if likely_matches and not (override and override.strip()):
            raise ProbableDuplicate(likely_matches)
        for attempt in range(_REGISTER_ATTEMPTS):
            if attempt:  # several workstations registering at once: let the others go first
                time.sleep(random.uniform(0, 0.005 * attempt))  # noqa: S311 (not a secret)
            registry, new_registry = self.mrn_registry(actor=actor.name)
            mrn = self.next_mrn(registry)
            patient = Patient.register(
                mrn,
                demographics,
                actor=actor.name,
                likely_matches=likely_matches,
                override=override.strip() if override else None,
            )
            try:
                self.save(*([registry] if new_registry else []), patient, signer=actor)
            except ConflictError:
                continue  # another registration took this number first: take the next one
            return mrn
        raise ConflictError("The index is very busy; the patient was not registered. Try again.")

    def correct_demographics(
        self: _LedgerLike, mrn: str, changes: dict[str, Any], *, reason: str, actor: Identity
    ) -> None:
        acting = self.authenticate(actor)
        require(may_maintain_index(acting.roles))
        if not reason.strip():
            raise UsageError("Give a reason for the correction.")
        limits = current_limits(self)
        check_text(reason, what="the reason", limit=limits.field_chars)
        patient = self.patient(mrn)
        merged = {**patient.demographics, **changes}
        check_demographics(merged, today=date.today(), limits=limits)
        patient.correct(changes, reason=reason, actor=actor.name)
        self.save(patient, signer=actor)

    def merge_patients(
        self: _LedgerLike, survivor_mrn: str, retired_mrn: str, *, reason: str, actor: Identity
    ) -> None:
        """Bring a duplicate record under the survivor; both sides record it."""
        acting = self.authenticate(actor)
        require(may_maintain_index(acting.roles))
        if not reason.strip():
            raise UsageError("Give a reason for the merge.")
        check_text(reason, what="the reason", limit=current_limits(self).field_chars)
        survivor, retired = self.patient(survivor_mrn), self.patient(retired_mrn)
        if survivor.mrn == retired.mrn:
            raise UsageError("A record cannot be merged into itself.")
        for record in (survivor, retired):
            if record.merged_into is not None:
                raise UsageError(f"{record.mrn} was already merged into {record.merged_into}.")
        retired.merge_into(survivor.mrn, reason=reason, actor=actor.name)
        survivor.absorb(retired.mrn, reason=reason, actor=actor.name)
        self.save(retired, survivor, signer=actor)

    def undo_merge(
        self: _LedgerLike, survivor_mrn: str, retired_mrn: str, *, reason: str, actor: Identity
    ) -> None:
        """Undo a wrong merge; the merge and its undoing both stay in the history."""
        acting = self.authenticate(actor)
        require(may_maintain_index(acting.roles))
        if not reason.strip():
            raise UsageError("Give a reason for undoing the merge.")
        check_text(reason, what="the reason", limit=current_limits(self).field_chars)
        survivor, retired = self.patient(survivor_mrn), self.patient(retired_mrn)
        if retired.merged_into != survivor.mrn:
            raise UsageError(f"{retired.mrn} is not merged into {survivor.mrn}.")
        for record in (retired, survivor):
            record.undo_merge(survivor.mrn, retired.mrn, reason=reason, actor=actor.name)
        self.save(retired, survivor, signer=actor)

    def record_access(
        self: _LedgerLike,
        mrns: list[str],
        *,
        actor: Identity,
        action: str,
        sections: list[str],
        purpose: str,
        break_glass_reason: str | None = None,
        relationships: Mapping[str, str | None] | None = None,
        now: datetime | None = None,
        demographics_alone: bool = False,
    ) -> AccessDecision:
        """Record an access before anything is shown; a refusal is recorded, then raised.

        `relationships` (MRN -> treatment relationship) may come from a view; for an MRN it
        does not cover, the relationship is found from the patient's encounters when the rule
        needs it (treatment, or a restricted record). `demographics_alone`: the caller shows
        only the returned decision's sections (`policies.access.decide`), the ones recorded:
        those allowed for every MRN.
        """
        acting = self.authenticate(actor)
        config = current_access_config(cast("Ledger", self))
        moment = now or datetime.now(UTC)
        wanted = sorted({m.strip().upper() for m in mrns})
        decisions = []
        for mrn in wanted:
            if relationships is not None and mrn in relationships:
                relationship = relationships[mrn]
            elif purpose == "treatment" or mrn in config.restricted:
                relationship = self.relationship_to(
                    mrn,
                    actor.name,
                    now=moment,
                    window_days=config.window_days,
                    restricted=mrn in config.restricted,
                )
            else:
                relationship = None
            decisions.append(
                access_policy.decide(
                    acting.roles,
                    purpose,
                    break_glass_reason=break_glass_reason,
                    actor=actor.name,
                    patient=access_policy.PatientFacts(mrn, relationship),
                    sections=sections,
                    config=config,
                    demographics_alone=demographics_alone,
                )
            )
        if not decisions:
            decisions.append(
                access_policy.decide(
                    acting.roles,
                    purpose,
                    break_glass_reason=break_glass_reason,
                    actor=actor.name,
                    sections=sections,
                    config=config,
                )
            )
        decision = next((d for d in decisions if not d.allowed), decisions[0])
        if decision.allowed:  # a restricted row may have been cut to its demographics
            common = [s for s in decision.sections if all(s in d.sections for d in decisions)]
            decision = replace(decision, sections=tuple(common))
        record = Access.decided(
            decision,
            actor=actor.name,
            mrns=wanted,
            action=action,
            sections=list(decision.sections if decision.allowed else sections),
            purpose=purpose,
            break_glass_reason=break_glass_reason,
            flagged=any(d.flagged for d in decisions),
        )
        self.save(record, signer=actor)
        if not decision.allowed:
            raise AccessDenied(f"Access refused: {decision.reason}.")
        return decision

    def record_shown(
        self: _LedgerLike, mrns: Iterable[str], *, actor: Identity, section: str
    ) -> Listed:
        """Record that a list naming these patients is about to be shown to a records worker
        (a query, purpose operations): the lists of locations, deficiencies and discrepancies.
        Decided row by row: the caller shows only the MRNs `Listed.allows`, so one restricted
        patient never blocks a list. Like every access it checks the reader's key and role."""
        from ledger.access import record_listed

        return record_listed(cast("Ledger", self), mrns, actor=actor, section=section)

    def relationship_to(
        self: _LedgerLike,
        mrn: str,
        actor: str,
        *,
        now: datetime,
        window_days: int,
        restricted: bool = False,
    ) -> str | None:
        """The reader's treatment relationship to a patient, from the patient's encounters (for
        a restricted patient, an encounter the reader made themself attending of is no close
        relationship)."""
        from ledger.charts import encounters as chart_encounters

        try:
            encounters = chart_encounters(cast("Ledger", self), mrn)
        except PatientNotFound:
            return None
        return access_policy.treatment_relationship(
            actor,
            [
                access_policy.EncounterFacts(
                    attending=e.attending,
                    care_team=e.care_team,
                    admitted_at=e.admitted_at,
                    discharged_at=e.discharged_at,
                    self_assigned=e.self_assigned,
                )
                for e in encounters
            ],
            now=now,
            window_days=window_days,
            restricted=restricted,
        )
