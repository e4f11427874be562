"""The ledger home: one folder with the settings, the node key and users' key files.

`CHARTLEDGER_HOME` (default `~/.chartledger`) holds `chartledger.json` (store URL, origin,
genesis fingerprint), `keys/node.key` and `keys/<user>.key` (0600). The store defaults to
`sqlite:///<home>/ledger.db`. This is the one place that wires store, keys and ledger together.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ledger.errors import ConfigurationError, IdentityError, UsageError
from ledger.keys import Identity, load_identity, write_key_file, write_secret_file
from ledger.store import parse_store_url

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

    def write_config(self, settings: dict[str, Any]) -> None:
        self.path.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.config_path.write_text(json.dumps(settings, indent=2) + "\n", encoding="utf-8")

    def db_url(self, override: str | None = None) -> str:
        if override:
            return override
        if self.exists():
            url = self.config().get("db")
            if isinstance(url, str) and url:
                return url
        return f"sqlite:///{self.path.resolve() / 'ledger.db'}"

    def master_key(self) -> bytes | None:
        """The key that wraps patients' data keys, if this home holds it."""
        path = self.keys_dir / MASTER_KEY
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

    def node_identity(self) -> Identity:
        return load_identity("node", self.keys_dir / NODE_KEY)

    def initialise(
        self,
        *,
        admin: str,
        origin: str,
        db: str | None = None,
        passphrase: bytes | None = None,
    ) -> tuple[Ledger, bytes]:
        """Create the ledger, node key and first administrator; return the genesis fingerprint."""
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
            write_secret_file(self.keys_dir / MASTER_KEY, master)
            written.append(self.keys_dir / MASTER_KEY)
            for identity, path, secret in (
                (node, self.keys_dir / NODE_KEY, None),
                (admin_identity, self.key_path(admin), passphrase),
            ):
                write_key_file(identity, path, passphrase=secret)
                written.append(path)
            genesis = ledger.create(admin_identity, node, origin=origin)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            ledger.close()
            raise
        self.write_config({"db": url, "origin": origin, "genesis": genesis.hex(), "admin": admin})
        return ledger, genesis
