"""Logging setup, with a filter that keeps secrets out of every log line.

Two layers, because either alone leaks eventually:
- values the process knows are secret (admin token, decrypted signing secrets, API keys)
  are registered with :func:`register_secret` and replaced wherever they appear;
- shapes that are secret whatever their value (``whsec_…`` keys, ``Bearer …`` headers,
  Standard Webhooks ``v1,…`` signatures) are masked by pattern.
"""

from __future__ import annotations

import json
import logging
import re
import sys
import threading
from typing import Any

from incidentflow.crypto import MASK

_PATTERNS = (
    re.compile(r"whsec_[A-Za-z0-9+/=_-]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\bv1,[A-Za-z0-9+/=]{16,}"),
    re.compile(r"\bifa_[A-Za-z0-9_-]{8,}"),
)
_MIN_SECRET_LENGTH = 6  # shorter values would mask ordinary words

_known: set[str] = set()
_known_lock = threading.Lock()


def register_secret(value: str | None) -> None:
    """Mask ``value`` in every later log record (no-op for empty/short values)."""
    if value and len(value) >= _MIN_SECRET_LENGTH:
        with _known_lock:
            _known.add(value)


def mask_secrets(text: str) -> str:
    """``text`` with every registered secret and secret-shaped token replaced."""
    with _known_lock:
        known = sorted(_known, key=len, reverse=True)
    for value in known:
        if value in text:
            text = text.replace(value, MASK)
    for pattern in _PATTERNS:
        text = pattern.sub(_mask_match, text)
    return text


def _mask_match(match: re.Match[str]) -> str:
    # Keep the "Bearer " prefix so the line still says what was masked.
    prefix = match.group(1) if match.re.groups else ""
    return f"{prefix}{MASK}"


class SecretMaskingFilter(logging.Filter):
    """Rewrites the record's message (args merged in) with secrets masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken format string must not lose the record
            message = str(record.msg)
        masked = mask_secrets(message)
        if masked != message or record.args:
            record.msg, record.args = masked, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask_secrets(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_text or record.exc_info:
            entry["exception"] = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
        return json.dumps(entry)


def install_filter(logger: logging.Logger | None = None) -> None:
    """Attach the masking filter to ``logger``'s handlers and the logger itself."""
    target = logger or logging.getLogger()
    if not any(isinstance(f, SecretMaskingFilter) for f in target.filters):
        target.addFilter(SecretMaskingFilter())
    for handler in target.handlers:
        if not any(isinstance(f, SecretMaskingFilter) for f in handler.filters):
            handler.addFilter(SecretMaskingFilter())


def setup_logging(*, json_lines: bool = False, level: int = logging.INFO) -> None:
    """Root logging to stderr with secrets masked; idempotent."""
    root = logging.getLogger()
    root.setLevel(level)
    if not any(getattr(h, "_incidentflow", False) for h in root.handlers):
        handler = logging.StreamHandler(sys.stderr)
        handler._incidentflow = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    for ours in root.handlers:
        if getattr(ours, "_incidentflow", False):
            ours.setFormatter(
                JsonFormatter()
                if json_lines
                else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
            )
    # On the handlers: a logger's own filters never see records its children propagate.
    install_filter(root)
    logging.getLogger("alembic").setLevel(max(level, logging.WARNING))  # migration chatter
