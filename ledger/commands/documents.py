"""Documents, the commands: file a document to a chart (a file, or an interface's attachment
already in memory), move a misfiled one to another.

Each authenticates the actor, asks `policies.documents` whether they may, checks what it is
given before any byte is stored (a refusal writes nothing), stores the bytes under the patient's
data key (`BlobStore`), lets the `Document` aggregate record the event, and
saves once. Filing an attachment may run in a `ledger.commands.batch.Batch` (`batch=`): the
same checks, its bytes stored when the batch saves, just before its events.
"""

from __future__ import annotations

import mimetypes
import os
import stat
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO
from uuid import UUID

from ledger.aggregates.access_policy import current_limits
from ledger.aggregates.documents import Document
from ledger.aggregates.patient import Patient, patient_id
from ledger.commands.batch import Batch, batched, loads_from, save_or_add
from ledger.errors import UsageError, require
from ledger.text_checks import check_text
from policies.documents import may_file_documents, may_refile_documents

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity
    from policies.limits import Limits


def file_document(
    ledger: Ledger,
    mrn: str,
    path: Path,
    *,
    kind: str,
    actor: Identity,
    encounter_id: UUID | None = None,
    media_type: str | None = None,
) -> UUID:
    """File a document to a patient's chart: a regular file within `[limits] document_bytes`,
    streamed in chunks (hashed, then sealed and stored), never read whole into memory."""
    guessed = media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    patient, limits = _check_filing(ledger, mrn, kind, path.name, guessed, actor=actor)
    with _open_regular(path) as source:
        digest, size = ledger.blobs.put_file(
            patient.id, source, limit=limits.document_bytes, name=path.name
        )
    document = Document.file(
        patient.id,
        patient.mrn,
        encounter_id=encounter_id,
        kind=kind,
        sha256=digest,
        size=size,
        media_type=guessed,
        filename=path.name,
        actor=actor.name,
    )
    ledger.save(document, signer=actor)
    return document.id


@batched
def file_attachment(
    ledger: Ledger,
    mrn: str,
    content: bytes,
    *,
    filename: str,
    media_type: str,
    kind: str,
    actor: Identity,
    encounter_id: UUID | None = None,
    batch: Batch | None = None,
) -> UUID:
    """File bytes already in memory (an interface's attachment) to a patient's chart, within
    `[limits] document_bytes`; in a `batch`, they are stored when it saves."""
    records = loads_from(ledger, batch)
    patient, limits = _check_filing(
        ledger, mrn, kind, filename, media_type, actor=actor, records=records
    )
    if len(content) > limits.document_bytes:
        raise UsageError(f"{filename} is larger than the limit of {limits.document_bytes} bytes.")
    if batch is not None:
        digest = batch.store(patient.id, content)
    else:
        digest = ledger.blobs.put(patient.id, content)
    document = Document.file(
        patient.id,
        patient.mrn,
        encounter_id=encounter_id,
        kind=kind,
        sha256=digest,
        size=len(content),
        media_type=media_type,
        filename=filename,
        actor=actor.name,
    )
    save_or_add(ledger, batch, document, signer=actor)
    return document.id


def _check_filing(
    ledger: Ledger,
    mrn: str,
    kind: str,
    filename: str,
    media_type: str,
    *,
    actor: Identity,
    records: Ledger | Batch | None = None,
) -> tuple[Patient, Limits]:
    """Before any byte is stored: the actor may file, the kind is one, the patient's chart is
    not merged away, the name and media type are text within the limits (returned)."""
    require(may_file_documents(ledger.authenticate(actor).roles))
    Document.check_kind(kind)
    patient = (records if records is not None else ledger).patient(mrn)
    if patient.merged_into is not None:
        raise UsageError(f"{patient.mrn} was merged into {patient.merged_into}; file it there.")
    limits = current_limits(ledger)
    check_text(filename, what="the file name", limit=limits.field_chars)
    check_text(media_type, what="the media type", limit=limits.field_chars)
    return patient, limits


def refile_document(
    ledger: Ledger,
    document_id: UUID,
    to_mrn: str,
    *,
    reason: str,
    actor: Identity,
    encounter_id: UUID | None = None,
) -> str:
    """Move a misfiled document to another patient's chart; returns the event's UUID/VERSION.

    The content is stored again under the new patient's data key before the event is saved,
    so the document reads from its new chart; the `Filed` event is left as it was.
    """
    require(may_refile_documents(ledger.authenticate(actor).roles))
    document = ledger.document_info(document_id)
    target = ledger.patient(to_mrn)
    from_id = document.patient_id
    document.refile(
        target.id, target.mrn, encounter_id=encounter_id, reason=reason, actor=actor.name
    )
    if target.merged_into is not None:
        raise UsageError(f"{target.mrn} was merged into {target.merged_into}; move it there.")
    if encounter_id is not None:
        _check_encounter_of(ledger, encounter_id, target)
    ledger.blobs.copy(from_id, target.id, document.sha256, document.size)
    ledger.save(document, signer=actor)
    return f"{document.id}/{document.version}"


def _open_regular(path: Path) -> BinaryIO:
    """The file to file, opened for reading: a regular file only (never a device such as
    /dev/zero, a FIFO or a folder), opened without blocking so a FIFO cannot hang the command."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
    except FileNotFoundError:
        raise UsageError(f"There is no file at {path}.") from None
    except IsADirectoryError:
        raise UsageError(f"{path} is a folder, not a file.") from None
    except PermissionError:
        raise UsageError(f"The file {path} cannot be read.") from None
    except OSError as error:
        raise UsageError(f"The file {path} cannot be read ({error.strerror}).") from None
    mode = os.fstat(fd).st_mode
    if not stat.S_ISREG(mode):
        os.close(fd)
        if stat.S_ISDIR(mode):
            raise UsageError(f"{path} is a folder, not a file.")
        raise UsageError(f"{path} is not a regular file (a device or pipe); file a saved copy.")
    return os.fdopen(fd, "rb")


def _check_encounter_of(ledger: Ledger, encounter_id: UUID, target: Patient) -> None:
    """The encounter a moved document joins must be one of the target patient's."""
    encounter = ledger.encounter(encounter_id)
    own = {target.id, *(patient_id(m) for m in target.absorbed)}
    if encounter.patient_id not in own:
        raise UsageError(f"Encounter {encounter_id} is not one of {target.mrn}'s encounters.")
