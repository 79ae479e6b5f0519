"""`incidentflow --help` loads no heavy module (the start-up cost is imports).

Checked through sys.modules in a fresh interpreter, never by timing."""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("sqlalchemy", "starlette", "httpx", "uvicorn", "alembic", "jinja2",
         "incidentflow.app_service", "incidentflow.web", "incidentflow.store", "rich.markdown",
         "prometheus_client")

PROBE = f"""
import json, sys
sys.argv = ["incidentflow", "--help"]
from incidentflow.cli import main
try:
    main()
except SystemExit:
    pass
loaded = [m for m in {HEAVY!r} if m in sys.modules]
print("LOADED=" + json.dumps(loaded))
"""


def test_help_imports_no_heavy_module() -> None:
    result = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                            timeout=60, check=True)
    assert "Commands:" in result.stdout
    line = next(x for x in result.stdout.splitlines() if x.startswith("LOADED="))
    assert json.loads(line.removeprefix("LOADED=")) == []
