"""The master patient index's words and its check of a patient's demographics.

Pure (imports nothing of ours but `policies.limits`, nothing heavy, so the CLI offers these
fields and sexes as its choices at `--help` time): the ledger refuses what
`demographics_problem` names, and the index, the FHIR import and the CLI take their fields from
`DEMOGRAPHIC_FIELDS`, in this order.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from policies.limits import DEFAULT_LIMITS, Limits, text_problem

DEMOGRAPHIC_FIELDS = (
    "given_name",
    "family_name",
    "birth_date",
    "sex",
    "street",
    "locality",
    "postcode",
    "state",
    "phone",
    "identifier",
)
"""Every field an index entry may hold, in the order they are shown."""
NAME_FIELDS = frozenset({"given_name", "family_name"})
"""The fields bounded by the limit on names, not on one-line fields."""
SEXES = ("female", "male", "other", "unknown")
"""Administrative sex, as FHIR's `AdministrativeGender` codes."""
EARLIEST_BIRTH_YEAR = 1880


def demographics_problem(
    demographics: Mapping[str, Any], *, today: date, limits: Limits = DEFAULT_LIMITS
) -> str | None:
    """Why these demographics cannot be registered, or None: a registration needs a name and a
    plausible date of birth; every field is one line of printable text within the limits (a
    newline in a name would forge a line)."""
    for field, value in demographics.items():
        what = f"the {field.replace('_', ' ')}"
        if isinstance(value, str):
            limit = limits.name_chars if field in NAME_FIELDS else limits.field_chars
            problem = text_problem(value, what=what, limit=limit)
            if problem is not None:
                return problem
        elif isinstance(value, list | tuple):
            for item in value:
                if isinstance(item, str):
                    problem = text_problem(item, what=what, limit=limits.field_chars)
                    if problem is not None:
                        return problem
    if not str(demographics.get("given_name") or "").strip():
        return "A patient needs a given name."
    if not str(demographics.get("family_name") or "").strip():
        return "A patient needs a family name."
    born = demographics.get("birth_date")
    if born is not None and not isinstance(born, date):
        return "The date of birth must be a date (YYYY-MM-DD)."
    if isinstance(born, date) and (born > today or born.year < EARLIEST_BIRTH_YEAR):
        return "The date of birth is not a plausible date."
    sex = demographics.get("sex")
    if sex is not None and sex not in SEXES:
        return "Sex must be female, male, other or unknown."
    return None
