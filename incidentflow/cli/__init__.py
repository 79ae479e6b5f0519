"""The ``incidentflow`` command line: server processes and a client of the API.

Heavy modules (the app, the store, uvicorn, httpx, even Rich) are imported inside the
commands so ``incidentflow --help`` stays fast (tests/cli/test_cli_startup.py checks
which modules it loads). Help is Click's plain formatter (``rich_markup_mode=None``):
Typer's Rich help pulls in a Markdown parser that alone doubles the start-up time.
"""

from incidentflow.cli import (  # noqa: F401  (registers their commands)
    approvals,
    canvases,
    credentials,
    runs,
    server,
)
from incidentflow.cli.app import app, main

__all__ = ["app", "main"]
