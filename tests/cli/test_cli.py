"""The command line, through click's runner: exit codes, plain sentences, nothing half-written."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from ledger.keys import Identity
from tests.rawdb import RawDB

CODE = re.compile(r"\b[A-Z2-7]{5}(?:-[A-Z2-7]{5}){3}\b")


class Chartledger:
    """Runs `chartledger` against one store, each person in their own home: the administrator
    in `home` (the one `init` made), everyone enrolled by `enrol` in `homes/<name>`."""

    def __init__(self, home: Path, store_url: str) -> None:
        self.home = home
        self.homes = home.parent / "homes"
        self.store_url = store_url
        self.runner = CliRunner()

    def home_of(self, actor: str | None) -> Path:
        """Where ACTOR works: their own home once enrolled, else the administrator's."""
        own = self.homes / (actor or "")
        return own if actor and (own / "keys").is_dir() else self.home

    def __call__(
        self,
        *args: str,
        actor: str | None = "admin",
        ok: bool = True,
        home: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> Result:
        named = args[args.index("--as") + 1] if "--as" in args[:-1] else actor
        settings = {"CHARTLEDGER_HOME": str(home or self.home_of(named))}
        settings["CHARTLEDGER_DB"] = self.store_url
        settings["CHARTLEDGER_USER"] = actor or ""
        settings.update(env or {})
        result = self.runner.invoke(cli, list(args), env=settings, catch_exceptions=False)
        if ok:
            assert result.exit_code == 0, result.output
        else:
            assert result.exit_code != 0, result.output
            assert "Traceback" not in result.output
        return result

    def identity(self, name: str) -> Identity:
        """The identity (private key) of a user, as their own workstation holds it."""
        from ledger.home import LedgerHome
        from ledger.keys import load_identity

        return load_identity(name, LedgerHome(self.home_of(name)).key_path(name))

    def invite(self, name: str, *roles: str, actor: str = "admin") -> str:
        """`user invite` by ACTOR; the one-time code it printed."""
        args = ["user", "invite", name]
        for role in roles:
            args += ["--role", role]
        found = CODE.search(self(*args, actor=actor).output)
        assert found is not None
        return found.group(0)

    def enrol(self, name: str, *roles: str, actor: str = "admin") -> Result:
        """Enrol a user with ROLES, the tests' one way to do it: ACTOR invites, and the user runs
        `user enroll` with the code in their own home (unprotected key, for speed)."""
        code = self.invite(name, *roles, actor=actor)
        return self(
            "user",
            "enroll",
            name,
            "--code",
            code,
            "--no-passphrase",
            "--master-key",
            str(self.home / "keys" / "master.key"),
            actor=name,
            home=self.homes / name,
        )


@pytest.fixture
def run(store_url: str, tmp_path: Path) -> Chartledger:
    return Chartledger(tmp_path / "home", store_url)


@pytest.fixture
def ready(run: Chartledger) -> Chartledger:
    run("init", "--origin", "cli.hospital/ledger", "--no-passphrase")
    return run


def test_help_lists_the_commands() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    for command in ("init", "user", "checkpoint", "prove", "verify", "export"):
        assert command in result.output


def test_init_prints_the_genesis_fingerprint_and_makes_a_private_key(run: Chartledger) -> None:
    result = run("init", "--admin", "hana", "--origin", "cli.hospital/ledger")
    fingerprint = result.output.split("Genesis fingerprint: ")[1].split()[0]
    assert len(bytes.fromhex(fingerprint)) == 32
    key = run.home / "keys" / "hana.key"
    assert key.stat().st_mode & 0o777 == 0o600
    again = run("init", ok=False)
    assert "already exists" in again.output


def test_users_are_enrolled_listed_rotated_and_revoked(ready: Chartledger) -> None:
    ready.enrol("tech1", "technician")
    ready("user", "add", "doc1", "--role", "physician", "--role", "him-director")
    listed = json.loads(ready("user", "list", "--json").output)
    assert [u["name"] for u in listed] == ["admin", "node", "tech1", "doc1"]
    assert listed[3]["roles"] == ["physician", "him-director"]
    table = ready("user", "list").output
    assert "tech1" in table and "technician" in table
    ready("user", "rotate-key", "doc1", actor="doc1")
    assert (ready.home / "keys" / "doc1.key.retired-1").exists()
    ready("user", "revoke", "tech1", "--reason", "left the hospital")
    listed = json.loads(ready("user", "list", "--json").output)
    assert listed[2]["status"] == "revoked" and listed[3]["keys_retired"] == 1
    refused = ready("user", "add", "x1", "--role", "nurse", actor="tech1", ok=False)
    assert "revoked" in refused.output
    ready("verify")


def test_an_enrolment_with_a_users_own_public_key(ready: Chartledger, tmp_path: Path) -> None:
    from ledger.keys import Identity

    own = Identity.generate("doc2")
    path = tmp_path / "doc2.pub"
    path.write_bytes(own.public_raw)
    ready("user", "add", "doc2", "--role", "physician", "--public-key", str(path))
    assert not (ready.home / "keys" / "doc2.key").exists()
    path.write_text("not a key")
    bad = ready("user", "add", "doc3", "--role", "physician", "--public-key", str(path), ok=False)
    assert "not an Ed25519 public key" in bad.output


@pytest.mark.parametrize(
    ("args", "actor", "message", "code"),
    [
        (["user", "add", "x1", "--role", "nurse"], None, "Say who you are", 3),
        (["user", "add", "x1", "--role", "nurse"], "ghost", "No key file for user 'ghost'", 3),
        (["user", "add", "x1", "--role", "wizard"], "admin", "Unknown role 'wizard'", 2),
        (["user", "add", "../x", "--role", "nurse"], "admin", "A user name must be", 2),
        (["user", "revoke", "nobody", "--reason", "r"], "admin", "no user named 'nobody'", 5),
        (["prove", "not-an-event"], "admin", "is not an event id", 2),
        (["prove", "@999"], "admin", "no event at position 999", 5),
        (["prove"], "admin", "Give an EVENT", 2),
        (["verify", "--genesis", "zz"], "admin", "hexadecimal", 2),
    ],
)
def test_user_errors_are_one_sentence_and_write_nothing(
    ready: Chartledger, args: list[str], actor: str | None, message: str, code: int
) -> None:
    before = RawDB(ready.store_url).rows()
    result = ready(*args, actor=actor, ok=False)
    assert message in result.output
    assert result.exit_code == code
    assert len(result.output.strip().splitlines()) == 1
    assert RawDB(ready.store_url).rows() == before
    assert not (ready.home / "keys" / "x1.key").exists()


def test_a_non_administrator_is_refused(ready: Chartledger) -> None:
    ready.enrol("tech1", "technician")
    result = ready("user", "add", "x1", "--role", "nurse", actor="tech1", ok=False)
    assert result.exit_code == 4
    assert "Only an administrator" in result.output


def test_a_key_file_others_can_read_is_refused(ready: Chartledger) -> None:
    os.chmod(ready.home / "keys" / "admin.key", 0o644)
    result = ready("user", "add", "x1", "--role", "nurse", ok=False)
    assert "chmod 600" in result.output


def test_checkpoint_prove_and_consistency(ready: Chartledger) -> None:
    first = json.loads(ready("checkpoint", "--json").output)
    ready.enrol("tech1", "technician")
    ready.enrol("tech2", "technician")
    second = json.loads(ready("checkpoint", "--json").output)
    assert (first["tree_size"], second["tree_size"]) == (2, 4)
    assert second["note"].startswith("cli.hospital/ledger\n4\n")
    proof = json.loads(ready("prove", "@3", "--json").output)
    assert proof["position"] == 3 and proof["tree_size"] == 4
    by_id = json.loads(ready("prove", proof["event"], "--json").output)
    assert by_id["proof"] == proof["proof"]
    text = ready("prove", "--from", "2", "--to", "4").output
    assert "extends the log at 2 events" in text
    missing = ready("prove", "--from", "3", "--to", "4", ok=False)
    assert "no checkpoint at tree size 3" in missing.output


def test_verify_names_a_tampered_event(ready: Chartledger) -> None:
    ready.enrol("tech1", "technician")
    ready("checkpoint")
    assert "Verified" in ready("verify").output
    raw = RawDB(ready.store_url)
    _, oid, version, _, state = raw.rows()[2]
    raw.set_state(oid, version, state[:-1] + bytes([state[-1] ^ 0xFF]))
    result = ready("verify", ok=False)
    assert result.exit_code == 10
    assert "log position 2" in result.output and str(oid) in result.output


def test_an_export_verifies_with_no_database(ready: Chartledger, tmp_path: Path) -> None:
    ready.enrol("tech1", "technician")
    ready("checkpoint")
    folder = tmp_path / "export"
    ready("export", str(folder))
    genesis = json.loads((folder / "keys.json").read_text())["genesis"]
    offline = Chartledger(tmp_path / "elsewhere", "sqlite:////nonexistent/never.db")
    result = offline("verify", "--export", str(folder), "--genesis", genesis, "--json", actor=None)
    assert json.loads(result.output)["events"] == 3
    assert not Path("/nonexistent/never.db").exists()
    again = ready("export", str(folder), ok=False)
    assert "not empty" in again.output
    nothing = offline("verify", "--export", str(tmp_path / "nope"), actor=None, ok=False)
    assert "is not a Chartledger export" in nothing.output


def test_a_bad_store_url_is_a_clear_error(tmp_path: Path) -> None:
    run = Chartledger(tmp_path / "home", "mysql://nope")
    result = run("init", ok=False)
    assert "must start with sqlite:/// or postgresql://" in result.output


def test_an_unreachable_postgresql_is_a_clear_error(tmp_path: Path) -> None:
    run = Chartledger(tmp_path / "home", "postgresql://postgres@127.0.0.1:1/none")
    result = run("init", ok=False)
    assert "cannot be reached" in result.output


def test_the_demo_runs_end_to_end_and_catches_its_own_tampering(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert result.exit_code == 0, result.output
    out = result.output
    assert "checkpoints: all good" in out
    assert "verified offline" in out
    assert "verify: Integrity check 'signature' failed (log position 4" in out
    # The clinical part runs the real commands: import, find, a refused duplicate, charting.
    assert "Imported 13 patients, 1,215 encounters" in out
    assert "Nothing new to import: no events were written." in out
    assert "This patient looks like MR0000004 already in the index" in out
    assert "Community-acquired pneumonia  [signed]" in out  # as of before the amendment
    assert "Lobar pneumonia, right lower lobe  [amended x1; unsigned]" in out
    assert "Encounter.EntryAmended  │ chest x-ray read" in out
    assert "Error: There is no patient with MRN MR9999999." in out
    assert "Access refused: no treatment relationship" in out
    assert "ED: chest pain, needs her history" in out  # the break-glass, in the audit trail
    assert "Verified the legal package" in out and "(matches)" in out
    # The records department: a checked-out and an overdue chart, the electronic record routed,
    # a delinquent record and a physician in jeopardy.
    assert "Checked out V-100231 to Pulmonary clinic" in out
    assert "Overdue chart volumes: 1" in out
    assert "Routed the electronic record E-MR0000014 to dr." in out
    assert "The record cannot be routed to coder.lindqvist" in out
    assert "Delinquent records: 1" in out
    assert "Physicians in jeopardy: 1" in out and "MR0000015 discharged" in out
    # The misfiled operative report: moved by events, and the next scan finds the report.
    assert "from MR0000014 to MR0000015" in out and "Resolved discrepancy" in out
    assert "0 assigned, 1 completed" in out
    again = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert again.exit_code == 2 and "not empty" in again.output


def test_global_options_may_follow_the_subcommand(ready: Chartledger) -> None:
    ready("user", "add", "tech1", "--role", "technician", "--as", "admin", actor=None)
    ready("user", "rotate-key", "tech1", "--as", "tech1", actor=None)
    refused = ready("user", "add", "x1", "--role", "nurse", "--as", "tech1", actor=None, ok=False)
    assert refused.exit_code == 4


def test_log_status_counts_what_waits_to_enter_the_log(ready: Chartledger) -> None:
    ready.enrol("tech1", "technician")
    before = json.loads(ready("log", "status", "--json").output)
    assert before["logged"] + before["waiting"] == 3
    assert before["latest_checkpoint"] is None
    ready("checkpoint")
    after = json.loads(ready("log", "status", "--json").output)
    assert after == {"logged": 3, "waiting": 0, "latest_checkpoint": 3, "checkpoints": 1}
    assert "Latest checkpoint covers 3 events" in ready("log", "status").output
