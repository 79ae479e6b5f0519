"""Makes the proof harness importable: it lives with the tests (tests/reliability/)
and the benchmarks (bench/)."""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
for path in (str(ROOT / "tests"), str(ROOT)):
    if path not in sys.path:
        sys.path.insert(0, path)
