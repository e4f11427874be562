"""Issue 14's figures on a generated ledger, through the public API and the CLI as shipped.

    .venv/bin/python bench/scale.py --events 100000 --store postgresql
    .venv/bin/python bench/scale.py --url URL --home HOME     # a ledger bench/hospital.py kept

Without `--url` a ledger of `--events` is generated first (`bench/hospital.py`, its users'
keys in a temporary home). Then, for that size: `patient find` and register-with-duplicate-check
(`projections.queries.find_patients`, `ledger.commands.patients.register_after_search`) in
process, p50/p95 over `--samples` calls; `chart show`, `deficiency list`, `code worklist` and
`audit patient` end to end, each a fresh `python -m cli …` process with CHARTLEDGER_HOME and
CHARTLEDGER_USER set as a workstation has them; `verify` in a subprocess (`python -m cli
verify`), its events/s against raw Ed25519 verifications split over all cores (the same
count), and its peak memory (ru_maxrss of the waited children: verify is the largest);
`python -m cli --help`. One GOAL line per figure with the issue's goal, MET or NOT MET.
"""

from __future__ import annotations

import argparse
import os
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import ACTOR, machine_line, stores  # noqa: E402
from bench.hospital import generate  # noqa: E402
from ledger.home import LedgerHome  # noqa: E402
from ledger.integrity.keys import load_identity  # noqa: E402
from ledger.verifier.sigcheck import raw_verifications  # noqa: E402


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def goal(name: str, value: float, target: float, unit: str, *, at_least: bool = False) -> str:
    met = value >= target if at_least else value < target
    sign = ">=" if at_least else "<"
    verdict = "MET" if met else "NOT MET"
    shown = f"{value:.{3 if unit == 's' else 2}f}"
    return f"GOAL {name}: {shown} {unit} (target {sign} {target:g}) {verdict}"


def cli(home: Path, user: str, *args: str) -> float:
    """Seconds of one fresh `python -m cli …` process as USER; raises if it fails."""
    env = {**os.environ, "CHARTLEDGER_HOME": str(home), "CHARTLEDGER_USER": user}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"`{' '.join(args)}` failed: {done.stderr.strip()[-500:]}")
    return seconds


_PEAK = (
    "import resource, subprocess, sys; done = subprocess.run(sys.argv[1:], capture_output=True); "
    "sys.stderr.buffer.write(done.stderr); "
    "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(done.returncode)"
)


def verify_peak(home: Path) -> tuple[float, float]:
    """Seconds of `python -m cli verify` in a fresh process, and the peak memory (MB) of it
    and its workers, read by a wrapper that waits for nothing else."""
    env = {**os.environ, "CHARTLEDGER_HOME": str(home), "CHARTLEDGER_USER": ACTOR}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", _PEAK, sys.executable, "-m", "cli", "verify"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"verify failed: {done.stderr.strip()[-500:]}")
    return seconds, int(done.stdout.split()[-1]) / 1024


