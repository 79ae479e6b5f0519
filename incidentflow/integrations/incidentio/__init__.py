"""The incident.io integration ("Incident"): API key + base URL, the organisation's
values as resources (severities, statuses, types, custom fields, escalation paths,
users, alert sources), the On Incident trigger and the actions."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import httpx

from incidentflow.components.base import Field
from incidentflow.errors import PermanentError
from incidentflow.integrations.base import Integration, IntegrationStatus, Resource
from incidentflow.integrations.incidentio import resources
from incidentflow.integrations.incidentio.action import (
    ACTIONS,
    CreateEscalation,
    CreateFollowUp,
    CreateIncident,
    GetIncident,
    ListIncidents,
    ResolveAlert,
    SendAlertEvent,
    UpdateIncident,
)
from incidentflow.integrations.incidentio.client import (
    ALERT_PERMISSION,
    CREATE_PERMISSION,
    DEFAULT_BASE_URL,
    EDIT_PERMISSION,
    ESCALATION_PERMISSION,
    FOLLOW_UP_PERMISSION,
    PRIVATE_PERMISSION,
    VIEW_PERMISSION,
    APIKeyRejected,
    IncidentIOClient,
    IncidentIOError,
    IncidentIOUnavailable,
    PermissionMissing,
)
from incidentflow.integrations.incidentio.object_triggers import (
    OnAlert,
    OnEscalation,
    OnFollowUp,
)
from incidentflow.integrations.incidentio.trigger import OnIncident

# Each further action's permission, asked only of those who use that action.
ACTION_PERMISSIONS = "\n".join(
    f"   - {permission} (only for the {action} action)" for permission, action in (
        (EDIT_PERMISSION, UpdateIncident.label), (FOLLOW_UP_PERMISSION, CreateFollowUp.label),
        (ESCALATION_PERMISSION, CreateEscalation.label), (ALERT_PERMISSION, ResolveAlert.label)))

INSTRUCTIONS = f"""\
1. In incident.io Settings > API keys, click Create API key and give it a name.
2. Under Add permissions, select exactly these (use "Find a permission" if needed):
   - {VIEW_PERMISSION} (needed to read severities and the other pickers' values)
   - {CREATE_PERMISSION} (needed for the Create Incident action)
   - {PRIVATE_PERMISSION} (only if you use private incidents, or private
     events on the triggers, which fetch the object)
{ACTION_PERMISSIONS}
3. Create the key and paste the API key in the Configuration section below.

The On Incident trigger needs no API key: incident.io has no API to register webhook
endpoints. Save the canvas to get the node's webhook URL, create an endpoint with it in
incident.io Settings > Webhooks, subscribe to the event types the node selects, then
store the endpoint's signing secret with the node's Set signing secret action. The
On Follow-up, On Alert and On Escalation triggers work the same way, each with its own
URL and secret. Private events carry only an id: the trigger fetches the object with
this integration's key (name the integration on the node).

Send Alert Event does not use the API key: it sends the HTTP alert source's own token,
kept in a canvas secret (Secrets page) and named in the node as {{{{ secrets.NAME }}}}.
"""


class IncidentIntegration(Integration):
    type = "incident"
    label = "incident.io"
    description = "Manage and react to incidents in incident.io"
    instructions = INSTRUCTIONS
    fields = (
        Field("apiKey", "secret", "API key", required=True),
        Field("baseUrl", "text", "Base URL", default=DEFAULT_BASE_URL,
              description="Change only for a proxy or the local emulator"),
    )
    destination_fields = ("baseUrl",)  # the API key goes to this host
    resource_types = resources.RESOURCE_TYPES
    components = (OnIncident, OnFollowUp, OnAlert, OnEscalation, *ACTIONS)

    async def validate(
        self, config: Mapping[str, Any], http: httpx.AsyncClient
    ) -> IntegrationStatus:
        """Ready when the key can list severities; otherwise a reason a person can act on."""
        try:
            # One attempt: a person is waiting, and "unreachable" is an answer they can use.
            client = IncidentIOClient.from_config(config, http, max_attempts=1)
            await client.list_severities()
        except APIKeyRejected:
            return IntegrationStatus(
                "error", "API key rejected by incident.io (401): check the key was copied "
                "whole and has not been revoked")
        except PermissionMissing:
            return IntegrationStatus(
                "error", f'The API key lacks the permission "{VIEW_PERMISSION}" (403): '
                "create a key with the permissions listed in the instructions")
        except IncidentIOUnavailable as exc:
            return IntegrationStatus("error", f"incident.io is unreachable: {exc}")
        except (IncidentIOError, PermanentError) as exc:
            return IntegrationStatus("error", str(exc))
        return IntegrationStatus("ready")

    async def list_resources(
        self, config: Mapping[str, Any], resource_type: str, http: httpx.AsyncClient,
        query: str = "",
    ) -> list[Resource]:
        return await resources.list_resources(config, resource_type, http, query)


__all__ = ["CreateEscalation", "CreateFollowUp", "CreateIncident", "GetIncident",
           "IncidentIntegration", "ListIncidents", "OnAlert", "OnEscalation", "OnFollowUp",
           "OnIncident", "ResolveAlert", "SendAlertEvent", "UpdateIncident"]
