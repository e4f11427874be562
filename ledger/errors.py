"""Every error Chartledger raises on purpose: one root, one plain sentence each.

The CLI turns a `LedgerError` into its message and a non-zero exit code in one place; anything
else is a bug and keeps its traceback. Messages name identifiers only, never patient data.
"""

from __future__ import annotations

from typing import Protocol, TypedDict
from uuid import UUID


class LedgerError(Exception):
    """The root of every error a user can cause or meet; `str()` is one plain sentence."""

    exit_code = 1


class StaleView(LedgerError):
    """A view's tables were built by an older version of the view: `chartledger upgrade`."""

    exit_code = 2


class UsageError(LedgerError):
    """A command was given something it cannot use (a bad URL, a missing file, a bad value)."""

    exit_code = 2


class ConfigurationError(LedgerError):
    """The ledger home, a key file or the store is missing or not as expected."""

    exit_code = 3


class IdentityError(ConfigurationError):
    """The acting identity cannot be used: no such user, no key file, a wrong passphrase."""


class StoreUnavailable(ConfigurationError):
    """The database cannot be reached or opened."""


class NotAuthorised(LedgerError):
    """The acting identity may not do this."""

    exit_code = 4


class NotFound(LedgerError):
    """A user, event or other identifier that the ledger does not hold."""

    exit_code = 5


class ConflictError(LedgerError):
    """Someone else changed the same record at the same moment; nothing was saved."""

    exit_code = 6


class Where(TypedDict, total=False):
    """Where in the ledger a check failed: log position, aggregate and version."""

    position: int | None
    originator_id: UUID | None
    originator_version: int | None


class IntegrityViolation(LedgerError):
    """The stored ledger is not what was signed: names the check that failed and where.

    Raised by reads, by the Merkle log when an event enters it, and by `verify`. There is no
    boolean form: a caller cannot forget to look at the answer.
    """

    exit_code = 10

    def __init__(
        self,
        check: str,
        detail: str,
        *,
        position: int | None = None,
        originator_id: UUID | str | None = None,
        originator_version: int | None = None,
    ) -> None:
        self.check = check
        self.detail = detail
        self.position = position
        self.originator_id = originator_id
        self.originator_version = originator_version
        where = []
        if position is not None:
            where.append(f"log position {position}")
        if originator_id is not None:
            where.append(f"aggregate {originator_id}")
        if originator_version is not None:
            where.append(f"version {originator_version}")
        place = f" ({', '.join(where)})" if where else ""
        super().__init__(f"Integrity check '{check}' failed{place}: {detail}")


class AccessDenied(NotAuthorised):
    """The access policy refused to show patient data (the refusal itself was recorded)."""


class PatientNotFound(NotFound):
    """No patient holds that medical record number."""


class ProbableDuplicate(UsageError):
    """A new registration looks like a patient the index already holds."""

    def __init__(self, mrns: list[str]) -> None:
        self.mrns = mrns
        super().__init__(
            f"This patient looks like {', '.join(mrns)} already in the index; check them, or "
            "register anyway with --new-despite-match REASON."
        )


class _Decision(Protocol):
    @property
    def allowed(self) -> bool: ...
    @property
    def reason(self) -> str: ...


def require(decision: _Decision) -> None:
    """Turn a policy's refusal into `NotAuthorised`, its reason as the sentence."""
    if not decision.allowed:
        raise NotAuthorised(decision.reason[0].upper() + decision.reason[1:] + ".")
