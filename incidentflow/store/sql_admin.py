"""``SqlAdmin``: the SQL store's room of what people administer: integrations
(``store/integration_rows.py``), API tokens and browser sessions (``store/tokens.py``),
secrets for canvases (``store/secret_rows.py``) and retention (``store/retention.py``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from incidentflow.store import guards, integration_rows, retention, secret_rows, tokens
from incidentflow.store.records import IntegrationRecord
from incidentflow.store.sql_base import SqlBase


class SqlAdmin(SqlBase):
    # -- integrations (store/integration_rows.py) ------------------------------------------
    def put_integration(
        self, name: str, type_: str, config: dict[str, Any], secrets_encrypted: dict[str, str],
        status: str, reason: str, now: datetime,
    ) -> IntegrationRecord:
        with self._db.write() as conn:
            return integration_rows.put(conn, name, type_, config, secrets_encrypted, status,
                                        reason, now)

    def get_integration(self, name: str) -> IntegrationRecord:
        with self._db.read() as conn:
            return integration_rows.get(conn, name)

    def list_integrations(self) -> list[IntegrationRecord]:
        with self._db.read() as conn:
            return integration_rows.list_all(conn)

    def delete_integration(self, name: str) -> None:
        with self._db.write() as conn:
            integration_rows.delete(conn, name)

    # -- API tokens (store/tokens.py) ------------------------------------------------------
    def create_token(
        self, name: str, token_hash: str, now: datetime, kind: str = tokens.API
    ) -> tokens.TokenRecord:
        with self._db.write() as conn:
            return tokens.insert(conn, name, token_hash, now, kind)

    def list_tokens(self) -> list[tokens.TokenRecord]:
        with self._db.read() as conn:
            return tokens.list_all(conn)

    def get_token(self, token_id: str) -> tokens.TokenRecord:
        with self._db.read() as conn:
            return tokens.by_id(conn, token_id)

    def revoke_token(self, token_id: str, now: datetime) -> tokens.TokenRecord:
        with self._db.write() as conn:
            return tokens.revoke(conn, token_id, now)

    def active_token(self, token_hash: str) -> tokens.TokenRecord | None:
        with self._db.read() as conn:
            return tokens.active_by_hash(conn, token_hash)

    def touch_token(self, token_id: str, now: datetime) -> None:
        with self._db.write() as conn:
            tokens.touch(conn, token_id, now)

    # -- secrets for canvases (store/secret_rows.py) and retention (store/retention.py) ----
    def put_secret(
        self, name: str, value_encrypted: str, now: datetime
    ) -> secret_rows.SecretRecord:
        with self._db.write() as conn:
            return secret_rows.put(conn, name, value_encrypted, now)

    def list_secrets(self) -> list[secret_rows.SecretRecord]:
        with self._db.read() as conn:
            return secret_rows.list_all(conn)

    def delete_secret(self, name: str) -> None:
        with self._db.write() as conn:
            secret_rows.delete(conn, name)

    def secrets_encrypted(self) -> dict[str, str]:
        with self._db.read() as conn:
            return secret_rows.all_encrypted(conn)

    def prune_batch(
        self, runs_before: datetime, deliveries_before: datetime, limit: int,
        sessions_before: datetime | None = None,
    ) -> retention.Pruned:
        """One short transaction: up to ``limit`` finished runs and ``limit`` deliveries."""
        with self._db.write() as conn:
            return retention.Pruned(
                runs=retention.prune_runs_batch(conn, runs_before, limit),
                deliveries=retention.prune_deliveries_batch(conn, deliveries_before, limit),
                sessions=tokens.prune_sessions_batch(
                    conn, sessions_before or deliveries_before, limit),
                created_objects=guards.prune_batch(conn, runs_before, limit),
                schedule_fires=retention.prune_schedule_fires_batch(conn, runs_before, limit),
            )
