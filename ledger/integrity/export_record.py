"""What left the ledger: every export is a signed event, written before the folder appears.

An export holds every event, and so every MRN the access events name: it is a disclosure of the
whole ledger. `export_ledger` writes the folder beside its destination, hashes each file, records
`ExportRecord.Exported` (who, why, the tree size and root, each file's SHA-256), signed by the
person who exported, and only then moves the folder into place. If the event cannot be written,
the folder is removed: nothing is written.
"""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from uuid import UUID, uuid4

from eventsourcing.domain import Aggregate

from ledger.errors import NotAuthorised, UsageError
from ledger.files import check_new_folder
from policies.access import OVERSIGHT_READERS

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.integrity.keys import Identity

MAX_PURPOSE = 500


class ExportRecord(Aggregate):
    """One export of the ledger (one event, never contended)."""

    TOPIC = "chartledger/export"

    class Created(Aggregate.Created):
        TOPIC = "chartledger/export/created"

    class Exported(Aggregate.Created):
        TOPIC = "chartledger/export/exported"
        actor: str
        purpose: str
        tree_size: int
        root: str
        """The Merkle root of the exported tree (hex; empty for an empty log)."""
        files: dict[str, str]
        """Each file of the folder (relative POSIX path) -> its SHA-256 (hex)."""

    def __init__(
        self, actor: str, purpose: str, tree_size: int, root: str, files: dict[str, str]
    ) -> None:
        self.actor = actor
        self.purpose = purpose
        self.tree_size = tree_size
        self.root = root
        self.files = dict(files)

    @classmethod
    def exported(
        cls, *, actor: str, purpose: str, tree_size: int, root: str, files: dict[str, str]
    ) -> ExportRecord:
        return cls._create(
            cls.Exported,
            id=uuid4(),
            actor=actor,
            purpose=purpose,
            tree_size=tree_size,
            root=root,
            files=files,
        )


@dataclass(frozen=True)
class Exported:
    """What `export` reports: the folder, how many events, and the event that records it."""

    folder: Path
    events: int
    """Also the size of the signed checkpoint the export ends at."""
    record: UUID
    files: dict[str, str]
    root: str
    """That checkpoint's Merkle root (hex)."""


def _checked_purpose(purpose: str) -> str:
    text = purpose.strip()
    if not text:
        raise UsageError("Say why the ledger is exported (--purpose).")
    if len(text) > MAX_PURPOSE or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise UsageError(
            f"The purpose must be one line of at most {MAX_PURPOSE} printable characters."
        )
    return text


def _hashes(folder: Path) -> dict[str, str]:
    found = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file():
            digest = hashlib.sha256()
            with path.open("rb") as data:
                for chunk in iter(lambda: data.read(1 << 20), b""):
                    digest.update(chunk)
            found[path.relative_to(folder).as_posix()] = digest.hexdigest()
    return found


def export_ledger(
    ledger: Ledger,
    folder: Path,
    *,
    actor: Identity,
    node: Identity,
    purpose: str,
    force: bool = False,
) -> Exported:
    """Export the ledger to a new (or empty) FOLDER, the export recorded first (fail closed).
    The node key signs a checkpoint of everything exported first (`Ledger.export`). With
    `force` a non-empty folder is replaced whole, once the export is recorded."""
    why = _checked_purpose(purpose)
    if not OVERSIGHT_READERS["export"] & set(ledger.authenticate(actor).roles):
        raise NotAuthorised("Only an administrator or a compliance officer may export the ledger.")
    folder = Path(folder)
    check_new_folder(folder, force=force)  # no link, no file, not non-empty without force
    replaced = folder.exists() and any(folder.iterdir())
    missing = [p for p in (folder.parent, *folder.parent.parents) if not p.exists()]
    staging = folder.parent / f".{folder.name}.export-{uuid4().hex[:12]}"
    try:
        staging.parent.mkdir(parents=True, exist_ok=True)
        count = ledger.export(staging, node=node, shown_as=folder)
        files = _hashes(staging)
        root = ledger.merkle_log.root(count).hex() if count else ""
        record = ExportRecord.exported(
            actor=actor.name, purpose=why, tree_size=count, root=root, files=files
        )
        ledger.save(record, signer=actor)
        if replaced:  # --force: the old folder goes aside, the new one in, then the old away
            aside = folder.parent / f".{folder.name}.replaced-{uuid4().hex[:12]}"
            folder.replace(aside)
            staging.replace(folder)
            shutil.rmtree(aside, ignore_errors=True)
        else:
            staging.replace(folder)  # an empty folder is replaced; the record came first
    except BaseException as error:
        shutil.rmtree(staging, ignore_errors=True)
        for made in missing:  # the nearest first: only folders this export created, if empty
            try:
                made.rmdir()
            except OSError:
                break
        if isinstance(error, OSError):
            raise UsageError(
                f"The export cannot be written to {folder} ({error.strerror or 'refused'})."
            ) from None
        raise
    return Exported(folder, count, record.id, files, root)
