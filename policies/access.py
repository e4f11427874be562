"""Who may see which part of a patient's chart, for what purpose, and what is flagged for review.

Pure: the reader's roles, the purpose of use, the sections wanted, the facts about the patient
and the reader's relationship to them, and the configuration in; an `AccessDecision` out (allowed,
the reason, the policy version, the relationship, the sections allowed, whether it is flagged).
The ledger records the decision in the `RecordAccessed` or `AccessDenied` event it writes before
anything is shown. The rules, in the order they are applied:

1. The purpose must be one of `policies.purposes.PURPOSES`. Administrators manage the ledger, never
   read charts.
2. Self-access: a user whose staff record names this patient's MRN may not read their own chart
   through the staff path; patients get their records through a release-of-information request.
3. Break the glass: an emergency override needs a reason; it is always allowed for clinical roles
   (physician, nurse), never for others, sees every section, and is always flagged for review.
4. The purpose must be one the reader's role may declare (`[roles]` of the configuration).
5. Treatment by a clinical role needs a treatment relationship: attending or on the care team of
   an encounter that is open or ended within `window_days`, or (weaker) the patient having such
   an encounter at all ("recent-encounter"). None: refused (break the glass instead).
6. Restricted patients: only their attending or care team (or break-the-glass) see more than
   demographics (registration and search still find them). A read that shows only what was
   decided (`decide(..., demographics_alone=True)`: `patient show`) is allowed the demographics
   it asked for, the rest withheld and named in the reason; any other read asking for more than
   demographics is refused whole (a chart, a release, a package).
7. Minimum necessary: only the sections the purpose may see (`[sections]`); a request for none
   of them is refused, otherwise the allowed ones are shown and recorded.
8. Flagged for review (allowed, but a compliance officer should look): VIP patients, co-workers'
   charts (the MRN belongs to another user in `[staff]`), and every break-the-glass.

Admissions and moves (`decide_admission`): only the roles of `[access] admit_roles` open,
transfer or discharge encounters. An admission whose actor names themself attending (a self-made
relationship) of a patient they had no relationship with, or only a weak one to a restricted or
VIP patient, counts as breaking the glass (`[access] self_admission = "break-glass"`, the
default; `"restricted"` asks it only for restricted and VIP patients): refused without a reason,
and with one allowed, flagged for review. So does any admission, transfer or discharge of a
restricted or VIP patient by a clinician (physician, nurse) without a close relationship given
by someone else (whoever opens, moves or discharges an encounter is on its care team: the move
would make their own). Technicians and interfaces admit and move patients for the attending
they name. A place in an encounter its holder made themself (its attending by their own
naming, or on its care team only by their own admission, move or discharge: see
`EncounterFacts.self_assigned`) never gives a close relationship to a restricted patient
(`treatment_relationship(..., restricted=True)`), whatever the actor's role.

Charting (`decide_charting`): adding, amending, retracting or signing an entry is an access. A
clinician (physician, nurse) needs the relationship a treatment read would need (rules 2-8, so
a restricted patient asks for a close one), taking the better of their relationship to the
patient and their place in the encounter itself (its attending or care team: a late note or a
signature after the window still belongs to them); without one, it is breaking the glass
(allowed with a reason, flagged). Technicians and interfaces enter for the encounters they are
given (a transcription, a laboratory result): the charting role rules decide, and nothing they
enter gives them or the author they name a relationship. Nor does any entry: the care team is
who the hospital assigned (see `EncounterFacts.care_team`), never who charted, was named
author or signed.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from policies.purposes import PURPOSES
from policies.roles import ADMINISTRATOR, ROLES, Decision

POLICY_VERSION = "access/2"

CLINICAL_ROLES = frozenset({"physician", "nurse"})
RELATIONSHIPS = ("attending", "care-team", "recent-encounter")
CLOSE_RELATIONSHIPS = frozenset({"attending", "care-team"})
DEFAULT_ADMIT_ROLES = ("technician", "nurse", "physician", "interface")
"""Who may open an encounter (admit, register) and hand it to another attending."""
SELF_ADMISSION_MODES = ("break-glass", "restricted")
ALL_SECTIONS = "*"

DEFAULT_ROLES: dict[str, tuple[str, ...]] = {
    "physician": ("treatment", "operations"),
    "nurse": ("treatment", "operations"),
    "technician": ("operations", "treatment", "payment"),
    "coder": ("payment", "operations"),
    "roi-specialist": ("legal", "patient-request", "payment", "public-health"),
    "compliance-officer": ("operations", "legal"),
    "him-director": ("operations", "legal", "payment"),
    "interface": ("treatment", "operations"),
}
"""Which purposes each role may declare without breaking the glass."""

DEFAULT_SECTIONS: dict[str, tuple[str, ...]] = {
    "treatment": (ALL_SECTIONS,),
    "operations": (ALL_SECTIONS,),
    "legal": (ALL_SECTIONS,),
    "patient-request": (ALL_SECTIONS,),
    "payment": (
        "demographics",
        "encounters",
        "diagnosis",
        "procedure",
        "condition",
        "documents",
        "chart",
        "chart-as-of",
        "history",
        "coding",
    ),
    "public-health": (
        "demographics",
        "encounters",
        "diagnosis",
        "condition",
        "laboratory-report",
        "chart",
        "chart-as-of",
    ),
    "research": (),
}
"""Minimum necessary: the chart sections each purpose may see ("*": all of them). "coding" is a
stay's coded abstract and its groupings (`projections.coding`): the claim is made from it, so
payment sees it; who may read it at all is `policies.coding.may_read_coding`."""


@dataclass(frozen=True)
class AccessConfig:
    """The access policy's configuration (a TOML document; see docs/access-policy.example.toml)."""

    version: str = "default"
    roles: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_ROLES))
    sections: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: dict(DEFAULT_SECTIONS))
    window_days: int = 30
    restricted: frozenset[str] = frozenset()
    vip: frozenset[str] = frozenset()
    staff_mrns: Mapping[str, str] = field(default_factory=dict)
    """User name -> the MRN of that user's own chart (employee-patients)."""
    admit_roles: tuple[str, ...] = DEFAULT_ADMIT_ROLES
    self_admission: str = "break-glass"
    """When admitting a patient with oneself as attending needs break-the-glass (see above)."""
    raw: Mapping[str, Any] = field(default_factory=dict)
    """The whole parsed document (other policies read their own sections from it)."""

    @property
    def policy_version(self) -> str:
        return f"{POLICY_VERSION}+{self.version}"

    @classmethod
    def from_mapping(cls, document: Mapping[str, Any]) -> AccessConfig:
        """Check a parsed TOML document; a `ValueError` names the first problem."""
        version = document.get("version", "unversioned")
        if not isinstance(version, str) or not version.strip():
            raise ValueError("'version' must be a non-empty string")
        roles = dict(DEFAULT_ROLES)
        for role, purposes in _table(document, "roles").items():
            if role not in ROLES:
                raise ValueError(f"[roles] names an unknown role '{role}'")
            roles[role] = _purposes(purposes, f"[roles] {role}")
        sections = dict(DEFAULT_SECTIONS)
        for purpose, allowed in _table(document, "sections").items():
            _purposes([purpose], "[sections]")
            sections[purpose] = tuple(_strings(allowed, f"[sections] {purpose}"))
        treatment = _table(document, "treatment")
        window = treatment.get("window_days", 30)
        if not isinstance(window, int) or isinstance(window, bool) or not 0 <= window <= 3650:
            raise ValueError("[treatment] window_days must be a whole number of days, 0 to 3650")
        patients = _table(document, "patients")
        staff_mrns: dict[str, str] = {}
        for user, facts in _table(document, "staff").items():
            if not isinstance(facts, Mapping):
                raise ValueError(f"[staff.{user}] must be a table")
            mrn = facts.get("patient_mrn")
            if mrn is not None:
                staff_mrns[str(user)] = _mrn(mrn, f"[staff.{user}] patient_mrn")
        access = _table(document, "access")
        admit_roles = tuple(
            _strings(access.get("admit_roles", list(DEFAULT_ADMIT_ROLES)), "[access] admit_roles")
        )
        unknown_roles = [r for r in admit_roles if r not in ROLES]
        if unknown_roles:
            raise ValueError(f"[access] admit_roles names an unknown role '{unknown_roles[0]}'")
        self_admission = access.get("self_admission", "break-glass")
        if self_admission not in SELF_ADMISSION_MODES:
            raise ValueError('[access] self_admission must be "break-glass" or "restricted"')
        return cls(
            version=version.strip(),
            roles=roles,
            sections=sections,
            window_days=window,
            restricted=_mrns(patients, "restricted"),
            vip=_mrns(patients, "vip"),
            staff_mrns=staff_mrns,
            admit_roles=admit_roles,
            self_admission=self_admission,
            raw=dict(document),
        )


