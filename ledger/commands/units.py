"""Nursing units, the commands: open a unit, change its bed counts, close it (decisions §45).

Only the HIM director or an administrator may (`policies.units.may_manage_units`). Each is one
signed event of the unit's `NursingUnit` aggregate; a refusal is one sentence and writes nothing.
"""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING, cast

from eventsourcing.application import AggregateNotFoundError

from ledger.aggregates.nursing_unit import NursingUnit, unit_id
from ledger.errors import NotFound, UsageError, require
from ledger.text_checks import check_text
from policies.units import code_problem, may_manage_units, normal_code

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


def load_unit(ledger: Ledger, code: str) -> NursingUnit:
    """The unit with this code, or `NotFound` naming the code."""
    problem = code_problem(code)
    if problem is not None:
        raise UsageError(problem)
    try:
        return cast(NursingUnit, ledger.repository.get(unit_id(code)))
    except AggregateNotFoundError:
        raise NotFound(f"There is no nursing unit {normal_code(code)}.") from None


def _one_line(ledger: Ledger, value: str, what: str) -> str:
    from ledger.aggregates.access_policy import current_limits

    return check_text(value, what=what, limit=current_limits(ledger).field_chars)


def open_unit(
    ledger: Ledger,
    code: str,
    *,
    name: str,
    beds: int,
    bassinets: int = 0,
    service: str | None = None,
    effective_from: date,
    actor: Identity,
) -> NursingUnit:
    """Open a nursing unit with its counts from `effective_from`; a code is opened once."""
    require(may_manage_units(ledger.authenticate(actor).roles))
    problem = code_problem(code)
    if problem is not None:
        raise UsageError(problem)
    _one_line(ledger, name, "the unit's name")
    if service is not None:
        _one_line(ledger, service, "the service")
    try:
        ledger.repository.get(unit_id(code))
    except AggregateNotFoundError:
        pass
    else:
        raise UsageError(f"Nursing unit {normal_code(code)} is already open (or was closed).")
    unit = NursingUnit.open(
        code,
        name=name,
        service=service,
        beds=beds,
        bassinets=bassinets,
        effective_from=effective_from,
        actor=actor.name,
    )
    ledger.save(unit, signer=actor)
    return unit


def change_beds(
    ledger: Ledger,
    code: str,
    *,
    beds: int,
    bassinets: int | None = None,
    effective_from: date,
    reason: str,
    actor: Identity,
) -> tuple[NursingUnit, bool]:
    """New bed (and bassinet) counts from `effective_from`; bassinets kept when not given.
    False (and nothing written) when those are the counts in force already."""
    require(may_manage_units(ledger.authenticate(actor).roles))
    _one_line(ledger, reason, "the reason")
    unit = load_unit(ledger, code)
    changed = unit.change_counts(
        beds=beds,
        bassinets=bassinets,
        effective_from=effective_from,
        reason=reason,
        actor=actor.name,
    )
    if changed:
        ledger.save(unit, signer=actor)
    return unit, changed


def close_unit(
    ledger: Ledger, code: str, *, effective_from: date, reason: str, actor: Identity
) -> NursingUnit:
    """Close the unit: no beds from `effective_from` on."""
    require(may_manage_units(ledger.authenticate(actor).roles))
    _one_line(ledger, reason, "the reason")
    unit = load_unit(ledger, code)
    unit.close(effective_from=effective_from, reason=reason, actor=actor.name)
    ledger.save(unit, signer=actor)
    return unit
