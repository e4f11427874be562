"""Physician queries: what a compliant query is, who raises, answers, escalates and withdraws one.

Pure. Follows the AHIMA/ACDIS "Guidelines for Achieving a Compliant Query Practice" (2022
update): a query names the clinical indicators it rests on (chart entries, by id), asks without
leading the physician to an answer, and never mentions payment or any other financial or
quality-reporting impact. A multiple-choice query offers at least two clinically reasonable
answers and, always, "other" and "clinically undetermined"; a yes/no query is kept to what the
guidelines allow it for (present-on-admission status, or substantiating or further specifying a
diagnosis already documented) and offers "yes", "no", "other" and "clinically undetermined".

Each check returns the one sentence that says what is wrong and what to do, or None; the
commands (`ledger.commands.queries`) raise it. Who may do what returns a `Decision`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from policies.roles import Decision

POLICY_VERSION = "queries/1"

KINDS = ("multiple-choice", "yes-no")
"""The formats of a written query."""
YES_NO_BASES = ("present-on-admission", "documented-diagnosis")
"""What a yes/no query may be about: whether a condition was present on admission, or
substantiating or further specifying a diagnosis the record already documents (never a new
diagnosis supported only by indicators: that is a multiple-choice query)."""
OTHER = "other"
UNDETERMINED = "clinically undetermined"
REQUIRED_OPTIONS = (OTHER, UNDETERMINED)
"""Every query offers these, so the physician is never confined to the coder's answers."""
MAX_OPTIONS = 12
OVERDUE_DAYS = 7
"""Days from sending until an unanswered query is overdue and may be escalated (the default of
`[completion] query_overdue_days`)."""

RAISING_ROLES = frozenset({"coder", "him-director"})
ESCALATING_ROLES = frozenset({"him-director"})
READING_ROLES = frozenset({"coder", "him-director", "compliance-officer", "physician"})
"""Who may list and read queries (a physician only those sent to them)."""
OVERSEEING_ROLES = RAISING_ROLES | {"compliance-officer"}
"""Who reads every query, not only their own."""

STATUSES = ("raised", "sent", "escalated", "answered", "withdrawn")
OPEN_STATUSES = frozenset({"raised", "sent", "escalated"})
"""A query not yet answered or withdrawn holds its stay on the coding worklist."""
AWAITING_STATUSES = frozenset({"sent", "escalated"})
"""A query the physician has and has not answered: one of their deficiencies."""

# -- what a compliant query never says ------------------------------------------------------------

_FINANCIAL = re.compile(
    r"(?P<word>"
    r"\b(?:payments?|payers?|payors?|paid|reimburse(?:ment|ments|d|s)?|(?:ms-|apr-)?drgs?"
    r"|relative\s+weights?|drg\s+weights?|case\s+weights?|payment\s+weights?|cost\s+weights?"
    r"|money|m?cc(?:/m?cc)?s?|case[\s-]mix|cmi|revenues?|dollars?|financial(?:ly)?|finances?"
    r"|billing|billable|billed|bills?|insurance|insurers?|expected\s+payment)\b"
    r"|[$€£¥])",
    re.IGNORECASE,
)
_VOLUME = re.compile(r"\d\s*$")
"""A number just before "cc" makes it a volume ("500 cc"), not a complication or comorbidity."""

_LEADING = (
    "please document",
    "please add",
    "please confirm",
    "please indicate that",
    "please write",
    "please state that",
    "confirm that",
    "can you add",
    "could you add",
    "can you document",
    "could you document",
    "would you document",
    "would you agree",
    "do you agree",
    "don't you agree",
    "do not you agree",
    "can you confirm",
    "could you confirm",
    "document the diagnosis",
    "add the diagnosis",
    "should be documented",
    "needs to be documented",
    "must be documented",
)
"""Wording that directs the physician to an answer (AHIMA/ACDIS: a query must not lead)."""


def financial_word(text: str) -> str | None:
    """The first word of `text` that speaks of payment, reimbursement, the DRG or money
    (case-insensitive, whole words; "500 cc" is a volume and passes), else None."""
    for found in _FINANCIAL.finditer(text):
        word = found.group("word")
        if word.lower().startswith("cc") and _VOLUME.search(text[: found.start()]):
            continue
        return word
    return None


def leading_phrase(question: str) -> str | None:
    """The first phrase of `question` that leads the physician to an answer, else None."""
    folded = " ".join(question.lower().replace("\u2019", "'").split())
    for phrase in _LEADING:
        if re.search(rf"\b{re.escape(phrase)}\b", folded):
            return phrase
    return None


def normalised(option: str) -> str:
    """An option as compared: lower case, single spaces, no trailing punctuation."""
    return " ".join(option.lower().split()).rstrip(" .:;,!?")


def is_other(option: str) -> bool:
    """ "Other", with or without words after it ("other (please specify)")."""
    return re.fullmatch(r"other\b.*", normalised(option)) is not None


def is_undetermined(option: str) -> bool:
    return normalised(option) == UNDETERMINED


def clinical_options(options: Sequence[str]) -> list[str]:
    """The options other than "other" and "clinically undetermined"."""
    return [o for o in options if not is_other(o) and not is_undetermined(o)]


