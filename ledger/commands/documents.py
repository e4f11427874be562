"""Documents, the commands: file a document to a chart, move a misfiled one to another.

Each authenticates the actor, asks `policies.documents` whether they may, checks what it is
given before any byte is stored (a refusal writes nothing), stores the bytes under the patient's
data key (`BlobStore`), lets the `Document` aggregate record the event, and
saves once.
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
from ledger.errors import UsageError, require
from ledger.text_checks import check_text
from policies.documents import may_file_documents, may_refile_documents

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity


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
    require(may_file_documents(ledger.authenticate(actor).roles))
    Document.check_kind(kind)
    patient = ledger.patient(mrn)
    if patient.merged_into is not None:
        raise UsageError(f"{patient.mrn} was merged into {patient.merged_into}; file it there.")
    guessed = media_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    limits = current_limits(ledger)
    check_text(path.name, what="the file name", limit=limits.field_chars)
    check_text(guessed, what="the media type", limit=limits.field_chars)
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
