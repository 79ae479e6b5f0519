"""The canvases the bench applies to the product (YAML, as a user would write them)."""

from __future__ import annotations

TRIGGER = "On Incident"
START = "Start"
EVENT = "public_incident.incident_created_v2"

INGEST = f"""
name: bench-ingest
description: Benchmark - On Incident wired to a noop.
nodes:
  - {{name: {TRIGGER}, type: incident.onIncident, configuration: {{events: [{EVENT}]}}}}
  - {{name: Noop, type: noop}}
edges:
  - {{from: {TRIGGER}, to: Noop}}
"""

ENGINE = f"""
name: bench-engine
description: Benchmark - a manual start and a chain of three noops.
nodes:
  - {{name: {START}, type: start}}
  - {{name: First, type: noop}}
  - {{name: Second, type: noop}}
  - {{name: Third, type: noop}}
edges:
  - {{from: {START}, to: First}}
  - {{from: First, to: Second}}
  - {{from: Second, to: Third}}
"""
ENGINE_CHAIN_LENGTH = 3


def end_to_end(severity_id: str) -> str:
    return f"""
name: bench-e2e
description: Benchmark - every delivery opens an incident at the fake incident.io.
nodes:
  - {{name: {TRIGGER}, type: incident.onIncident, configuration: {{events: [{EVENT}]}}}}
  - name: Create Incident
    type: incident.createIncident
    integration: incident
    # Measure the engine, not the brake: the default (10 per minute) trips at once.
    rateLimit: {{max: 100000, per: 1}}
    configuration:
      name: "{{{{ root.data.incident.name }}}}"
      severityId: {severity_id}
      visibility: public
edges:
  - {{from: {TRIGGER}, to: Create Incident}}
"""


def filler(index: int, triggers: int) -> str:
    """A canvas of ``triggers`` On Incident nodes: endpoints that exist but get no traffic."""
    nodes = "\n".join(
        f"  - {{name: T{n:04d}, type: incident.onIncident, configuration: {{events: [{EVENT}]}}}}"
        for n in range(triggers)
    )
    return f"name: bench-filler-{index:03d}\nnodes:\n{nodes}\n"


STORM_TRIGGER = "Alerts"
STORM_TOKEN_SECRET = "STORM_ALERT_TOKEN"
STORM_ALERT_SOURCE = "01BENCHALERTSOURCE0000000"
STORM_FILTERED_SEVERITY = "info"


def storm() -> str:
    """Alert storm: a webhook trigger, a filter that drops "info" alerts, and Send Alert
    Event keyed by the alert's own key (the fake counts the events per key)."""
    return f"""
name: bench-storm
description: Benchmark - an alert storm through a filter to incident.io alert events.
nodes:
  - {{name: {STORM_TRIGGER}, type: webhook}}
  - name: Not info
    type: filter
    configuration:
      expression: previous.data.body.severity != "{STORM_FILTERED_SEVERITY}"
  - name: Raise
    type: incident.sendAlertEvent
    integration: incident
    # Measure the engine, not the brake: the default limit trips at once.
    rateLimit: {{max: 100000, per: 1}}
    configuration:
      alertSourceConfigId: {STORM_ALERT_SOURCE}
      token: "{{{{ secrets.{STORM_TOKEN_SECRET} }}}}"
      title: "{{{{ root.data.body.title }}}}"
      deduplicationKey: "{{{{ root.data.body.key }}}}"
edges:
  - {{from: {STORM_TRIGGER}, to: Not info}}
  - {{from: Not info, to: Raise}}
"""
