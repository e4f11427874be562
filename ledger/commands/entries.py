"""Chart entries, the commands: add, amend, retract and sign an entry; deny an amendment.

Each authenticates the actor, asks `policies.charting` whether they may, lets the access policy
judge the charting (`_judge_charting`: breaking the glass is a flagged access saved with the
entry; a refusal is recorded, then raised), calls the change on the `Encounter` aggregate, which
keeps its own invariants, and saves once. Adding an entry retries when another entry landed
first (entries are independent); every other command reports the conflict, since it was judged
on a state that has since changed. Adding an entry may run in a `ledger.commands.batch.Batch`
(`batch=`): the same checks, on the encounter as the batch leaves it, and the batch's caller
saves.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING, Any
from uuid import UUID

from ledger.aggregates.access import Access
from ledger.aggregates.access_policy import current_access_config
from ledger.aggregates.encounter import Encounter, check_effective_at
from ledger.commands import access
from ledger.commands.batch import Batch, batched, loads_from
from ledger.errors import AccessDenied, ConflictError, NotFound, UsageError, require
from ledger.reads.charts import chart_mrn
from ledger.text_checks import check_entry_text
from policies import access as access_policy
from policies import charting

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity

_RETRIES = 5


@batched
def add_entry(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    kind: str,
    text: str,
    fields: dict[str, Any] | None = None,
    author: str | None = None,
    effective_at: datetime,
    actor: Identity,
    break_glass_reason: str | None = None,
    batch: Batch | None = None,
) -> UUID:
    """Record a clinical entry; `author` (default: the actor) is who wrote it.

    Charting is an access (`policies.access.decide_charting`): a clinician without the
    relationship a treatment read needs breaks the glass (a flagged access event saved with
    the entry) or is refused (an `AccessDenied` event, and nothing else, is recorded)."""
    acting = ledger.authenticate(actor)
    require(charting.may_record_entry(acting.roles))
    now = ledger.now()
    check_effective_at(effective_at, now=now)
    check_entry_text(ledger, text)
    written_by = (author or actor.name).strip()
    records = loads_from(ledger, batch)
    if written_by != actor.name:
        _check_author(records, written_by)
    for _ in range(_RETRIES):
        encounter = records.encounter(encounter_id)
        flagged = _judge_charting(
            ledger, acting.roles, encounter, actor, break_glass_reason, now=now, batch=batch
        )
        entry_id = encounter.record_entry(
            kind=kind,
            text=text,
            fields=fields if fields is not None else {},
            author=written_by,
            effective_at=effective_at,
            actor=actor.name,
        )
        if batch is not None:
            batch.add(encounter, flagged)
            return entry_id
        try:
            ledger.save(encounter, flagged, signer=actor)
        except ConflictError:
            continue  # another entry landed first; entries are independent, so add it after
        return entry_id
    raise ConflictError(
        f"Encounter {encounter_id} is very busy; the entry was not recorded. Try again."
    )


def amend_entry(
    ledger: Ledger,
    encounter_id: UUID,
    entry_id: UUID,
    *,
    text: str,
    fields: dict[str, Any] | None = None,
    reason: str,
    requested_by: str,
    actor: Identity,
    break_glass_reason: str | None = None,
) -> None:
    """Add a new version of an entry; the earlier ones stay (`fields=None` keeps them).
    An access like adding one (`add_entry`)."""
    acting = ledger.authenticate(actor)
    check_entry_text(ledger, text)
    encounter = ledger.encounter(encounter_id)
    entry = encounter.entry(entry_id)
    require(charting.may_amend(acting.roles, actor=actor.name, author=entry.author))
    flagged = _judge_charting(
        ledger, acting.roles, encounter, actor, break_glass_reason, now=ledger.now()
    )
    encounter.amend_entry(
        entry_id,
        text=text,
        fields=fields,
        reason=reason,
        requested_by=requested_by,
        actor=actor.name,
    )
    ledger.save(encounter, flagged, signer=actor)


def retract_entry(
    ledger: Ledger,
    encounter_id: UUID,
    entry_id: UUID,
    *,
    reason: str,
    actor: Identity,
    break_glass_reason: str | None = None,
) -> None:
    """Mark an entry "entered in error"; it stays in the chart, marked. An access like
    adding one (`add_entry`): a retracted entry leaves releases."""
    acting = ledger.authenticate(actor)
    encounter = ledger.encounter(encounter_id)
    entry = encounter.entry(entry_id)
    require(charting.may_retract(acting.roles, actor=actor.name, author=entry.author))
    flagged = _judge_charting(
        ledger, acting.roles, encounter, actor, break_glass_reason, now=ledger.now()
    )
    encounter.retract_entry(entry_id, reason=reason, actor=actor.name)
    ledger.save(encounter, flagged, signer=actor)


def sign_entry(
    ledger: Ledger,
    encounter_id: UUID,
    entry_id: UUID,
    *,
    actor: Identity,
    break_glass_reason: str | None = None,
) -> None:
    """A physician attests the entry's current version (an access like adding one)."""
    acting = ledger.authenticate(actor)
    encounter = ledger.encounter(encounter_id)
    entry = encounter.entry(entry_id)
    require(
        charting.may_sign(
            acting.roles, actor=actor.name, author=entry.author, attending=encounter.attending
        )
    )
    flagged = _judge_charting(
        ledger, acting.roles, encounter, actor, break_glass_reason, now=ledger.now()
    )
    encounter.sign_entry(entry_id, actor=actor.name)
    ledger.save(encounter, flagged, signer=actor)


