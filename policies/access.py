"""Who may see which part of a patient's chart, for what purpose, and what is flagged for review.

Pure: the reader's roles, the purpose of use, the sections wanted, the facts about the patient
and the reader's relationship to them, and the configuration in; an `AccessDecision` out (allowed,
the reason, the policy version, the relationship, the sections allowed, whether it is flagged).
The ledger records the decision in the `RecordAccessed` or `AccessDenied` event it writes before
anything is shown. The rules, in the order they are applied:

1. The purpose must be one of `PURPOSES`. Administrators manage the ledger, never read charts.
2. Self-access: a user whose staff record names this patient's MRN may not read their own chart
   through the staff path; patients get their records through a release-of-information request.
3. Break the glass: an emergency override needs a reason; it is always allowed for clinical roles
   (physician, nurse), never for others, sees every section, and is always flagged for review.
4. The purpose must be one the reader's role may declare (`[roles]` of the configuration).
5. Treatment by a clinical role needs a treatment relationship: attending or on the care team of
   an encounter that is open or ended within `window_days`, or (weaker) the patient having such
   an encounter at all ("recent-encounter"). None: refused (break the glass instead).
6. Restricted patients: only their attending or care team (or break-the-glass) see more than
   demographics (registration and search still find them).
7. Minimum necessary: only the sections the purpose may see (`[sections]`); a request for none
   of them is refused, otherwise the allowed ones are shown and recorded.
8. Flagged for review (allowed, but a compliance officer should look): VIP patients, co-workers'
   charts (the MRN belongs to another user in `[staff]`), and every break-the-glass.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from policies.roles import ADMINISTRATOR, ROLES, Decision

POLICY_VERSION = "access/1"

PURPOSES = frozenset(
    {
        "treatment",
        "payment",
        "operations",
        "legal",
        "patient-request",
        "research",
        "public-health",
    }
)
CLINICAL_ROLES = frozenset({"physician", "nurse"})
RELATIONSHIPS = ("attending", "care-team", "recent-encounter")
CLOSE_RELATIONSHIPS = frozenset({"attending", "care-team"})
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
"""Minimum necessary: the chart sections each purpose may see ("*": all of them)."""


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
        return cls(
            version=version.strip(),
            roles=roles,
            sections=sections,
            window_days=window,
            restricted=_mrns(patients, "restricted"),
            vip=_mrns(patients, "vip"),
            staff_mrns=staff_mrns,
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
    """Everyone who admitted, transferred, charted in or signed for the encounter."""
    admitted_at: datetime
    discharged_at: datetime | None


def treatment_relationship(
    actor: str, encounters: Iterable[EncounterFacts], *, now: datetime, window_days: int
) -> str | None:
    """The reader's closest relationship to a patient through encounters that are open or ended
    within `window_days` of `now`: attending, care-team, recent-encounter, or None."""
    since = now - timedelta(days=window_days)
    found: str | None = None
    for encounter in encounters:
        if encounter.discharged_at is not None and encounter.discharged_at < since:
            continue
        if encounter.admitted_at > now:
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
) -> AccessDecision:
    """May someone with these roles see these sections of this patient's chart, for this purpose?"""
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
    if (
        patient is not None
        and patient.mrn in config.restricted
        and relationship not in CLOSE_RELATIONSHIPS
        and set(sections) - {"demographics"}
    ):
        return refuse("the record is restricted to the patient's care team")
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
    if flags:
        reason += f"; flagged for review: {', '.join(flags)}"
    return AccessDecision(True, reason, version, relationship, shown, flagged=bool(flags))


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
