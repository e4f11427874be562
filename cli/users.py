"""`chartledger user …`: enrol people and interfaces, rotate and revoke their keys."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import click

from cli.main import Session, pass_session
from cli.output import emit_json, table


@click.group()
def user() -> None:
    """Users, their roles and their keys (every change is signed by an administrator)."""


def _read_public_key(path: Path) -> bytes:
    """A public key file: raw 32 bytes, base64 of them, or a PEM SubjectPublicKeyInfo."""
    from cryptography.hazmat.primitives import serialization

    from ledger.errors import UsageError
    from ledger.keys import raw_public

    try:
        data = path.read_bytes()
    except OSError:
        raise UsageError(f"The public key file {path} cannot be read.") from None
    if len(data) == 32:
        return data
    text = data.strip()
    if text.startswith(b"-----BEGIN"):
        try:
            key = serialization.load_pem_public_key(text)
            return raw_public(key)  # type: ignore[arg-type]
        except (ValueError, TypeError):
            raise UsageError(f"{path} is not an Ed25519 public key.") from None
    try:
        raw = base64.b64decode(text, validate=True)
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise UsageError(f"{path} is not an Ed25519 public key (raw, base64 or PEM).")
    return raw


@user.command("add")
@click.argument("name")
@click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="A role (repeat for several); see 'chartledger user roles'.",
)
@click.option(
    "--public-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Enrol a key the user made themselves, instead of making one for them.",
)
@pass_session
def add(session: Session, name: str, roles: tuple[str, ...], public_key: Path | None) -> None:
    """Enrol NAME with ROLE(s); writes their key file (0600) unless --public-key is given."""
    from ledger.keys import Identity, write_key_file
    from ledger.user import check_user_name

    check_user_name(name)
    actor = session.identity()
    home = session.home
    if public_key is not None:
        with session.ledger() as ledger:
            ledger.add_user(name, list(roles), _read_public_key(public_key), actor=actor)
        click.echo(f"Enrolled {name} ({', '.join(roles)}) with the key from {public_key}.")
        return
    fresh = Identity.generate(name)
    key_path = home.key_path(name)
    write_key_file(fresh, key_path)  # refuses to overwrite an existing key file
    try:
        with session.ledger() as ledger:
            ledger.add_user(name, list(roles), fresh.public_raw, actor=actor)
    except BaseException:
        key_path.unlink(missing_ok=True)
        raise
    click.echo(f"Enrolled {name} ({', '.join(roles)}); key file {key_path} (0600).")


@user.command("list")
@click.option("--json", "as_json", is_flag=True, help="Print as JSON.")
@pass_session
def list_users(session: Session, as_json: bool) -> None:
    """Every user ever enrolled, with their roles and key status."""
    with session.ledger() as ledger:
        users = ledger.users()
    rows = [
        {
            "name": u.name,
            "roles": u.roles,
            "key": u.fingerprint.hex()[:16],
            "status": "revoked" if u.revoked else "active",
            "keys_retired": len(u.past_keys),
            "enrolled_at": u.created_on.isoformat(timespec="seconds"),
            "enrolled": u.created_on.strftime("%Y-%m-%d %H:%M"),
            "enrolled_by": u.registered_by,
        }
        for u in users
    ]
    if as_json:
        emit_json(rows)
        return
    table(
        "Users",
        ["name", "roles", "key", "status", "retired keys", "enrolled", "by"],
        [
            [
                r["name"],
                ", ".join(u.roles),
                r["key"],
                r["status"],
                r["keys_retired"],
                r["enrolled"],
                r["enrolled_by"],
            ]
            for r, u in zip(rows, users, strict=True)
        ],
    )


@user.command("roles")
def roles() -> None:
    """The roles a user can be given."""
    from policies.roles import ROLES

    for role in sorted(ROLES):
        click.echo(role)


@user.command("rotate-key")
@click.argument("name")
@click.option(
    "--public-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The new public key, if the user made it themselves.",
)
@pass_session
def rotate_key(session: Session, name: str, public_key: Path | None) -> None:
    """Replace NAME's key; the old key file is kept beside it as retired."""
    from ledger.keys import Identity, write_key_file
    from ledger.user import check_user_name

    check_user_name(name)
    actor = session.identity()
    if public_key is not None:
        with session.ledger() as ledger:
            ledger.rotate_key(name, _read_public_key(public_key), actor=actor)
        click.echo(f"Rotated the key of {name} to the key from {public_key}.")
        return
    current = session.home.key_path(name)
    staged = current.with_name(f"{name}.key.new")
    fresh = Identity.generate(name)
    staged.unlink(missing_ok=True)
    write_key_file(fresh, staged)
    try:
        with session.ledger() as ledger:
            ledger.rotate_key(name, fresh.public_raw, actor=actor)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    if current.exists():
        stamp = 1
        while current.with_name(f"{name}.key.retired-{stamp}").exists():
            stamp += 1
        os.replace(current, current.with_name(f"{name}.key.retired-{stamp}"))
    os.replace(staged, current)
    click.echo(f"Rotated the key of {name}; new key file {current} (0600).")


@user.command("revoke")
@click.argument("name")
@click.option("--reason", required=True, help="Why the key is withdrawn (kept in the ledger).")
@pass_session
def revoke(session: Session, name: str, reason: str) -> None:
    """Withdraw NAME's key: nothing signed with it from now on is valid."""
    actor = session.identity()
    with session.ledger() as ledger:
        ledger.revoke_key(name, reason, actor=actor)
    click.echo(f"Revoked the key of {name}.")
