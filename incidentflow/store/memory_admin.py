"""``MemoryAdmin``: what people administer, in memory: integrations, API tokens and
browser sessions, secrets for canvases (encrypted values, never listed), and
retention's deletes — the twins of ``store.integration_rows``, ``store.tokens``,
``store.secret_rows`` and ``store.retention``.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from incidentflow.errors import NotFound
from incidentflow.store.codec import new_id
from incidentflow.store.memory_queue import MemoryQueue
from incidentflow.store.memory_rows import (
    TokenRow,
    copied,
)
from incidentflow.store.port import (
    IntegrationRecord,
    Pruned,
    SecretRecord,
    TokenRecord,
)


class MemoryAdmin(MemoryQueue):
    # -- integrations ----------------------------------------------------------------
    def put_integration(self, name: str, type_: str, config: dict[str, Any],
                        secrets_encrypted: dict[str, str], status: str, reason: str,
                        now: datetime) -> IntegrationRecord:
        with self._lock:
            old = self._t.integrations.get(name)
            record = IntegrationRecord(name, type_, copied(config), dict(secrets_encrypted),
                                       status, reason,  # type: ignore[arg-type]
                                       old.created_at if old else now, now)
            self._t.integrations[name] = record
            return copied(record)

    def get_integration(self, name: str) -> IntegrationRecord:
        with self._lock:
            found = self._t.integrations.get(name)
            if found is None:
                raise NotFound(f"integration {name!r} does not exist")
            return copied(found)

    def list_integrations(self) -> list[IntegrationRecord]:
        with self._lock:
            return [copied(r) for _, r in sorted(self._t.integrations.items())]

    def delete_integration(self, name: str) -> None:
        with self._lock:
            if self._t.integrations.pop(name, None) is None:
                raise NotFound(f"integration {name!r} does not exist")

    # -- API tokens and browser-session rows -----------------------------------------
    def create_token(self, name: str, token_hash: str, now: datetime,
                     kind: str = "api") -> TokenRecord:
        record = TokenRecord(new_id(), name, now, None, None, kind)
        with self._lock:
            self._t.tokens[record.id] = TokenRow(record, token_hash)
        return record

    def list_tokens(self) -> list[TokenRecord]:
        with self._lock:
            return [row.record for _, row in sorted(self._t.tokens.items())]

    def get_token(self, token_id: str) -> TokenRecord:
        with self._lock:
            return self._token(token_id).record

    def revoke_token(self, token_id: str, now: datetime) -> TokenRecord:
        with self._lock:
            row = self._token(token_id)
            if row.record.revoked_at is None:  # the first revocation time stays
                row.record = _replace(row.record, revoked_at=now)
            return row.record

    def active_token(self, token_hash: str) -> TokenRecord | None:
        with self._lock:
            for row in self._t.tokens.values():
                if row.token_hash == token_hash and not row.record.revoked:
                    return row.record
        return None

    def touch_token(self, token_id: str, now: datetime) -> None:
        with self._lock:
            row = self._t.tokens.get(token_id)
            if row is not None:
                row.record = _replace(row.record, last_used_at=now)

    def _token(self, token_id: str) -> TokenRow:
        found = self._t.tokens.get(token_id)
        if found is None:
            raise NotFound(f"token {token_id!r} does not exist")
        return found

    # -- secrets for canvases --------------------------------------------------------
    def put_secret(self, name: str, value_encrypted: str, now: datetime) -> SecretRecord:
        with self._lock:
            old = self._t.secrets.get(name)
            record = SecretRecord(name, old[0].created_at if old else now, now)
            self._t.secrets[name] = (record, value_encrypted)
            return record

    def list_secrets(self) -> list[SecretRecord]:
        with self._lock:
            return [record for _, (record, _) in sorted(self._t.secrets.items())]

    def delete_secret(self, name: str) -> None:
        with self._lock:
            if self._t.secrets.pop(name, None) is None:
                raise NotFound(f"secret {name!r} does not exist")

    def secrets_encrypted(self) -> dict[str, str]:
        with self._lock:
            return {name: value for name, (_, value) in self._t.secrets.items()}

    # -- retention -------------------------------------------------------------------
    def prune_batch(self, runs_before: datetime, deliveries_before: datetime, limit: int,
                    sessions_before: datetime | None = None) -> Pruned:
        with self._lock:
            t = self._t
            runs = sorted((r for r in t.runs.values() if r.state != "running"
                           and r.finished_at is not None and r.finished_at < runs_before),
                          key=lambda r: r.finished_at or runs_before)[:limit]
            gone = {r.id for r in runs}
            t.runs = {k: v for k, v in t.runs.items() if k not in gone}
            t.events = {k: v for k, v in t.events.items() if v.run_id not in gone}
            t.executions = {k: v for k, v in t.executions.items() if v.run_id not in gone}
            old = [d.id for d in t.deliveries
                   if d.received_at < deliveries_before and d.held_events is None][:limit]
            t.deliveries = [d for d in t.deliveries if d.id not in set(old)]
            cutoff = sessions_before or deliveries_before
            sessions = [k for k, row in t.tokens.items() if row.record.is_session
                        and row.record.created_at < cutoff][:limit]
            for key in sessions:
                del t.tokens[key]
            created = [k for k, row in t.created.items() if row.started_at < runs_before][:limit]
            for key in created:
                del t.created[key]
        return Pruned(len(gone), len(old), len(sessions), len(created))



def _replace(record: Any, **changes: Any) -> Any:
    return replace(record, **changes)
