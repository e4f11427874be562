"""The master patient index's commands: set the MRN format, register, correct, merge, unmerge.

Each authenticates the actor, asks `policies.roles.may_maintain_index`, checks what it is given
(`policies.patients.demographics_problem`, the text limits), loads the records, calls their
methods (`Patient`, `MrnRegistry` keep their own invariants) and saves once. A registration
takes the likely matches the caller found and refuses to register over them unless a reason is
given (`register_after_search` searches the patient index first and records what it showed);
the MRN is the next free number (`ledger.aggregates.patient.next_number`), taken by the registration
itself. Merges record both sides and never rewrite history. A registration may run in a
`ledger.commands.batch.Batch` (the FHIR import's), saved by the batch's caller.
"""

from __future__ import annotations

import random
import time
from datetime import date
from typing import TYPE_CHECKING, Any, cast

from ledger.aggregates.access_policy import current_limits
from ledger.aggregates.patient import (
    DEFAULT_MRN_FORMAT,
    MRN_REGISTRY_ID,
    MrnRegistry,
    Patient,
    patient_id,
)
from ledger.aggregates.patient import next_number as next_free_number
from ledger.commands import access
from ledger.commands.batch import Batch, batched
from ledger.errors import ConflictError, ProbableDuplicate, UsageError, require
from ledger.reads.patient_index import Candidate, current_index, ranked
from ledger.text_checks import check_demographics, check_text
from policies.roles import may_maintain_index

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity
    from policies.limits import Limits

_REGISTER_ATTEMPTS = 40
"""Tries at the next free MRN when other workstations take numbers at the same moment."""


class LikelyDuplicates(ProbableDuplicate):
    """A registration refused for likely matches, carrying them (already recorded as shown)."""

    def __init__(self, candidates: list[Candidate]) -> None:
        super().__init__([c.patient.mrn for c in candidates])
        self.candidates = candidates


def configure_mrns(ledger: Ledger, template: str, *, actor: Identity) -> None:
    """Set the MRN format, once, before the first registration."""
    ledger.authenticate(actor)
    if MRN_REGISTRY_ID in ledger.repository:
        raise UsageError("The MRN format is already set; numbers once issued never change.")
    ledger.save(MrnRegistry.configure(template, actor=actor.name), signer=actor)


def mrn_registry(
    ledger: Ledger, *, actor: str, batch: Batch | None = None
) -> tuple[MrnRegistry, bool]:
    """The MRN format's registry, and whether it is new (to be saved with the first patient;
    one pending in `batch` is not new again).

    Once saved it never changes, so each ledger object reads it once.
    """
    cached = vars(ledger).get("_mrn_registry")
    if isinstance(cached, MrnRegistry):
        return cached, False
    if batch is not None and batch.holds(MRN_REGISTRY_ID):
        return cast(MrnRegistry, batch.get(MRN_REGISTRY_ID)), False
    if MRN_REGISTRY_ID not in ledger.repository:
        return MrnRegistry.configure(DEFAULT_MRN_FORMAT, actor=actor), True
    registry = cast(MrnRegistry, ledger.repository.get(MRN_REGISTRY_ID))
    vars(ledger)["_mrn_registry"] = registry
    return registry, False


def next_mrn(ledger: Ledger, registry: MrnRegistry, *, batch: Batch | None = None) -> str:
    """The next free MRN: a search over which patients exist (or are pending in `batch`), from
    the last one this ledger object saw taken (so a run of registrations searches from where it
    was)."""

    def taken(number: int) -> bool:
        pid = patient_id(registry.mrn(number))
        if batch is not None and batch.holds(pid):
            return True
        return bool(ledger.recorder.select_events(pid, limit=1))

    number = next_free_number(taken, known=int(vars(ledger).get("_mrn_known", 0)))
    vars(ledger)["_mrn_known"] = number - 1
    return registry.mrn(number)


