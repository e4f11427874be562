"""What a passphrase-protected key costs to load, and what a command costs with one.

Prints the load time of an Ed25519 key file in each form (unprotected PEM, PKCS#8 with
pyca/cryptography's "best available" encryption, PKCS#12 at several PBKDF2 round counts, the one
`ledger.integrity.keys` writes marked), then the wall time of `chartledger --help` and of
`chartledger patient show` by a technician with an unprotected and with a protected key (a fresh
process each time, median of 5). Usage: .venv/bin/python bench/keys.py
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cryptography.hazmat.primitives import serialization  # noqa: E402

from ledger.integrity.keys import (  # noqa: E402
    KDF_ROUNDS,
    Identity,
    load_identity,
    protected_key_bytes,
)

PASSPHRASE = b"correct horse battery staple"


def median_ms(fn: object, runs: int = 7) -> float:
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        fn()  # type: ignore[operator]
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def key_loads(folder: Path) -> None:
    who = Identity.generate("dr.a")
    forms: list[tuple[str, bytes, bytes | None]] = [
        (
            "unprotected PKCS#8 PEM",
            who.private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            ),
            None,
        ),
        (
            "PKCS#8 BestAvailableEncryption (PBKDF2 2,048)",
            who.private_key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.BestAvailableEncryption(PASSPHRASE),
            ),
            PASSPHRASE,
        ),
    ]
    for rounds in (50_000, KDF_ROUNDS, 200_000, 600_000):
        mark = "  <- written by ledger.integrity.keys" if rounds == KDF_ROUNDS else ""
        forms.append(
            (
                f"PKCS#12 PBKDF2-SHA256 {rounds:,}{mark}",
                protected_key_bytes(who, PASSPHRASE, rounds),
                PASSPHRASE,
            )
        )
    print("Key file load (median of 7):")
    for label, data, secret in forms:
        path = folder / f"k{len(label)}.key"
        path.write_bytes(data)
        os.chmod(path, 0o600)
        ms = median_ms(lambda p=path, s=secret: load_identity("dr.a", p, passphrase=s))
        print(f"  {ms:8.2f} ms  {label}")


def cli(home: Path, db: str, *args: str, env: dict[str, str] | None = None) -> str:
    settings = {**os.environ, "CHARTLEDGER_HOME": str(home), "CHARTLEDGER_DB": db, **(env or {})}
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], env=settings, capture_output=True, text=True, cwd=ROOT
    )
    if done.returncode != 0:
        raise SystemExit(f"chartledger {' '.join(args)} failed: {done.stderr.strip()}")
    return done.stdout


def command_times(folder: Path) -> None:
    import re

    admin = folder / "admin"
    db = f"sqlite:///{folder / 'ledger.db'}"
    cli(admin, db, "init", "--no-passphrase")
    master = str(admin / "keys" / "master.key")
    secret = {"CHARTLEDGER_PASSPHRASE": PASSPHRASE.decode()}
    for name, env in (("tech.plain", {}), ("tech.locked", secret)):
        printed = cli(admin, db, "user", "invite", name, "--role", "technician", "--as", "admin")
        code = re.search(r"[A-Z2-7]{5}(?:-[A-Z2-7]{5}){3}", printed)
        assert code is not None
        extra = [] if env else ["--no-passphrase"]
        cli(
            folder / name,
            db,
            "user",
            "enroll",
            name,
            "--code",
            code.group(0),
            "--master-key",
            master,
            *extra,
            env=env,
        )
    out = cli(
        folder / "tech.plain",
        db,
        "patient",
        "register",
        "--given",
        "Ada",
        "--family",
        "Okafor",
        "--born",
        "1961-04-02",
        "--sex",
        "female",
        "--json",
        "--as",
        "tech.plain",
    )
    mrn = re.search(r"MR\d{7}", out)
    assert mrn is not None

    def timed(home: Path, *args: str, env: dict[str, str] | None = None) -> float:
        times = []
        for _ in range(5):
            started = time.perf_counter()
            cli(home, db, *args, env=env)
            times.append((time.perf_counter() - started) * 1000)
        return statistics.median(times)

    print("Commands, a fresh process each (median of 5):")
    print(f"  {timed(folder / 'tech.plain', '--help'):8.1f} ms  chartledger --help")
    show = ("patient", "show", mrn.group(0), "--purpose", "operations")
    plain = timed(folder / "tech.plain", *show, "--as", "tech.plain")
    locked = timed(folder / "tech.locked", *show, "--as", "tech.locked", env=secret)
    print(f"  {plain:8.1f} ms  patient show, unprotected key")
    print(f"  {locked:8.1f} ms  patient show, passphrase-protected key ({locked - plain:+.1f} ms)")


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="chartledger-bench-keys-") as tmp:
        folder = Path(tmp)
        key_loads(folder)
        command_times(folder)


if __name__ == "__main__":
    main()
