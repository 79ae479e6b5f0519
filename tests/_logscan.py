"""Session-wide secret scan: no secret may appear in a log line, in-process or not.

Registered from ``tests/conftest.py`` (``pytest_plugins``). What it does:

- installs a root logging handler for the whole session that keeps every record as
  production would write it: formatted, then passed through ``mask_secrets`` at the
  moment it was emitted (the product's masking filter sits on every handler
  ``setup_logging`` installs). Masking happens on a copy of the text, so other
  handlers (``caplog``) still see the record unchanged;
- at the end, scans those lines, and the output of every server / worker process the
  suite started (``server-*.log`` and ``worker-*.log`` under the session's temp dir,
  plus files given to :func:`watch_file`), for:
  every value registered with ``incidentflow.log_setup.register_secret`` (checked at
  the end, so a secret logged *before* it was registered is caught), values given to
  :func:`known_secret`, and the contents of every ``admin.token`` / ``secret.key``
  file under the temp dir; in child logs, also any ``whsec_…`` / ``ifa_…`` /
  ``Bearer …`` shaped value.
- fails the session (exit status 1) naming each offending line.

One deliberate exception: ``incidentflow serve`` prints a freshly generated admin
token once on stdout, on the line after "Admin token (shown once…" (like Jupyter's
startup token); that line is not counted.
"""

from __future__ import annotations

import logging
import re
import threading
from pathlib import Path

import pytest

from incidentflow import log_setup as product_logging

_CHILD_LOGS = ("server-*.log", "worker-*.log", "emulator-*.log")
_SECRET_FILES = ("admin.token", "secret.key")
_SHAPES = (
    re.compile(r"whsec_[A-Za-z0-9+/=]{8,}"),
    re.compile(r"\bifa_[A-Za-z0-9_-]{8,}"),
    re.compile(r"(?i)\bbearer\s+(?!••)[A-Za-z0-9._~+/=-]{8,}"),
)
_BANNER = "Admin token (shown once"
_BARE_TOKEN = re.compile(r"\s*ifa_[A-Za-z0-9_-]+\s*")

_known: set[str] = set()
_watched: set[Path] = set()
_lock = threading.Lock()


def known_secret(value: str) -> None:
    """A secret a test created (signing secret, API key): it must appear in no log."""
    if value and len(value) >= 6:
        with _lock:
            _known.add(value)


def watch_file(path: Path) -> None:
    """Scan ``path`` (a child process's output) at the end of the session."""
    with _lock:
        _watched.add(Path(path))


class _Recorder(logging.Handler):
    """Keeps every record's text as a masking production handler would write it."""

    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            text = record.getMessage()
        except Exception:  # a broken format string: keep what we can
            text = str(record.msg)
        if record.exc_info:
            text += "\n" + logging.Formatter().formatException(record.exc_info)
        self.lines.append(f"{record.name}: {product_logging.mask_secrets(text)}")


_recorder = _Recorder()
_leaks: list[str] = []
_scanned: dict[str, int] = {}


def pytest_configure(config: pytest.Config) -> None:
    root = logging.getLogger()
    root.addHandler(_recorder)
    # Production logs at INFO (setup_logging); records below the root level never exist.
    if root.level > logging.INFO or root.level == logging.NOTSET:
        root.setLevel(logging.INFO)
    # One line per request, URLs only: they would drown a failing test's captured log.
    logging.getLogger("httpx").setLevel(logging.WARNING)


def _secrets(base: Path | None) -> set[str]:
    with product_logging._known_lock:
        found = set(product_logging._known)
    with _lock:
        found |= _known
    if base is not None:
        for name in _SECRET_FILES:
            for path in base.rglob(name):
                value = path.read_text(errors="replace").strip()
                if len(value) >= 6:
                    found.add(value)
    return found


def _child_logs(base: Path | None) -> set[Path]:
    with _lock:
        files = set(_watched)
    if base is not None:
        for pattern in _CHILD_LOGS:
            files |= set(base.rglob(pattern))
    return {f for f in files if f.exists()}


def _leaks_in(lines: list[str], where: str, secrets: set[str], shapes: bool) -> list[str]:
    found = []
    for number, line in enumerate(lines):
        if _is_banner_token(lines, number):
            continue
        if any(s in line for s in secrets) or (shapes and any(p.search(line) for p in _SHAPES)):
            found.append(f"{where}:{number + 1}: {line.strip()[:300]}")
    return found


def _is_banner_token(lines: list[str], number: int) -> bool:
    """The token line of the one-time admin token banner (the console may wrap its
    heading over two lines), see the module docstring."""
    heading = lines[max(0, number - 3):number]
    return any(_BANNER in h for h in heading) and bool(_BARE_TOKEN.fullmatch(lines[number]))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    logging.getLogger().removeHandler(_recorder)
    factory = getattr(session.config, "_tmp_path_factory", None)
    try:
        base = factory.getbasetemp() if factory is not None else None
    except Exception:  # no temp dir was ever made
        base = None
    secrets = _secrets(base)
    _leaks.extend(_leaks_in(_recorder.lines, "log record", secrets, shapes=False))
    for path in sorted(_child_logs(base)):
        lines = path.read_text(errors="replace").splitlines()
        _leaks.extend(_leaks_in(lines, str(path), secrets, shapes=True))
    _scanned.update(records=len(_recorder.lines), child_logs=len(_child_logs(base)),
                    secrets=len(secrets))
    if _leaks:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _scanned:
        terminalreporter.write_line(
            "secret scan: {records} log records, {child_logs} child process logs, "
            "{secrets} secret values checked".format(**_scanned))
    if _leaks:
        terminalreporter.section("secrets found in logs", red=True)
        for leak in _leaks[:50]:
            terminalreporter.write_line(leak)
        if len(_leaks) > 50:
            terminalreporter.write_line(f"... and {len(_leaks) - 50} more")
