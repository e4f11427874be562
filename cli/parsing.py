"""What people type: times (ISO 8601, local when no offset is given) and ids."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from policies.limits import year_problem


def parse_time(value: str | None, *, what: str) -> datetime:
    """`None` means now; a time without an offset is this machine's local time."""
    from ledger.errors import UsageError

    if value is None or value.strip().lower() == "now":
        return datetime.now().astimezone()
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(
            f"'{value}' is not a {what} (give YYYY-MM-DDTHH:MM, optionally with an offset)."
        ) from None
    far = year_problem(parsed.year)
    if far is not None:
        raise UsageError(f"'{_shown(value)}' is not a {what}: {far}.")
    return parsed if parsed.tzinfo is not None else parsed.astimezone()


def parse_day(value: str, *, what: str = "date") -> date:
    """A calendar day, YYYY-MM-DD (a discharge or signing day: the ledger's days are UTC)."""
    from ledger.errors import UsageError

    try:
        day = date.fromisoformat(value.strip())
    except ValueError:
        raise UsageError(f"'{_shown(value)}' is not a {what} (give YYYY-MM-DD).") from None
    far = year_problem(day.year)
    if far is not None:
        raise UsageError(f"'{_shown(value)}' is not a {what}: {far}.")
    return day


def _shown(value: str) -> str:
    return value if len(value) <= 40 else value[:40] + "…"


def parse_uuid(value: str, what: str) -> UUID:
    from ledger.errors import UsageError

    try:
        return UUID(value.strip())
    except ValueError:
        raise UsageError(f"'{value}' is not {what} id.") from None


def parse_entry(value: str) -> tuple[UUID, UUID]:
    """An entry reference as printed by `chart add`: ENCOUNTER:ENTRY."""
    from ledger.errors import UsageError

    encounter, _, entry = value.partition(":")
    if not entry:
        raise UsageError(f"'{value}' is not an entry reference (ENCOUNTER:ENTRY, as printed).")
    return parse_uuid(encounter, "an encounter"), parse_uuid(entry, "an entry")
