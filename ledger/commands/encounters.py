"""Encounters, the commands: admit or register a patient, transfer, discharge.

Each authenticates the actor, asks `policies.charting` whether their role may, checks the
times against `ledger.now()`, lets the access policy judge the move (`_judge_move`: breaking
the glass is a flagged access saved with the encounter; a refusal is recorded, then raised),
calls the change on the `Encounter` aggregate, which keeps its own invariants, and saves once.
A refusal writes nothing but its recorded refusal. Opening and discharging may run in a
`ledger.commands.batch.Batch` (`batch=`): the checks are the same, and see what is pending in it
(its patients, its open stays), and the batch's caller saves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING
from uuid import UUID

from ledger.aggregates.access import Access
from ledger.aggregates.access_policy import current_access_config, current_limits
from ledger.aggregates.encounter import Encounter, check_effective_at
from ledger.commands import access
from ledger.commands.batch import Batch, batched, loads_from, save_or_add
from ledger.errors import AccessDenied, NotAuthorised, NotFound, UsageError, require
from ledger.reads.charts import chart_mrn, chart_patient_ids, current_patient, encounter_ids
from ledger.text_checks import check_text, checked_disposition
from policies import access as access_policy
from policies import charting
from policies.limits import UnknownDisposition

if TYPE_CHECKING:
    from ledger.aggregates.patient import Patient
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


@batched
def open_encounter(
    ledger: Ledger,
    mrn: str,
    *,
    encounter_class: str,
    attending: str,
    service: str,
    bed: str | None = None,
    effective_at: datetime,
    actor: Identity,
    break_glass_reason: str | None = None,
    batch: Batch | None = None,
) -> UUID:
    """Admit or register a patient for a visit; returns the encounter's id.

    The access policy decides who may admit, and what an admission naming its own actor as
    attending means (`policies.access.decide_admission`): without a relationship it is
    breaking the glass, recorded as a flagged access in the same transaction as the
    encounter (refused without a reason, the refusal recorded).
    """
    acting = ledger.authenticate(actor)
    now = ledger.now()
    check_effective_at(effective_at, now=now, what="admission time")
    check_attending(ledger, attending, batch=batch)
    patient = current_patient(loads_from(ledger, batch), mrn)
    flagged = _judge_move(
        ledger,
        acting.roles,
        patient.mrn,
        attending,
        actor,
        break_glass_reason,
        action="admit",
        now=now,
        batch=batch,
    )
    check_no_open_stay(ledger, patient, encounter_class, batch=batch)  # refused: nothing saved
    encounter = Encounter.open(
        patient.id,
        patient.mrn,
        encounter_class=encounter_class,
        attending=attending,
        service=service,
        bed=bed,
        effective_at=effective_at,
        actor=actor.name,
    )
    save_or_add(ledger, batch, encounter, flagged, signer=actor)
    return encounter.id


def transfer(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    bed: str | None = None,
    service: str | None = None,
    attending: str | None = None,
    effective_at: datetime,
    actor: Identity,
    break_glass_reason: str | None = None,
) -> None:
    """Move the patient to another bed or service, or hand over to another attending (taking
    it over oneself is judged like an admission naming oneself attending)."""
    acting = ledger.authenticate(actor)
    require(charting.may_manage_encounter(acting.roles))
    now = ledger.now()
    check_effective_at(effective_at, now=now, what="transfer time")
    if attending is not None:
        check_attending(ledger, attending)
    encounter = ledger.encounter(encounter_id)
    before = encounter.attending
    encounter.transfer(
        bed=bed,
        service=service,
        attending=attending,
        effective_at=effective_at,
        actor=actor.name,
    )  # checked before judging: only a real move is judged (and saved below)
    flagged = _judge_move(
        ledger,
        acting.roles,
        encounter.mrn,
        encounter.attending if encounter.attending != before else None,
        actor,
        break_glass_reason,
        action="transfer",
        now=now,
    )
    ledger.save(encounter, flagged, signer=actor)


@batched
def discharge(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    disposition: str | UnknownDisposition,
    effective_at: datetime,
    actor: Identity,
    break_glass_reason: str | None = None,
    batch: Batch | None = None,
) -> None:
    """Discharge the patient (a clinician discharging a restricted or VIP patient without
    a close relationship breaks the glass, as a transfer does).

    The disposition is a NUBC status (its code or word); only an interface may say it is not
    known (`policies.limits.UnknownDisposition`, `policies.charting.may_give_unknown_disposition`),
    its words stored as the disposition."""
    acting = ledger.authenticate(actor)
    require(charting.may_manage_encounter(acting.roles))
    now = ledger.now()
    check_effective_at(effective_at, now=now, what="discharge time")
    encounter = loads_from(ledger, batch).encounter(encounter_id)
    if isinstance(disposition, UnknownDisposition):
        require(charting.may_give_unknown_disposition(acting.roles))
        words = check_text(
            disposition.words,
            what="the discharge disposition",
            limit=current_limits(ledger).field_chars,
        )
    else:
        words = checked_disposition(disposition)  # a closed list: the NUBC status codes
    encounter.discharge(disposition=words, effective_at=effective_at, actor=actor.name)
    flagged = _judge_move(
        ledger,
        acting.roles,
        encounter.mrn,
        None,
        actor,
        break_glass_reason,
        action="discharge",
        now=now,
        batch=batch,
    )
    save_or_add(ledger, batch, encounter, flagged, signer=actor)


def check_no_open_stay(
    ledger: Ledger, patient: Patient, encounter_class: str, *, batch: Batch | None = None
) -> None:
    """One open inpatient stay per chart (`policies.charting.may_open_encounter`), the records
    merged into it included, and the encounters pending in `batch`; only read when the new
    encounter is of such a class."""
    if encounter_class not in charting.ONE_AT_A_TIME:
        return
    records = loads_from(ledger, batch)
    patient_ids = chart_patient_ids(records, patient)
    chart = {oid: records.encounter(oid) for oid in encounter_ids(ledger, patient_ids)}
    if batch is not None:
        chart |= {e.id: e for e in batch.pending(Encounter) if e.patient_id in patient_ids}
    open_now = [
        charting.OpenEncounter(str(e.id), e.encounter_class, e.admitted_at)
        for e in chart.values()
        if not e.discharged
    ]
    decision = charting.may_open_encounter(encounter_class, open_now)
    if not decision.allowed:
        raise UsageError(f"{patient.mrn} cannot be admitted: {decision.reason}.")


def check_attending(ledger: Ledger, name: str, *, batch: Batch | None = None) -> None:
    """The attending must be an enrolled physician whose key is not revoked."""
    name = (name or "").strip()
    if not name:
        raise UsageError("Give the attending physician.")
    try:
        user = loads_from(ledger, batch).user(name)
    except NotFound:
        raise UsageError(f"There is no user named '{name}' to be the attending.") from None
    decision = charting.may_be_attending(user.roles)
    if not decision.allowed:
        raise UsageError(f"{user.name} cannot be the attending: {decision.reason}.")
    if user.revoked:
        raise UsageError(f"{user.name} cannot be the attending: their key has been revoked.")


def _judge_move(
    ledger: Ledger,
    roles: Iterable[str],
    mrn: str,
    attending: str | None,
    actor: Identity,
    break_glass_reason: str | None,
    *,
    action: str,
    now: datetime,
    batch: Batch | None = None,
) -> Access | None:
    """The access policy's verdict on an admission, transfer or discharge (`action`), making
    `attending` (None: unchanged) the attending: None when it is plain, a flagged access event
    to save with the encounter when it breaks the glass; a refusal is recorded (an
    `AccessDenied` event, saved at once, in a batch too), then raised."""
    config = current_access_config(ledger)
    mrn = chart_mrn(loads_from(ledger, batch), mrn)
    attending = attending.strip() if attending is not None else None
    guarded = mrn in config.restricted or mrn in config.vip
    held = set(roles)
    relationship = None
    if attending == actor.name or (guarded and held & access_policy.CLINICAL_ROLES):
        relationship = access.relationship_to(
            ledger,
            mrn,
            actor.name,
            now=now,
            window_days=config.window_days,
            restricted=guarded,  # a place the actor made themself is no close relationship
        )
    decision = access_policy.decide_admission(
        held,
        actor=actor.name,
        attending=attending,
        patient=access_policy.PatientFacts(mrn, relationship),
        break_glass_reason=break_glass_reason,
        config=config,
        action="admission" if action == "admit" else action,
    )
    if decision.allowed and not decision.flagged:
        return None
    record = Access.decided(
        decision,
        actor=actor.name,
        mrns=[mrn],
        action=action,
        sections=["encounters"],
        purpose="treatment",
        break_glass_reason=break_glass_reason,
    )
    if decision.allowed:
        return record
    if held & set(config.admit_roles):
        ledger.save(record, signer=actor)
        what = {"admit": "Admission"}.get(action, action.capitalize())
        raise AccessDenied(f"{what} refused: {decision.reason}.")
    raise NotAuthorised(decision.reason[0].upper() + decision.reason[1:] + ".")
