"""Creating a ledger and proving it: `init`, `checkpoint`, `prove`, `verify`, `export`."""

from __future__ import annotations

import base64
import time
from pathlib import Path
from typing import TYPE_CHECKING

import click

from cli.common import force_option
from cli.main import Session, pass_session
from cli.output import emit_json

if TYPE_CHECKING:
    from ledger.verifier.log import Report


@click.command()
@click.option(
    "--admin", default="admin", show_default=True, help="User name of the first administrator."
)
@click.option(
    "--origin",
    default="chartledger.local/ledger",
    show_default=True,
    help="The ledger's name in its signed checkpoints (one word).",
)
@click.option(
    "--no-passphrase",
    is_flag=True,
    help="Keep the administrator's key unprotected (recorded in the genesis event).",
)
@pass_session
def init(session: Session, admin: str, origin: str, no_passphrase: bool) -> None:
    """Create the ledger home, its database, the node key and the first administrator.

    The administrator's key is protected by a passphrase (CHARTLEDGER_PASSPHRASE, or asked
    twice at a terminal) unless --no-passphrase is given."""
    from cli.users import new_passphrase
    from ledger.aggregates.user import check_user_name

    check_user_name(admin)
    home = session.home
    if home.exists():
        from ledger.errors import UsageError

        raise UsageError(f"A ledger home already exists at {home.path}; it was left as it is.")
    passphrase = new_passphrase(no_passphrase)
    ledger, genesis = home.initialise(
        admin=admin, origin=origin, db=session.db, passphrase=passphrase
    )
    with ledger:
        click.echo(f"Created the ledger '{origin}' at {ledger.store.display}")
        protection = "passphrase-protected" if passphrase else "NOT protected (--no-passphrase)"
        click.echo(
            f"Administrator: {admin} (key file {home.key_path(admin)}, mode 0600, {protection})"
        )
        click.echo(f"Genesis fingerprint: {genesis.hex()}")
        click.echo(
            "Keep the genesis fingerprint somewhere safe: it is the trust anchor that "
            "'chartledger verify --genesis' checks."
        )


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def checkpoint(session: Session, as_json: bool) -> None:
    """Bring the Merkle log up to date and sign a checkpoint of it with the node key."""
    with session.ledger() as ledger:
        size, note = ledger.checkpoint(session.home.node_identity())
    if as_json:
        emit_json({"tree_size": size, "note": note})
    else:
        click.echo(note, nl=False)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


@click.command()
@click.argument("event", required=False)
@click.option(
    "--from", "old_size", type=int, help="Consistency proof: the older checkpoint's size."
)
@click.option("--to", "new_size", type=int, help="Consistency proof: the newer checkpoint's size.")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def prove(
    session: Session, event: str | None, old_size: int | None, new_size: int | None, as_json: bool
) -> None:
    """Prove EVENT (AGGREGATE-UUID/VERSION or @POSITION) is in the log, or two checkpoints agree."""
    from ledger.errors import UsageError

    with session.ledger() as ledger:
        if event is None:
            if old_size is None or new_size is None:
                raise UsageError("Give an EVENT, or --from SIZE and --to SIZE of two checkpoints.")
            old_note, new_note, hashes = ledger.consistency(old_size, new_size)
            if as_json:
                emit_json(
                    {
                        "old_size": old_size,
                        "new_size": new_size,
                        "proof": [b64(h) for h in hashes],
                        "old_checkpoint": old_note,
                        "new_checkpoint": new_note,
                    }
                )
                return
            click.echo(
                f"Consistency proof: the log at {new_size} events extends the log at "
                f"{old_size} events ({len(hashes)} hashes, verified)."
            )
            for digest in hashes:
                click.echo(f"  {b64(digest)}")
            return
        proof = ledger.prove(event)
    leaf = proof.leaf
    if as_json:
        emit_json(
            {
                "event": f"{leaf.originator_id}/{leaf.originator_version}",
                "position": leaf.position,
                "event_hash": leaf.event_hash.hex(),
                "tree_size": proof.tree_size,
                "root": b64(proof.root),
                "proof": [b64(h) for h in proof.hashes],
                "checkpoint": proof.checkpoint,
            }
        )
        return
    click.echo(
        f"Event {leaf.originator_id}/{leaf.originator_version} is at log position "
        f"{leaf.position} (event hash {leaf.event_hash.hex()})."
    )
    click.echo(
        f"Inclusion proof against the checkpoint of {proof.tree_size} events "
        f"({len(proof.hashes)} hashes, verified):"
    )
    for digest in proof.hashes:
        click.echo(f"  {b64(digest)}")
    click.echo("Checkpoint:")
    click.echo(proof.checkpoint, nl=False)


