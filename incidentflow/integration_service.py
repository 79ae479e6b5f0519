"""Integrations as people manage them: put (validated against the service, secret fields
encrypted, kept when left out), get, list, delete, and the organisation's resources an
integration lists (severities, users, ...). Shared by the API, the UI and the CLI
through :class:`~incidentflow.app_service.AppService` (``host.integrations``).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from incidentflow.crypto import SecretBox
from incidentflow.errors import InvalidInput, NotFound, Problem, UpstreamError
from incidentflow.events import iso
from incidentflow.integration_config import (
    check_destinations,
    field_problem,
    integration_type,
    require_fields,
    require_secrets_for_new_destination,
    split_config,
)
from incidentflow.store.port import IntegrationRecord

if TYPE_CHECKING:
    from incidentflow.app_service import AppService
    from incidentflow.integrations.base import Integration
    from incidentflow.registry import Registry

log = logging.getLogger(__name__)


class IntegrationService:
    def __init__(self, host: AppService):
        self.host = host
        self.db = host.db
        self.registry = host.registry

    async def put_integration(
        self,
        name: str,
        type_: str,
        configuration: Mapping[str, Any],
        *,
        refuse_if_not_ready: bool = False,
    ) -> dict[str, Any]:
        """Create or update; secret fields left out keep their stored value, unless
        a destination field (e.g. baseUrl) moves: then they must be given again. The
        status from validating against the service is stored either way, unless
        ``refuse_if_not_ready``: then a configuration the service refuses (or cannot
        check) is not stored, and InvalidInput names the secret field and the reason."""
        box = self.host.box
        integration = integration_type(self.registry, type_)
        existing = await self._existing_integration(name, type_)
        plain, secrets = split_config(integration, configuration)
        check_destinations(integration, plain)
        kept = existing.secrets_encrypted if existing else {}
        if existing is not None:
            require_secrets_for_new_destination(
                integration, existing.config, kept, plain, secrets)
        encrypted = {**kept, **{k: box.encrypt(v) for k, v in secrets.items()}}
        require_fields(integration, plain, encrypted)
        full = {**plain, **box.reveal(encrypted)}
        status, reason = await self._validate(integration, full)
        if refuse_if_not_ready and status != "ready":
            secret = next((f.name for f in integration.fields if f.kind == "secret"), None)
            raise field_problem(None, secret or "configuration", f"not saved: {reason}")
        record = await self.db.put_integration(
            name, type_, plain, encrypted, status, reason, self.host.clock())
        return integration_view(record, self.registry)

    async def _existing_integration(self, name: str, type_: str) -> IntegrationRecord | None:
        try:
            record = await self.db.get_integration(name)
        except NotFound:
            return None
        # A type change starts from scratch: the old secrets meant something else.
        return record if record.type == type_ else None

    async def _validate(
        self, integration: Integration, config: Mapping[str, Any]
    ) -> tuple[str, str]:
        try:
            result = await integration.validate(config, self.host.http)
        except Exception as exc:  # validation must never block storing the integration
            log.warning("integration validation failed: %s", type(exc).__name__)
            return "error", f"could not validate: {type(exc).__name__}"
        return result.status, result.reason

    async def get_integration(self, name: str) -> dict[str, Any]:
        record = await self.db.get_integration(name)
        return integration_view(record, self.registry)

    async def list_integrations(self) -> list[dict[str, Any]]:
        records = await self.db.list_integrations()
        return [integration_view(r, self.registry) for r in records]

    async def delete_integration(self, name: str) -> None:
        await self.db.delete_integration(name)

    async def list_resources(
        self, name: str, resource_type: str, query: str = ""
    ) -> list[dict[str, Any]]:
        record = await self.db.get_integration(name)
        integration = integration_type(self.registry, record.type)
        if resource_type not in integration.resource_types:
            known = ", ".join(integration.resource_types) or "none"
            raise InvalidInput(
                f"integration type {record.type!r} has no resource {resource_type!r} "
                f"(known: {known})",
                [Problem(f"unknown resource type {resource_type!r}", field="type")],
            )
        config = decrypted_config(record, self.host.box)
        try:
            resources = await integration.list_resources(
                config, resource_type, self.host.http, query=query)
        except Exception as exc:
            log.warning("listing %s of %s failed: %s", resource_type, name, exc)
            raise UpstreamError(f"could not list {resource_type} from {name!r}: {exc}") from exc
        return [r.as_dict() for r in resources]


def decrypted_config(record: IntegrationRecord, box: SecretBox) -> dict[str, Any]:
    """The integration's whole configuration, secret fields revealed (for a call out)."""
    return {**record.config, **box.reveal(record.secrets_encrypted)}


def integration_view(record: IntegrationRecord, registry: Registry) -> dict[str, Any]:
    """An integration as the API shows it: secret fields only say whether they are set."""
    configuration: dict[str, Any] = dict(record.config)
    secret_names: set[str] = set(record.secrets_encrypted)
    if record.type in registry.integrations:
        secret_names |= set(registry.integrations[record.type].secret_fields())
    for field_name in secret_names:
        configuration[field_name] = {"configured": field_name in record.secrets_encrypted}
    return {
        "name": record.name,
        "type": record.type,
        "configuration": configuration,
        "status": record.status,
        "reason": record.reason,
        "createdAt": iso(record.created_at),
        "updatedAt": iso(record.updated_at),
    }
