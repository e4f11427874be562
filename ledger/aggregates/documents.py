"""Scanned and electronic documents: content-addressed, encrypted, and checked by `verify`.

Filing a document stores its bytes once under their SHA-256 (encrypted with the patient's data
key, bound to the hash) and records `Document.Filed` with the hash, size and media type. The
event is signed, so a blob that was swapped or corrupted later no longer matches its hash.

A document filed to the wrong patient is moved by `Document.Refiled`, never edited: the `Filed`
event stays as it was (the history shows where it went first), and the bytes are stored again
under the new patient's data key so the document still reads after the move.

This module holds the `Document` aggregate (which keeps its own invariants: `file`, `refile`).
The bytes are kept by `ledger.stores.blobs.BlobStore`; the reads are in `ledger.reads.documents`
(`documents_of`, `read_document`, `check_documents`; one document's facts are the loader
`Ledger.document_info`). The commands are in `ledger.commands.documents`, who may run them in
`policies.documents`.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger.errors import UsageError
from policies.documents import DOCUMENT_KINDS
from policies.limits import DEFAULT_LIMITS

MAX_SIZE = DEFAULT_LIMITS.document_bytes
"""The default document limit (`[limits] document_bytes` in the access policy sets it)."""


class Document(Aggregate):
    """One filed document of a patient's chart."""

    TOPIC = "chartledger/document"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/document/created"

    class Filed(Aggregate.Created):
        TOPIC = "chartledger/document/filed"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        mrn: str
        encounter_id: UUID | None
        kind: str
        sha256: str
        size: int
        media_type: str
        filename: str
        actor: str

    class Refiled(Aggregate.Event):
        """The document was moved to another patient's chart (it had been misfiled)."""

        TOPIC = "chartledger/document/refiled"
        ENCRYPT_FOR = "patient_id"
        patient_id: UUID
        mrn: str
        from_mrn: str
        sha256: str
        """The content's hash again, signed under the new chart (its key opens this event)."""
        encounter_id: UUID | None
        reason: str
        actor: str

        def apply(self, aggregate: Any) -> None:
            aggregate.patient_id = self.patient_id
            aggregate.mrn = self.mrn
            aggregate.encounter_id = self.encounter_id

    def __init__(
        self,
        patient_id: UUID,
        mrn: str,
        encounter_id: UUID | None,
        kind: str,
        sha256: str,
        size: int,
        media_type: str,
        filename: str,
        actor: str,
    ) -> None:
        self.patient_id = patient_id
        self.mrn = mrn
        self.encounter_id = encounter_id
        self.kind = kind
        self.sha256 = sha256
        self.size = size
        self.media_type = media_type
        self.filename = filename
        self.filed_by = actor

    @staticmethod
    def check_kind(kind: str) -> None:
        """A document is one of the kinds `policies.documents` lists (the command checks it
        before the bytes are stored too, so a wrong kind writes nothing)."""
        if kind not in DOCUMENT_KINDS:
            kinds = ", ".join(sorted(DOCUMENT_KINDS))
            raise UsageError(f"Unknown document kind '{kind}'; one of {kinds}.")

    @classmethod
    def file(
        cls,
        patient_id: UUID,
        mrn: str,
        *,
        encounter_id: UUID | None,
        kind: str,
        sha256: str,
        size: int,
        media_type: str,
        filename: str,
        actor: str,
    ) -> Document:
        """A document filed to a patient's chart, its bytes already stored under `sha256`."""
        cls.check_kind(kind)
        return cls._create(
            cls.Filed,
            id=uuid4(),
            patient_id=patient_id,
            mrn=mrn,
            encounter_id=encounter_id,
            kind=kind,
            sha256=sha256,
            size=size,
            media_type=media_type,
            filename=filename,
            actor=actor,
        )

    def refile(
        self,
        patient_id: UUID,
        mrn: str,
        *,
        encounter_id: UUID | None,
        reason: str,
        actor: str,
    ) -> None:
        """Move the document to another patient's chart, for a reason; the `Filed` event stays
        as it was (the history shows where it went first)."""
        if not reason.strip():
            raise UsageError("Give a reason for moving the document.")
        if patient_id == self.patient_id:
            raise UsageError(f"Document {self.id} is already in {mrn}'s chart.")
        self.trigger_event(
            self.Refiled,
            patient_id=patient_id,
            mrn=mrn,
            from_mrn=self.mrn,
            sha256=self.sha256,
            encounter_id=encounter_id,
            reason=reason.strip(),
            actor=actor,
        )
