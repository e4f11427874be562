"""Reads of patient data: each records its access in the ledger first, then answers.

If the access event cannot be written (refused by policy, or the store fails), nothing is read
and nothing is returned: fail closed. Every function here takes the acting identity and the
purpose of use, because the ledger must say who saw what, and why.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from ledger.application import Ledger
from ledger.documents import Document
from ledger.keys import Identity
from ledger.patient import Patient


@dataclass(frozen=True)
class Purpose:
    """Why someone is looking: a purpose of use, and a reason when breaking the glass."""

    purpose: str
    break_glass_reason: str | None = None


@dataclass(frozen=True)
class PatientRecord:
    """What `patient show` displays."""

    patient: Patient
    documents: list[Document]

    def as_dict(self) -> dict[str, Any]:
        p = self.patient
        return {
            "mrn": p.mrn,
            "demographics": {
                k: (v.isoformat() if hasattr(v, "isoformat") else v)
                for k, v in p.demographics.items()
            },
            "registered_at": p.created_on.isoformat(),
            "registered_by": p.registered_by,
            "merged_into": p.merged_into,
            "absorbed": list(p.absorbed),
            "registered_despite": p.likely_matches,
            "override_reason": p.override,
            "documents": [
                {
                    "id": str(d.id),
                    "kind": d.kind,
                    "filename": d.filename,
                    "media_type": d.media_type,
                    "size": d.size,
                    "sha256": d.sha256,
                    "filed_at": d.created_on.isoformat(),
                    "filed_by": d.filed_by,
                }
                for d in self.documents
            ],
        }


def patient_record(ledger: Ledger, mrn: str, *, actor: Identity, why: Purpose) -> PatientRecord:
    """A patient's index entry and documents, after recording the access."""
    ledger.patient(mrn)  # a wrong MRN is an error before anything is recorded
    ledger.record_access(
        [mrn],
        actor=actor,
        action="query",
        sections=["demographics", "documents"],
        purpose=why.purpose,
        break_glass_reason=why.break_glass_reason,
    )
    return PatientRecord(ledger.patient(mrn), ledger.documents_of(mrn))


def document_content(
    ledger: Ledger, document_id: UUID, *, actor: Identity, why: Purpose
) -> tuple[Document, bytes]:
    """A filed document's bytes, after recording the access (a copy is a disclosure risk)."""
    document = ledger.document_info(document_id)  # no content is read before the record
    ledger.record_access(
        [document.mrn],
        actor=actor,
        action="copy",
        sections=[f"document:{document.id}"],
        purpose=why.purpose,
        break_glass_reason=why.break_glass_reason,
    )
    return ledger.document(document_id)