@click.command()
@click.option(
    "--export",
    "export_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Verify an export folder instead of the database (no database needed).",
)
@click.option(
    "--package",
    "package_dir",
    type=click.Path(path_type=Path, file_okay=False),
    help="Verify a legal request package (no database needed).",
)
@click.option("--genesis", help="The trust anchor: the genesis fingerprint (hex) you kept.")
@click.option(
    "--since-last",
    is_flag=True,
    help="Verify only the events after the latest recorded verification (see --record).",
)
@click.option(
    "--record",
    is_flag=True,
    help="Record the verification as a signed event (your key), for --since-last to resume.",
)
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def verify(
    session: Session,
    export_dir: Path | None,
    package_dir: Path | None,
    genesis: str | None,
    since_last: bool,
    record: bool,
    as_json: bool,
) -> None:
    """Check every signature, chain, checkpoint and the log; name the first failure."""
    from ledger.errors import UsageError

    try:
        anchor = bytes.fromhex(genesis) if genesis else None
    except ValueError:
        raise UsageError("--genesis must be the hexadecimal fingerprint printed by init.") from None
    if export_dir is not None and package_dir is not None:
        raise UsageError("Give --export or --package, not both.")
    if (since_last or record) and (export_dir is not None or package_dir is not None):
        raise UsageError("--since-last and --record verify the database, not a folder.")
    recorded = None
    started = time.perf_counter()
    if package_dir is not None:
        _verify_package(package_dir, anchor, as_json, started)
        return
    if export_dir is not None:
        from ledger.verifier.export import verify_export
        from ledger.verifier.transcoder import MsgpackTranscoder

        report = verify_export(export_dir, transcoder=MsgpackTranscoder(), expected_genesis=anchor)
        source = str(export_dir)
    else:
        if anchor is None and session.home.exists():
            configured = session.home.config().get("genesis")
            anchor = bytes.fromhex(configured) if isinstance(configured, str) else None
        actor = session.identity() if record else None  # asked before the work, not after
        with session.reports() as ledger:
            if actor is not None:  # refused before the work, not after it
                from ledger.errors import require
                from policies.roles import may_record_verification

                require(may_record_verification(ledger.authenticate(actor).roles))
            report = ledger.verify(expected_genesis=anchor, since_last=since_last)
            if actor is not None:
                recorded = ledger.record_verification(report, actor)
            source = ledger.store.display
    seconds = time.perf_counter() - started
    if as_json:
        emit_json(
            {
                "ok": True,
                "source": source,
                **({"ends_at": _ends_at_json(report)} if export_dir is not None else {}),
                "events": report.events,
                "since": report.since,
                "recorded": str(recorded) if recorded is not None else None,
                "aggregates": report.aggregates,
                "signatures": report.signatures,
                "checkpoints": report.checkpoints,
                "tree_size": report.tree_size,
                "root": base64.b64encode(report.root).decode(),
                "genesis": report.genesis.hex() if report.genesis else None,
                "documents": report.documents,
                "documents_checked": not report.documents_skipped,
                "chart_index": report.indexed,
                "seconds": round(seconds, 3),
            }
        )
        return
    click.echo(
        f"Verified {source}: {report.events} events in {report.aggregates} aggregates, "
        f"{report.signatures} signatures, {report.checkpoints} checkpoints "
        f"({seconds:.2f} s)."
    )
    click.echo(f"Root of {report.tree_size} events: {base64.b64encode(report.root).decode()}")
    if report.since:
        click.echo(
            f"Resumed at log position {report.since}, where the last recorded verification "
            "ended: the events before it were not read again (a full 'verify' reads them)."
        )
    if recorded is not None:
        click.echo(f"Recorded as verification {recorded}.")
    if export_dir is not None:
        click.echo(
            f"The export ends at {_ends_at(report.tree_size, report.root)}: every event in it is "
            "under that signed root."
        )
    if report.genesis:
        click.echo(f"Genesis fingerprint: {report.genesis.hex()}")
    if report.documents_skipped:
        click.echo("Documents not re-hashed: this home holds no master key to read them.")
    elif report.documents:
        click.echo(f"Re-hashed {report.documents} filed documents against their signed hashes.")
    if report.indexed:
        click.echo(f"The chart index's {report.indexed} rows match the encounters and documents.")


@click.command()
@click.argument("folder", type=click.Path(path_type=Path, file_okay=False))
@click.option("--purpose", required=True, help="Why the ledger leaves (recorded, signed).")
@force_option
@pass_session
def export(session: Session, folder: Path, purpose: str, force: bool) -> None:
    """Write every logged event, checkpoint and key to FOLDER, verifiable with no database
    (administrator or compliance officer; a signed event records what left, before it does).
    The node key first signs a checkpoint of every event exported."""
    from ledger.integrity.export_record import export_ledger

    actor = session.identity()
    node = session.home.node_identity()
    with session.reports() as ledger:
        done = export_ledger(ledger, folder, actor=actor, node=node, purpose=purpose, force=force)
    click.echo(
        f"Exported {done.events} events to {folder} (recorded as export {done.record}), ending at "
        f"{_ends_at(done.events, bytes.fromhex(done.root))}; verify it with "
        f"'chartledger verify --export {folder}'."
    )


