"""Reads of filed documents: a chart's documents, one document's bytes, and `verify`'s re-hash."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, cast
from uuid import UUID

from ledger.aggregates.documents import Document
from ledger.aggregates.patient import patient_id
from ledger.errors import IntegrityViolation
from ledger.integrity.data_keys import DataDestroyed

if TYPE_CHECKING:
    from ledger.application import Ledger


@dataclass(frozen=True)
class DocumentCheck:
    """What `verify` found of the documents."""

    checked: int
    skipped: bool


def read_document(ledger: Ledger, document_id: UUID) -> tuple[Document, bytes]:
    """A filed document and its bytes, byte for byte (the caller records the access)."""
    found = ledger.document_info(document_id)
    return found, ledger.blobs.get(found.patient_id, found.sha256)


def documents_of(ledger: Ledger, mrn: str) -> list[Document]:
    """Every document filed to a patient's chart (and to charts merged into it)."""
    wanted = [patient_id(m) for m in (mrn, *ledger.patient(mrn).absorbed)]
    ids = ledger.chart_index().document_ids(wanted)
    return [cast(Document, ledger.repository.get(document_id)) for document_id in ids]


def check_documents(
    ledger: Ledger, *, can_decrypt: bool, after: int | None = None, batch_size: int = 1000
) -> DocumentCheck:
    """Re-hash every filed document's bytes (needs the master key; skipped without it), read a
    batch of filings at a time; with `after`, only those filed after that notification id
    (an incremental verification's)."""
    if not can_decrypt:
        return DocumentCheck(0, skipped=True)
    checked = 0
    start = after
    while True:
        filed = ledger.recorder.select_notifications(
            start=start,
            limit=batch_size,
            topics=[Document.Filed.TOPIC],
            inclusive_of_start=start is None,
        )
        if not filed:
            break
        start = filed[-1].id
        for note in filed:
            try:
                found = cast(Document, ledger.repository.get(cast(UUID, note.originator_id)))
                for _ in ledger.blobs.chunks(found.patient_id, found.sha256):
                    pass  # re-hashed piece by piece; the last step compares the whole
            except DataDestroyed:
                continue  # shredded at the end of retention: nothing left to compare
            except IntegrityViolation as failure:
                raise IntegrityViolation(
                    "document",
                    failure.detail,
                    originator_id=cast(UUID, note.originator_id),
                    originator_version=1,
                ) from None
            checked += 1
    return DocumentCheck(checked, skipped=False)
