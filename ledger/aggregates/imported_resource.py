"""What each resource imported from another system became here: the record that makes an import
idempotent (`ledger/interfaces/fhir_import.py` writes it; every process must know its topics).

One `ImportedResource` per source resource, its id derived from the resource's type and id, so an
import finds it directly; saved in the same transaction as what the resource became.
"""

from __future__ import annotations

from typing import Any
from uuid import NAMESPACE_URL, UUID, uuid5

from eventsourcing.domain import Aggregate

IMPORT_NAMESPACE = uuid5(NAMESPACE_URL, "https://chartledger.invalid/fhir-import")


def imported_id(resource_type: str, resource_id: str) -> UUID:
    """The id of the record of one imported resource: derived, so an import finds it directly."""
    return uuid5(IMPORT_NAMESPACE, f"{resource_type}/{resource_id}")


class ImportedResource(Aggregate):
    """One resource of another system, and what it became in this ledger (imported once)."""

    TOPIC = "chartledger/imported-resource"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/imported-resource/created"

    class Imported(Aggregate.Created):
        """`became` is an MRN, an encounter id, an entry ENCOUNTER:ENTRY or document id(s).

        Encrypted with the patient's key: the source's ids link this patient to another system.
        """

        TOPIC = "chartledger/imported-resource/imported"
        ENCRYPT_FOR = "patient_id"
        resource_type: str
        resource_id: str
        patient_id: UUID
        kind: str
        became: str
        details: dict[str, Any]
        actor: str

    class Included(Aggregate.Event):
        """Resources imported into what this one became (entries and documents of an encounter).

        Saved with them, so an import of the same export again reads this one record, not one
        per resource, to know they are there.
        """

        TOPIC = "chartledger/imported-resource/included"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        keys: list[str]
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.included = [*aggregate.included, *self.keys]

    def __init__(
        self,
        resource_type: str,
        resource_id: str,
        patient_id: UUID,
        kind: str,
        became: str,
        details: dict[str, Any],
        actor: str,
    ) -> None:
        self.resource_type = resource_type
        self.resource_id = resource_id
        self.patient_id = patient_id
        self.kind = kind
        self.became = became
        self.details = dict(details)
        self.imported_by = actor
        self.included: list[str] = []

    @classmethod
    def record(
        cls,
        resource_type: str,
        resource_id: str,
        *,
        patient_id: UUID,
        kind: str,
        became: str,
        details: dict[str, Any] | None = None,
        actor: str,
    ) -> ImportedResource:
        return cls._create(
            cls.Imported,
            id=imported_id(resource_type, resource_id),
            resource_type=resource_type,
            resource_id=resource_id,
            patient_id=patient_id,
            kind=kind,
            became=became,
            details=dict(details or {}),
            actor=actor,
        )

    def include(self, keys: list[str], *, actor: str) -> None:
        """Note resources ("TYPE/ID") imported into what this one became, in the same save."""
        self.trigger_event(self.Included, patient_id=self.patient_id, keys=keys, actor=actor)
