"""The `chartledger` command group and the options every command shares."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ledger.errors import LedgerError

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.home import LedgerHome
    from ledger.integrity.keys import Identity


@dataclass
class Session:
    """What the global options say: which home, which store, who is acting."""

    home_path: Path | None
    db: str | None
    actor: str | None
    key_file: Path | None

    @property
    def home(self) -> LedgerHome:
        from ledger.home import LedgerHome, default_home

        return LedgerHome(self.home_path or default_home())

    def ledger(self) -> Ledger:
        home = self.home
        if self.db is None and not home.exists():
            from ledger.errors import ConfigurationError

            raise ConfigurationError(
                f"No ledger at {home.path}; run 'chartledger init' or set CHARTLEDGER_HOME."
            )
        return home.open(self.db)

    def identity(self) -> Identity:
        """The acting user's key: unlocked by CHARTLEDGER_PASSPHRASE, or asked for at a terminal."""
        from ledger.integrity.keys import PassphraseNeeded

        secret = os.environ.get("CHARTLEDGER_PASSPHRASE")
        try:
            return self.home.identity(
                self.actor, key_file=self.key_file, passphrase=secret.encode() if secret else None
            )
        except PassphraseNeeded:
            if not sys.stdin.isatty():
                raise
        typed = click.prompt(f"Passphrase for {self.actor}'s key", hide_input=True, err=True)
        return self.home.identity(self.actor, key_file=self.key_file, passphrase=typed.encode())


_pass_session = click.make_pass_decorator(Session)


def _late(field: str) -> Callable[[click.Context, click.Parameter, Any], None]:
    """A callback that lets a global option also be given after the subcommand."""

    def remember(ctx: click.Context, _param: click.Parameter, value: Any) -> None:
        if value is not None:
            setattr(ctx.ensure_object(Session), field, value)

    return remember


# The options every command shares: (flag, Session field, type, environment variable, help).
_SHARED: list[tuple[str, str, click.Path | None, str, str]] = [
    (
        "--home",
        "home_path",
        click.Path(path_type=Path, file_okay=False),
        "CHARTLEDGER_HOME",
        "Ledger home folder (default ~/.chartledger).",
    ),
    (
        "--db",
        "db",
        None,
        "CHARTLEDGER_DB",
        "Store URL: sqlite:///path/ledger.db or postgresql://user@host/db[?schema=name].",
    ),
    ("--as", "actor", None, "CHARTLEDGER_USER", "Who is acting (a user name)."),
    (
        "--key",
        "key_file",
        click.Path(path_type=Path, dir_okay=False),
        "CHARTLEDGER_KEY",
        "The acting user's key file (default <home>/keys/<user>.key).",
    ),
]


def pass_session(command: Callable[..., Any]) -> Callable[..., Any]:
    """Pass the session, and accept the shared options after the subcommand too."""
    command = _pass_session(command)
    for flag, field, kind, _, help_text in reversed(_SHARED):
        command = click.option(
            flag, f"_{field}", type=kind, expose_value=False, callback=_late(field), help=help_text
        )(command)
    return command


class LedgerFailure(click.ClickException):
    """A `LedgerError` on its way out: one plain sentence and the error's own exit code."""

    def __init__(self, error: LedgerError) -> None:
        super().__init__(str(error))
        self.exit_code = error.exit_code  # type: ignore[misc]  # click reads it per instance

    def show(self, file: object = None) -> None:
        from policies.limits import escape  # a value quoted in the sentence stays one line

        click.echo(f"Error: {escape(self.message)}", err=True)


class LedgerGroup(click.Group):
    """The one place where the ledger's errors become exit codes (no traceback for user errors)."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        # Before any command sees them: invalid UTF-8 (surrogate escapes) and control characters
        # other than newline and tab are one sentence, never a traceback in a database driver.
        from policies.limits import argument_problem

        for arg in args:
            problem = argument_problem(arg)
            if problem is not None:
                from ledger.errors import UsageError

                raise LedgerFailure(UsageError(problem))
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except LedgerError as error:
            raise LedgerFailure(error) from None
        except BrokenPipeError:
            # Whoever read our output stopped (`… | head`): nothing is wrong with the ledger, and
            # what was shown was recorded first. Say nothing more; end as Python's docs advise.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except Exception as error:
            # Last resort for what the machine can cause where no layer below translated it:
            # a full disk, a read-only home, a lost database connection: one sentence, no
            # traceback. Anything else is a bug and keeps its traceback.
            from ledger.stores.database import store_failure

            failure = store_failure(error, _session_store(ctx))
            if failure is None:
                raise
            raise LedgerFailure(failure) from None


def _session_store(ctx: click.Context) -> Any:
    """The store the session names, for the sentence (None when even that cannot be read)."""
    session = ctx.find_object(Session)
    if session is None:
        return None
    try:
        from ledger.stores.database import parse_store_url

        return parse_store_url(session.home.db_url(session.db))
    except Exception:  # only for naming the store in a message
        return None


def _group(function: Callable[..., Any]) -> click.Group:
    for flag, field, kind, envvar, help_text in reversed(_SHARED):
        function = click.option(flag, field, type=kind, envvar=envvar, help=help_text)(function)
    function = click.version_option("0.1.0", prog_name="chartledger")(function)
    function = click.pass_context(function)
    return click.group(
        cls=LedgerGroup,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )(function)


@_group
def cli(ctx: click.Context, **settings: Any) -> None:
    """Chartledger: a signed, tamper-evident ledger of medical records."""
    os.umask(0o077)  # whatever this process creates (database, keys, reports) is its owner's only
    ctx.obj = Session(**settings)


def _register() -> None:
    from cli import integrity, users

    cli.add_command(integrity.init)
    cli.add_command(integrity.upgrade)
    cli.add_command(integrity.checkpoint)
    cli.add_command(integrity.prove)
    cli.add_command(integrity.verify)
    cli.add_command(integrity.export)
    cli.add_command(integrity.log_group)
    cli.add_command(users.user)
    from cli import charts, encounters, patients

    cli.add_command(patients.patient)
    cli.add_command(encounters.encounter)
    cli.add_command(charts.chart)
    from cli import demo

    cli.add_command(demo.demo)
    from cli import importing

    cli.add_command(importing.import_group)
    from cli import audit, audit_monitoring, deficiency, legal, location, policy, roi

    for command in audit_monitoring.COMMANDS:
        audit.audit.add_command(command)
    cli.add_command(audit.audit)
    cli.add_command(policy.policy)
    cli.add_command(roi.roi)
    cli.add_command(legal.legal)
    cli.add_command(location.location)
    cli.add_command(deficiency.deficiency)
    from cli import discrepancy

    cli.add_command(discrepancy.discrepancy)


_register()
