"""Coding and abstracting, the commands: code a stay's diagnoses and procedures, set its
discharge status and admission source, group it, regroup it, ask "what if", sign it final and
reopen it; and the suggestions a coder may take up from the chart.

Each writing command authenticates the actor, asks `policies.coding` whether they may, reads the
clock once (`ledger.now()`), checks every code with `ledger.coding` against the code set in
force on the stay's **discharge date** (an open stay: today), calls the change on the
encounter's `CodingAbstract` (made by the first coding command, saved with it) and saves once.
A refusal is one sentence and writes nothing. The Medicare Code Editor's edits that refuse stop
the command; the ones that only warn are returned (`Coded.warnings`), never hidden.

The reads that show what a stay's coding holds without changing it (`what_if`, `regroup`
without `record`, `suggest_codes`) record their access through the gate first, as every read
that names a patient does.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING, Any, cast
from uuid import UUID

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.coding import CodingAbstract, abstract_id, dotted_diagnosis, plain_code
from ledger.aggregates.encounter import Encounter
from ledger.aggregates.query import PhysicianQuery
from ledger.commands import access, queries
from ledger.errors import ConflictError, NotFound, UsageError, require
from ledger.reads.charts import chart_mrn
from policies import charting
from policies import coding as rules
from policies.limits import DISCHARGE_DISPOSITIONS

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.coding.claim import Claim
    from ledger.coding.edits import Edit
    from ledger.coding.grouper import Grouping, Regrouping
    from ledger.integrity.keys import Identity

PRE_ADMISSION_DAYS = 3
"""How long before admission a procedure may have been done and still be on the stay's claim
(CMS's three-day payment window: preadmission services belong to the inpatient claim)."""

ICD10CM_SYSTEMS = frozenset(
    {
        "http://hl7.org/fhir/sid/icd-10-cm",
        "urn:oid:2.16.840.1.113883.6.90",
        "icd-10-cm",
        "icd10cm",
        "icd-10",
    }
)
"""The code systems an entry's `fields["system"]` names ICD-10-CM by (FHIR's URI, its OID, and
the plain names people type); SNOMED CT and the rest are not ICD-10-CM and are never offered."""

GROUPING_SECTIONS = ["coding"]
"""What a read of a stay's coding asks the access policy for."""


@dataclass(frozen=True)
class Coded:
    """What a coding command did: the code as recorded, its text, and the warnings it raised."""

    encounter_id: UUID
    mrn: str
    code: str
    """As recorded (CMS form); `shown` is how people read it."""
    shown: str
    description: str
    checked_on: date
    warnings: tuple[str, ...] = ()


# -- the pieces every command shares --------------------------------------------------------------


def coding_date(encounter: Encounter, now: datetime) -> date:
    """The date a stay's codes are checked against: its discharge (UTC), or today if open."""
    moment = encounter.discharged_at or now
    return moment.astimezone(UTC).date()


def abstract_of(ledger: Ledger, encounter_id: UUID) -> CodingAbstract | None:
    """The encounter's abstract, or None before anything was coded."""
    try:
        found: object = ledger.repository.get(abstract_id(encounter_id))
    except AggregateNotFoundError:
        return None
    return found if isinstance(found, CodingAbstract) else None


def _abstract(ledger: Ledger, encounter: Encounter, actor: str) -> CodingAbstract:
    """The abstract to change: the encounter's, or a new one (saved with the first change)."""
    found = abstract_of(ledger, encounter.id)
    if found is not None:
        return found
    return CodingAbstract.start(
        encounter_id=encounter.id,
        patient_id=encounter.patient_id,
        mrn=encounter.mrn,
        actor=actor,
    )


def _existing(ledger: Ledger, encounter_id: UUID, doing: str) -> CodingAbstract:
    found = abstract_of(ledger, encounter_id)
    if found is None or not found.coded:
        raise UsageError(
            f"Encounter {encounter_id} has not been coded: code a principal diagnosis before "
            f"{doing}."
        )
    return found


def _coder(ledger: Ledger, actor: Identity) -> None:
    require(rules.may_code(ledger.authenticate(actor).roles))


def _problem(sentence: str | None) -> None:
    if sentence is not None:
        raise UsageError(sentence)


def _reason(ledger: Ledger, reason: str | None) -> str:
    from ledger.aggregates.access_policy import current_limits
    from ledger.text_checks import check_text

    cleaned = (reason or "").strip()
    _problem(rules.reason_problem(cleaned))
    return check_text(cleaned, what="the reason", limit=current_limits(ledger).field_chars)


def _age_and_sex(ledger: Ledger, encounter: Encounter) -> tuple[int, str]:
    """The patient's age at admission (whole years) and sex as a claim gives it (M, F, U)."""
    patient = ledger.patient(encounter.mrn)
    born = patient.demographics.get("birth_date")
    if not isinstance(born, date):
        raise UsageError(
            f"{encounter.mrn} has no date of birth recorded: the grouper needs the age at "
            "admission ('patient correct' first)."
        )
    admitted = encounter.admitted_at.astimezone(UTC).date()
    age = admitted.year - born.year - ((admitted.month, admitted.day) < (born.month, born.day))
    sex = {"female": "F", "male": "M"}.get(str(patient.demographics.get("sex") or ""), "U")
    return max(age, 0), sex


def disposition_status(encounter: Encounter) -> str | None:
    """The NUBC discharge status of the encounter's recorded disposition (stored as its word)."""
    if encounter.disposition is None:
        return None
    by_word = {word: code for code, word in DISCHARGE_DISPOSITIONS.items()}
    return by_word.get(encounter.disposition)


def claim_of(
    ledger: Ledger,
    encounter: Encounter,
    abstract: CodingAbstract,
    *,
    now: datetime,
    principal: tuple[str, str] | None = None,
) -> Claim:
    """The claim the abstract makes now: its codes, the patient's age at admission and sex, the
    discharge date (an open stay: `today`), the discharge status (the abstract's, else the
    disposition's, else 30 "still a patient") and the admission source (else 9, "information
    not available"). `principal` (code, POA) replaces the principal diagnosis (a what-if)."""
    from ledger.coding.claim import Claim
    from ledger.coding.claim import CodedDiagnosis as ClaimDiagnosis
    from ledger.coding.claim import CodedProcedure as ClaimProcedure

    chosen = principal
    if chosen is None:
        if abstract.principal is None:
            raise UsageError(
                f"Encounter {encounter.id} has no principal diagnosis: code one (--principal) "
                "before grouping."
            )
        chosen = (abstract.principal.code, abstract.principal.poa)
    age, sex = _age_and_sex(ledger, encounter)
    status = abstract.discharge_status or disposition_status(encounter) or "30"
    return Claim(
        discharge=coding_date(encounter, now),
        age=age,
        sex=sex,
        discharge_status=status,
        admission_source=abstract.admission_source or "9",
        principal=ClaimDiagnosis(chosen[0], chosen[1]),
        secondary=tuple(
            ClaimDiagnosis(d.code, d.poa) for d in abstract.secondary if d.code != chosen[0]
        ),
        procedures=tuple(ClaimProcedure(p.code, p.on) for p in abstract.procedures),
    )


def _only_inpatient(encounter: Encounter) -> None:
    if encounter.encounter_class != "inpatient":
        raise UsageError(
            f"Encounter {encounter.id} is an {encounter.encounter_class} visit: MS-DRG groups "
            "inpatient stays only."
        )


def _edits_of(
    ledger: Ledger, encounter: Encounter, abstract: CodingAbstract, code: str, *, now: datetime
) -> tuple[str, ...]:
    """The MCE edits of the abstract as it would be: one that refuses on `code` (or on the
    claim as a whole) stops the command; the rest come back as warnings."""
    if abstract.principal is None:
        return ()  # no claim yet: the editor runs once a principal diagnosis is coded
    from ledger.coding.edits import code_edits

    found: list[Edit] = code_edits(claim_of(ledger, encounter, abstract, now=now))
    for edit in found:
        if edit.refuses and edit.code in (code, None):
            raise UsageError(edit.sentence)
    return tuple(edit.sentence for edit in found)


def _suggested_by(encounter: Encounter, reference: str | None) -> str | None:
    """ENCOUNTER:ENTRY of a (not retracted) entry of this encounter, given as either form."""
    if reference is None or not reference.strip():
        return None
    text = reference.strip()
    head, _, tail = text.partition(":")
    try:
        entry = UUID(tail or head)
        if tail and UUID(head) != encounter.id:
            raise UsageError(f"Entry {text} is not in encounter {encounter.id}.")
    except ValueError:
        raise UsageError(f"'{text}' is not an entry: give ENTRY or ENCOUNTER:ENTRY.") from None
    found = encounter.entries.get(entry)
    if found is None:
        raise UsageError(f"There is no entry {entry} in encounter {encounter.id}.")
    if found.retracted:
        raise UsageError(f"Entry {entry} was retracted (entered in error): it suggests nothing.")
    return f"{encounter.id}:{entry}"


def _query(ledger: Ledger, encounter: Encounter, query_id: UUID | None) -> PhysicianQuery | None:
    """The answered physician query of this stay a code change comes from (checked before the
    change is made); the command links its answer to the change and saves both together."""
    if query_id is None:
        return None
    return queries.query_for_change(ledger, query_id, encounter_id=encounter.id)


def _link(
    query: PhysicianQuery | None, abstract: CodingAbstract, code: str, actor: Identity
) -> list[PhysicianQuery]:
    """Record on the query which change its answer led to (to be saved with the abstract)."""
    if query is None:
        return []
    queries.link_change(query, abstract, code=code, actor=actor.name)
    return [query]


def _check_physician(ledger: Ledger, name: str) -> str:
    """The operating physician: an enrolled physician whose key is not revoked."""
    cleaned = (name or "").strip()
    if not cleaned:
        raise UsageError("Give the operating physician (--surgeon).")
    try:
        user = ledger.user(cleaned)
    except NotFound:
        raise UsageError(f"There is no user named '{cleaned}' to be the surgeon.") from None
    if not charting.may_be_attending(user.roles).allowed:
        raise UsageError(f"{user.name} cannot be the operating physician: not a physician.")
    if user.revoked or user.public_key is None:
        raise UsageError(f"{user.name} cannot be the operating physician: not enrolled.")
    return user.name


def _procedure_date(encounter: Encounter, on: date, now: datetime) -> date:
    first = encounter.admitted_at.astimezone(UTC).date() - timedelta(days=PRE_ADMISSION_DAYS)
    last = coding_date(encounter, now)
    if not first <= on <= last:
        raise UsageError(
            f"The procedure date {on.isoformat()} is outside the stay: give a date from "
            f"{first.isoformat()} (three days before admission) to {last.isoformat()}."
        )
    return on


# -- diagnoses ------------------------------------------------------------------------------------


def code_diagnosis(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    code: str,
    poa: str,
    principal: bool,
    actor: Identity,
    suggested_by: str | None = None,
    query_id: UUID | None = None,
) -> Coded:
    """Code a diagnosis on the stay: valid on the discharge date, no Excludes1 conflict with
    what is coded, no MCE edit that refuses it."""
    from ledger.coding import icd10cm

    _coder(ledger, actor)
    now = ledger.now()
    poa = (poa or "").strip().upper()
    _problem(rules.poa_problem(poa))
    encounter = ledger.encounter(encounter_id)
    on = coding_date(encounter, now)
    diagnosis = icd10cm.check_diagnosis(code, on=on)
    query = _query(ledger, encounter, query_id)
    abstract = _abstract(ledger, encounter, actor.name)
    _no_excludes1(abstract, diagnosis.code, leaving=None)
    abstract.code_diagnosis(
        diagnosis.code,
        poa=poa,
        principal=principal,
        checked_on=on,
        actor=actor.name,
        suggested_by=_suggested_by(encounter, suggested_by),
        query_id=query.id if query is not None else None,
    )
    warnings = _edits_of(ledger, encounter, abstract, diagnosis.code, now=now)
    linked = _link(query, abstract, diagnosis.code, actor)
    ledger.save(abstract, *linked, signer=actor)
    return Coded(
        encounter.id, encounter.mrn, diagnosis.code, diagnosis.dotted, diagnosis.description, on,
        warnings,
    )  # fmt: skip


def _no_excludes1(abstract: CodingAbstract, code: str, *, leaving: str | None) -> None:
    from ledger.coding import icd10cm

    others = [d.code for d in abstract.diagnoses if d.code not in (code, leaving)]
    for conflict in icd10cm.excludes1_conflicts([*others, code]):
        if code in (conflict.code, conflict.other):
            raise UsageError(conflict.sentence)


def change_diagnosis(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    old: str,
    new: str,
    poa: str,
    reason: str,
    actor: Identity,
    suggested_by: str | None = None,
    query_id: UUID | None = None,
) -> Coded:
    """Replace a coded diagnosis (or only its POA indicator) with a reason; it keeps its place."""
    from ledger.coding import icd10cm

    _coder(ledger, actor)
    now = ledger.now()
    poa = (poa or "").strip().upper()
    _problem(rules.poa_problem(poa))
    why = _reason(ledger, reason)
    encounter = ledger.encounter(encounter_id)
    on = coding_date(encounter, now)
    abstract = _existing(ledger, encounter.id, "changing a code")
    diagnosis = icd10cm.check_diagnosis(new, on=on)
    query = _query(ledger, encounter, query_id)
    _no_excludes1(abstract, diagnosis.code, leaving=plain_code(old))
    abstract.change_diagnosis(
        old,
        diagnosis.code,
        poa=poa,
        reason=why,
        checked_on=on,
        actor=actor.name,
        suggested_by=_suggested_by(encounter, suggested_by),
        query_id=query.id if query is not None else None,
    )
    warnings = _edits_of(ledger, encounter, abstract, diagnosis.code, now=now)
    linked = _link(query, abstract, diagnosis.code, actor)
    ledger.save(abstract, *linked, signer=actor)
    return Coded(
        encounter.id, encounter.mrn, diagnosis.code, diagnosis.dotted, diagnosis.description, on,
        warnings,
    )  # fmt: skip


def remove_diagnosis(
    ledger: Ledger, encounter_id: UUID, *, code: str, reason: str, actor: Identity
) -> Coded:
    """Remove a coded diagnosis, with the reason (the event keeps what was removed)."""
    _coder(ledger, actor)
    now = ledger.now()
    why = _reason(ledger, reason)
    encounter = ledger.encounter(encounter_id)
    abstract = _existing(ledger, encounter.id, "removing a code")
    abstract.remove_diagnosis(code, reason=why, actor=actor.name)
    plain = plain_code(code)
    ledger.save(abstract, signer=actor)
    return Coded(
        encounter.id, encounter.mrn, plain, dotted_diagnosis(plain), "", coding_date(encounter, now)
    )


# -- procedures -----------------------------------------------------------------------------------


def code_procedure(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    code: str,
    on: date,
    operating_physician: str,
    actor: Identity,
) -> Coded:
    """Code an ICD-10-PCS procedure valid on the discharge date, done during the stay (or in
    the three days before it) by an enrolled physician."""
    from ledger.coding import icd10pcs

    _coder(ledger, actor)
    now = ledger.now()
    encounter = ledger.encounter(encounter_id)
    checked_on = coding_date(encounter, now)
    procedure = icd10pcs.check_procedure(code, on=checked_on)
    when = _procedure_date(encounter, on, now)
    surgeon = _check_physician(ledger, operating_physician)
    abstract = _abstract(ledger, encounter, actor.name)
    abstract.code_procedure(
        procedure.code,
        on=when,
        operating_physician=surgeon,
        checked_on=checked_on,
        actor=actor.name,
    )
    warnings = _edits_of(ledger, encounter, abstract, procedure.code, now=now)
    ledger.save(abstract, signer=actor)
    return Coded(
        encounter.id, encounter.mrn, procedure.code, procedure.code, procedure.title, checked_on,
        warnings,
    )  # fmt: skip


def change_procedure(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    old: str,
    new: str,
    reason: str,
    actor: Identity,
    on: date | None = None,
    operating_physician: str | None = None,
) -> Coded:
    """Replace a coded procedure, or its date or surgeon (None: unchanged), with a reason."""
    from ledger.coding import icd10pcs

    _coder(ledger, actor)
    now = ledger.now()
    why = _reason(ledger, reason)
    encounter = ledger.encounter(encounter_id)
    checked_on = coding_date(encounter, now)
    abstract = _existing(ledger, encounter.id, "changing a code")
    procedure = icd10pcs.check_procedure(new, on=checked_on)
    abstract.change_procedure(
        old,
        procedure.code,
        on=_procedure_date(encounter, on, now) if on is not None else None,
        operating_physician=(
            _check_physician(ledger, operating_physician) if operating_physician else None
        ),
        reason=why,
        checked_on=checked_on,
        actor=actor.name,
    )
    warnings = _edits_of(ledger, encounter, abstract, procedure.code, now=now)
    ledger.save(abstract, signer=actor)
    return Coded(
        encounter.id, encounter.mrn, procedure.code, procedure.code, procedure.title, checked_on,
        warnings,
    )  # fmt: skip


def remove_procedure(
    ledger: Ledger, encounter_id: UUID, *, code: str, reason: str, actor: Identity
) -> Coded:
    _coder(ledger, actor)
    now = ledger.now()
    why = _reason(ledger, reason)
    encounter = ledger.encounter(encounter_id)
    abstract = _existing(ledger, encounter.id, "removing a code")
    abstract.remove_procedure(code, reason=why, actor=actor.name)
    plain = plain_code(code)
    ledger.save(abstract, signer=actor)
    return Coded(encounter.id, encounter.mrn, plain, plain, "", coding_date(encounter, now))


# -- discharge status and admission source --------------------------------------------------------


@dataclass(frozen=True)
class StatusSet:
    """What `set_status` recorded (None: left as it was)."""

    discharge_status: str | None
    discharge_status_source: str | None
    admission_source: str | None


def set_status(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    discharge_status: str | None = None,
    admission_source: str | None = None,
    from_disposition: bool = False,
    actor: Identity,
) -> StatusSet:
    """Set the UB-04 discharge status (given, or from the encounter's recorded disposition)
    and the point of origin, in one save; a value the abstract already has records nothing."""
    _coder(ledger, actor)
    encounter = ledger.encounter(encounter_id)
    status: str | None = None
    source = "coder"
    if discharge_status is not None:
        status = discharge_status.strip().zfill(2)
        _problem(rules.discharge_status_problem(status))
    elif from_disposition:
        status = disposition_status(encounter)
        if status is None:
            raise UsageError(
                f"Encounter {encounter.id} has no discharge disposition recorded: give the "
                "discharge status (--discharge-status)."
            )
        source = "disposition"
    origin = admission_source.strip().upper() if admission_source is not None else None
    if origin is not None:
        _problem(rules.admission_source_problem(origin))
    if status is None and origin is None:
        raise UsageError("Give the discharge status, the admission source, or both.")
    abstract = _abstract(ledger, encounter, actor.name)
    set_status_to = (
        status if status and abstract.set_discharge_status(status, source=source, actor=actor.name)
        else None
    )  # fmt: skip
    set_source = (
        origin if origin and abstract.set_admission_source(origin, actor=actor.name) else None
    )
    if set_status_to is None and set_source is None:
        raise UsageError(f"The abstract of encounter {encounter.id} already says so.")
    ledger.save(abstract, signer=actor)
    return StatusSet(set_status_to, source if set_status_to else None, set_source)


def set_discharge_status(
    ledger: Ledger, encounter_id: UUID, *, status: str | None = None, actor: Identity
) -> StatusSet:
    """The discharge status; None takes it from the encounter's recorded disposition."""
    return set_status(
        ledger, encounter_id, discharge_status=status, from_disposition=status is None, actor=actor
    )


def set_admission_source(
    ledger: Ledger, encounter_id: UUID, *, source: str, actor: Identity
) -> StatusSet:
    return set_status(ledger, encounter_id, admission_source=source, actor=actor)


# -- grouping -------------------------------------------------------------------------------------


def group_stay(ledger: Ledger, encounter_id: UUID, *, actor: Identity) -> Grouping:
    """Group the abstract as it is (msdrg version by discharge date, MCE, Table 5, the drgpy
    cross-check) and record the grouping; a claim that does not group is refused, naming why."""
    from ledger.coding import grouper

    _coder(ledger, actor)
    now = ledger.now()
    encounter, abstract, claim = _to_group(ledger, encounter_id, now=now)
    grouping = grouper.group(claim)
    _record(encounter, abstract, grouping, actor)
    ledger.save(abstract, signer=actor)
    return grouping


def _to_group(
    ledger: Ledger, encounter_id: UUID, *, now: datetime
) -> tuple[Encounter, CodingAbstract, Claim]:
    """What grouping a stay reads: its encounter (inpatient), its abstract (coded) and the
    claim they make now."""
    encounter = ledger.encounter(encounter_id)
    _only_inpatient(encounter)
    abstract = _existing(ledger, encounter.id, "grouping")
    return encounter, abstract, claim_of(ledger, encounter, abstract, now=now)


def _record(
    encounter: Encounter, abstract: CodingAbstract, grouping: Grouping, actor: Identity
) -> None:
    """The grouping onto the abstract, or the refusal: it does not group, or the abstract is
    signed final."""
    _grouped_or_refused(encounter, grouping)
    abstract.record_grouping(grouping.as_event_fields(), actor=actor.name)


def _grouped_or_refused(encounter: Encounter, grouping: Grouping) -> None:
    if grouping.grouped:
        return
    refusing = [edit.sentence for edit in grouping.edits if edit.refuses]
    why = f": {refusing[0][:1].lower()}{refusing[0][1:]}" if refusing else "."
    if not why.endswith("."):
        why += "."
    raise UsageError(
        f"Encounter {encounter.id} does not group (msdrg {grouping.grouper_version}: "
        f"{grouping.return_code}){why}"
    )


# -- grouping many stays ---------------------------------------------------------------------------

GROUPING_BATCH = 200
"""How many stays' groupings `group_stays` saves together, in one signed transaction."""

_REFUSALS = (UsageError, NotFound)
"""What `group_stay` refuses a stay with (its codes, its state, a record it lacks). Anything
else (an integrity violation, the store gone, a conflict it cannot get past) stops the run."""


@dataclass(frozen=True)
class StayGrouping:
    """One stay of `group_stays`: the grouping recorded for it, or why none was."""

    encounter_id: UUID
    grouping: Grouping | None
    """The grouping recorded: the `Grouped` event `group_stay` records for the stay. None when
    it was not grouped."""
    refused: str | None = None
    """The sentence `group_stay` would have refused the stay with; nothing was recorded for it."""
    save: int | None = None
    """Which of the run's saves (1, 2, …) recorded it."""

    @property
    def recorded(self) -> bool:
        return self.grouping is not None


def group_stays(
    ledger: Ledger,
    encounter_ids: Iterable[UUID],
    *,
    actor: Identity,
    batch_size: int = GROUPING_BATCH,
) -> list[StayGrouping]:
    """Group many stays (a night's DNFB, or every stay after a grouper update), each exactly as
    `group_stay` would and recording the same `Grouped` event, one result per stay in the order
    given (repeats once).

    It authenticates once, reads the clock once, reads inside one read scope, groups a batch of
    `batch_size` stays engine by engine (`grouper.group_many`) and saves the batch's groupings
    in one `ledger.save`. A stay `group_stay` would refuse (it does not group, it is not coded,
    signed final, not an inpatient stay, its patient has no date of birth…) is reported with
    that sentence, not saved, and does not stop the others. A batch whose save is refused (a
    conflict with another writer, an event the store will not take) is done again stay by
    stay, each read afresh and saved alone."""
    _coder(ledger, actor)
    now = ledger.now()
    with ledger.one_read():
        return _group_batches(ledger, list(dict.fromkeys(encounter_ids)), now, actor, batch_size)


def group_all(
    ledger: Ledger,
    *,
    since: date | None = None,
    until: date | None = None,
    again: bool = False,
    actor: Identity,
    batch_size: int = GROUPING_BATCH,
) -> list[StayGrouping]:
    """`code group-all`: group the stays `stays_to_group` finds (discharged from `since` to
    `until`, not signed final, changed since their last grouping, or all with `again`), as
    `group_stays` does, in the same read scope as the finding."""
    _coder(ledger, actor)
    now = ledger.now()
    with ledger.one_read():
        found = stays_to_group(ledger, since=since, until=until, again=again)
        return _group_batches(ledger, found, now, actor, batch_size)


def stays_to_group(
    ledger: Ledger, *, since: date | None = None, until: date | None = None, again: bool = False
) -> list[UUID]:
    """The inpatient stays with a coding abstract, discharged on `since` … `until` (UTC dates,
    inclusive; either open), whose abstract is not signed final and has changed since it was
    last grouped (or was never grouped); with `again`, every one of them. Encounter ids,
    oldest discharge first. Names no patient (the caller shows only counts)."""
    started = ledger.recorder.select_notifications(
        start=None, limit=10_000_000, topics=[CodingAbstract.Started.TOPIC]
    )
    found: list[tuple[datetime, UUID]] = []
    for note in started:
        abstract: object = ledger.repository.get(cast(UUID, note.originator_id))
        if not isinstance(abstract, CodingAbstract) or abstract.final:
            continue
        if abstract.grouped_current and not again:
            continue
        encounter = ledger.encounter(abstract.encounter_id)
        out = encounter.discharged_at
        if out is None or encounter.encounter_class != "inpatient":
            continue
        day = out.astimezone(UTC).date()
        if (since is None or since <= day) and (until is None or day <= until):
            found.append((out, encounter.id))
    return [encounter_id for _, encounter_id in sorted(found)]


def _group_batches(
    ledger: Ledger, ids: list[UUID], now: datetime, actor: Identity, batch_size: int
) -> list[StayGrouping]:
    from ledger.coding import grouper

    size = max(1, batch_size)
    out: dict[UUID, StayGrouping] = {}
    saves = 0
    for start in range(0, len(ids), size):
        read: list[tuple[UUID, Encounter, CodingAbstract, Claim]] = []
        for encounter_id in ids[start : start + size]:
            try:
                read.append((encounter_id, *_to_group(ledger, encounter_id, now=now)))
            except _REFUSALS as refused:
                out[encounter_id] = StayGrouping(encounter_id, None, str(refused))
        groupings = grouper.group_many([claim for *_, claim in read])
        pending: list[tuple[UUID, CodingAbstract, Grouping]] = []
        for (encounter_id, encounter, abstract, _), grouping in zip(read, groupings, strict=True):
            try:
                if isinstance(grouping, UsageError):
                    raise grouping
                _record(encounter, abstract, grouping, actor)
            except _REFUSALS as refused:
                out[encounter_id] = StayGrouping(encounter_id, None, str(refused))
                continue
            pending.append((encounter_id, abstract, grouping))
        if pending:
            try:
                ledger.save(*(abstract for _, abstract, _ in pending), signer=actor)
            except (ConflictError, UsageError):
                for encounter_id, _, _ in pending:
                    alone = _group_alone(ledger, encounter_id, now, actor, saves + 1)
                    saves += alone.recorded
                    out[encounter_id] = alone
            else:
                saves += 1
                for encounter_id, _, grouping in pending:
                    out[encounter_id] = StayGrouping(encounter_id, grouping, save=saves)
        _forget(ledger, [encounter for _, encounter, _, _ in read])
    return [out[encounter_id] for encounter_id in ids]


def _group_alone(
    ledger: Ledger, encounter_id: UUID, now: datetime, actor: Identity, save: int
) -> StayGrouping:
    """One stay of a batch whose save was refused, grouped as `group_stay` does: read afresh
    (what another writer changed meanwhile included), grouped, saved alone."""
    from ledger.coding import grouper

    try:
        encounter = ledger.encounter(encounter_id)
        _forget(ledger, [encounter])
        encounter, abstract, claim = _to_group(ledger, encounter_id, now=now)
        grouping = grouper.group(claim)
        _record(encounter, abstract, grouping, actor)
        ledger.save(abstract, signer=actor)
    except (*_REFUSALS, ConflictError) as refused:
        return StayGrouping(encounter_id, None, str(refused))
    return StayGrouping(encounter_id, grouping, save=save)


def _forget(ledger: Ledger, encounters: list[Encounter]) -> None:
    """Let the read scope drop a batch's encounters, patients and abstracts (bounded memory; a
    stay read again is read afresh)."""
    from ledger.aggregates.patient import patient_id

    ids: list[UUID] = []
    for encounter in encounters:
        ids += [encounter.id, abstract_id(encounter.id), patient_id(encounter.mrn)]
    forget = getattr(ledger.repository, "forget", None)
    if forget is not None:
        forget(ids)


@dataclass(frozen=True)
class Regrouped:
    """A regrouping: what it showed, and whether a new grouping was recorded."""

    mrn: str
    encounter_id: UUID
    regrouping: Regrouping
    recorded_from: int
    """The abstract version of the grouping re-run."""
    recorded: Grouping | None
    """The grouping recorded (`record=True` and something new to record), else None."""


def regroup(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    actor: Identity,
    purpose: str = "operations",
    record: bool = False,
) -> Regrouped:
    """Re-run the last recorded grouping from its recorded inputs through its recorded grouper
    version and say whether it reproduced exactly, or what changed (the package, or the
    abstract's codes since); with `record`, record the new grouping (the abstract as it is now
    if it changed, else the re-run) when it differs from the recorded one."""
    from ledger.coding import grouper

    acting = ledger.authenticate(actor)
    require(rules.may_code(acting.roles) if record else rules.may_read_coding(acting.roles))
    now = ledger.now()
    encounter = ledger.encounter(encounter_id)
    abstract = abstract_of(ledger, encounter.id)
    if abstract is None or not abstract.coded:
        raise UsageError(
            f"Encounter {encounter.id} has not been coded: there is no grouping to regroup "
            "(code it, then 'code group')."
        )
    last = abstract.last_grouping
    if last is None:
        raise UsageError(
            f"Encounter {encounter.id} has never been grouped: run 'code group' first."
        )
    if record and abstract.final:
        raise UsageError(
            f"The abstract of encounter {encounter.id} is signed final: reopen it ('code "
            "reopen' with a reason) to record a new grouping, or regroup without --record."
        )
    current = claim_of(ledger, encounter, abstract, now=now) if abstract.principal else None
    mrn = chart_mrn(ledger, encounter.mrn)
    access.record_access(
        ledger, [mrn], actor=actor, action="query", sections=GROUPING_SECTIONS, purpose=purpose
    )
    result = grouper.regroup(last.fields, current)
    recorded: Grouping | None = None
    if record and not (result.reproduced and result.current is None):
        recorded = result.current or result.rerun
        _grouped_or_refused(encounter, recorded)
        abstract.record_grouping(
            recorded.as_event_fields(), actor=actor.name, regrouped_from=last.version
        )
        ledger.save(abstract, signer=actor)
    return Regrouped(mrn, encounter.id, result, last.version, recorded)


@dataclass(frozen=True)
class WhatIf:
    """The stay grouped in memory with another principal diagnosis, beside its last grouping."""

    mrn: str
    encounter_id: UUID
    principal: str
    """The principal tried (CMS form)."""
    grouping: Grouping
    recorded: dict[str, Any] | None
    """The last recorded grouping's fields, to compare with, or None if never grouped."""


def what_if(
    ledger: Ledger,
    encounter_id: UUID,
    *,
    principal: str,
    actor: Identity,
    purpose: str = "operations",
) -> WhatIf:
    """Group the stay in memory as if `principal` were its principal diagnosis (a secondary
    taken up keeps its POA and the old principal becomes secondary; another code replaces
    it); records only the access it shows."""
    from ledger.coding import grouper, icd10cm

    acting = ledger.authenticate(actor)
    require(rules.may_read_coding(acting.roles))
    now = ledger.now()
    encounter = ledger.encounter(encounter_id)
    _only_inpatient(encounter)
    abstract = _existing(ledger, encounter.id, "asking what if")
    diagnosis = icd10cm.check_diagnosis(principal, on=coding_date(encounter, now))
    secondary = abstract.diagnosis(diagnosis.code)
    poa = secondary.poa if secondary is not None else "Y"
    claim = claim_of(ledger, encounter, abstract, now=now, principal=(diagnosis.code, poa))
    if secondary is not None and abstract.principal is not None:
        from dataclasses import replace

        from ledger.coding.claim import CodedDiagnosis as ClaimDiagnosis

        old = ClaimDiagnosis(abstract.principal.code, abstract.principal.poa)
        claim = replace(claim, secondary=(old, *claim.secondary))
    mrn = chart_mrn(ledger, encounter.mrn)
    access.record_access(
        ledger, [mrn], actor=actor, action="query", sections=GROUPING_SECTIONS, purpose=purpose
    )
    last = abstract.last_grouping
    return WhatIf(
        mrn, encounter.id, diagnosis.code, grouper.group(claim), last.fields if last else None
    )


# -- final ----------------------------------------------------------------------------------------


def sign_final(ledger: Ledger, encounter_id: UUID, *, actor: Identity) -> int:
    """The coder signs the abstract final: a discharged stay, a principal diagnosis, and a
    grouping of exactly the claim the abstract makes now (the codes, and the patient's age
    and sex and the discharge as they stand). Returns the DRG signed."""
    require(rules.may_sign_final(ledger.authenticate(actor).roles))
    now = ledger.now()
    encounter = ledger.encounter(encounter_id)
    if not encounter.discharged:
        raise UsageError(
            f"Encounter {encounter.id} is still open: an abstract is signed final after discharge."
        )
    abstract = _existing(ledger, encounter.id, "signing it final")
    last = abstract.last_grouping
    if last is not None and abstract.grouped_current and abstract.principal is not None:
        claim = claim_of(ledger, encounter, abstract, now=now)
        from ledger.coding.claim import inputs_sha256

        version = int(last.fields["grouper_version"])
        if inputs_sha256(claim.msdrg_input(version)) != last.inputs_sha256:
            raise UsageError(
                f"The stay's claim changed since encounter {encounter.id} was grouped (the "
                "patient's age or sex, or the discharge): run 'code group' before signing it "
                "final."
            )
    drg = abstract.sign_final(actor=actor.name)
    ledger.save(abstract, signer=actor)
    return drg


def reopen(ledger: Ledger, encounter_id: UUID, *, reason: str, actor: Identity) -> None:
    """Reopen a final abstract, with the reason (a query answered late, an audit finding…)."""
    require(rules.may_sign_final(ledger.authenticate(actor).roles))
    why = _reason(ledger, reason)
    encounter = ledger.encounter(encounter_id)
    abstract = _existing(ledger, encounter.id, "reopening it")
    abstract.reopen(reason=why, actor=actor.name)
    ledger.save(abstract, signer=actor)


# -- suggestions from the chart -------------------------------------------------------------------


@dataclass(frozen=True)
class Suggestion:
    """An ICD-10-CM code a physician wrote in one of the stay's chart entries: offered, never
    coded until the coder codes it (`code dx … --from-entry ENTRY`)."""

    entry: str
    """ENCOUNTER:ENTRY."""
    kind: str
    author: str
    written_at: datetime
    code: str
    """CMS form."""
    shown: str
    display: str | None
    """The text the entry gave with the code, if any."""
    codable: str | None
    """None when the code may be coded for the stay's discharge date; otherwise the sentence
    that would refuse it (a category, a missing 7th character, …)."""
    coded: bool
    """Already on the abstract."""

    def as_dict(self) -> dict[str, Any]:
        return {
            "entry": self.entry,
            "kind": self.kind,
            "author": self.author,
            "written_at": self.written_at.isoformat(),
            "code": self.shown,
            "display": self.display,
            "codable": self.codable is None,
            "problem": self.codable,
            "coded": self.coded,
        }


def _codes_in(fields: dict[str, Any]) -> list[tuple[str, str | None]]:
    """The ICD-10-CM codes an entry's fields carry: its primary coding and any of `codings`."""
    found: list[tuple[str, str | None]] = []
    candidates = [fields, *(c for c in fields.get("codings") or [] if isinstance(c, dict))]
    for coding in candidates:
        system = str(coding.get("system") or "").strip().lower()
        code = coding.get("code")
        if system in ICD10CM_SYSTEMS and isinstance(code, str) and code.strip():
            display = coding.get("display")
            pair = (plain_code(code), display if isinstance(display, str) else None)
            if pair[0] not in {c for c, _ in found}:
                found.append(pair)
    return found


def suggest_codes(
    ledger: Ledger, encounter_id: UUID, *, actor: Identity, purpose: str = "operations"
) -> tuple[str, list[Suggestion]]:
    """The ICD-10-CM codes physicians wrote in the stay's entries (and imported entries carry),
    after recording the access: only the entry kinds the purpose may see are read. Returns the
    chart's MRN and the suggestions."""
    from ledger.coding import icd10cm

    acting = ledger.authenticate(actor)
    require(rules.may_code(acting.roles))
    now = ledger.now()
    with ledger.one_read():
        encounter = ledger.encounter(encounter_id)
        mrn = chart_mrn(ledger, encounter.mrn)
        decision = access.record_access(
            ledger,
            [mrn],
            actor=actor,
            action="query",
            sections=list(charting.ENTRY_KIND_CHOICES),
            purpose=purpose,
        )
        kinds = set(decision.sections)
        physicians = {u.name for u in ledger.users() if "physician" in u.roles}
        abstract = abstract_of(ledger, encounter.id)
        on = coding_date(encounter, now)
        found: list[Suggestion] = []
        for entry in encounter.entries.values():
            imported = bool(entry.fields.get("fhir"))
            if entry.retracted or entry.kind not in kinds:
                continue
            if entry.author not in physicians and not imported:
                continue
            for code, display in _codes_in(entry.fields):
                try:
                    icd10cm.check_diagnosis(code, on=on)
                    problem = None
                except UsageError as refused:
                    problem = str(refused)
                found.append(
                    Suggestion(
                        entry=f"{encounter.id}:{entry.id}",
                        kind=entry.kind,
                        author=str(entry.fields.get("practitioner") or entry.author)
                        if imported
                        else entry.author,
                        written_at=entry.effective_at,
                        code=code,
                        shown=dotted_diagnosis(code),
                        display=display,
                        codable=problem,
                        coded=abstract is not None and abstract.diagnosis(code) is not None,
                    )
                )
        return mrn, found
