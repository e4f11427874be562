"""Make `export/`: a chartledger-export/2 folder written by the code before issue 17.

Run it from a checkout of e5e97c4 (the release that wrote /2), with this project's venv:
    cd OLD-CHECKOUT && python PATH/TO/make.py OUT-FOLDER
It enrols tech1 and admin2, rotates tech1's key twice (by tech1), has admin2 revoke it, admin
reinstate tech1 and tech1 enrol a new key, rotates admin's key (by admin), signs a checkpoint
and exports. In its keys.json a rotated key's `revoked_at` is the rotation's position (the /2
rule, inclusive), where /3 writes one more (exclusive).
"""

import re
import shutil
import sys
from pathlib import Path

sys.path.insert(0, str(Path.cwd()))  # the old checkout's code, not this one's

from tests.cli.test_cli import Chartledger

out = Path(sys.argv[1])
work = out.parent / "work"
shutil.rmtree(work, ignore_errors=True)
run = Chartledger(work / "home", f"sqlite:///{work}/ledger.db")
run("init", "--origin", "old.hospital/ledger", "--no-passphrase")
run.enrol("tech1", "technician")
run.enrol("admin2", "administrator")
run("user", "rotate-key", "tech1", "--no-passphrase", actor="tech1")
run("user", "rotate-key", "tech1", "--no-passphrase", actor="tech1")
run("user", "revoke", "tech1", "--reason", "left", actor="admin2")
printed = run("user", "reinstate", "tech1", "--reason", "back", actor="admin").output
found = re.search(r"\b[A-Z2-7]{5}(?:-[A-Z2-7]{5}){3}\b", printed)
assert found is not None
shutil.rmtree(run.homes / "tech1")
keys = run.home / "keys"
run(
    "user", "enroll", "tech1", "--code", found.group(0), "--no-passphrase",
    "--master-key", str(keys / "master.key"), "--node-key", str(keys / "node.key"),
    actor="tech1", home=run.homes / "tech1",
)  # fmt: skip
run("user", "rotate-key", "admin", "--no-passphrase", actor="admin")
run("checkpoint")
shutil.rmtree(out, ignore_errors=True)
run("export", str(out), "--purpose", "fixture")
shutil.rmtree(work)
print(run("verify", "--export", str(out), actor=None).output)
