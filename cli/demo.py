"""`chartledger demo`: a small hospital's ledger at work, start to finish, on SQLite."""

from __future__ import annotations

import json
import shutil
import sqlite3
import tempfile
from pathlib import Path

import click

STAFF = [
    ("him.director", ["him-director"]),
    ("tech.alvarez", ["technician"]),
    ("tech.okafor", ["technician"]),
    ("coder.lindqvist", ["coder"]),
    ("roi.nakamura", ["roi-specialist"]),
    ("compliance.reyes", ["compliance-officer"]),
    ("fhir-interface", ["interface"]),
]
FALLBACK_PHYSICIANS = ["dr.amara.osei", "dr.lukas.brandt", "dr.mei.chen"]


def _physicians(data: Path | None) -> list[str]:
    """Physician user names from the Synthea practitioners, when the shared data is at hand."""
    if data is None:
        return FALLBACK_PHYSICIANS
    path = data / "Practitioner.000.ndjson"
    if not path.is_file():
        return FALLBACK_PHYSICIANS
    names = []
    for line in path.read_text(encoding="utf-8").splitlines()[:3]:
        name = json.loads(line)["name"][0]
        given = "".join(ch for ch in name["given"][0].lower() if ch.isalpha())
        family = "".join(ch for ch in name["family"].lower() if ch.isalpha())
        names.append(f"dr.{given}.{family}")
    return names or FALLBACK_PHYSICIANS


def _find_data() -> Path | None:
    for base in (Path.cwd(), *Path(__file__).resolve().parents):
        candidate = base / "shared" / "data" / "synthea-10-patients"
        if candidate.is_dir():
            return candidate
        candidate = base.parent / "shared" / "data" / "synthea-10-patients"
        if candidate.is_dir():
            return candidate
    return None


def _step(number: int, title: str, command: str) -> None:
    click.echo()
    click.secho(f"{number}. {title}", bold=True)
    click.secho(f"   $ {command}", fg="cyan")


