"""The id of an encounter's coding abstract, apart from the aggregate: a chart's history finds
the abstract by it without importing `CodingAbstract` and its event classes (decisions §53)."""

from __future__ import annotations

from uuid import NAMESPACE_URL, UUID, uuid5

CODING_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/coding-abstract")


def abstract_id(encounter_id: UUID | str) -> UUID:
    """The id of an encounter's coding abstract (derived: an encounter finds it with no index)."""
    return uuid5(CODING_NAMESPACE, str(encounter_id))
