"""Who may keep a chart: encounters, entries, amendments, retractions, signatures, denials.

Pure: roles and names in, a `Decision` with its reason and policy version out. The ledger checks
these before it records anything, so a refusal writes nothing. `is_late` is the one rule for
"late documentation", shared by the aggregate and the chart history. `may_open_encounter` is the
one rule for overlapping encounters: one open inpatient stay per patient.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from policies.roles import INTERFACE, Decision

POLICY_VERSION = "charting/1"

PHYSICIAN = "physician"
HIM_DIRECTOR = "him-director"

ENCOUNTER_CLASSES = frozenset({"inpatient", "outpatient", "emergency"})

ONE_AT_A_TIME = frozenset({"inpatient"})
"""Classes of which a patient has at most one open encounter: a patient holds one bed, under
one attending, so a second stay is a transfer of the first. Visits (outpatient, emergency)
may overlap a stay and each other: a clinic or imaging appointment during a stay is registered
as its own visit, and most admissions begin while the emergency visit is still open."""

ENTRY_KIND_CHOICES = (
    "presenting-symptoms",
    "history",
    "condition",
    "diagnosis",
    "allergy",
    "medication",
    "treatment",
    "procedure",
    "treatment-schedule",
    "examination",
    "laboratory-report",
    "x-ray-report",
    "complication",
    "referral",
    "outcome",
    "progress-note",
    "physician-note",
)
"""What a chart entry is, in the order the CLI offers them (the aggregate checks `ENTRY_KINDS`)."""
ENTRY_KINDS = frozenset(ENTRY_KIND_CHOICES)

ENCOUNTER_ROLES = frozenset({"technician", "nurse", PHYSICIAN, INTERFACE})
"""Who admits, registers, transfers and discharges."""

ENTRY_ROLES = frozenset({PHYSICIAN, "nurse", "technician", INTERFACE})
"""Who adds clinical entries (and may be named as an entry's author)."""

AUTHOR_ROLES = frozenset({PHYSICIAN, "nurse"})
"""Who may be named as the author of an entry someone else enters (a transcription)."""

DENIAL_ROLES = frozenset({HIM_DIRECTOR, PHYSICIAN})
"""Who may deny a patient's request to amend their record (HIPAA 164.526(d))."""

LATE_AFTER = timedelta(hours=24)
"""An entry effective longer than this before it was recorded is late documentation."""


def _decision(allowed: bool, reason: str) -> Decision:
    return Decision(allowed, reason, POLICY_VERSION)


def may_manage_encounter(actor_roles: Iterable[str]) -> Decision:
    """Admitting, transferring and discharging is registration and ward work."""
    if ENCOUNTER_ROLES & set(actor_roles):
        return _decision(True, "registration and clinical staff manage encounters")
    return _decision(
        False,
        "only technicians, nurses, physicians or an interface open, transfer or discharge "
        "encounters",
    )


def may_give_unknown_disposition(actor_roles: Iterable[str]) -> Decision:
    """A discharge names where the patient went, as a NUBC status (`policies.limits`). Only an
    interface may say the status is not known (`policies.limits.UnknownDisposition`): it records
    a closed encounter of another system, which may have recorded none, and must not invent one."""
    if INTERFACE in set(actor_roles):
        return _decision(True, "an interface records the discharge status its source recorded")
    return _decision(
        False,
        "only an interface may discharge without a discharge status (the system it imports "
        "from recorded none); give the NUBC code",
    )


@dataclass(frozen=True)
class OpenEncounter:
    """An encounter not yet discharged: its id, class and (effective) admission time."""

    id: str
    encounter_class: str
    admitted_at: datetime


def may_open_encounter(encounter_class: str, open_encounters: Iterable[OpenEncounter]) -> Decision:
    """A new encounter of `encounter_class` beside the patient's open ones: refused when both
    are of a class the patient has one at a time (`ONE_AT_A_TIME`), naming the open one."""
    if encounter_class not in ONE_AT_A_TIME:
        return _decision(True, f"an {encounter_class} visit may overlap other encounters")
    same = sorted(
        (e for e in open_encounters if e.encounter_class == encounter_class),
        key=lambda e: e.admitted_at,
    )
    if not same:
        return _decision(True, f"the patient has no open {encounter_class} encounter")
    first = same[0]
    since = first.admitted_at.astimezone(UTC).isoformat(timespec="minutes")
    return _decision(
        False,
        f"the patient is already admitted ({encounter_class}) in encounter {first.id} since "
        f"{since}; transfer the patient within that stay, or discharge it first",
    )


def may_record_entry(actor_roles: Iterable[str]) -> Decision:
    """Clinical staff and interfaces (laboratory, imaging) document care."""
    if ENTRY_ROLES & set(actor_roles):
        return _decision(True, "clinical staff and interfaces add chart entries")
    return _decision(
        False, "only physicians, nurses, technicians or an interface add chart entries"
    )


def may_be_named_author(roles: Iterable[str], *, revoked: bool) -> Decision:
    """An entry entered for someone else names a clinician who can answer for it (and sign it)."""
    if revoked:
        return _decision(False, "their key has been revoked")
    if AUTHOR_ROLES & set(roles):
        return _decision(True, "a physician or nurse may be named as an entry's author")
    return _decision(False, "only a physician or a nurse may be named as an entry's author")


def may_be_attending(roles: Iterable[str]) -> Decision:
    """The attending is responsible for the encounter, and signs for it: a physician."""
    if PHYSICIAN in set(roles):
        return _decision(True, "the attending is a physician")
    return _decision(False, "the attending of an encounter must be a physician")


def may_sign(actor_roles: Iterable[str], *, actor: str, author: str, attending: str) -> Decision:
    """A signature attests an entry: a physician who wrote it or who is responsible for it."""
    if PHYSICIAN not in set(actor_roles):
        return _decision(False, "only a physician may sign a chart entry")
    if actor == author:
        return _decision(True, "the author signs their own entry")
    if actor == attending:
        return _decision(True, "the attending signs for the encounter")
    return _decision(
        False, "only the entry's author or the encounter's attending physician may sign it"
    )


def may_amend(actor_roles: Iterable[str], *, actor: str, author: str) -> Decision:
    """The author may correct their own entry; any physician may amend one."""
    held = set(actor_roles)
    if PHYSICIAN in held:
        return _decision(True, "a physician may amend a chart entry")
    if actor == author and ENTRY_ROLES & held:
        return _decision(True, "the author may amend their own entry")
    return _decision(False, "only the entry's author or a physician may amend it")


def may_retract(actor_roles: Iterable[str], *, actor: str, author: str) -> Decision:
    """Marking an entry "entered in error" is a correction: the same people as an amendment."""
    held = set(actor_roles)
    if PHYSICIAN in held:
        return _decision(True, "a physician may retract a chart entry")
    if actor == author and ENTRY_ROLES & held:
        return _decision(True, "the author may retract their own entry")
    return _decision(False, "only the entry's author or a physician may retract it")


def may_deny_amendment(actor_roles: Iterable[str]) -> Decision:
    """Denying a patient's amendment request is an HIM or clinical judgement."""
    if DENIAL_ROLES & set(actor_roles):
        return _decision(True, "the HIM director or a physician decides amendment requests")
    return _decision(False, "only the HIM director or a physician may deny an amendment request")


def is_late(
    effective_at: datetime, recorded_at: datetime, *, discharged_at: datetime | None = None
) -> bool:
    """Late documentation: recorded long after the fact, or about the stay after discharge.

    `discharged_at` is the discharge's effective time when the entry was recorded after the
    discharge, else None. A result that arrives after discharge but is effective after it (a
    follow-up call, a late laboratory result) is not late by the second rule.
    """
    if recorded_at - effective_at > LATE_AFTER:
        return True
    return discharged_at is not None and effective_at <= discharged_at
