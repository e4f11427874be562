"""`chartledger user …`: enrol people and interfaces, rotate and revoke their keys."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from cli.main import Session, pass_session
from cli.output import emit_json, json_option, table


@click.group()
def user() -> None:
    """Users, their roles and their keys (each person's key is made where they work)."""


def new_passphrase(no_passphrase: bool) -> bytes | None:
    """The passphrase a new key is protected with: CHARTLEDGER_PASSPHRASE, else asked twice at a
    terminal; None only when the user chose `--no-passphrase` (the ledger records that)."""
    from ledger.errors import UsageError

    if no_passphrase:
        return None
    secret = os.environ.get("CHARTLEDGER_PASSPHRASE")
    if secret:
        return secret.encode()
    if not sys.stdin.isatty():
        raise UsageError(
            "A new key is protected by a passphrase: set CHARTLEDGER_PASSPHRASE or type it at "
            "a terminal, or choose --no-passphrase explicitly."
        )
    typed = click.prompt(
        "Passphrase for the new key", hide_input=True, confirmation_prompt=True, err=True
    )
    if not typed:
        raise UsageError("The passphrase is empty; choose --no-passphrase to mean no passphrase.")
    return str(typed).encode()


_ROLE = click.option(
    "--role",
    "roles",
    multiple=True,
    required=True,
    help="A role (repeat for several); see 'chartledger user roles'.",
)
_VALID_FOR = click.option(
    "--valid-for",
    "hours",
    type=click.FloatRange(min=0, min_open=True, max=720),
    default=72,
    show_default=True,
    help="Hours the one-time code can be used.",
)
_NO_PASSPHRASE = click.option(
    "--no-passphrase",
    is_flag=True,
    help="Keep the new key unprotected (recorded in the ledger); for interfaces, typically.",
)


def _print_code(name: str, code: str, hours: float, *, what: str) -> None:
    click.echo(f"{what}. One-time enrolment code (shown once, valid {hours:g} h):")
    click.echo(f"  {code}")
    click.echo(
        f"Give it to {name} in person; on their own workstation they run "
        f"'chartledger user enroll {name} --code CODE'."
    )


@user.command("invite")
@click.argument("name")
@_ROLE
@_VALID_FOR
@pass_session
def invite(session: Session, name: str, roles: tuple[str, ...], hours: float) -> None:
    """Invite NAME with ROLE(s): prints a one-time code they enrol their own key with."""
    from datetime import timedelta

    from ledger.aggregates.user import check_user_name
    from ledger.commands import users

    check_user_name(name)
    actor = session.identity()
    with session.ledger() as ledger:
        code = users.invite(
            ledger, name, list(roles), actor=actor, valid_for=timedelta(hours=hours)
        )
    _print_code(name, code, hours, what=f"Invited {name} ({', '.join(roles)})")


@user.command("enroll")
@click.argument("name")
@click.option("--code", required=True, help="The one-time code the administrator gave you.")
@click.option("--genesis", help="The ledger's genesis fingerprint (hex), checked if given.")
@click.option(
    "--master-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where this workstation reaches the patients' data-key master key (kept in settings).",
)
@click.option(
    "--node-key",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where this workstation reaches the node key that signs checkpoints (kept in settings).",
)
@_NO_PASSPHRASE
@pass_session
def enroll(
    session: Session,
    name: str,
    code: str,
    genesis: str | None,
    master_key: Path | None,
    node_key: Path | None,
    no_passphrase: bool,
) -> None:
    """Make NAME's key in this home (run by NAME, where they work) and enrol it with CODE."""
    from ledger.aggregates.user import check_user_name
    from ledger.errors import UsageError

    check_user_name(name)
    try:
        anchor = bytes.fromhex(genesis) if genesis else None
    except ValueError:
        raise UsageError("--genesis must be the hexadecimal fingerprint printed by init.") from None
    passphrase = new_passphrase(no_passphrase)
    home = session.home
    identity = home.enrol_here(
        name,
        code,
        db=session.db,
        genesis=anchor,
        passphrase=passphrase,
        master_key=master_key,
        node_key=node_key,
    )
    protection = "protected by your passphrase" if passphrase else "NOT protected (--no-passphrase)"
    click.echo(
        f"Enrolled {name} with a key made here: {home.key_path(name)} (0600, {protection}); "
        f"key {identity.fingerprint.hex()[:16]}."
    )


@user.command("reinstate")
@click.argument("name")
@click.option("--reason", required=True, help="Why the user may work again (kept in the ledger).")
@_VALID_FOR
@pass_session
def reinstate(session: Session, name: str, reason: str, hours: float) -> None:
    """Let revoked NAME enrol again with a new key: prints a one-time code."""
    from datetime import timedelta

    from ledger.commands import users

    actor = session.identity()
    with session.ledger() as ledger:
        code = users.reinstate(ledger, name, reason, actor=actor, valid_for=timedelta(hours=hours))
    _print_code(name, code, hours, what=f"Reinstated {name}")


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
            "status": "revoked" if u.revoked else "active" if u.enrolled else "invited",
            "key_protection": u.key_protection or None,
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
@json_option
def roles(as_json: bool) -> None:
    """The roles a user can be given."""
    from policies.roles import ROLES

    if as_json:
        emit_json(sorted(ROLES))
        return
    for role in sorted(ROLES):
        click.echo(role)


@user.command("rotate-key")
@click.argument("name")
@_NO_PASSPHRASE
@pass_session
def rotate_key(session: Session, name: str, no_passphrase: bool) -> None:
    """Replace your own key with one made here; the old key file is kept beside it as retired."""
    from ledger.aggregates.user import check_user_name
    from ledger.commands import users
    from ledger.errors import require
    from ledger.home import install_key_file
    from ledger.integrity.keys import Identity, write_key_file
    from policies.roles import may_rotate_key

    check_user_name(name)
    actor = session.identity()
    require(may_rotate_key([], actor=actor.name, subject=name))  # before any key file is made
    passphrase = new_passphrase(no_passphrase)
    current = session.key_file or session.home.key_path(name)
    staged = current.with_name(f"{name}.key.new")
    fresh = Identity.generate(name)
    staged.unlink(missing_ok=True)
    write_key_file(fresh, staged, passphrase=passphrase)
    try:
        with session.ledger() as ledger:
            users.rotate_key(ledger, name, fresh.public_raw, actor=actor)
    except BaseException:
        staged.unlink(missing_ok=True)
        raise
    install_key_file(staged, current)
    click.echo(f"Rotated the key of {name}; new key file {current} (0600).")


@user.command("revoke")
@click.argument("name")
@click.option("--reason", required=True, help="Why the key is withdrawn (kept in the ledger).")
@pass_session
def revoke(session: Session, name: str, reason: str) -> None:
    """Withdraw NAME's key: nothing signed with it from now on is valid."""
    from ledger.commands import users

    actor = session.identity()
    with session.ledger() as ledger:
        users.revoke_key(ledger, name, reason, actor=actor)
    click.echo(f"Revoked the key of {name}.")
