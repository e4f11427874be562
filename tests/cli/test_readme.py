"""The README's "Using it" examples run as written, in order, on a fresh home.

Each line of the section's `sh` blocks runs in bash, one after the other, in an empty folder
with HOME pointing at it and `chartledger` on the PATH; what a line exports is kept for the next.
The only thing the test changes is a placeholder in angle brackets, which stands for what an
earlier command printed: `<fingerprint>` is the genesis `init` printed, `<code>` the last code
`user invite` or `user reinstate` printed, `<encounter>` the last encounter opened, and so on
(PLACEHOLDERS). Every line must exit 0. The examples read `docs/access-policy.example.toml` and
import `cli/demo_data/synthea` as from a clone's root, so the folder they run in gets those two.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

# placeholder -> the pattern, in what an earlier command printed, whose last match it stands for
PLACEHOLDERS = {
    "<fingerprint>": r"Genesis fingerprint: ([0-9a-f]{64})",
    "<code>": r"\b([A-Z2-7]{5}(?:-[A-Z2-7]{5}){3})\b",
    "<encounter>": r"encounter ([0-9a-f-]{36}) for",
    "<entry>": r"Recorded \S+ ([0-9a-f-]{36}:[0-9a-f-]{36})",
    "<document>": r"as document ([0-9a-f-]{36})",
    "<request>": r"request ([0-9a-f-]{36})",
    "<discrepancy>": r"Opened discrepancy ([0-9a-f-]{36})",
    "<event>": r"\b([0-9a-f-]{36}/\d+)\b",
    "<query>": r"Raised query ([0-9a-f-]{36})",
}
PLACEHOLDER = re.compile(r"<[a-z]+>")


def printed_value(placeholder: str, printed: str) -> str:
    """What PLACEHOLDER stands for: the last match of its pattern in what was printed so far."""
    found = re.findall(PLACEHOLDERS[placeholder], printed)
    assert found, f"nothing printed so far gives {placeholder}"
    return str(found[-1])


def using_it() -> list[str]:
    """The logical lines of the `sh` blocks of the README's "Using it" section, in order."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("\n## Using it\n", 1)[1].split("\n## ", 1)[0]
    lines: list[str] = []
    for block in re.findall(r"^```sh\n(.*?)^```$", section, flags=re.M | re.S):
        for line in block.replace("\\\n", " ").splitlines():
            if line.strip() and not line.lstrip().startswith("#"):
                lines.append(line)
    return lines


def test_the_section_has_examples_and_names_what_each_placeholder_stands_for() -> None:
    lines = using_it()
    assert len(lines) > 40
    used = {found for line in lines for found in PLACEHOLDER.findall(line)}
    assert used <= set(PLACEHOLDERS), used - set(PLACEHOLDERS)


def test_the_using_it_examples_run_as_written_in_order_on_a_fresh_home(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    shutil.copy(ROOT / "docs" / "access-policy.example.toml", tmp_path / "docs")
    shutil.copytree(
        ROOT / "cli" / "demo_data" / "synthea", tmp_path / "cli" / "demo_data" / "synthea"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHARTLEDGER_")}
    env["HOME"] = str(tmp_path)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    printed = ""
    state = tmp_path / ".env-after-line"
    for number, line in enumerate(using_it(), 1):
        command = line
        for placeholder in set(PLACEHOLDER.findall(line)):
            command = command.replace(placeholder, printed_value(placeholder, printed))
        result = subprocess.run(
            ["bash", "-c", f"set -eo pipefail\n{command}\nenv -0 > {state}"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        assert result.returncode == 0, (
            f"README 'Using it', line {number} failed ({result.returncode}):\n{line}\n"
            f"{result.stdout}{result.stderr}\n(printed before it, the end:)\n{printed[-1500:]}"
        )
        printed += result.stdout
        env = dict(item.split("=", 1) for item in state.read_text().split("\0") if "=" in item)