@click.command()
@click.option(
    "--dir",
    "folder",
    type=click.Path(path_type=Path, file_okay=False),
    help="Where to build the demo hospital (default: a new temporary folder).",
)
def demo(folder: Path | None) -> None:
    """Build a small hospital's ledger on SQLite and walk through the main commands."""
    from ledger.errors import IdentityError, IntegrityViolation
    from ledger.export import verify_export
    from ledger.home import LedgerHome
    from ledger.keys import Identity, write_key_file
    from ledger.transcoder import MsgpackTranscoder

    root = folder or Path(tempfile.mkdtemp(prefix="chartledger-demo-"))
    if root.exists() and any(root.iterdir()):
        from ledger.errors import UsageError

        raise UsageError(f"The folder {root} is not empty; give a new folder for the demo.")
    home = LedgerHome(root / "home")
    data = _find_data()

    _step(1, "Create St. Mary's ledger: node key, first administrator, genesis", "chartledger init")
    ledger, genesis = home.initialise(admin="admin", origin="stmarys.example/ledger")
    admin = home.identity("admin")
    click.echo(f"   Genesis fingerprint (the trust anchor): {genesis.hex()}")

    with ledger:
        physicians = _physicians(data)
        _step(
            2,
            "Enrol the records department and the medical staff (each a signed event)",
            "chartledger user add tech.alvarez --role technician",
        )
        if data is not None:
            click.echo(f"   Physicians taken from the Synthea practitioners in {data}")
        people: dict[str, Identity] = {}
        for name, roles in [*STAFF, *((p, ["physician"]) for p in physicians)]:
            person = Identity.generate(name)
            write_key_file(person, home.key_path(name))
            ledger.add_user(name, roles, person.public_raw, actor=admin)
            people[name] = person
            click.echo(
                f"   enrolled {name:<22} {', '.join(roles):<20} key {person.fingerprint.hex()[:16]}"
            )

        _step(
            3,
            "A physician replaces their own key; a technician who left loses theirs",
            "chartledger user rotate-key … ; chartledger user revoke tech.okafor --reason …",
        )
        rotated = Identity.generate(physicians[0])
        ledger.rotate_key(physicians[0], rotated.public_raw, actor=people[physicians[0]])
        current = home.key_path(physicians[0])
        current.rename(current.with_name(f"{physicians[0]}.key.retired-1"))
        write_key_file(rotated, current)
        ledger.revoke_key("tech.okafor", "left the hospital", actor=admin)
        click.echo(f"   {physicians[0]}: key rotated (old key valid only before this point)")
        click.echo("   tech.okafor: key revoked; anything signed with it from now on is invalid")
        try:
            ledger.add_user(
                "intruder",
                ["administrator"],
                Identity.generate("x").public_raw,
                actor=people["tech.okafor"],
            )
        except IdentityError as refused:
            click.echo(f"   tech.okafor tries to enrol someone: refused: {refused}")

        node = home.node_identity()
        _step(4, "Sign a checkpoint of the Merkle log with the node key", "chartledger checkpoint")
        first_size, note = ledger.checkpoint(node)
        for line in note.rstrip("\n").split("\n"):
            click.echo(f"   {line}")

        _step(
            5,
            "Prove one event is in the log (an inclusion proof anyone can check)",
            "chartledger prove @5",
        )
        proof = ledger.prove("@5")
        click.echo(
            f"   event {proof.leaf.originator_id}/{proof.leaf.originator_version} at "
            f"position {proof.leaf.position}: {len(proof.hashes)} hashes lead to the "
            f"signed root of {proof.tree_size} events"
        )

        _step(
            6,
            "More work, a second checkpoint, and proof that the log only grew",
            f"chartledger prove --from {first_size} --to …",
        )
        for name in ("tech.silva", "tech.haddad"):
            person = Identity.generate(name)
            write_key_file(person, home.key_path(name))
            ledger.add_user(name, ["technician"], person.public_raw, actor=admin)
        second_size, _ = ledger.checkpoint(node)
        _, _, hashes = ledger.consistency(first_size, second_size)
        click.echo(
            f"   the log of {second_size} events extends the log of {first_size} "
            f"({len(hashes)} hashes, verified)"
        )

        _step(
            7,
            "Verify everything: signatures, key validity, chains, tree, checkpoints",
            "chartledger verify",
        )
        report = ledger.verify(expected_genesis=genesis)
        click.echo(
            f"   {report.events} events, {report.aggregates} aggregates, "
            f"{report.signatures} signatures, {report.checkpoints} checkpoints: all good"
        )

        _step(
            8,
            "Export for an outside auditor, and verify it with no database at all",
            "chartledger export audit-export && chartledger verify --export audit-export",
        )
        export_dir = root / "audit-export"
        ledger.export(export_dir)
        offline = verify_export(
            export_dir, transcoder=MsgpackTranscoder(), expected_genesis=genesis
        )
        click.echo(f"   {export_dir}: {offline.events} events verified offline")

    _step(
        9,
        "Tamper with a copy of the database and watch verify name the damage",
        'sqlite3 tampered.db "UPDATE stored_events SET state=…" && chartledger verify',
    )
    tampered = root / "tampered.db"
    shutil.copy(root / "home" / "ledger.db", tampered)
    conn = sqlite3.connect(tampered)
    try:
        rowid, state = conn.execute(
            "SELECT rowid, state FROM stored_events ORDER BY rowid LIMIT 1 OFFSET 4"
        ).fetchone()
        changed = bytearray(state)
        changed[len(changed) // 3] ^= 0x01
        conn.execute("UPDATE stored_events SET state=? WHERE rowid=?", (bytes(changed), rowid))
        conn.commit()
    finally:
        conn.close()
    copy = home.open(f"sqlite:///{tampered}")
    try:
        copy.verify(expected_genesis=genesis)
        click.echo("   (the tampering went unnoticed: this should never happen)")
    except IntegrityViolation as caught:
        click.echo(f"   verify: {caught}")
    finally:
        copy.close()

    click.echo()
    click.secho("Try it yourself:", bold=True)
    click.echo(f"   export CHARTLEDGER_HOME={home.path} CHARTLEDGER_USER=admin")
    click.echo("   chartledger user list")
    click.echo("   chartledger user add nurse.kim --role nurse")
    click.echo(f"   chartledger user rotate-key {physicians[0]} --as {physicians[0]}")
    click.echo("   chartledger checkpoint && chartledger prove @3")
    click.echo("   chartledger verify")