def query_problem(
    *,
    kind: str,
    basis: str | None,
    question: str,
    options: Sequence[str],
    indicators: int,
) -> str | None:
    """Why a query is not compliant, as the sentence the coder sees, or None when it is."""
    if kind not in KINDS:
        return f"The query kind must be one of: {', '.join(KINDS)}."
    if indicators < 1:
        return (
            "A query names the clinical indicators it rests on: give at least one chart entry "
            "of this encounter (--indicator ENTRY)."
        )
    if not question.strip():
        return "Give the question the physician is asked."
    if any(not o.strip() for o in options):
        return "An option cannot be empty."
    for text, where in ((question, "question"), *((o, "option") for o in options)):
        word = financial_word(text)
        if word is not None:
            return (
                f"The {where} mentions '{word}': a compliant query never mentions payment, "
                "reimbursement, the DRG or money; ask only about the clinical picture."
            )
    phrase = leading_phrase(question)
    if phrase is not None:
        return (
            f"The question is leading ('{phrase}'): a compliant query asks what the clinical "
            "indicators support and lets the options offer the answers, never directs one."
        )
    if len(options) > MAX_OPTIONS:
        return f"A query offers at most {MAX_OPTIONS} options."
    seen = [normalised(o) for o in options]
    if len(set(seen)) != len(seen):
        return "Each option must be offered once."
    if not any(is_other(o) for o in options):
        return 'The options must include "other" (the physician may answer outside them).'
    if not any(is_undetermined(o) for o in options):
        return (
            'The options must include "clinically undetermined" (the physician may not be able '
            "to say)."
        )
    clinical = clinical_options(options)
    if kind == "yes-no":
        if basis not in YES_NO_BASES:
            return (
                "A yes/no query is only for present-on-admission status or a diagnosis already "
                f"documented: give --basis {' or '.join(YES_NO_BASES)}, or ask a multiple-choice "
                "query."
            )
        if sorted(normalised(o) for o in clinical) != ["no", "yes"]:
            return (
                'A yes/no query offers "yes" and "no" besides "other" and "clinically '
                'undetermined".'
            )
        return None
    if basis is not None:
        return "Only a yes/no query takes a basis."
    if len(clinical) < 2:
        return (
            "A multiple-choice query offers at least two clinically reasonable answers besides "
            '"other" and "clinically undetermined".'
        )
    asked = " ".join(question.lower().split())
    named = [o for o in clinical if re.search(rf"\b{re.escape(normalised(o))}\b", asked)]
    if len(named) == 1:
        return (
            f"The question names '{named[0]}', one of the answers: a compliant query does not "
            "single out a diagnosis to agree with; ask without naming it and let the options "
            "offer it."
        )
    return None


def answer_problem(
    options: Sequence[str], *, choice: int | None, other_text: str | None
) -> str | None:
    """Why an answer cannot be recorded (`choice` counts from 1; `other_text` answers
    "other"), or None."""
    both = "Answer with one option's number (--choice N) or in your own words (--other TEXT)."
    if other_text is not None:
        if choice is not None:
            return both
        return None if other_text.strip() else "Give the answer's text with --other."
    if choice is None:
        return both
    if not 1 <= choice <= len(options):
        return f"Choose an option from 1 to {len(options)}."
    if is_other(options[choice - 1]):
        return f'Option {choice} is "other": give your answer with --other TEXT.'
    return None


# -- who may do what ------------------------------------------------------------------------------


def may_raise(roles: Iterable[str]) -> Decision:
    """Coders and the HIM director write queries and send them."""
    if RAISING_ROLES & set(roles):
        return Decision(True, "coders and the HIM director query physicians", POLICY_VERSION)
    return Decision(
        False, "only coders or the HIM director raise and send physician queries", POLICY_VERSION
    )


def may_answer(roles: Iterable[str], *, actor: str, physician: str) -> Decision:
    """Only the physician the query was sent to answers it (their signature is the answer's)."""
    if actor != physician:
        return Decision(
            False, f"only {physician}, to whom the query was sent, may answer it", POLICY_VERSION
        )
    if "physician" not in set(roles):
        return Decision(False, "only a physician answers a query", POLICY_VERSION)
    return Decision(True, "the physician queried answers", POLICY_VERSION)


def may_escalate(roles: Iterable[str]) -> Decision:
    """Escalating an overdue query (to the physician advisor or the chief) is the HIM
    director's."""
    if ESCALATING_ROLES & set(roles):
        return Decision(True, "the HIM director escalates overdue queries", POLICY_VERSION)
    return Decision(False, "only the HIM director escalates an overdue query", POLICY_VERSION)


def may_withdraw(roles: Iterable[str], *, actor: str, raised_by: str) -> Decision:
    """Whoever raised the query withdraws it, or the HIM director."""
    if actor == raised_by and RAISING_ROLES & set(roles):
        return Decision(True, "the coder who raised a query may withdraw it", POLICY_VERSION)
    if ESCALATING_ROLES & set(roles):
        return Decision(True, "the HIM director may withdraw a query", POLICY_VERSION)
    return Decision(
        False,
        f"only {raised_by}, who raised the query, or the HIM director may withdraw it",
        POLICY_VERSION,
    )


def may_read(roles: Iterable[str], *, actor: str, physician: str | None = None) -> Decision:
    """Coders, the HIM director and compliance read every query; a physician those sent to
    them (`physician`: the query's; None asks about reading the list at all)."""
    held = set(roles)
    if OVERSEEING_ROLES & held:
        return Decision(True, "coding and compliance staff read queries", POLICY_VERSION)
    if "physician" in held and physician in (None, actor):
        return Decision(True, "a physician reads the queries sent to them", POLICY_VERSION)
    if "physician" in held:
        return Decision(False, "a physician reads only the queries sent to them", POLICY_VERSION)
    return Decision(
        False,
        "only coders, the HIM director, compliance or the physician queried read queries",
        POLICY_VERSION,
    )


def sees_every_query(roles: Iterable[str]) -> bool:
    """Whether a reader's list holds every query (else only the ones sent to them)."""
    return bool(OVERSEEING_ROLES & set(roles))
