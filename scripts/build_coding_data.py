"""Build the code files `ledger/coding/data/` carries from the CMS files in `../shared/data/cms/`.

    python scripts/build_coding_data.py [SHARED_CMS_DIR]

Writes `icd10pcs_FY2025_FY2026.tsv.gz` and `hcpcs_2025.tsv.gz` byte for byte the same on every
run (gzip without a timestamp), so their sha256 in `ledger/coding/data/README.md` can be checked.
"""

from __future__ import annotations

import csv
import gzip
import hashlib
import sys
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "ledger" / "coding" / "data"
PCS_YEARS = (2025, 2026)


def _order_file(path: Path) -> dict[str, tuple[str, str]]:
    """code → (valid flag, long title) of one CMS ICD-10-PCS order file."""
    rows: dict[str, tuple[str, str]] = {}
    with gzip.open(path, "rt", encoding="ascii") as lines:
        for line in lines:
            line = line.rstrip("\r\n")
            rows[line[6:13].strip()] = (line[14], line[77:].strip())
    return rows


def _write(name: str, header: str, rows: list[str]) -> None:
    data = (header + "\n" + "".join(rows)).encode("utf-8")
    target = OUT / name
    with target.open("wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
        out.write(data)
    digest = hashlib.sha256(target.read_bytes()).hexdigest()
    print(f"{name}: {len(rows)} rows, {target.stat().st_size} bytes, sha256 {digest}")


def build_pcs(cms: Path) -> None:
    years = {y: _order_file(cms / "icd10pcs" / f"icd10pcs_order_{y}.txt.gz") for y in PCS_YEARS}
    older, newer = years[PCS_YEARS[0]], years[PCS_YEARS[1]]
    rows = []
    for code in sorted(set(older) | set(newer)):
        old = older.get(code)
        new = newer.get(code)
        title = (new or old or ("", ""))[1]
        old_title = old[1] if old is not None and new is not None and old[1] != new[1] else ""
        rows.append(
            f"{code}\t{old[0] if old else ''}\t{new[0] if new else ''}\t{title}\t{old_title}\n"
        )
    _write(
        "icd10pcs_FY2025_FY2026.tsv.gz",
        "code\tFY2025\tFY2026\ttitle\tFY2025_title_if_different",
        rows,
    )


def build_hcpcs(cms: Path) -> None:
    rows = []
    with (cms / "hcpcs" / "hcpcs_2025_jan.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            fields = [
                row["code"],
                row["kind"],
                row["short_description"],
                row["long_description"],
                row["added_date"],
                row["termination_date"],
            ]
            if any("\t" in f or "\n" in f for f in fields):
                raise SystemExit(f"HCPCS {row['code']}: a tab or newline in a field")
            rows.append("\t".join(fields) + "\n")
    _write("hcpcs_2025.tsv.gz", "code\tkind\tshort\tlong\tadded\tterminated", rows)


if __name__ == "__main__":
    shared = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/work/shared/data/cms")
    build_pcs(shared)
    build_hcpcs(shared)