def deny_amendment(
    ledger: Ledger,
    encounter_id: UUID,
    entry_id: UUID,
    *,
    reason: str,
    statement_of_disagreement: str | None,
    requested_by: str = "patient",
    requested_change: str | None = None,
    actor: Identity,
) -> None:
    """Record a refused amendment request with the patient's statement of disagreement."""
    acting = ledger.authenticate(actor)
    require(charting.may_deny_amendment(acting.roles))
    encounter = ledger.encounter(encounter_id)
    encounter.deny_amendment(
        entry_id,
        reason=reason,
        statement_of_disagreement=statement_of_disagreement,
        requested_by=requested_by,
        requested_change=requested_change,
        actor=actor.name,
    )
    ledger.save(encounter, signer=actor)


def _judge_charting(
    ledger: Ledger,
    roles: Iterable[str],
    encounter: Encounter,
    actor: Identity,
    break_glass_reason: str | None,
    *,
    now: datetime,
    batch: Batch | None = None,
) -> Access | None:
    """The access policy's verdict on charting in this encounter: None when plain, a flagged
    access event to save with the entry (break the glass, a VIP's or a co-worker's chart); a
    refusal is recorded (an `AccessDenied` event, saved at once, in a batch too), then raised."""
    config = current_access_config(ledger)
    mrn = chart_mrn(loads_from(ledger, batch), encounter.mrn)  # the chart it is now part of
    relationship = None
    if set(roles) & access_policy.CLINICAL_ROLES:  # others: the role rules alone decide
        relationship = access.relationship_to(
            ledger,
            mrn,
            actor.name,
            now=now,
            window_days=config.window_days,
            restricted=mrn in config.restricted,
        )
    decision = access_policy.decide_charting(
        roles,
        actor=actor.name,
        patient=access_policy.PatientFacts(mrn, relationship),
        encounter=access_policy.EncounterFacts(
            attending=encounter.attending,
            care_team=encounter.care_team,
            admitted_at=encounter.admitted_at,
            discharged_at=encounter.discharged_at,
            self_assigned=encounter.self_assigned,
        ),
        break_glass_reason=break_glass_reason,
        config=config,
    )
    if decision.allowed and not decision.flagged:
        return None
    record = Access.decided(
        decision,
        actor=actor.name,
        mrns=[mrn],
        action="chart",
        sections=["chart"],
        purpose="treatment",
        break_glass_reason=break_glass_reason,
    )
    if decision.allowed:
        return record
    ledger.save(record, signer=actor)
    raise AccessDenied(f"Charting refused: {decision.reason}.")


def _check_author(records: Ledger | Batch, name: str) -> None:
    """Someone named as another's entry's author: enrolled, not revoked, a clinician."""
    try:
        user = records.user(name)
    except NotFound:
        raise UsageError(f"There is no user named '{name}' to be the entry's author.") from None
    decision = charting.may_be_named_author(user.roles, revoked=user.revoked)
    if not decision.allowed:
        raise UsageError(f"{user.name} cannot be an entry's author: {decision.reason}.")
