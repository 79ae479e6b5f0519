"""Settings from ``INCIDENTFLOW_*`` environment variables (each also a CLI flag).

Generated secrets (the encryption key and the admin token) are written once into the
data directory with mode 0600, so a restart keeps them and nobody else can read them.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from cryptography.fernet import Fernet

DEFAULT_PUBLIC_URL = "http://127.0.0.1:8000"


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
            self_trigger_wait_seconds=float(
                env.get("INCIDENTFLOW_SELF_TRIGGER_WAIT_SECONDS", "5")),
        )
        rest = {k: v for k, v in given.items() if k not in _FROM_ABOVE}
        return replace(settings, **rest) if rest else settings  # type: ignore[arg-type]

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    def webhook_url(self, endpoint_id: str) -> str:
        """Built on read (Lesson 1): changing the public URL moves every webhook URL."""
        return f"{self.public_url}/webhooks/{endpoint_id}"


_FROM_ABOVE = {"data_dir", "database_url", "public_url", "secret_key", "admin_token"}


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
