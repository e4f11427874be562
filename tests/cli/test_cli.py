"""The command line, through click's runner: exit codes, plain sentences, nothing half-written."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cli.main import cli
from ledger.integrity.keys import Identity
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
        from ledger.integrity.keys import load_identity

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
            "--node-key",
            str(self.home / "keys" / "node.key"),
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


def test_init_protects_the_administrators_key_by_default(run: Chartledger) -> None:
    refused = run("init", "--admin", "hana", ok=False)
    assert refused.exit_code == 2 and "--no-passphrase explicitly" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert not run.home.exists()
    secret = {"CHARTLEDGER_PASSPHRASE": "correct horse battery"}
    result = run("init", "--admin", "hana", "--origin", "cli.hospital/ledger", env=secret)
    assert "passphrase-protected" in result.output
    fingerprint = result.output.split("Genesis fingerprint: ")[1].split()[0]
    assert len(bytes.fromhex(fingerprint)) == 32
    key = run.home / "keys" / "hana.key"
    assert key.stat().st_mode & 0o777 == 0o600
    assert run.home.stat().st_mode & 0o777 == 0o700
    assert (run.home / "keys").stat().st_mode & 0o777 == 0o700
    locked = run("user", "invite", "x1", "--role", "nurse", actor="hana", ok=False)
    assert "protected; give its passphrase" in locked.output
    run("user", "invite", "x1", "--role", "nurse", actor="hana", env=secret)
    listed = json.loads(run("user", "list", "--json").output)
    assert listed[0]["key_protection"] == "passphrase"
    again = run("init", "--no-passphrase", ok=False)
    assert "already exists" in again.output


def test_users_are_invited_enrolled_listed_rotated_and_revoked(ready: Chartledger) -> None:
    ready.enrol("tech1", "technician")
    ready.enrol("doc1", "physician", "him-director")
    listed = json.loads(ready("user", "list", "--json").output)
    assert [u["name"] for u in listed] == ["admin", "node", "tech1", "doc1"]
    assert listed[3]["roles"] == ["physician", "him-director"]
    assert listed[3]["key_protection"] == "none"  # the helpers' explicit --no-passphrase
    table = ready("user", "list").output
    assert "tech1" in table and "technician" in table
    ready("user", "rotate-key", "doc1", "--no-passphrase", actor="doc1")
    assert (ready.homes / "doc1" / "keys" / "doc1.key.retired-1").exists()
    ready("user", "revoke", "tech1", "--reason", "left the hospital")
    listed = json.loads(ready("user", "list", "--json").output)
    assert listed[2]["status"] == "revoked" and listed[3]["keys_retired"] == 1
    refused = ready("user", "invite", "x1", "--role", "nurse", actor="tech1", ok=False)
    assert "revoked" in refused.output
    code = ready.invite("nurse1", "nurse")
    listed = json.loads(ready("user", "list", "--json").output)
    assert listed[-1]["name"] == "nurse1" and listed[-1]["status"] == "invited"
    assert all(
        code.replace("-", "").encode() not in row[4] for row in RawDB(ready.store_url).rows()
    )
    ready("verify")


def test_each_person_keeps_their_key_in_their_own_home(ready: Chartledger) -> None:
    ready.enrol("dr.a", "physician")
    own = ready.homes / "dr.a"
    assert (own / "keys" / "dr.a.key").stat().st_mode & 0o777 == 0o600
    assert own.stat().st_mode & 0o777 == 0o700
    assert (own / "keys").stat().st_mode & 0o777 == 0o700
    settings = json.loads((own / "chartledger.json").read_text())
    admin_settings = json.loads((ready.home / "chartledger.json").read_text())
    assert settings["genesis"] == admin_settings["genesis"]
    assert settings["origin"] == "cli.hospital/ledger" and settings["db"] == ready.store_url
    assert settings["master_key"] == str((ready.home / "keys" / "master.key").resolve())
    assert not (ready.home / "keys" / "dr.a.key").exists()
    assert not list(own.glob("keys/*master*")) and not list(own.glob("keys/node*"))
    # From the administrator's home, nobody can act as dr.a.
    refused = ready(
        "user", "invite", "x", "--role", "nurse", actor="dr.a", home=ready.home, ok=False
    )
    assert "No key file for user 'dr.a'" in refused.output


def test_the_administrator_cannot_obtain_or_choose_another_users_key(
    ready: Chartledger, tmp_path: Path
) -> None:
    ready.enrol("dr.a", "physician")
    before = RawDB(ready.store_url).rows()
    gone = ready("user", "add", "dr.b", "--role", "physician", ok=False)
    assert gone.exit_code == 2 and "No such command 'add'" in gone.output
    rotate = ready("user", "rotate-key", "dr.a", "--no-passphrase", actor="admin", ok=False)
    assert rotate.exit_code == 4 and "Only a user may rotate their own key" in rotate.output
    chosen = ready("user", "rotate-key", "dr.a", "--public-key", "x", ok=False)
    assert chosen.exit_code == 2 and "--public-key" in chosen.output
    assert RawDB(ready.store_url).rows() == before
    assert sorted(p.name for p in (ready.home / "keys").iterdir()) == [
        "admin.key",
        "master.key",
        "node.key",
    ]
    # Redeeming dr.b's invitation in the administrator's own place is found out: the real
    # dr.b's enrolment is refused as already used.
    code = ready.invite("dr.b", "physician")
    ready("user", "enroll", "dr.b", "--code", code, "--no-passphrase", home=tmp_path / "rogue")
    real = ready(
        "user",
        "enroll",
        "dr.b",
        "--code",
        code,
        "--no-passphrase",
        home=ready.homes / "dr.b",
        ok=False,
    )
    assert real.exit_code == 6 and "already used" in real.output


def test_enrolment_with_a_wrong_used_or_expired_code_writes_nothing(ready: Chartledger) -> None:
    code = ready.invite("dr.a", "physician")
    home = ready.homes / "dr.a"
    before = RawDB(ready.store_url).rows()
    for bad, message, exit_code in [
        ("AAAAA-AAAAA-AAAAA-AAAAA", "not the enrolment code issued for user 'dr.a'", 4),
    ]:
        result = ready(
            "user", "enroll", "dr.a", "--code", bad, "--no-passphrase", home=home, ok=False
        )
        assert message in result.output and result.exit_code == exit_code
        assert len(result.output.strip().splitlines()) == 1
    assert not home.exists()
    genesis_wrong = ready(
        "user",
        "enroll",
        "dr.a",
        "--code",
        code,
        "--no-passphrase",
        "--genesis",
        "00" * 32,
        home=home,
        ok=False,
    )
    assert "genesis fingerprint is not the one you gave" in genesis_wrong.output
    assert not home.exists()
    assert RawDB(ready.store_url).rows() == before
    genesis = json.loads((ready.home / "chartledger.json").read_text())["genesis"]
    ready(
        "user",
        "enroll",
        "dr.a",
        "--code",
        code,
        "--no-passphrase",
        "--genesis",
        genesis,
        home=home,
    )
    used = ready(
        "user",
        "enroll",
        "dr.a",
        "--code",
        code,
        "--no-passphrase",
        home=ready.homes / "elsewhere",
        ok=False,
    )
    assert used.exit_code == 6 and "already used" in used.output
    short = ready("user", "invite", "dr.c", "--role", "nurse", "--valid-for", "0.000003").output
    found = CODE.search(short)
    assert found is not None
    import time

    time.sleep(0.05)
    after = RawDB(ready.store_url).rows()
    expired = ready(
        "user",
        "enroll",
        "dr.c",
        "--code",
        found.group(0),
        "--no-passphrase",
        home=ready.homes / "dr.c",
        ok=False,
    )
    assert expired.exit_code == 4 and "has expired" in expired.output
    assert RawDB(ready.store_url).rows() == after
    assert not (ready.homes / "dr.c").exists()


def test_an_enrolled_key_is_protected_by_default(ready: Chartledger) -> None:
    code = ready.invite("dr.a", "physician")
    home = ready.homes / "dr.a"
    before = RawDB(ready.store_url).rows()
    refused = ready("user", "enroll", "dr.a", "--code", code, home=home, ok=False)
    assert refused.exit_code == 2 and "CHARTLEDGER_PASSPHRASE" in refused.output
    assert len(refused.output.strip().splitlines()) == 1
    assert RawDB(ready.store_url).rows() == before and not home.exists()
    secret = {"CHARTLEDGER_PASSPHRASE": "dr.a's own secret"}
    done = ready("user", "enroll", "dr.a", "--code", code, home=home, env=secret)
    assert "protected by your passphrase" in done.output
    from ledger.errors import IdentityError
    from ledger.integrity.keys import load_identity

    with pytest.raises(IdentityError, match="protected"):
        load_identity("dr.a", home / "keys" / "dr.a.key")
    locked = ready("user", "invite", "x1", "--role", "nurse", actor="dr.a", ok=False)
    assert locked.exit_code == 3 and "passphrase" in locked.output
    unlocked = ready("user", "invite", "x1", "--role", "nurse", actor="dr.a", env=secret, ok=False)
    assert unlocked.exit_code == 4  # the key loaded and authenticated; dr.a is no administrator
    listed = json.loads(ready("user", "list", "--json").output)
    assert listed[-1]["key_protection"] == "passphrase"


def test_a_revoked_user_cannot_rotate_and_is_reinstated_with_a_new_key(
    ready: Chartledger,
) -> None:
    ready.enrol("dr.a", "physician")
    old = ready.identity("dr.a")
    ready("user", "revoke", "dr.a", "--reason", "laptop stolen")
    before = RawDB(ready.store_url).rows()
    rotate = ready("user", "rotate-key", "dr.a", "--no-passphrase", actor="dr.a", ok=False)
    assert rotate.exit_code == 3 and "revoked" in rotate.output
    no_reason = ready("user", "reinstate", "dr.a", ok=False)
    assert no_reason.exit_code == 2 and "--reason" in no_reason.output
    assert RawDB(ready.store_url).rows() == before
    printed = ready("user", "reinstate", "dr.a", "--reason", "laptop found, wiped").output
    found = CODE.search(printed)
    assert found is not None
    home = ready.homes / "dr.a"
    ready("user", "enroll", "dr.a", "--code", found.group(0), "--no-passphrase", home=home)
    assert (home / "keys" / "dr.a.key.retired-1").exists()
    assert ready.identity("dr.a").public_raw != old.public_raw  # the revoked key never returns
    works = ready("user", "invite", "x1", "--role", "nurse", actor="dr.a", ok=False)
    assert works.exit_code == 4  # authenticated with the new key, refused as no administrator
    listed = json.loads(ready("user", "list", "--json").output)
    assert listed[-1]["status"] == "active"
    ready("verify")


@pytest.mark.parametrize(
    ("args", "actor", "message", "code"),
    [
        (["user", "invite", "x1", "--role", "nurse"], None, "Say who you are", 3),
        (["user", "invite", "x1", "--role", "nurse"], "ghost", "No key file for user 'ghost'", 3),
        (["user", "invite", "x1", "--role", "wizard"], "admin", "Unknown role 'wizard'", 2),
        (["user", "invite", "../x", "--role", "nurse"], "admin", "A user name must be", 2),
        (["user", "reinstate", "admin", "--reason", "r"], "admin", "not revoked", 2),
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
    result = ready("user", "invite", "x1", "--role", "nurse", actor="tech1", ok=False)
    assert result.exit_code == 4
    assert "Only an administrator" in result.output


def test_a_key_file_others_can_read_is_refused(ready: Chartledger) -> None:
    os.chmod(ready.home / "keys" / "admin.key", 0o644)
    result = ready("user", "invite", "x1", "--role", "nurse", ok=False)
    assert "chmod 600" in result.output


def test_checkpoint_prove_and_consistency(ready: Chartledger) -> None:
    first = json.loads(ready("checkpoint", "--json").output)
    ready.enrol("tech1", "technician")
    ready.enrol("tech2", "technician")
    second = json.loads(ready("checkpoint", "--json").output)
    assert (first["tree_size"], second["tree_size"]) == (2, 6)
    assert second["note"].startswith("cli.hospital/ledger\n6\n")
    proof = json.loads(ready("prove", "@3", "--json").output)
    assert proof["position"] == 3 and proof["tree_size"] == 6
    by_id = json.loads(ready("prove", proof["event"], "--json").output)
    assert by_id["proof"] == proof["proof"]
    text = ready("prove", "--from", "2", "--to", "6").output
    assert "extends the log at 2 events" in text
    missing = ready("prove", "--from", "3", "--to", "6", ok=False)
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
    ready("export", str(folder), "--purpose", "outside audit")
    genesis = json.loads((folder / "keys.json").read_text())["genesis"]
    offline = Chartledger(tmp_path / "elsewhere", "sqlite:////nonexistent/never.db")
    result = offline("verify", "--export", str(folder), "--genesis", genesis, "--json", actor=None)
    assert json.loads(result.output)["events"] == 4
    assert not Path("/nonexistent/never.db").exists()
    again = ready("export", str(folder), "--purpose", "outside audit", ok=False)
    assert "not empty" in again.output
    nothing = offline("verify", "--export", str(tmp_path / "nope"), actor=None, ok=False)
    assert "is not a Chartledger export" in nothing.output


def test_a_bad_store_url_is_a_clear_error(tmp_path: Path) -> None:
    run = Chartledger(tmp_path / "home", "mysql://nope")
    result = run("init", "--no-passphrase", ok=False)
    assert "must start with sqlite:/// or postgresql://" in result.output


def test_an_unreachable_postgresql_is_a_clear_error(tmp_path: Path) -> None:
    run = Chartledger(tmp_path / "home", "postgresql://postgres@127.0.0.1:1/none")
    result = run("init", "--no-passphrase", ok=False)
    assert "cannot be reached" in result.output


def _fresh_clone(target: Path) -> Path:
    """The project's packages copied to TARGET, where no `shared` folder is beside or above."""
    root = Path(__file__).resolve().parents[2]
    for package in ("cli", "ledger", "policies", "projections"):
        shutil.copytree(
            root / package, target / package, ignore=shutil.ignore_patterns("__pycache__")
        )
    assert not any((folder / "shared").exists() for folder in (target, *target.parents))
    return target


