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
from datetime import UTC, datetime
from typing import Any

from incidentflow.crypto import MASK

_PATTERNS = (
    re.compile(r"whsec_[A-Za-z0-9+/=_-]+"),
    re.compile(r"(?i)(bearer\s+)[A-Za-z0-9._~+/=-]+"),
    re.compile(r"\bv1,[A-Za-z0-9+/=]{16,}"),
    re.compile(r"\bifa_[A-Za-z0-9_-]{8,}"),  # admin tokens
    re.compile(r"\bift_[A-Za-z0-9_-]{8,}"),  # API tokens
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


# Attributes every LogRecord has; anything else on a record came from ``extra=`` and
# goes into the JSON object as a field of its own (canvas, node, run_id, outcome, ...).
_RECORD_ATTRIBUTES = frozenset(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {
    "message", "asctime", "taskName",
    "color_message",  # uvicorn's copy of the message with terminal colour codes
}


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC, ISO 8601), level, logger, message, the
    record's ``extra`` fields, and exception text. Every string value is masked."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": _utc_iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": mask_secrets(record.getMessage()),
        }
        for key, value in vars(record).items():
            if key not in _RECORD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = _masked_value(value)
        if record.exc_text or record.exc_info:
            text = record.exc_text or self.formatException(record.exc_info)  # type: ignore[arg-type]
            entry["exception"] = mask_secrets(text)
        return json.dumps(entry, default=str)


def _utc_iso(created: float) -> str:
    moment = datetime.fromtimestamp(created, UTC)
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _masked_value(value: Any) -> Any:
    if isinstance(value, str):
        return mask_secrets(value)
    if isinstance(value, bool | int | float) or value is None:
        return value
    return mask_secrets(str(value))


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
