"""Settings from ``INCIDENTFLOW_*`` environment variables (each also a CLI flag).

Generated secrets (the encryption key and the admin token) are written once into the
data directory with mode 0600, so a restart keeps them and nobody else can read them.
"""

from __future__ import annotations

import math
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from cryptography.fernet import Fernet

from incidentflow.errors import ConfigurationError
from incidentflow.expression_budget import Budget
from incidentflow.rate_limit import MAX_ALLOWED, PER_ALLOWED_SECONDS

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"
# An admin token shorter than this can be guessed; serve warns (see docs/security.md).
MIN_ADMIN_TOKEN_CHARS = 32


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str
    public_url: str
    secret_key: str = field(repr=False)
    admin_token: str = field(repr=False)
    # True when the admin token was generated during this start (print it once).
    admin_token_generated: bool = False
    log_json: bool = False
    # Attempts of a retryable failure, first included. With the backoff below, 10
    # attempts ride out about 13 minutes of an incident.io outage before giving up.
    retry_limit: int = 10
    retry_base_seconds: float = 2.0
    retry_max_seconds: float = 300.0
    lease_seconds: float = 60.0
    worker_concurrency: int = 64
    # How often an idle worker looks for work nobody woke it for (committed by a
    # process that cannot wake it: on SQLite, a separate `incidentflow worker`).
    worker_poll_seconds: float = 1.0
    # What one expression evaluation may cost (INCIDENTFLOW_EXPRESSION_TIMEOUT_SECONDS,
    # _MAX_OUTPUT_BYTES, _MAX_INTEGER_DIGITS, _MAX_ITERATIONS; docs/expressions.md).
    expression_budget: Budget = field(default_factory=Budget)
    # The HTTP edge (docs/security.md): a request's header block (names + values, and
    # the request target) and header count; how long a client may take to send its
    # headers, and how long an idle keep-alive connection stays open.
    max_header_bytes: int = 16 * 1024
    max_headers: int = 100
    header_timeout_seconds: float = 10.0
    keepalive_timeout_seconds: float = 5.0
    # Failed sign-ins (UI form or API bearer token) per client before it must wait.
    signin_attempts: int = 10
    signin_window_seconds: float = 300.0
    # Actions that create things elsewhere (``rate_limit.py``): at most this many per
    # window per node, unless the node sets its own ``rateLimit``.
    create_rate_limit_max: int = 10
    create_rate_limit_per_seconds: float = 60.0
    # How long a delivery about an unknown object may wait for the same canvas's create
    # actions still in flight (the self-trigger guard, docs/runaway.md).
    self_trigger_wait_seconds: float = 5.0

    @classmethod
    def from_env(
        cls, env: Mapping[str, str] | None = None, **overrides: object
    ) -> Settings:
        """Read the environment; ``overrides`` (CLI flags) win over it when not None."""
        env = os.environ if env is None else env
        given = {k: v for k, v in overrides.items() if v is not None}
        data_dir = Path(
            str(given.get("data_dir") or env.get("INCIDENTFLOW_DATA_DIR") or ".incidentflow")
        )
        # 0700: the database, key and token files are nobody else's business.
        data_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        database_url = str(
            given.get("database_url")
            or env.get("INCIDENTFLOW_DATABASE_URL")
            or f"sqlite:///{(data_dir / 'incidentflow.db').resolve()}"
        )
        public_url = str(
            given.get("public_url") or env.get("INCIDENTFLOW_PUBLIC_URL") or DEFAULT_PUBLIC_URL
        ).rstrip("/")
        secret_key = str(given.get("secret_key") or env.get("INCIDENTFLOW_SECRET_KEY") or "")
        if not secret_key:
            secret_key, _ = _read_or_create(data_dir / "secret.key", _new_fernet_key)
        admin_token = str(given.get("admin_token") or env.get("INCIDENTFLOW_ADMIN_TOKEN") or "")
        generated = False
        if not admin_token:
            admin_token, generated = _read_or_create(data_dir / "admin.token", _new_token)
        settings = cls(
            data_dir=data_dir,
            database_url=database_url,
            public_url=public_url,
            secret_key=secret_key,
            admin_token=admin_token,
            admin_token_generated=generated,
            log_json=_flag(env.get("INCIDENTFLOW_LOG_JSON")),
            retry_limit=int(env.get("INCIDENTFLOW_RETRY_LIMIT", "10")),
            retry_base_seconds=float(env.get("INCIDENTFLOW_RETRY_BASE_SECONDS", "2")),
            retry_max_seconds=float(env.get("INCIDENTFLOW_RETRY_MAX_SECONDS", "300")),
            lease_seconds=float(env.get("INCIDENTFLOW_LEASE_SECONDS", "60")),
            worker_concurrency=int(env.get("INCIDENTFLOW_WORKER_CONCURRENCY", "64")),
            worker_poll_seconds=_seconds(env, "INCIDENTFLOW_WORKER_POLL_SECONDS", 1.0),
            expression_budget=Budget.from_env(env),
            max_header_bytes=_at_least(env, "INCIDENTFLOW_MAX_HEADER_BYTES", 16 * 1024, 1024),
            max_headers=_at_least(env, "INCIDENTFLOW_MAX_HEADERS", 100, 10),
            header_timeout_seconds=_seconds(env, "INCIDENTFLOW_HEADER_TIMEOUT_SECONDS", 10.0),
            keepalive_timeout_seconds=_seconds(
                env, "INCIDENTFLOW_KEEPALIVE_TIMEOUT_SECONDS", 5.0),
            signin_attempts=_at_least(env, "INCIDENTFLOW_SIGNIN_ATTEMPTS", 10, 1),
            signin_window_seconds=_seconds(env, "INCIDENTFLOW_SIGNIN_WINDOW_SECONDS", 300.0),
            **_create_rate_limit(env),
            self_trigger_wait_seconds=float(
                env.get("INCIDENTFLOW_SELF_TRIGGER_WAIT_SECONDS", "5")),
        )
        rest = {k: v for k, v in given.items() if k not in _FROM_ABOVE}
        return replace(settings, **rest) if rest else settings  # type: ignore[arg-type]

    @property
    def admin_token_is_short(self) -> bool:
        return len(self.admin_token) < MIN_ADMIN_TOKEN_CHARS

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def webhook_url(self, endpoint_id: str) -> str:
        """Built on read (docs/design-rules.md, "Stable webhook URLs"): changing the
        public URL moves every webhook URL."""
        return f"{self.public_url}/webhooks/{endpoint_id}"


