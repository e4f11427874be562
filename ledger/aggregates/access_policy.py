"""The access policy's configuration: a TOML document whose every change is a signed event.

One `AccessPolicy` aggregate (a fixed id) holds the history: each `Loaded` event carries the whole
TOML text, its SHA-256 and its version, so `policy history` shows exactly what was in force when,
and every access event names the policy version that decided it. Until a document is loaded the
built-in defaults of `policies.access` apply. Only an administrator or a compliance officer may
load one; a document that does not parse or check is one sentence and nothing is written, and
loading the text in force again writes nothing.
"""

from __future__ import annotations

import functools
import hashlib
import tomllib
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, cast
from uuid import NAMESPACE_URL, uuid5

from eventsourcing.application import AggregateNotFoundError
from eventsourcing.domain import Aggregate

from ledger.errors import UsageError
from policies.access import (
    DEFAULT_CONFIG,
    AccessConfig,
)
from policies.deficiency import CompletionRules
from policies.limits import DEFAULT_LIMITS, Limits

if TYPE_CHECKING:
    from ledger.application import Ledger

ACCESS_POLICY_ID = uuid5(NAMESPACE_URL, "https://chartledger.invalid/access-policy")


class AccessPolicy(Aggregate):
    """Every version of the access policy configuration, in the order they were loaded."""

    TOPIC = "chartledger/access-policy"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/access-policy/created"

    class Started(Aggregate.Created):
        TOPIC = "chartledger/access-policy/started"
        actor: str

    class Loaded(Aggregate.Event):
        TOPIC = "chartledger/access-policy/loaded"
        text: str
        sha256: str
        version: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.text = self.text
            aggregate.sha256 = self.sha256
            aggregate.policy_version = self.version

    def __init__(self, actor: str) -> None:
        self.text = ""
        self.sha256 = ""
        self.policy_version = ""

    @classmethod
    def start(cls, *, actor: str) -> AccessPolicy:
        return cls._create(cls.Started, id=ACCESS_POLICY_ID, actor=actor)

    def load(self, text: str, *, version: str, actor: str) -> None:
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        self.trigger_event(self.Loaded, text=text, sha256=digest, version=version, actor=actor)


@dataclass(frozen=True)
class LoadedPolicy:
    """One version of the configuration, as `policy show` and `policy history` print it."""

    version: str
    sha256: str
    text: str
    loaded_by: str
    loaded_at: datetime
    event: str


def parse_policy(text: str) -> AccessConfig:
    """A TOML document checked as an access policy, or one `UsageError` sentence."""
    try:
        document = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise UsageError(f"The policy is not valid TOML ({error}).") from None
    from policies.monitoring import MonitoringConfig  # only when a policy is loaded

    try:
        MonitoringConfig.from_mapping(document)
        CompletionRules.from_mapping(document)
        Limits.from_mapping(document)
        return AccessConfig.from_mapping(document)
    except ValueError as error:
        raise UsageError(f"The policy cannot be used: {error}.") from None


def current_access_config(ledger: Ledger) -> AccessConfig:
    """The configuration in force: the last one loaded, else the built-in defaults."""
    try:
        policy = cast(AccessPolicy, ledger.repository.get(ACCESS_POLICY_ID))
    except AggregateNotFoundError:
        return DEFAULT_CONFIG
    return _config_of(policy.text) if policy.text else DEFAULT_CONFIG


def current_completion_rules(ledger: Ledger) -> CompletionRules:
    """The chart completion rules in force: the `[completion]` table, else the defaults."""
    return CompletionRules.from_mapping(current_access_config(ledger).raw)


def current_limits(ledger: Ledger) -> Limits:
    """The size limits in force: the `[limits]` table, else the defaults."""
    try:
        policy = cast(AccessPolicy, ledger.repository.get(ACCESS_POLICY_ID))
    except AggregateNotFoundError:
        return DEFAULT_LIMITS
    return _limits_of(policy.text) if policy.text else DEFAULT_LIMITS


@functools.lru_cache(maxsize=4)
def _config_of(text: str) -> AccessConfig:
    """The configuration a loaded text gives (parsed and checked once per text: every command
    asks for the one in force, a batch of them many times)."""
    return parse_policy(text)


@functools.lru_cache(maxsize=4)
def _limits_of(text: str) -> Limits:
    return Limits.from_mapping(tomllib.loads(text))


def policy_history(ledger: Ledger) -> list[LoadedPolicy]:
    """Every version loaded, oldest first (empty while the defaults apply)."""
    loaded = []
    for event in ledger.events.get(ACCESS_POLICY_ID):
        if isinstance(event, AccessPolicy.Loaded):
            loaded.append(
                LoadedPolicy(
                    version=event.version,
                    sha256=event.sha256,
                    text=event.text,
                    loaded_by=event.actor,
                    loaded_at=event.timestamp,
                    event=f"{event.originator_id}/{event.originator_version}",
                )
            )
    return loaded
