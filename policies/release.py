"""Release of information: is a request lawful, when is it due, and must a disclosure be accounted?

Pure: dates are arguments. Sources: HIPAA 45 CFR 164.508 (authorizations), 164.512(e) (judicial
proceedings), 164.524 (the patient's right of access: 30 days, one 30-day extension), 164.528
(the accounting of disclosures), 42 CFR Part 2 (substance-use disorder records) and 45 CFR 171
(information blocking exceptions).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta

from policies.purposes import PURPOSES as ACCESS_PURPOSES
from policies.roles import Decision

POLICY_VERSION = "release/1"
REQUESTER_KINDS = (
    "patient",
    "personal-representative",
    "attorney",
    "insurer",
    "government-agency",
    "other-provider",
    "court",
)
BASES = ("patient-access", "authorization", "subpoena", "court-order", "permitted")
"""The legal basis of a release: the patient's own right of access, a signed authorization, a
subpoena, a court order, or a disclosure the Privacy Rule permits without one (164.506, 164.512)."""
PURPOSES = (
    *ACCESS_PURPOSES,
    "law-enforcement",
    "national-security",
    "correctional",
    "facility-directory",
    "involved-in-care",
    "limited-data-set",
    "incidental",
)
"""Why information is released: every purpose of use a reader may declare
(`policies.purposes.PURPOSES`), and the disclosures the Privacy Rule permits beyond them."""
SPECIAL_SECTIONS = {
    "psychotherapy-notes": "psychotherapy notes need an authorization of their own (164.508(a)(2))",
    "substance-use": "substance-use disorder records need a Part 2 consent (42 CFR 2.31)",
}
INFORMATION_BLOCKING_EXCEPTIONS = (
    "preventing-harm",
    "privacy",
    "security",
    "infeasibility",
    "health-it-performance",
    "content-and-manner",
    "fees",
    "licensing",
)
METHODS = ("mail", "email", "portal", "fax", "in-person")
"""How a release goes out."""
ACCESS_DAYS = 30
EXTENSION_DAYS = 30
ACCOUNTING_YEARS = 6
COMPLIANCE_DATE = date(2003, 4, 14)
ORAL_SUSPENSION_DAYS = 30
ROI_ROLES = frozenset({"roi-specialist", "him-director"})


def may_handle_releases(roles: Iterable[str]) -> Decision:
    """The release-of-information workflow is the ROI specialists' and the HIM director's."""
    if ROI_ROLES & set(roles):
        return Decision(
            True, "ROI specialists and the HIM director handle releases", POLICY_VERSION
        )
    return Decision(
        False, "only an ROI specialist or the HIM director may handle releases", POLICY_VERSION
    )


@dataclass(frozen=True)
class Authorization:
    """A patient's written authorization, element by element (164.508(c))."""

    description: str = ""
    discloser: str = ""
    recipient: str = ""
    purpose: str = ""
    expires_on: date | None = None
    expiry_event: str = ""
    signed_on: date | None = None
    signed_by: str = ""
    right_to_revoke: bool = False
    no_conditioning: bool = False
    redisclosure: bool = False
    psychotherapy_notes: bool = False
    """This authorization is for psychotherapy notes alone (164.508(a)(2))."""
    substance_use: bool = False
    """This is a Part 2 consent for substance-use disorder records."""


@dataclass(frozen=True)
class Validation:
    """Whether a request may be released, and why not."""

    valid: bool
    problems: tuple[str, ...]
    policy_version: str = POLICY_VERSION


def authorization_problems(auth: Authorization, *, today: date) -> list[str]:
    """Each required element missing, and expiry, in the order of 164.508(c)."""
    problems = []
    for name, value in (
        ("a description of the information", auth.description),
        ("who may disclose it", auth.discloser),
        ("who may receive it", auth.recipient),
        ("the purpose", auth.purpose),
        ("the signer", auth.signed_by),
    ):
        if not value.strip():
            problems.append(f"the authorization lacks {name}")
    if auth.expires_on is None and not auth.expiry_event.strip():
        problems.append("the authorization lacks an expiration date or event")
    if auth.signed_on is None:
        problems.append("the authorization is not dated")
    elif auth.signed_on > today:
        problems.append("the authorization is dated in the future")
    for name, given in (
        ("the right to revoke", auth.right_to_revoke),
        ("that treatment is not conditioned on signing", auth.no_conditioning),
        ("that released information may be redisclosed", auth.redisclosure),
    ):
        if not given:
            problems.append(f"the authorization does not state {name}")
    if auth.expires_on is not None and auth.expires_on < today:
        problems.append(f"the authorization expired on {auth.expires_on.isoformat()}")
    return problems


