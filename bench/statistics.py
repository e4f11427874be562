"""`python bench/statistics.py`: the hospital statistics bench of issue 13 (the work is in
`bench/hospital_statistics.py`; run this file with `--help` for its options).

This file carries the standard library's name. A sibling script run as `python bench/X.py` has
this folder first on `sys.path`, so its `import statistics` (or a library's) finds this file
instead of the standard library's: imported under that name, it puts the standard library's
module in its place (`import` hands over what `sys.modules` holds once the file has run) and
imports nothing of the bench. `tests/unit/test_bench_scripts.py` starts every bench script.
"""

from __future__ import annotations

import sys
from pathlib import Path

if __name__ == "statistics":
    import importlib.util
    import sysconfig

    _spec = importlib.util.spec_from_file_location(
        "statistics", Path(sysconfig.get_paths()["stdlib"]) / "statistics.py"
    )
    assert _spec is not None and _spec.loader is not None
    _stdlib = importlib.util.module_from_spec(_spec)
    sys.modules["statistics"] = _stdlib
    _spec.loader.exec_module(_stdlib)
elif __name__ == "__main__":
    _here = Path(__file__).resolve().parent
    sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _here]
    sys.path.insert(0, str(_here.parent))
    from bench.hospital_statistics import main

    main()