def test_the_demo_runs_end_to_end_and_catches_its_own_tampering(tmp_path: Path) -> None:
    # Run from a copy of the packages with no `../shared` anywhere: the demo needs only what the
    # package carries (its Synthea sample is package data, cli/demo_data/synthea).
    clone = _fresh_clone(tmp_path / "clone")
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTLEDGER_")}
    env["PYTHONPATH"] = str(clone)
    result = subprocess.run(
        [sys.executable, "-m", "cli", "demo", "--dir", str(tmp_path / "demo")],
        cwd=clone,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    out = result.stdout
    assert result.returncode == 0, out + result.stderr
    assert f"Synthea practitioners in {clone / 'cli' / 'demo_data' / 'synthea'}" in out
    assert "checkpoints: all good" in out
    assert "verified offline" in out
    assert "verify: Integrity check 'signature' failed (log position 4" in out
    # The clinical part runs the real commands: import, find, a refused duplicate, charting.
    assert "Imported 3 patients, 89 encounters" in out
    assert "Nothing new to import: no records were written." in out
    assert "This patient looks like MR0000002 already in the index" in out
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
    assert "Routed the electronic record E-MR0000004 to dr." in out
    assert "The record cannot be routed to coder.lindqvist" in out
    assert "Delinquent records: 1" in out
    assert "Physicians in jeopardy: 1" in out and "MR0000005 discharged" in out
    # The misfiled operative report: moved by events, and the next scan finds the report.
    assert "from MR0000004 to MR0000005" in out and "Resolved discrepancy" in out
    assert "0 assigned, 1 completed" in out
    # The statistics: a census, and the monthly report issued, then verified (§49).
    assert "Inpatient service days:" in out and "; it matches the ledger." in out
    assert len(list((tmp_path / "demo").glob("statistics-*.html"))) == 1
    again = CliRunner().invoke(cli, ["demo", "--dir", str(tmp_path / "demo")])
    assert again.exit_code == 2 and "not empty" in again.output
    # The demo's legal package and `chart show --as-of` give the same answer (issue 17).
    demo = tmp_path / "demo"
    record = json.loads((demo / "legal-package" / "record.json").read_text())
    ask = Chartledger(demo / "home", f"sqlite:///{demo / 'home' / 'ledger.db'}")
    show = ("chart", "show", record["mrn"], "--as-of", record["as_of"], "--purpose", "legal")
    shown = json.loads(ask(*show, "--json", actor="roi.nakamura").output)
    for key in ("demographics", "encounters", "documents"):
        assert shown[key] == record[key], key
    assert shown["withheld_since"] == record["withheld"]


def test_global_options_may_follow_the_subcommand(ready: Chartledger) -> None:
    code = ready.invite("tech1", "technician")
    ready("user", "invite", "tech2", "--role", "nurse", "--as", "admin", actor=None)
    ready(
        "user",
        "enroll",
        "tech1",
        "--code",
        code,
        "--no-passphrase",
        "--home",
        str(ready.homes / "tech1"),
        actor=None,
    )
    ready("user", "rotate-key", "tech1", "--no-passphrase", "--as", "tech1", actor=None)
    refused = ready(
        "user", "invite", "x1", "--role", "nurse", "--as", "tech1", actor=None, ok=False
    )
    assert refused.exit_code == 4


def test_log_status_counts_what_waits_to_enter_the_log(ready: Chartledger) -> None:
    ready.enrol("tech1", "technician")
    before = json.loads(ready("log", "status", "--json").output)
    assert before["logged"] + before["waiting"] == 4
    assert before["latest_checkpoint"] is None
    ready("checkpoint")
    after = json.loads(ready("log", "status", "--json").output)
    assert after == {"logged": 4, "waiting": 0, "latest_checkpoint": 4, "checkpoints": 1}
    assert "Latest checkpoint covers 4 events" in ready("log", "status").output