@batched
def register_patient(
    ledger: Ledger,
    demographics: dict[str, Any],
    *,
    actor: Identity,
    likely_matches: list[str],
    override: str | None = None,
    today: date | None = None,
    batch: Batch | None = None,
) -> str:
    """Issue the next MRN to a new patient; returns it.

    In a `batch` the number is the next one neither taken nor pending there, and the batch's
    caller saves (and, if another registration took the number first, tries again)."""
    acting = ledger.authenticate(actor)
    require(may_maintain_index(acting.roles))
    limits = current_limits(ledger)
    check_demographics(demographics, today=today or ledger.now().date(), limits=limits)
    if override:
        check_text(override, what="the override reason", limit=limits.field_chars)
    if likely_matches and not (override and override.strip()):
        raise ProbableDuplicate(likely_matches)
    for attempt in range(_REGISTER_ATTEMPTS):
        if attempt:  # several workstations registering at once: let the others go first
            time.sleep(random.uniform(0, 0.005 * attempt))  # noqa: S311 (not a secret)
        registry, new_registry = mrn_registry(ledger, actor=actor.name, batch=batch)
        mrn = next_mrn(ledger, registry, batch=batch)
        patient = Patient.register(
            mrn,
            demographics,
            actor=actor.name,
            likely_matches=likely_matches,
            override=override.strip() if override else None,
        )
        registration = (*([registry] if new_registry else []), patient)
        if batch is not None:
            batch.add(*registration)
            return mrn
        try:
            ledger.save(*registration, signer=actor)
        except ConflictError:
            continue  # another registration took this number first: take the next one
        return mrn
    raise ConflictError("The index is very busy; the patient was not registered. Try again.")


def register_after_search(
    ledger: Ledger,
    demographics: dict[str, Any],
    *,
    actor: Identity,
    override: str | None = None,
) -> tuple[str, list[Candidate]]:
    """Search the index for likely matches, record them as shown, and register unless one is
    likely and no reason is given.

    Returns the new MRN and the candidates that were shown; raises `LikelyDuplicates` (after
    recording what was shown) when a likely match exists and no reason was given.
    """
    check_demographics(demographics, today=ledger.now().date())
    likely = [
        Candidate(p, s)
        for p, s in ranked(current_index(ledger), demographics, 5)
        if s.classification in ("match", "possible")
    ]
    if likely:
        access.record_access(
            ledger,
            [c.patient.mrn for c in likely],
            actor=actor,
            action="query",
            sections=["demographics"],
            purpose="operations",
        )
        if not (override and override.strip()):
            raise LikelyDuplicates(likely)
    mrn = register_patient(
        ledger,
        demographics,
        actor=actor,
        likely_matches=[c.patient.mrn for c in likely],
        override=override,
    )
    return mrn, likely


def correct_demographics(
    ledger: Ledger, mrn: str, changes: dict[str, Any], *, reason: str, actor: Identity
) -> None:
    """Correct a patient's demographics; the registration and every correction stay."""
    limits = _index_maintainer(ledger, actor, reason, what="the correction")
    patient = ledger.patient(mrn)
    merged = {**patient.demographics, **changes}
    check_demographics(merged, today=ledger.now().date(), limits=limits)
    patient.correct(changes, reason=reason, actor=actor.name)
    ledger.save(patient, signer=actor)


def merge_patients(
    ledger: Ledger, survivor_mrn: str, retired_mrn: str, *, reason: str, actor: Identity
) -> None:
    """Bring a duplicate record under the survivor; both sides record it."""
    _index_maintainer(ledger, actor, reason, what="the merge")
    survivor, retired = ledger.patient(survivor_mrn), ledger.patient(retired_mrn)
    Patient.merge(survivor, retired, reason=reason, actor=actor.name)
    ledger.save(retired, survivor, signer=actor)


def undo_merge(
    ledger: Ledger, survivor_mrn: str, retired_mrn: str, *, reason: str, actor: Identity
) -> None:
    """Undo a wrong merge; the merge and its undoing both stay in the history."""
    _index_maintainer(ledger, actor, reason, what="undoing the merge")
    survivor, retired = ledger.patient(survivor_mrn), ledger.patient(retired_mrn)
    Patient.unmerge(survivor, retired, reason=reason, actor=actor.name)
    ledger.save(retired, survivor, signer=actor)


def _index_maintainer(ledger: Ledger, actor: Identity, reason: str, *, what: str) -> Limits:
    """The actor may maintain the index and gave a reason for `what` within the limits in
    force, which are returned."""
    require(may_maintain_index(ledger.authenticate(actor).roles))
    if not reason.strip():
        raise UsageError(f"Give a reason for {what}.")
    limits = current_limits(ledger)
    check_text(reason, what="the reason", limit=limits.field_chars)
    return limits
