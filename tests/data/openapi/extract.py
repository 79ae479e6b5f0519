"""Regenerate incidentio-subset.json from incident.io's full OpenAPI document.

Usage: python tests/data/openapi/extract.py PATH_TO_OPENAPI3_JSON
where the document is incident.io's public OpenAPI document (``openapi3.json`` in the
incident-io/sdk-go repository; the extract was made from the schema of 2026-08-21).
Keeps the paths the emulator serves and every schema they reach; drops examples.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

PATHS = [
    "/v1/severities", "/v2/incidents", "/v2/incidents/{id}", "/v2/incidents/{id}/actions/edit",
    "/v1/incident_statuses", "/v1/incident_types", "/v2/custom_fields",
    "/v1/custom_field_options", "/v2/escalation_paths", "/v2/users", "/v2/alert_sources",
    "/v2/follow_ups", "/v2/follow_ups/{id}", "/v2/escalations", "/v2/escalations/{id}",
    "/v2/alert_events/http/{alert_source_config_id}", "/v2/alerts/{id}",
    "/v2/alerts/{id}/actions/resolve",
]
# Webhook deliveries the emulator sends.
WEBHOOKS = [
    *(f"/x-webhooks/{visibility}_incident.incident_{change}_v2"
      for visibility in ("public", "private")
      for change in ("created", "updated")),
    "/x-webhooks/public_incident.incident_status_updated_v2",
    *(f"/x-webhooks/{visibility}_{event}" for visibility in ("public", "private")
      for event in ("incident.follow_up_created_v2", "incident.follow_up_updated_v2",
                    "alert.alert_created_v1", "alert.alert_resolved_v1",
                    "escalation.escalation_created_v1",
                    "escalation.escalation_status_updated_v1")),
]


def strip_examples(node):
    if isinstance(node, dict):
        return {k: strip_examples(v) for k, v in node.items() if k != "example"}
    if isinstance(node, list):
        return [strip_examples(v) for v in node]
    return node


def refs_in(node, found: set[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            found.add(ref.rsplit("/", 1)[1])
        for value in node.values():
            refs_in(value, found)
    elif isinstance(node, list):
        for value in node:
            refs_in(value, found)


def extract(document: dict) -> dict:
    paths = {p: strip_examples(document["paths"][p]) for p in PATHS}
    all_schemas = document["components"]["schemas"]
    webhooks = {w: strip_examples(document["x-webhooks"][w]) for w in WEBHOOKS}
    wanted: set[str] = set()
    refs_in([paths, webhooks], wanted)
    done: set[str] = set()
    while wanted - done:
        name = sorted(wanted - done)[0]
        done.add(name)
        refs_in(all_schemas[name], wanted)
    schemas = {name: strip_examples(all_schemas[name]) for name in sorted(done)}
    return {
        "openapi": document["openapi"],
        "info": {**document["info"], "x-extracted-from": "incident-io/sdk-go openapi3.json"},
        "paths": paths,
        "x-webhooks": webhooks,
        "components": {"schemas": schemas},
    }


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    source = json.loads(Path(sys.argv[1]).read_text())
    target = Path(__file__).with_name("incidentio-subset.json")
    target.write_text(json.dumps(extract(source), indent=1, sort_keys=True) + "\n")
    print(f"wrote {target}")