def _ends_at(size: int, root: bytes) -> str:
    """How `export` and `verify --export` name the signed checkpoint an export ends at (the root
    in base64, as the checkpoint's own note and verify's "Root of" line write it)."""
    return f"the signed checkpoint of tree size {size} (root {base64.b64encode(root).decode()})"


def _ends_at_json(report: Report) -> dict[str, object]:
    return {"tree_size": report.tree_size, "root": report.root.hex()}


@click.group("log")
def log_group() -> None:
    """The Merkle log: its state, and a follower that keeps it current."""


@log_group.command("status")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def log_status(session: Session, as_json: bool) -> None:
    """How many events the log holds, how many wait to enter it, and the latest checkpoint."""
    with session.ledger() as ledger:
        logged = ledger.merkle_log.size()
        waiting = ledger.merkle_log.waiting()
        checkpoints = ledger.merkle_log.checkpoints()
    latest = checkpoints[-1][0] if checkpoints else None
    if as_json:
        emit_json(
            {
                "logged": logged,
                "waiting": waiting,
                "latest_checkpoint": latest,
                "checkpoints": len(checkpoints),
            }
        )
        return
    click.echo(f"{logged} events in the Merkle log, {waiting} waiting to enter it.")
    if latest is None:
        click.echo("No checkpoint yet: run 'chartledger checkpoint'.")
    else:
        click.echo(f"Latest checkpoint covers {latest} events ({len(checkpoints)} in all).")


@log_group.command("follow")
@click.option(
    "--interval",
    default=0.5,
    show_default=True,
    help="Seconds between polls on SQLite (PostgreSQL is woken by LISTEN/NOTIFY).",
)
@pass_session
def log_follow(session: Session, interval: float) -> None:
    """Keep the Merkle log current until interrupted (a worker process for production)."""
    import signal
    import threading

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    with session.ledger() as ledger:
        click.echo(f"Following {ledger.store.display}; Ctrl-C to stop.")
        try:
            ledger.merkle_log.follow(stop, poll_seconds=interval)
        except KeyboardInterrupt:
            stop.set()
        click.echo(f"Stopped; {ledger.merkle_log.size()} events in the log.")


def _verify_package(folder: Path, anchor: bytes | None, as_json: bool, started: float) -> None:
    from ledger.verifier.package import verify_package
    from ledger.verifier.transcoder import MsgpackTranscoder

    report = verify_package(folder, transcoder=MsgpackTranscoder(), expected_genesis=anchor)
    seconds = time.perf_counter() - started
    if as_json:
        emit_json(
            {
                "ok": True,
                "source": str(folder),
                "events": report.events,
                "aggregates": report.aggregates,
                "tree_size": report.tree_size,
                "root": base64.b64encode(report.root).decode(),
                "genesis": report.genesis.hex() if report.genesis else None,
                "documents": report.documents,
                "entries": report.entries,
                "citations": report.cited,
                "redacted": report.redacted,
                "files": report.files,
                "signed_by": report.signed_by,
                "genesis_checked": anchor is not None,
                "seconds": round(seconds, 3),
            }
        )
        return
    click.echo(
        f"Verified the legal package {folder}: {report.events} events in {report.aggregates} "
        f"aggregates, each signed and proven in the checkpoint of {report.tree_size} events "
        f"({seconds:.2f} s)."
    )
    click.echo(
        f"{report.files} files match the manifest signed by {report.signed_by}; "
        f"{report.documents} documents match their signed hashes; {report.entries} entries match "
        f"their signed text; {report.cited} cited events are all proven."
    )
    if report.redacted:
        click.echo(
            f"{report.redacted} events are redacted (withheld entries): checked by their body's "
            "hash, signature, chain and inclusion, their content not disclosed."
        )
    if anchor is None:
        click.echo("The genesis key was not compared with a trust anchor: give --genesis.")
    else:
        click.echo(f"Genesis fingerprint: {anchor.hex()} (matches).")


@click.command()
@pass_session
def upgrade(session: Session) -> None:
    """Add what this version needs to an existing ledger's tables (safe to run again)."""
    from ledger.application import Ledger
    from ledger.follower import rebuild_stale_views
    from ledger.stores.database import parse_store_url
    from projections.views import every_view

    home = session.home
    store = parse_store_url(home.db_url(session.db))
    before, after = Ledger.upgrade(store, master_key=home.master_key())
    ledger = Ledger(store, master_key=home.master_key())
    try:
        rebuilt = rebuild_stale_views(ledger, every_view(ledger.db))
    finally:
        ledger.close()
    if before == after and not rebuilt:
        click.echo(f"The ledger at {store.display} is at schema version {after}; nothing to do.")
    elif before != after:
        click.echo(
            f"Upgraded the ledger at {store.display} from schema version {before} to {after}."
        )
    for name, applied in rebuilt:
        click.echo(f"Rebuilt the {name} view from the ledger's {applied} events.")
