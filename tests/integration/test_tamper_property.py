"""A law, for all inputs: change any byte of any stored event and `verify` names that event."""

from __future__ import annotations

import shutil
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ledger.application import Ledger
from ledger.commands import users
from ledger.errors import IntegrityViolation
from ledger.home import LedgerHome
from ledger.integrity.keys import Identity
from ledger.stores.database import parse_store_url
from tests.rawdb import RawDB


def build(folder: Path) -> tuple[Path, int]:
    """A SQLite ledger with users, a rotation, a revocation and a checkpoint."""
    home = LedgerHome(folder / "home")
    ledger, _ = home.initialise(admin="admin", origin="prop.test/ledger")
    admin = home.identity("admin")
    with ledger:
        people = []
        for n in range(4):
            code = users.invite(ledger, f"u{n}", ["nurse"], actor=admin)
            people.append(Identity.generate(f"u{n}"))
            users.enrol(ledger, people[-1], code, key_protection="none")
        users.rotate_key(ledger, "u1", Identity.generate("u1").public_raw, actor=people[1])
        users.revoke_key(ledger, "u2", "left", actor=admin)
        ledger.checkpoint(home.node_identity())
        count = ledger.merkle_log.size()
    return folder / "home" / "ledger.db", count


_built: dict[str, tuple[Path, int]] = {}


def pristine(tmp_path_factory_root: Path) -> tuple[Path, int]:
    if "db" not in _built:
        _built["db"] = build(tmp_path_factory_root)
    return _built["db"]


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_changed_byte_of_any_event_is_named(tmp_path: Path, data: st.DataObject) -> None:
    source, count = pristine(tmp_path.parent / "tamper-property-source")
    position = data.draw(st.integers(0, count - 1), label="position")
    copy = tmp_path / f"copy-{position}.db"
    copy.unlink(missing_ok=True)
    shutil.copy(source, copy)
    raw = RawDB(f"sqlite:///{copy}")
    _, oid, version, _, state = raw.rows()[position]
    offset = data.draw(st.integers(0, len(state) - 1), label="offset")
    flip = data.draw(st.integers(1, 255), label="xor")
    raw.set_state(
        oid, version, state[:offset] + bytes([state[offset] ^ flip]) + state[offset + 1 :]
    )
    ledger = Ledger(parse_store_url(f"sqlite:///{copy}"))
    try:
        ledger.verify()
    except IntegrityViolation as failure:
        assert failure.position == position, str(failure)
    else:
        raise AssertionError(f"a changed byte at position {position} went unnoticed")
    finally:
        ledger.close()
