"""The `chartledger` command group and the options every command shares."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from importlib import import_module
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

if TYPE_CHECKING:
    from ledger.application import Ledger
    from ledger.errors import LedgerError
    from ledger.home import LedgerHome
    from ledger.integrity.keys import Identity


@dataclass
class Session:
    """What the global options say: which home, which store, who is acting."""

    home_path: Path | None
    db: str | None
    actor: str | None
    key_file: Path | None
    read_db: str | None = None

    @property
    def home(self) -> LedgerHome:
        from ledger.home import LedgerHome, default_home

        return LedgerHome(self.home_path or default_home())

    def ledger(self) -> Ledger:
        return self._home_with_ledger().open(self.db)

    def _home_with_ledger(self) -> LedgerHome:
        home = self.home
        if self.db is None and not home.exists():
            from ledger.errors import ConfigurationError

            raise ConfigurationError(
                f"No ledger at {home.path}; run 'chartledger init' or set CHARTLEDGER_HOME."
            )
        return home

    @contextmanager
    def reports(self) -> Iterator[Ledger]:
        """The ledger a report reads: `--read-db` (a hot standby) if given, else the primary.
        On a standby, what the report records goes to the primary, and the standby's lag is
        said on stderr once the report is out."""
        if not self.read_db:
            with self.ledger() as ledger:
                yield ledger
            return
        with self._home_with_ledger().open_reports(self.db, self.read_db) as ledger:
            lag = ledger.standby_lag()
            yield ledger
        if lag is not None:
            click.echo(lag.sentence(ledger.store.display), err=True)

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
    (
        "--read-db",
        "read_db",
        None,
        "CHARTLEDGER_READ_DB",
        "Reports (audit, stats, worklists, deficiency list, export, verify) read this hot "
        "standby of --db; what they record still goes to --db.",
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


@dataclass(frozen=True)
class Lazy:
    """A command the group lists without importing it: where it is defined, and its short help."""

    target: str
    """`module:attribute` of the click command."""
    short_help: str
    """What `chartledger --help` shows beside the name: the command's `get_short_help_str()`
    untruncated (tests/cli/test_lazy_help.py keeps the two equal)."""

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        command = getattr(import_module(module), attribute)
        if not isinstance(command, click.Command):
            raise TypeError(f"{self.target} is not a click command")
        return command


# Every top-level command, imported only when it is run or shows its own help: the command
# modules (and the ledger behind them) cost most of `chartledger --help`'s start (§37).
COMMANDS: Mapping[str, Lazy] = {
    "audit": Lazy("cli.audit:audit", "Who saw, changed or disclosed which record, when and why."),
    "chart": Lazy("cli.charts:chart", "Patients' charts: entries, documents, history."),
    "checkpoint": Lazy(
        "cli.integrity:checkpoint",
        "Bring the Merkle log up to date and sign a checkpoint of it with the node key.",
    ),
    "code": Lazy(
        "cli.coding:code",
        "Coding and abstracting: diagnoses, procedures, MS-DRG grouping, the final abstract.",
    ),
    "deficiency": Lazy(
        "cli.deficiency:deficiency",
        "Chart completion: what records lack, delinquent records, physicians in jeopardy.",
    ),
    "demo": Lazy(
        "cli.demo:demo",
        "Build a small hospital's ledger on SQLite and walk through the main commands.",
    ),
    "discrepancy": Lazy(
        "cli.discrepancy:discrepancy",
        "Discrepancies: facts that disagree, with the analysis and the correcting events.",
    ),
    "encounter": Lazy(
        "cli.encounters:encounter", "Admit, register, transfer and discharge patients."
    ),
    "export": Lazy(
        "cli.integrity:export",
        "Write every logged event, checkpoint and key to FOLDER, verifiable with no database"
        " (administrator or compliance officer; a signed event records what left, before it"
        " does).",
    ),
    "import": Lazy(
        "cli.importing:import_group",
        "Load records exported by other systems (each record once, however often it is run).",
    ),
    "index": Lazy(
        "cli.indexes:index", "The disease, operation and physician indexes, for a discharge period."
    ),
    "init": Lazy(
        "cli.integrity:init",
        "Create the ledger home, its database, the node key and the first administrator.",
    ),
    "legal": Lazy(
        "cli.legal:legal", "Legal requests: the record as it stood on a date, with its proofs."
    ),
    "location": Lazy(
        "cli.location:location",
        "Chart locations: volumes, requests, check-out and check-in, overdue, lost.",
    ),
    "log": Lazy(
        "cli.integrity:log_group",
        "The Merkle log: its state, and a follower that keeps it current.",
    ),
    "patient": Lazy(
        "cli.patients:patient",
        "Find, register, show and merge patients (the master patient index).",
    ),
    "policy": Lazy(
        "cli.policy:policy",
        "The access policy: show it, load a new version (a signed event), its history.",
    ),
    "prove": Lazy(
        "cli.integrity:prove",
        "Prove EVENT (AGGREGATE-UUID/VERSION or @POSITION) is in the log, or two checkpoints"
        " agree.",
    ),
    "query": Lazy(
        "cli.queries:query",
        "Physician queries: a compliant question to the physician, answered and signed by them.",
    ),
    "roi": Lazy(
        "cli.roi:roi",
        "Release of information: requests, validation, release, accounting of disclosures.",
    ),
    "stats": Lazy(
        "cli.statistics:stats",
        "Hospital statistics: census, beds, stays, deaths, readmissions, case mix, monthly report.",
    ),
    "unit": Lazy(
        "cli.units:unit",
        "Nursing units: open, change bed counts, close (HIM director or administrator); list,"
        " show.",
    ),
    "upgrade": Lazy(
        "cli.integrity:upgrade",
        "Add what this version needs to an existing ledger's tables (safe to run again).",
    ),
    "user": Lazy(
        "cli.users:user",
        "Users, their roles and their keys (each person's key is made where they work).",
    ),
    "verify": Lazy(
        "cli.integrity:verify",
        "Check every signature, chain, checkpoint and the log; name the first failure.",
    ),
}


class LedgerGroup(click.Group):
    """The one place where the ledger's errors become exit codes (no traceback for user errors),
    and a group whose commands are imported only when needed (`lazy`)."""

    def __init__(self, *args: Any, lazy: Mapping[str, Lazy] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy: Mapping[str, Lazy] = lazy or {}

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.lazy, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            self.add_command(self.lazy[cmd_name].load(), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # click's own listing, given a stand-in carrying the kept short help for each command not
        # imported yet: click shortens it to the width exactly as it would the command's help.
        listed = {
            name: self.commands[name]
            if name in self.commands
            else click.Command(name, help=self.lazy[name].short_help)
            for name in self.list_commands(ctx)
        }
        click.Group(self.name, commands=listed).format_commands(ctx, formatter)

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
        from ledger.errors import LedgerError  # here: `chartledger --help` never needs it

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
        lazy=COMMANDS,
        context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
    )(function)


@_group
def cli(ctx: click.Context, **settings: Any) -> None:
    """Chartledger: a signed, tamper-evident ledger of medical records."""
    os.umask(0o077)  # whatever this process creates (database, keys, reports) is its owner's only
    ctx.obj = Session(**settings)