DEFAULT_CONFIG = AccessConfig()


def _table(document: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = document.get(name, {})
    if not isinstance(value, Mapping):
        raise ValueError(f"[{name}] must be a table")
    return value


def _strings(value: Any, where: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise ValueError(f"{where} must be a list of strings")
    return list(value)


def _mrns(table: Mapping[str, Any], key: str) -> frozenset[str]:
    where = f"[patients] {key}"
    return frozenset(_mrn(m, where) for m in _strings(table.get(key, []), where))


def _purposes(value: Any, where: str) -> tuple[str, ...]:
    found = _strings(value, where)
    unknown = [p for p in found if p not in PURPOSES]
    if unknown:
        raise ValueError(f"{where} names an unknown purpose '{unknown[0]}'")
    return tuple(found)


def _mrn(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{where} must be MRNs (strings)")
    return value.strip().upper()


@dataclass(frozen=True)
class PatientFacts:
    """What the policy needs to know about one patient and the reader's relationship to them."""

    mrn: str
    relationship: str | None = None
    """The closest treatment relationship of the reader (one of RELATIONSHIPS), if any."""


@dataclass(frozen=True)
class EncounterFacts:
    """One encounter of the patient, as the treatment relationship rule sees it."""

    attending: str
    care_team: frozenset[str]
    """Who was assigned to the encounter: its attendings and the staff who admitted, moved or
    discharged the patient. Charting, authorship and signatures add no one."""
    admitted_at: datetime
    discharged_at: datetime | None
    self_assigned: frozenset[str] = frozenset()
    """Who made their own place in this encounter: made themself its attending (opened or took
    it over naming themself), or is on its care team only by their own admission, move or
    discharge (never named its attending by someone else): a relationship they made, not one
    the hospital gave them."""


def treatment_relationship(
    actor: str,
    encounters: Iterable[EncounterFacts],
    *,
    now: datetime,
    window_days: int,
    restricted: bool = False,
) -> str | None:
    """The reader's closest relationship to a patient through encounters that are open or ended
    within `window_days` of `now`: attending, care-team, recent-encounter, or None.

    For a restricted patient, an encounter in which the reader made their own place (see
    `EncounterFacts.self_assigned`) gives them only "recent-encounter": their own admission,
    move or discharge cannot open a restricted chart."""
    since = now - timedelta(days=window_days)
    found: str | None = None
    for encounter in encounters:
        if encounter.discharged_at is not None and encounter.discharged_at < since:
            continue
        if encounter.admitted_at > now:
            continue
        if restricted and actor in encounter.self_assigned:
            found = found or "recent-encounter"
            continue
        if encounter.attending == actor:
            return "attending"
        if actor in encounter.care_team:
            found = "care-team"
        elif found is None:
            found = "recent-encounter"
    return found


@dataclass(frozen=True)
class AccessDecision:
    """A decision with everything the access event records."""

    allowed: bool
    reason: str
    policy_version: str
    relationship: str | None = None
    sections: tuple[str, ...] = ()
    flagged: bool = False


def _allowed_sections(config: AccessConfig, purpose: str, wanted: Sequence[str]) -> tuple[str, ...]:
    allowed = config.sections.get(purpose, ())
    if ALL_SECTIONS in allowed:
        return tuple(wanted)
    return tuple(s for s in wanted if s in allowed or s.split(":")[0] in allowed)


def decide(
    roles: Iterable[str],
    purpose: str,
    *,
    break_glass_reason: str | None = None,
    actor: str = "",
    patient: PatientFacts | None = None,
    sections: Sequence[str] = (),
    config: AccessConfig = DEFAULT_CONFIG,
    demographics_alone: bool = False,
) -> AccessDecision:
    """May someone with these roles see these sections of this patient's chart, for this purpose?

    `demographics_alone`: the caller shows only `decision.sections`, so a restricted record
    outside the care team is cut to its demographics (rule 6) rather than refused."""
    held = set(roles)
    version = config.policy_version
    relationship = patient.relationship if patient is not None else None

    def refuse(reason: str) -> AccessDecision:
        return AccessDecision(False, reason, version, relationship)

    if purpose not in PURPOSES:
        return refuse(f"'{purpose}' is not a purpose of use")
    oversight = decide_oversight(
        held, purpose, actor=actor, patient=patient, sections=sections, config=config
    )
    if oversight is not None:
        return oversight
    if ADMINISTRATOR in held and not held - {ADMINISTRATOR}:
        return refuse("administrators manage the ledger, not charts")
    own = config.staff_mrns.get(actor)
    if patient is not None and own is not None and own == patient.mrn:
        return refuse(
            "staff may not read their own chart; patients ask for their records through "
            "release of information"
        )
    if break_glass_reason is not None:
        if not break_glass_reason.strip():
            return refuse("breaking the glass needs a reason")
        if held & CLINICAL_ROLES:
            return AccessDecision(
                True,
                "emergency access (break the glass), for review",
                version,
                relationship,
                tuple(sections),
                flagged=True,
            )
        return refuse("only clinical roles may break the glass")
    if not any(purpose in config.roles.get(role, ()) for role in held):
        return refuse(f"the user's role does not allow {purpose}")
    clinical_only = held & CLINICAL_ROLES and not held - CLINICAL_ROLES
    if purpose == "treatment" and clinical_only and patient is not None and relationship is None:
        return refuse(
            "no treatment relationship: not the attending or on the care team of a current "
            f"encounter, and no encounter in the last {config.window_days} days"
        )
    withheld: list[str] = []
    if (
        patient is not None
        and patient.mrn in config.restricted
        and relationship not in CLOSE_RELATIONSHIPS
        and set(sections) - {"demographics"}
    ):
        if not (demographics_alone and "demographics" in sections):
            return refuse("the record is restricted to the patient's care team")
        withheld = [s for s in sections if s != "demographics"]
        sections = ["demographics"]
    shown = _allowed_sections(config, purpose, sections)
    if sections and not shown:
        return refuse(f"minimum necessary: {purpose} may not see {', '.join(sections)}")
    flags = []
    if patient is not None and patient.mrn in config.vip:
        flags.append("a VIP record")
    if patient is not None and patient.mrn in set(config.staff_mrns.values()):
        flags.append("a co-worker's record")
    reason = f"{purpose} is a purpose of the user's role"
    if relationship is not None:
        reason += f" ({relationship})"
    if withheld:
        reason += f"; a restricted record: demographics only, {', '.join(withheld)} withheld"
    if flags:
        reason += f"; flagged for review: {', '.join(flags)}"
    return AccessDecision(True, reason, version, relationship, shown, flagged=bool(flags))


def decide_admission(
    roles: Iterable[str],
    *,
    actor: str,
    attending: str | None,
    patient: PatientFacts,
    break_glass_reason: str | None = None,
    config: AccessConfig = DEFAULT_CONFIG,
    action: str = "admission",
) -> AccessDecision:
    """May this actor open (`action` "admission"), transfer or discharge an encounter of this
    patient, making `attending` (None: unchanged) its attending?

    `patient.relationship` is the actor's relationship to the patient before the move, with
    places they made themself not counted as close for a restricted or VIP patient. A move by
    someone else gives the attending their relationship as it always has; one where the actor
    names themself attending, or where a clinician moves a restricted or VIP patient without a
    close relationship, is judged as the access it creates (see the module)."""
    held = set(roles)
    version = config.policy_version
    relationship = patient.relationship
    guarded = patient.mrn in config.restricted or patient.mrn in config.vip

    def refuse(reason: str) -> AccessDecision:
        return AccessDecision(False, reason, version, relationship)

    def break_glass(refusal: str, granted: str) -> AccessDecision:
        if break_glass_reason is None or not break_glass_reason.strip():
            return refuse(f"{refusal} is breaking the glass; give a reason (--break-glass)")
        if not held & CLINICAL_ROLES:
            return refuse("only clinical roles may break the glass")
        return AccessDecision(
            True, f"{granted} (break the glass), for review", version, relationship,
            ("encounters",), flagged=True,
        )  # fmt: skip

    if not held & set(config.admit_roles):
        return refuse(
            f"only {', '.join(config.admit_roles)} may open, transfer or discharge encounters"
        )
    if attending != actor:
        move = "an admission" if action == "admission" else f"a {action}"
        if guarded and held & CLINICAL_ROLES and relationship not in CLOSE_RELATIONSHIPS:
            return break_glass(
                f"{move} of a restricted or VIP patient by a clinician with no close treatment "
                "relationship (it would put them on the care team)",
                f"{move} of a restricted or VIP patient without a close relationship",
            )
        if action == "admission":
            return AccessDecision(True, "an admission for another attending", version, relationship)
        return AccessDecision(True, f"{move} of the patient", version, relationship)
    if relationship in CLOSE_RELATIONSHIPS or (relationship is not None and not guarded):
        return AccessDecision(
            True, f"the attending admits their own patient ({relationship})", version, relationship
        )
    if not guarded and config.self_admission == "restricted":
        return AccessDecision(
            True, "the attending admits a new patient of their own", version, relationship
        )
    what = "a restricted or VIP patient" if guarded else "a patient"
    return break_glass(
        f"admitting {what} with no treatment relationship with oneself as attending",
        "self-admission without a treatment relationship",
    )


def encounter_relationship(
    actor: str, encounter: EncounterFacts, *, restricted: bool = False
) -> str | None:
    """The actor's place in this one encounter, whenever it was: attending, care-team or None
    (for a restricted patient, an encounter they made themself attending of gives none)."""
    if restricted and actor in encounter.self_assigned:
        return None
    if encounter.attending == actor:
        return "attending"
    return "care-team" if actor in encounter.care_team else None


def decide_charting(
    roles: Iterable[str],
    *,
    actor: str,
    patient: PatientFacts,
    encounter: EncounterFacts,
    break_glass_reason: str | None = None,
    config: AccessConfig = DEFAULT_CONFIG,
) -> AccessDecision:
    """May this actor add, amend, retract or sign an entry in this encounter (see the module)?

    `patient.relationship` is the actor's treatment relationship to the patient, as a read
    finds it; the decision's relationship is the better of it and their place in `encounter`."""
    held = set(roles)
    version = config.policy_version
    if not held & CLINICAL_ROLES:
        return AccessDecision(
            True, "an entry for the encounter (the charting role rules decide)", version
        )
    ranks = {r: i for i, r in enumerate(RELATIONSHIPS)}
    found = [
        r
        for r in (
            encounter_relationship(actor, encounter, restricted=patient.mrn in config.restricted),
            patient.relationship,
        )
        if r is not None
    ]
    relationship = min(found, key=ranks.__getitem__) if found else None
    return decide(
        held,
        "treatment",
        break_glass_reason=break_glass_reason,
        actor=actor,
        patient=PatientFacts(patient.mrn, relationship),
        sections=("chart",),
        config=config,
    )


AUDIT_READERS = frozenset({"compliance-officer", "him-director"})
POLICY_EDITORS = frozenset({ADMINISTRATOR, "compliance-officer"})


def may_read_audit_trail(roles: Iterable[str]) -> Decision:
    """The audit trail says who looked at whom: compliance and HIM leadership read it."""
    if AUDIT_READERS & set(roles):
        return Decision(True, "compliance and HIM leadership read the audit trail", POLICY_VERSION)
    return Decision(
        False,
        "only a compliance officer or the HIM director may read the audit trail",
        POLICY_VERSION,
    )


def may_load_policy(roles: Iterable[str]) -> Decision:
    """The access policy is set by the administrator or the compliance officer."""
    if POLICY_EDITORS & set(roles):
        return Decision(True, "administrators and compliance officers set the policy")
    return Decision(
        False, "only an administrator or a compliance officer may load the access policy"
    )


OVERSIGHT_READERS: dict[str, frozenset[str]] = {
    "audit-trail": AUDIT_READERS,
    "disclosures": AUDIT_READERS,
    "access-policy": frozenset({ADMINISTRATOR, "compliance-officer", "him-director"}),
    "release-queue": frozenset({"roi-specialist", "him-director"}),
    "export": frozenset({ADMINISTRATOR, "compliance-officer"}),
}
"""Sections that name patients but hold no clinical content, and the roles that oversee them:
the audit trail, the accounting of disclosures, the policy's own lists, the release queue, and
who may export the whole ledger (every MRN its access events name)."""
OVERSIGHT_PURPOSES = frozenset({"operations", "legal", "patient-request"})


def decide_oversight(
    roles: Iterable[str],
    purpose: str,
    *,
    actor: str = "",
    patient: PatientFacts | None = None,
    sections: Sequence[str] = (),
    config: AccessConfig = DEFAULT_CONFIG,
) -> AccessDecision | None:
    """Oversight reads (audit rows, never the chart): their roles see every patient, restricted
    and VIP alike, except their own; None when the read is not one (the other rules decide)."""
    held = set(roles)
    wanted = set(sections)
    if not wanted or any(not held & OVERSIGHT_READERS.get(s, frozenset()) for s in wanted):
        return None
    version = config.policy_version
    if purpose not in OVERSIGHT_PURPOSES:
        return AccessDecision(False, f"oversight reads are not for {purpose}", version)
    own = config.staff_mrns.get(actor)
    trail = wanted & {"audit-trail", "disclosures"}  # the policy's lists and the queue: no trail
    if trail and patient is not None and own is not None and own == patient.mrn:
        return AccessDecision(
            False, "staff may not read the audit rows of their own chart", version
        )
    return AccessDecision(
        True,
        "oversight: the audit rows of every patient, never the chart",
        version,
        None,
        tuple(sections),
    )