def measure(home_dir: Path, mrns: list[str], samples: int, rounds: int) -> list[str]:
    from cli.common import why
    from ledger.commands.patients import register_after_search
    from projections.audit import audit_patient
    from projections.queries import find_patients

    home = LedgerHome(home_dir)
    lines: list[str] = []
    with home.open() as ledger:
        events = ledger.recorder.max_notification_id() or 0
    print(f"\nledger: {events:,} events, {len(mrns):,} generated patients")
    seconds, peak_mb = verify_peak(home_dir)
    cores = os.cpu_count() or 1
    with ProcessPoolExecutor(max_workers=cores) as pool:
        list(pool.map(raw_verifications, [10] * cores))
        started = time.perf_counter()
        list(pool.map(raw_verifications, [events // cores + 1] * cores))
        raw = time.perf_counter() - started
    ratio = (events / seconds) / (events / raw)
    print(f"verify: {seconds:.1f} s = {events / seconds:,.0f} events/s (process start included); "
          f"raw Ed25519 on {cores} cores {events / raw:,.0f}/s; peak {peak_mb:.0f} MB")  # fmt: skip
    lines.append(goal("verify / raw Ed25519", ratio, 0.8, "x", at_least=True))
    lines.append(goal("verify peak memory", peak_mb, 300, "MB"))
    rng = random.Random(14)
    ledger = home.open()
    registrar = load_identity("registrar1", home.key_path("registrar1"))
    officer = load_identity("privacy1", home.key_path("privacy1"))
    finds, registers, audits = [], [], []
    with ledger:
        for i in range(samples):
            known = ledger.patient(rng.choice(mrns)).demographics
            query = {"given_name": known["given_name"], "family_name": known["family_name"]}
            started = time.perf_counter()
            find_patients(ledger, query, actor=registrar, why=why("operations", None), limit=10)
            finds.append(time.perf_counter() - started)
            started = time.perf_counter()
            register_after_search(
                ledger,
                {"given_name": f"Probe{i}", "family_name": known["family_name"],
                 "birth_date": known["birth_date"]},
                actor=registrar, override="bench: a new patient of the same family",
            )  # fmt: skip
            registers.append(time.perf_counter() - started)
            started = time.perf_counter()
            audit_patient(ledger, rng.choice(mrns), reader=officer)
            audits.append(time.perf_counter() - started)
    print(f"patient find: p50 {percentile(finds, .5) * 1000:.1f} ms, p95 "
          f"{percentile(finds, .95) * 1000:.1f} ms ({samples} calls)")  # fmt: skip
    print(f"register with duplicate check: p50 {percentile(registers, .5) * 1000:.1f} ms, p95 "
          f"{percentile(registers, .95) * 1000:.1f} ms")  # fmt: skip
    lines.append(goal("patient find p95", percentile(finds, 0.95) * 1000, 50, "ms"))
    lines.append(goal("register p95", percentile(registers, 0.95) * 1000, 50, "ms"))
    print(f"audit patient (in process): p50 {percentile(audits, .5) * 1000:.1f} ms, p95 "
          f"{percentile(audits, .95) * 1000:.1f} ms")  # fmt: skip
    lines.append(goal("audit patient p50 (in process)", percentile(audits, 0.5) * 1000, 50, "ms"))

    def timed(label: str, user: str, *args: str) -> float:
        runs = [cli(home_dir, user, *args) for _ in range(rounds)]
        print(f"{label}: runs {', '.join(f'{r:.3f}' for r in runs)} s (max {max(runs):.3f})")
        return max(runs)

    mrn = rng.choice(mrns)
    show = timed("chart show", "registrar1", "chart", "show", mrn, "--purpose", "operations")
    lines.append(goal("chart show, every run", show, 0.4, "s"))
    deficiencies = timed("deficiency list", "dr00", "deficiency", "list")
    lines.append(goal("deficiency list", deficiencies, 0.3, "s"))
    worklist = timed("code worklist", "coder1", "code", "worklist", "--purpose", "operations")
    lines.append(goal("code worklist", worklist, 0.3, "s"))
    audit = timed("audit patient", "privacy1", "audit", "patient", mrn, "--purpose", "operations")
    print(f"  (audit patient end to end, information: {audit:.3f} s)")

    helps = sorted(cli(home_dir, ACTOR, "--help") for _ in range(max(5, rounds)))
    print(f"--help: median {helps[len(helps) // 2]:.3f} s")
    lines.append(goal("--help median", helps[len(helps) // 2], 0.1, "s"))
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a ledger bench/hospital.py kept (with --home)")
    parser.add_argument("--home", help="its home, with the users' keys")
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--patients", type=int, default=None)
    parser.add_argument("--store", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--samples", type=int, default=20)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    print(machine_line())
    if args.url:
        home = LedgerHome(Path(args.home))
        ledger = home.open(args.url)
        with ledger:
            mrns = _mrns(ledger)
        lines = measure(home.path, mrns, args.samples, args.rounds)
    else:
        with stores() as made, tempfile.TemporaryDirectory(prefix="chartledger-scale-") as tmp:
            home = LedgerHome(Path(tmp) / "home")
            ledger, _ = home.initialise(
                admin=ACTOR, origin="bench", db=made.url(args.store, "scale")
            )
            started = time.perf_counter()
            with ledger:
                out = generate(
                    ledger, home.identity(ACTOR), events_wanted=args.events, keys=home,
                    patients_wanted=args.patients or max(10, args.events // 10),
                )  # fmt: skip
            print(f"generated {out.events:,} events on {args.store} in "
                  f"{time.perf_counter() - started:.1f} s")  # fmt: skip
            lines = measure(home.path, out.mrns, args.samples, args.rounds)
    print()
    for line in lines:
        print(line)


def _mrns(ledger: object) -> list[str]:
    """The MRNs of the patients in a kept ledger (from the registrations)."""
    import msgpack  # noqa: F401  (the topics are plain; the MRN is the aggregate's)

    mrns: list[str] = []
    recorder = ledger.recorder  # type: ignore[attr-defined]
    for item in recorder.select_notifications(start=1, limit=10_000_000):
        if item.topic == "chartledger/patient/registered":
            mrns.append(ledger.repository.get(item.originator_id).mrn)  # type: ignore[attr-defined]
        if len(mrns) >= 1000:
            break
    return mrns


if __name__ == "__main__":
    main()
