"""The ledger home: one folder per person (or interface) where they work, with their key.

`CHARTLEDGER_HOME` (default `~/.chartledger`) holds `chartledger.json` (store URL, origin,
genesis fingerprint, where the master key is), `keys/<user>.key` (0600, passphrase-protected
unless the user chose otherwise), and in the home that ran `init` also `keys/node.key` and
`keys/master.key`. A workstation home is made by `user enroll` (`enrol_here`); its key is
generated there and never leaves it. The store defaults to `sqlite:///<home>/ledger.db`. This
is the one place that wires store, keys and ledger together.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import ConfigurationError, IdentityError, UsageError
from ledger.integrity.keys import Identity, load_identity, write_key_file, write_secret_file
from ledger.stores.database import parse_store_url

if TYPE_CHECKING:
    from ledger.application import Ledger

CONFIG = "chartledger.json"
NODE_KEY = "node.key"
MASTER_KEY = "master.key"


def default_home() -> Path:
    return Path(os.environ.get("CHARTLEDGER_HOME") or Path.home() / ".chartledger")


@dataclass(frozen=True)
class LedgerHome:
    """A ledger home folder and the settings it keeps."""

    path: Path

    @property
    def config_path(self) -> Path:
        return self.path / CONFIG

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"

    def key_path(self, user: str) -> Path:
        return self.keys_dir / f"{user}.key"

    def exists(self) -> bool:
        return self.config_path.is_file()

    def config(self) -> dict[str, Any]:
        try:
            loaded = json.loads(self.config_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ConfigurationError(
                f"No ledger at {self.path}; run 'chartledger init' or set CHARTLEDGER_HOME."
            ) from None
        except (OSError, ValueError):
            raise ConfigurationError(
                f"The settings file {self.config_path} is unreadable."
            ) from None
        if not isinstance(loaded, dict):
            raise ConfigurationError(f"The settings file {self.config_path} is unreadable.")
        return loaded

    def make_private(self) -> None:
        """Create the home and its keys folder readable by their owner only (0700)."""
        for folder in (self.path, self.keys_dir):
            folder.mkdir(parents=True, exist_ok=True, mode=0o700)
            os.chmod(folder, 0o700)

    def write_config(self, settings: dict[str, Any]) -> None:
        self.make_private()
        self.config_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")

    def db_url(self, override: str | None = None) -> str:
        if override:
            return override
        if self.exists():
            url = self.config().get("db")
            if isinstance(url, str) and url:
                return url
        return f"sqlite:///{self.path.resolve() / 'ledger.db'}"

    def master_key_path(self) -> Path:
        """Where this home finds the patients' data-key master key: its own `keys/master.key`
        (the home that ran `init`) or the path its settings name (a workstation)."""
        return self._configured_path("master_key", self.keys_dir / MASTER_KEY)

    def _configured_path(self, setting: str, default: Path) -> Path:
        """The path the settings name under `setting`, else `default` (this home's own)."""
        if self.exists():
            configured = self.config().get(setting)
            if isinstance(configured, str) and configured:
                return Path(configured)
        return default

    def master_key(self) -> bytes | None:
        """The key that wraps patients' data keys, if this home can reach it."""
        path = self.master_key_path()
        try:
            return path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError:
            raise ConfigurationError(f"The master key file {path} cannot be read.") from None

    def open(self, db: str | None = None) -> Ledger:
        """Open the ledger this home (or `db`) names."""
        from ledger.application import Ledger

        return Ledger(parse_store_url(self.db_url(db)), master_key=self.master_key())

    def open_reports(self, db: str | None = None, read_db: str | None = None) -> Ledger:
        """The ledger a report reads: this home's (or `db`), or with `read_db` a hot standby of
        it, read as replicated, whose saves (the report's access events) go to the primary."""
        primary = self.open(db)
        if not read_db:
            return primary
        from ledger.application import Ledger

        try:
            return Ledger.open_standby(
                parse_store_url(read_db), primary, master_key=self.master_key()
            )
        except BaseException:
            primary.close()
            raise

    def identity(
        self, name: str | None, *, key_file: Path | None = None, passphrase: bytes | None = None
    ) -> Identity:
        """The acting person: `--as`/CHARTLEDGER_USER and their key file."""
        if not name:
            raise IdentityError(
                "Say who you are: give --as NAME or set CHARTLEDGER_USER "
                "(every change is signed by the person who makes it)."
            )
        return load_identity(name, key_file or self.key_path(name), passphrase=passphrase)

    def node_key_path(self) -> Path:
        """Where this home finds the node key (it signs checkpoints): its own `keys/node.key`
        (the home that ran `init`) or the path its settings name (a workstation)."""
        return self._configured_path("node_key", self.keys_dir / NODE_KEY)

    def node_identity(self) -> Identity:
        return load_identity("node", self.node_key_path())

    def initialise(
        self,
        *,
        admin: str,
        origin: str,
        db: str | None = None,
        passphrase: bytes | None = None,
    ) -> tuple[Ledger, bytes]:
        """Create the ledger, node key and first administrator; return the genesis fingerprint.

        The administrator's key is protected by `passphrase`; None is the explicit choice of an
        unprotected key, recorded in the genesis (`key_protection: "none"`)."""
        return self._initialise(admin=admin, origin=origin, db=db, passphrase=passphrase)

    def _initialise(
        self, *, admin: str, origin: str, db: str | None, passphrase: bytes | None
    ) -> tuple[Ledger, bytes]:
        if self.exists():
            raise UsageError(f"A ledger home already exists at {self.path}; it was left as it is.")
        url = self.db_url(db)
        master = os.urandom(32)
        admin_identity = Identity.generate(admin)
        node = Identity.generate("node")
        from ledger.application import Ledger

        ledger = Ledger(parse_store_url(url), master_key=master, create=True)
        if ledger.is_initialised():
            ledger.close()
            raise UsageError("That store already holds a ledger; it was left as it is.")
        written: list[Path] = []
        try:
            self.make_private()
            write_secret_file(self.keys_dir / MASTER_KEY, master)
            written.append(self.keys_dir / MASTER_KEY)
            for identity, path, secret in (
                (node, self.keys_dir / NODE_KEY, None),
                (admin_identity, self.key_path(admin), passphrase),
            ):
                write_key_file(identity, path, passphrase=secret)
                written.append(path)
            genesis = ledger.create(
                admin_identity,
                node,
                origin=origin,
                key_protection="passphrase" if passphrase else "none",
            )
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            ledger.close()
            raise
        self.write_config({"db": url, "origin": origin, "genesis": genesis.hex(), "admin": admin})
        return ledger, genesis

    def enrol_here(
        self,
        name: str,
        code: str,
        *,
        db: str | None = None,
        genesis: bytes | None = None,
        passphrase: bytes | None,
        master_key: Path | None = None,
        node_key: Path | None = None,
    ) -> Identity:
        """Make `name`'s key in this home and enrol it with the administrator's one-time code.

        The home is made if needed (0700) with the store URL, the ledger's origin and genesis
        and where the master key is; `genesis`, if given, must be the ledger's trust anchor.
        `passphrase` None is the explicit choice of an unprotected key, which the ledger
        records. `master_key` and `node_key` say where this workstation reaches the system's
        secrets (the patients' data-key master key; the key that signs checkpoints): they are
        the ledger's, not a person's, and stay where `init` made them. On any refusal, nothing
        this call wrote is left behind."""
        from ledger.aggregates.user import check_user_name

        check_user_name(name)
        fresh_home = not self.exists()
        settings = self.config() if not fresh_home else {}
        url = db or (settings.get("db") if isinstance(settings.get("db"), str) else None)
        if not url:
            raise ConfigurationError(
                f"No ledger is set up at {self.path}; give the store with --db URL."
            )
        key_path = self.key_path(name)
        staged = key_path.with_name(f"{name}.key.new")
        for secret, what in ((master_key, "master key"), (node_key, "node key")):
            if secret is not None and not secret.is_file():
                raise ConfigurationError(f"There is no {what} file at {secret}.")
        from ledger.application import Ledger
        from ledger.commands import users

        ledger = Ledger(
            parse_store_url(url),
            master_key=_read_master(master_key) if master_key else self.master_key(),
        )
        made_dirs = [p for p in (self.path, self.keys_dir) if not p.exists()]
        try:
            if not ledger.is_initialised():
                raise ConfigurationError(
                    f"The store {ledger.store.display} holds no ledger; check --db."
                )
            anchor = ledger.genesis_fingerprint()
            if genesis is not None and genesis != anchor:
                raise ConfigurationError(
                    "That ledger's genesis fingerprint is not the one you gave; nothing was "
                    "written (check --db and --genesis)."
                )
            identity = Identity.generate(name)
            self.make_private()
            staged.unlink(missing_ok=True)
            write_key_file(identity, staged, passphrase=passphrase)
            try:
                users.enrol(
                    ledger, identity, code, key_protection="passphrase" if passphrase else "none"
                )
            except BaseException:
                staged.unlink(missing_ok=True)
                raise
            install_key_file(staged, key_path)
            if fresh_home:
                config: dict[str, Any] = {
                    "db": url,
                    "origin": ledger.origin,
                    "genesis": anchor.hex(),
                    "user": name,
                }
                if master_key is not None:
                    config["master_key"] = str(master_key.resolve())
                if node_key is not None:
                    config["node_key"] = str(node_key.resolve())
                self.write_config(config)
        except BaseException:
            for folder in reversed(made_dirs):
                try:
                    folder.rmdir()
                except OSError:
                    pass
            raise
        finally:
            ledger.close()
        return identity


def install_key_file(staged: Path, current: Path) -> None:
    """Put a new key file in place; an existing one is kept beside it as retired, never lost."""
    if current.exists():
        stamp = 1
        while current.with_name(f"{current.name}.retired-{stamp}").exists():
            stamp += 1
        os.replace(current, current.with_name(f"{current.name}.retired-{stamp}"))
    os.replace(staged, current)


def _read_master(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError:
        raise ConfigurationError(f"The master key file {path} cannot be read.") from None
