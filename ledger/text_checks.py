"""The ledger's side of `policies.limits`: refuse hostile text before anything is written.

`check_text` is for the commands that know what a field is (a name, a reason, a clinical text),
`check_demographics` for a patient's demographics (`policies.patients`);
`check_events` runs in `Ledger.save` over every pending event, so no command can store invalid
UTF-8, control characters or an unbounded string even if it forgot its own check.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Any

from ledger.errors import UsageError
from policies.limits import (
    DEFAULT_LIMITS,
    MAX_FIELD_CHARS,
    MAX_TEXT_CHARS,
    Limits,
    discharge_disposition,
    disposition_problem,
    text_problem,
)
from policies.patients import demographics_problem

# Event fields that are one line by nature (names, identifiers, reasons): no newline or tab.
ONE_LINE_FIELDS = frozenset(
    {
        "actor",
        "agency",
        "attending",
        "author",
        "barcode",
        "bed",
        "break_glass_reason",
        "disposition",
        "filename",
        "from_mrn",
        "holder",
        "media_type",
        "mrn",
        "name",
        "physician",
        "reason",
        "recipient",
        "requested_by",
        "requester",
        "requestor",
        "retired_mrn",
        "service",
        "survivor_mrn",
    }
)


def check_text(value: str, *, what: str, limit: int, multiline: bool = False) -> str:
    """`value` unchanged, or one `UsageError` sentence naming `what`."""
    problem = text_problem(value, what=what, limit=limit, multiline=multiline)
    if problem is not None:
        raise UsageError(problem)
    return value


def check_demographics(
    demographics: Mapping[str, Any], *, today: date, limits: Limits = DEFAULT_LIMITS
) -> None:
    """Refuse, as one `UsageError` sentence, the demographics `policies.patients` would not
    register (a name, a plausible date of birth, printable text within the limits)."""
    problem = demographics_problem(demographics, today=today, limits=limits)
    if problem is not None:
        raise UsageError(problem)


def check_events(objs: Iterable[Any]) -> None:
    """Every string in every pending event of `objs` within the hard ceilings (see module)."""
    for obj in objs:
        for event in getattr(obj, "_pending_events", ()):
            check_event(event)


def check_event(event: Any) -> None:
    """Every string of one event within the hard ceilings (`check_events`, one at a time: a
    caller that saves many resources at once names the one at fault)."""
    for field, value in vars(event).items():
        _check_value(value, field, top=True)


def _check_value(value: Any, field: str, *, top: bool) -> None:
    if isinstance(value, str):
        one_line = top and field in ONE_LINE_FIELDS
        if value.isascii() and value.isprintable() and len(value) <= MAX_FIELD_CHARS:
            return  # `text_problem`'s common case, before its words are built
        problem = text_problem(
            value,
            what=f"the {field.replace('_', ' ')}",
            limit=MAX_FIELD_CHARS if one_line else MAX_TEXT_CHARS,
            multiline=not one_line,
        )
        if problem is not None:
            raise UsageError(problem)
    elif isinstance(value, Mapping):
        for key, item in value.items():
            _check_value(key, field, top=False)
            _check_value(item, field, top=False)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _check_value(item, field, top=False)


def check_entry_text(ledger: Any, text: str) -> None:
    """A clinical entry's text: multi-line, printable, within the policy's `text_chars`."""
    from ledger.aggregates.access_policy import current_limits

    check_text(text, what="the entry text", limit=current_limits(ledger).text_chars, multiline=True)


def checked_disposition(value: str) -> str:
    """The plain word of a NUBC patient discharge status (`01` or `home` -> `home`)."""
    problem = disposition_problem(value)
    if problem is not None:
        raise UsageError(problem)
    return str(discharge_disposition(value))
