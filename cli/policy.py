"""`chartledger policy …`: the access policy configuration, as signed events."""

from __future__ import annotations

from pathlib import Path

import click

from cli.main import Session, pass_session
from cli.output import json_option


@click.group("policy")
def policy() -> None:
    """The access policy: show it, load a new version (a signed event), its history."""


@policy.command("show")
@json_option
@pass_session
def show(session: Session, as_json: bool) -> None:
    """The configuration in force: its version, who loaded it and when, and its TOML text
    (administrator, compliance or HIM director; it names patients, so the read is recorded)."""
    from cli.output import emit_json, utc
    from ledger.reads.policy import shown_policy

    reader = session.identity()
    with session.ledger() as ledger:
        config, history = shown_policy(ledger, reader=reader)
    if as_json:
        last = history[-1] if history else None
        emit_json(
            {
                "version": config.policy_version,
                "defaults": last is None,
                "loaded_at": utc(last.loaded_at) if last else None,
                "loaded_by": last.loaded_by if last else None,
                "sha256": last.sha256 if last else None,
                "event": last.event if last else None,
                "text": last.text if last else None,
            }
        )
        return
    if not history:
        click.echo(f"Policy {config.policy_version}: the built-in defaults (none loaded yet).")
        return
    last = history[-1]
    click.echo(
        f"Policy {config.policy_version}, loaded by {last.loaded_by} at "
        f"{last.loaded_at.isoformat(timespec='seconds')} (event {last.event}, sha256 "
        f"{last.sha256[:16]}…):"
    )
    click.echo(last.text.rstrip("\n"))


@policy.command("load")
@click.argument("path", type=click.Path(path_type=Path, dir_okay=False))
@pass_session
def load(session: Session, path: Path) -> None:
    """Load a TOML access policy from PATH as the one in force (administrator or compliance)."""
    from ledger.aggregates.access_policy import parse_policy
    from ledger.commands.policy import load_access_policy
    from ledger.errors import UsageError

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        raise UsageError(f"There is no readable policy file at {path}.") from None
    actor = session.identity()
    with session.ledger() as ledger:
        changed = load_access_policy(ledger, text, actor=actor)
    version = parse_policy(text).policy_version
    if changed:
        click.echo(f"Loaded access policy {version} from {path}; it applies from now on.")
    else:
        click.echo(f"Access policy {version} is already in force; nothing was written.")


@policy.command("history")
@json_option
@pass_session
def history(session: Session, as_json: bool) -> None:
    """Every version loaded, with who, when, its SHA-256 and its event."""
    from cli.output import emit_json, table, utc
    from ledger.aggregates.access_policy import policy_history

    with session.ledger() as ledger:
        loaded = policy_history(ledger)
    if as_json:
        emit_json(
            [
                {
                    "loaded_at": utc(p.loaded_at),
                    "version": p.version,
                    "loaded_by": p.loaded_by,
                    "sha256": p.sha256,
                    "event": p.event,
                }
                for p in loaded
            ]
        )
        return
    table(
        "Access policy history",
        ["loaded at", "version", "by", "sha256", "event"],
        [
            [
                p.loaded_at.isoformat(timespec="seconds"),
                p.version,
                p.loaded_by,
                p.sha256[:16],
                p.event,
            ]
            for p in loaded
        ],
    )
