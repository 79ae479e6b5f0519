"""Every incident.io action, from the module of its family (kept so imports of
``incidentio.action`` keep working)."""

from incidentflow.integrations.incidentio.alert_actions import ResolveAlert, SendAlertEvent
from incidentflow.integrations.incidentio.create_incident import CreateIncident
from incidentflow.integrations.incidentio.escalation_action import CreateEscalation
from incidentflow.integrations.incidentio.follow_up_action import CreateFollowUp
from incidentflow.integrations.incidentio.incident_actions import (
    GetIncident,
    ListIncidents,
    UpdateIncident,
)

ACTIONS = (CreateIncident, GetIncident, UpdateIncident, ListIncidents, CreateFollowUp,
           CreateEscalation, SendAlertEvent, ResolveAlert)

__all__ = ["ACTIONS", "CreateEscalation", "CreateFollowUp", "CreateIncident", "GetIncident",
           "ListIncidents", "ResolveAlert", "SendAlertEvent", "UpdateIncident"]