def _create_rate_limit(env: Mapping[str, str]) -> dict[str, Any]:
    """The global limit on create actions; refused when it would disable the brake."""
    maximum = env.get("INCIDENTFLOW_CREATE_RATE_LIMIT_MAX", "10")
    per = env.get("INCIDENTFLOW_CREATE_RATE_LIMIT_PER_SECONDS", "60")
    try:
        values = {"create_rate_limit_max": int(maximum),
                  "create_rate_limit_per_seconds": float(per)}
    except ValueError:
        values = {}
    per_seconds = values.get("create_rate_limit_per_seconds", 0.0)
    if not values or not 1 <= values["create_rate_limit_max"] <= MAX_ALLOWED or not (
            1 <= per_seconds <= PER_ALLOWED_SECONDS):
        raise ConfigurationError(
            f"INCIDENTFLOW_CREATE_RATE_LIMIT_MAX must be a whole number from 1 to {MAX_ALLOWED} "
            "and INCIDENTFLOW_CREATE_RATE_LIMIT_PER_SECONDS a number of seconds from 1 to "
            f"{PER_ALLOWED_SECONDS} (a week) "
            f"(got {maximum!r} and {per!r})")
    return values


_FROM_ABOVE = {"data_dir", "database_url", "public_url", "secret_key", "admin_token"}


def _at_least(env: Mapping[str, str], name: str, default: int, minimum: int) -> int:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise ValueError(f"{name} must be a whole number of at least {minimum} (got {raw!r})")
    return int(raw)


def _seconds(env: Mapping[str, str], name: str, default: float) -> float:
    raw = (env.get(name) or "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not 0 < value <= 24 * 3600:
        raise ValueError(f"{name} must be a number of seconds above 0 (got {raw!r})")
    return value


def _flag(value: str | None) -> bool:
    return (value or "").strip().lower() in ("1", "true", "yes", "on")


def _new_fernet_key() -> str:
    return Fernet.generate_key().decode()


def _new_token() -> str:
    return "ifa_" + secrets.token_urlsafe(32)


def _read_or_create(path: Path, make: object) -> tuple[str, bool]:
    """Return the file's value, creating it atomically with mode 0600 if absent."""
    if path.exists():
        return path.read_text().strip(), False
    value = make()  # type: ignore[operator]
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process won the race: use its value
        return path.read_text().strip(), False
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value, True