def validate(
    *,
    requester_kind: str,
    purpose: str,
    basis: str,
    sections: Sequence[str],
    today: date,
    authorizations: Sequence[Authorization] = (),
    notice_to_patient: bool = False,
    protective_order: bool = False,
) -> Validation:
    """May this request be released on this basis?"""
    problems: list[str] = []
    if requester_kind not in REQUESTER_KINDS:
        problems.append(f"'{requester_kind}' is not a kind of requester")
    if basis not in BASES:
        problems.append(f"'{basis}' is not a basis for release")
    if basis == "patient-access" and requester_kind not in ("patient", "personal-representative"):
        problems.append("only the patient or a personal representative has the right of access")
    if basis == "authorization":
        if not authorizations:
            problems.append("no authorization was given")
        general = [a for a in authorizations if not (a.psychotherapy_notes or a.substance_use)]
        for auth in general or authorizations[:1]:
            problems.extend(authorization_problems(auth, today=today))
    if basis == "subpoena" and not (notice_to_patient or protective_order):
        problems.append(
            "a subpoena without a court order needs satisfactory assurance: notice to the "
            "patient or a qualified protective order (164.512(e)(1)(ii))"
        )
    if basis == "court-order" and requester_kind != "court":
        problems.append("a court order comes from a court")
    if basis == "permitted" and purpose in ("legal", "patient-request", "research"):
        problems.append(f"a disclosure for {purpose} needs an authorization, order or right")
    for section, reason in SPECIAL_SECTIONS.items():
        if section not in sections:
            continue
        own = [
            a
            for a in authorizations
            if (a.psychotherapy_notes if section == "psychotherapy-notes" else a.substance_use)
        ]
        if basis == "court-order" and section == "psychotherapy-notes":
            continue  # 164.508(a)(2)(ii) permits what the law requires
        if not own or any(authorization_problems(a, today=today) for a in own):
            problems.append(reason)
    return Validation(not problems, tuple(problems))


def due_date(received: date, *, extended: bool = False) -> date:
    """A patient's access request is answered within 30 days, or 60 with one extension."""
    return received + timedelta(days=ACCESS_DAYS + (EXTENSION_DAYS if extended else 0))


def may_extend(received: date, *, today: date, already: bool) -> Decision:
    """One extension, given (in writing, with the reason) before the first deadline passes."""
    if already:
        return Decision(False, "a request may be extended only once", POLICY_VERSION)
    if today > due_date(received):
        return Decision(False, "the extension must be given before the first 30 days end")
    return Decision(True, "one 30-day extension before the first deadline", POLICY_VERSION)


def check_denial(reason: str, exception: str | None) -> list[str]:
    problems = [] if reason.strip() else ["a denial needs its reason"]
    if exception is not None and exception not in INFORMATION_BLOCKING_EXCEPTIONS:
        problems.append(
            f"'{exception}' is not an information-blocking exception "
            f"({', '.join(INFORMATION_BLOCKING_EXCEPTIONS)})"
        )
    return problems


# -- the accounting of disclosures (164.528) ------------------------------------------------------


@dataclass(frozen=True)
class Disclosure:
    """One release, as the accounting sees it."""

    event: str
    released_on: date
    recipient: str
    recipient_address: str | None
    requester_kind: str
    purpose: str
    basis: str
    description: str
    entries: tuple[str, ...] = ()
    """Exactly the entries that went (`ENCOUNTER:ENTRY`), as the release event recorded them."""
    documents: tuple[str, ...] = ()
    """Exactly the documents that went (their ids)."""


@dataclass(frozen=True)
class Suspension:
    """An agency's request to suspend accounting its disclosures (164.528(a)(2))."""

    agency: str
    start: date
    until: date
    oral: bool = False

    @property
    def ends(self) -> date:
        """An oral request holds at most 30 days unless a written one follows."""
        if self.oral:
            return min(self.until, self.start + timedelta(days=ORAL_SUSPENSION_DAYS))
        return self.until


def exclusion(disclosure: Disclosure) -> str | None:
    """Why 164.528(a)(1) leaves a disclosure out of the accounting, or None if it must be in."""
    if disclosure.released_on < COMPLIANCE_DATE:
        return "before the compliance date (164.528(a)(1)(ix))"
    if disclosure.purpose in ("treatment", "payment", "operations"):
        return "treatment, payment or health care operations (164.528(a)(1)(i))"
    if disclosure.requester_kind in ("patient", "personal-representative"):
        return "to the individual (164.528(a)(1)(iii))"
    if disclosure.purpose == "incidental":
        return "incident to a permitted use or disclosure (164.528(a)(1)(iii))"
    if disclosure.basis == "authorization":
        return "under an authorization (164.528(a)(1)(iv))"
    by_purpose = {
        "facility-directory": "for the facility directory (164.528(a)(1)(v))",
        "involved-in-care": "to persons involved in the patient's care (164.528(a)(1)(v))",
        "national-security": "for national security or intelligence (164.528(a)(1)(vi))",
        "correctional": "to correctional institutions or law enforcement custody "
        "(164.528(a)(1)(vii))",
        "limited-data-set": "as part of a limited data set (164.528(a)(1)(viii))",
    }
    return by_purpose.get(disclosure.purpose)


@dataclass(frozen=True)
class Accounting:
    """The lines a patient is owed, and what was left out and why (for the officer's check)."""

    period_start: date
    period_end: date
    lines: tuple[Disclosure, ...]
    excluded: tuple[tuple[Disclosure, str], ...] = field(default=())


def accounting(
    disclosures: Iterable[Disclosure], *, requested_on: date, suspensions: Iterable[Suspension] = ()
) -> Accounting:
    """The accounting for a request made on `requested_on`: six years back, exclusions and agency
    suspensions in force on that day applied."""
    start = _years_before(requested_on, ACCOUNTING_YEARS)
    active = [s for s in suspensions if s.start <= requested_on <= s.ends]
    lines, excluded = [], []
    for item in sorted(disclosures, key=lambda d: (d.released_on, d.event)):
        if not start <= item.released_on <= requested_on:
            continue
        why = exclusion(item)
        if why is None and any(s.agency == item.recipient for s in active):
            why = "suspended at the agency's request (164.528(a)(2))"
        if why is None:
            lines.append(item)
        else:
            excluded.append((item, why))
    return Accounting(start, requested_on, tuple(lines), tuple(excluded))


def _years_before(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year - years)
    except ValueError:  # 29 February
        return day.replace(year=day.year - years, day=28)
