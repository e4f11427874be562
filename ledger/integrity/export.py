"""Writing the export folder (contract: docs/format.md section 4).

An export holds the stored bytes of every event in log order, every signed checkpoint and every
public key the ledger has known. `ledger.verifier.export` verifies one offline.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ledger.files import new_folder, open_text, subfolder, write_text
from ledger.verifier.export import FORMAT, b64
from ledger.verifier.log import LogEvent

README = """\
Chartledger export ({format})

events.ndjson    every event in log order: position, originator_id, originator_version, topic,
                 state (base64 of the stored bytes: a signed envelope, docs/format.md)
checkpoints/     C2SP signed notes (tlog-checkpoint) of the Merkle log, named by tree size; the
                 largest, signed when the export was made, covers every event above
keys.json        every signer the ledger has known, the node key and the genesis fingerprint

To verify it on any machine with Chartledger installed (no database, no patient-data key):

    chartledger verify --export {folder} --genesis {genesis}

Compare the genesis fingerprint with the one printed when the ledger was created.
"""


def write_export(
    folder: Path,
    events: Iterator[LogEvent],
    checkpoints: list[tuple[int, str]],
    keys: dict[str, Any],
    *,
    shown_as: Path | None = None,
    force: bool = False,
) -> int:
    """Write an export folder (new or empty, or any with `force`); returns the event count.
    `shown_as`: the folder's name in its README when it is written elsewhere and moved."""
    new_folder(folder, force=force)
    subfolder(folder / "checkpoints")
    count = 0
    with open_text(folder / "events.ndjson", force=True) as out:
        for event in events:
            line = {
                "position": event.position,
                "originator_id": str(event.originator_id),
                "originator_version": event.originator_version,
                "topic": event.topic,
                "state": b64(event.state),
            }
            out.write(json.dumps(line, separators=(",", ":")) + "\n")
            count += 1
    for size, note in checkpoints:
        write_text(folder / "checkpoints" / f"{size:012d}.txt", note, force=True)
    write_text(folder / "keys.json", json.dumps(keys, indent=2) + "\n", force=True)
    write_text(
        folder / "README.txt",
        README.format(format=FORMAT, folder=shown_as or folder, genesis=keys.get("genesis")),
        force=True,
    )
    return count
