"""The OpenAPI 3.1 document of the management API and the webhook receiver.

Hand-written, because the routes are few and the document is a promise to scripts:
every route, its parameters, request bodies and response shapes (tests check that the
document and the route table agree). Over 400 lines because it is one document:
split across modules, a route and its schema would drift apart.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from incidentflow.components.base import RejectionCode, WebhookTrigger
from incidentflow.web.openapi_waits import waiting_paths, waiting_schemas

API_PREFIX = "/api/v1"
_SECRET_HOOK, _SECRET_PARAM = WebhookTrigger.SECRET_HOOK, WebhookTrigger.SECRET_PARAM


def _ref(name: str) -> dict[str, str]:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict[str, Any], description: str) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict[str, Any]:
    text = {
        400: "Malformed request (bad JSON/YAML, bad parameter)",
        401: "Missing or invalid bearer token",
        404: "Not found",
        403: "Not allowed for this caller",
        409: "Conflicts with the current state (e.g. the canvas is paused)",
        413: "Body too large",
        422: "Validation failed; problems name node and field",
        502: "The outside service failed",
    }
    return {str(s): _json(_ref("Error"), text[s]) for s in statuses}


def _path_param(name: str, description: str) -> dict[str, Any]:
    return {
        "name": name, "in": "path", "required": True, "description": description,
        "schema": {"type": "string", "minLength": 1},
    }


NAME = _path_param("name", "Canvas name")
NODE = _path_param("node", "Node name")
INTEGRATION = _path_param("name", "Integration name")
SECRET = _path_param("name", "Secret name: a letter or _, then letters, digits or _")


def _op(summary: str, responses: dict[str, Any], *, params: list | None = None,
        body: dict[str, Any] | None = None, errors: tuple[int, ...] = (401,)) -> dict[str, Any]:
    op: dict[str, Any] = {"summary": summary, "responses": {**responses, **_errors(*errors)}}
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = body
    return op


def _paths() -> dict[str, Any]:
    canvas_body = {
        "required": True,
        "content": {
            "application/yaml": {"schema": {"type": "string"}},
            "application/json": {"schema": _ref("CanvasDocument")},
        },
    }
    object_body = {"content": {"application/json": {"schema": {"type": "object"}}}}
    limit = {"name": "limit", "in": "query", "required": False,
             "schema": {"type": "integer", "minimum": 1, "maximum": 500, "default": 50}}
    deleted = {"204": {"description": "Deleted"}}
    p = API_PREFIX
    return {
        "/healthz": {"get": {"summary": "Liveness: the process answers", "security": [],
                             "responses": {"200": _json(_ref("Health"), "Alive")}}},
        "/readyz": {"get": {"summary": "Readiness: the database answers", "security": [],
                            "responses": {"200": _json(_ref("Health"), "Ready"),
                                          "503": _json(_ref("Health"), "Database down")}}},
        "/metrics": {"get": {
            "summary": "Prometheus metrics of this process (bearer only if a metrics "
                       "token is configured)", "security": [],
            "responses": {"200": {"description": "Prometheus text format",
                                  "content": {"text/plain": {"schema": {"type": "string"}}}},
                          "401": _json(_ref("Error"), "Metrics token required")}}},
        "/webhooks/{endpoint_id}": {"post": {
            "summary": "Receive a signed webhook delivery (Standard Webhooks)", "security": [],
            "parameters": [_path_param("endpoint_id", "Opaque endpoint id")],
            "requestBody": {"content": {"application/json": {"schema": {"type": "object"}}}},
            "responses": {
                "200": _json(_ref("DeliveryAnswer"), "Accepted, duplicate, ignored or paused"),
                "400": _json(_ref("Error"), "Malformed delivery"),
                "403": _json(_ref("Error"), "Signature invalid, stale, or no secret set"),
                "404": _json(_ref("Error"), "Unknown endpoint"),
                "413": _json(_ref("Error"), "Body over 512 KiB"),
            }}},
        f"{p}/canvases": {"get": _op(
            "List canvases", {"200": _json(_ref("CanvasList"), "Canvases")})},
        f"{p}/canvases/{{name}}": {
            "get": _op("A canvas with live node metadata",
                       {"200": _json(_ref("CanvasView"), "The canvas")},
                       params=[NAME], errors=(401, 404)),
            "put": _op("Create or update a canvas (YAML or JSON)",
                       {"200": _json(_ref("SavedCanvas"), "Saved")},
                       params=[NAME], body=canvas_body, errors=(400, 401, 413, 422)),
            "delete": _op("Delete a canvas", deleted, params=[NAME], errors=(401, 404)),
        },
        **_recovery_paths(p, limit),
        f"{p}/canvases/{{name}}/nodes/{{node}}/run": {"post": _op(
            "Start a run from a start node with a JSON payload",
            {"202": _json(_ref("RunStarted"), "Run queued")}, params=[NAME, NODE],
            body=object_body, errors=(400, 401, 404, 409, 413, 422))},
        **_runaway_paths(p, limit),
        **waiting_paths(p, _op, _json, _ref, _path_param),
        f"{p}/canvases/{{name}}/nodes/{{node}}/hooks/{{hook}}": {"post": _op(
            f"Run a node action ({_SECRET_HOOK}: {{{_SECRET_PARAM}}}; empty clears)",
            {"200": _json(_ref("HookResult"), "Done")},
            params=[NAME, NODE, _path_param("hook", f"Action name, e.g. {_SECRET_HOOK}")],
            body=object_body, errors=(400, 401, 404, 413, 422))},
        f"{p}/canvases/{{name}}/nodes/{{node}}/resume": {"post": _op(
            "Resume a node whose rate limit tripped: release (run) or discard what it "
            "holds. Released executions do not count against the limit",
            {"200": _json(_ref("NodeResumed"), "Resumed")}, params=[NAME, NODE],
            body={"required": True, "content": {"application/json": {
                "schema": _object(["held"], held={"enum": ["release", "discard"]})}}},
            errors=(400, 401, 404, 413, 422))},
        f"{p}/runs/{{run_id}}": {"get": _op(
            "A run with every execution", {"200": _json(_ref("Run"), "The run")},
            params=[_path_param("run_id", "Run id")], errors=(401, 404))},
        f"{p}/tokens": {
            "get": _op("API tokens (the tokens themselves are never returned)",
                       {"200": _json(_ref("TokenList"), "Tokens")}),
            "post": _op("Create an API token; the response shows it once",
                        {"201": _json(_ref("NewToken"), "Created")},
                        body={"required": True, "content": {"application/json": {
                            "schema": _object(["name"], name={"type": "string",
                                                              "minLength": 1,
                                                              "maxLength": 200})}}},
                        errors=(400, 401, 413, 422)),
        },
        f"{p}/tokens/{{token_id}}": {"delete": _op(
            "Revoke an API token (at once, in every process)",
            {"200": _json(_ref("Token"), "Revoked")},
            params=[_path_param("token_id", "Token id")], errors=(401, 404))},
        f"{p}/secrets": {"get": _op(
            "Secrets for canvases: names and dates, never values",
            {"200": _json(_ref("SecretList"), "Secrets")})},
        f"{p}/secrets/{{name}}": {
            "put": _op("Set or replace a secret (stored encrypted; read in templates as "
                       "{{ secrets.NAME }})", {"200": _json(_ref("Secret"), "Stored")},
                       params=[SECRET], body={"required": True, "content": {
                           "application/json": {"schema": _ref("SecretInput")}}},
                       errors=(400, 401, 413, 422)),
            "delete": _op("Delete a secret (runs that read it fail until it is set again)",
                          deleted, params=[SECRET], errors=(401, 404, 422)),
        },
        f"{p}/integrations": {"get": _op(
            "List integrations (secrets never returned)",
            {"200": _json(_ref("IntegrationList"), "Integrations")})},
        f"{p}/integrations/{{name}}": {
            "get": _op("An integration", {"200": _json(_ref("Integration"), "It")},
                       params=[INTEGRATION], errors=(401, 404)),
            "put": _op("Create or update; omitted secret fields keep their stored value",
                       {"200": _json(_ref("Integration"), "Stored, with its status")},
                       params=[INTEGRATION],
                       body={"required": True, "content": {"application/json": {
                           "schema": _ref("IntegrationInput")}}},
                       errors=(400, 401, 413, 422)),
            "delete": _op("Delete an integration", deleted, params=[INTEGRATION],
                          errors=(401, 404)),
        },
        f"{p}/integrations/{{name}}/resources": {"get": _op(
            "Resources for pickers, e.g. severities (cached briefly)",
            {"200": _json(_ref("ResourceList"), "Resources")},
            params=[INTEGRATION, {"name": "type", "in": "query", "required": True,
                                  "schema": {"type": "string", "minLength": 1}},
                    {"name": "query", "in": "query", "required": False,
                     "description": "keep only resources whose name (or email) contains it",
                     "schema": {"type": "string"}}],
            errors=(400, 401, 404, 422, 502))},
        f"{p}/components": {"get": _op(
            "The catalogue of node and integration types",
            {"200": _json(_ref("Catalogue"), "Catalogue")})},
        f"{p}/openapi.json": {"get": _op(
            "This document", {"200": _json({"type": "object"}, "OpenAPI 3.1")})},
    }


def _runaway_paths(p: str, limit: dict[str, Any]) -> dict[str, Any]:
    """Pause/resume and the delivery log (docs/runaway.md)."""
    resume_body = {"content": {"application/json": {"schema": {
        "type": "object", "properties": {"pending": {"enum": ["run", "discard"]}},
        "description": "What to do with the deliveries that arrived while paused; "
                       "required when there are any"}}}}
    return {
        f"{p}/canvases/{{name}}/pause": {"post": _op(
            "Pause a canvas: deliveries are kept with their events, nothing starts",
            {"200": _json(_ref("CanvasPaused"), "Paused")}, params=[NAME],
            errors=(401, 404))},
        f"{p}/canvases/{{name}}/resume": {"post": _op(
            "Resume a paused canvas; run or discard what arrived while paused",
            {"200": _json(_ref("CanvasResumed"), "Resumed")}, params=[NAME],
            body=resume_body, errors=(400, 401, 404, 409, 413, 422))},
        f"{p}/canvases/{{name}}/nodes/{{node}}/deliveries": {"get": _op(
            "The delivery log of a webhook trigger node, newest first",
            {"200": _json(_ref("DeliveryList"), "Deliveries")}, params=[NAME, NODE, limit],
            errors=(400, 401, 404))},
    }


_NULLABLE_STR = {"type": ["string", "null"]}
_WHEN = {"type": ["string", "null"], "format": "date-time"}
_OBJ = {"type": "object"}


def _query(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": {"type": "string"}}


_TIME_HINT = "ISO 8601 time, or a span back from now (30m, 1h, 2d)"


def _recovery_paths(p: str, limit: dict[str, Any]) -> dict[str, Any]:
    """Runs at scale, replay and retry (incidentflow/recovery.py)."""
    run_id = _path_param("run_id", "Run id")
    filters = [_query("state", "running, succeeded or failed (comma-separated for several)"),
               _query("node", "only runs with an execution of this node"),
               _query("since", f"started at or after: {_TIME_HINT}"),
               _query("until", f"started before: {_TIME_HINT}"),
               _query("before", "cursor: the nextBefore of the previous page")]
    bulk_body = {"required": True, "content": {"application/json": {"schema": _object(
        ["canvas"], canvas={"type": "string"}, ids={"type": "array", "items": {
            "type": "string"}}, state={"type": "string"}, node={"type": "string"},
        since={"type": "string"}, until={"type": "string"}, dryRun={"type": "boolean"})}}}
    return {
        f"{p}/canvases/{{name}}/runs": {"get": _op(
            "Runs of a canvas, newest first: filtered, paged by cursor, with the total",
            {"200": _json(_ref("RunList"), "Runs")}, params=[NAME, limit, *filters],
            errors=(400, 401, 404, 422))},
        f"{p}/runs/{{run_id}}/replay": {"post": _op(
            "Run the stored trigger event again as a new run (current canvas version, "
            "new idempotency keys), linked to the original both ways",
            {"202": _json(_ref("RunReplayed"), "New run queued")},
            params=[run_id], errors=(401, 404, 409, 422))},
        f"{p}/runs/replay": {"post": _op(
            "Replay many runs of a canvas: by ids, or every run a filter matches (at "
            "most 500 at a time); dryRun says how many first",
            {"202": _json(_ref("BulkReplay"), "Runs queued")}, body=bulk_body,
            errors=(400, 401, 404, 409, 413, 422))},
        f"{p}/runs/{{run_id}}/executions/{{execution_id}}/retry": {"post": _op(
            "Queue a failed execution again (same idempotency key); its run reopens",
            {"202": _json(_ref("Run"), "The run")},
            params=[run_id, _path_param("execution_id", "Execution id")],
            errors=(401, 404, 409))},
        f"{p}/replays/{{batch}}": {"get": _op(
            "Progress of a bulk replay", {"200": _json(_ref("ReplayProgress"), "Progress")},
            params=[_path_param("batch", "The batch of a bulk replay")], errors=(401, 404))},
    }


def _object(required: list[str], **properties: Any) -> dict[str, Any]:
    return {"type": "object", "required": required, "properties": properties}


def _schemas() -> dict[str, Any]:
    problem = _object(["message"], node=_NULLABLE_STR, field=_NULLABLE_STR,
                      message={"type": "string"})
    event = _object(["type", "timestamp", "data"], type={"type": "string"},
                    timestamp={"type": "string"}, data={})
    live = _object(["webhookUrl", "signingSecretConfigured", "operational"],
                   webhookUrl={"type": "string"}, signingSecretConfigured={"type": "boolean"},
                   lastDeliveryAt=_WHEN, deliveries=_OBJ, operational={"type": "boolean"},
                   reason={"type": "string"})
    run_summary = _object(["id", "canvas", "state"], id={"type": "string"},
                          canvas={"type": "string"}, canvasVersion={"type": "integer"},
                          triggerNode={"type": "string"},
                          state={"enum": ["running", "succeeded", "failed", "cancelled"]},
                          eventType={"type": "string"}, createdAt=_WHEN, finishedAt=_WHEN,
                          incident={"type": ["object", "null"]}, replayOf=_NULLABLE_STR)
    execution = _object(
        ["id", "node", "state", "attempts", "idempotencyKey", "input"],
        id={"type": "string"}, node={"type": "string"},
        state={"enum": ["queued", "running", "succeeded", "failed", "held", "discarded",
                        "cancelled"]},
        attempts={"type": "integer"}, idempotencyKey={"type": "string"}, input=event,
        configuration={"type": ["object", "null"]}, emitted={"type": "array"},
        error=_NULLABLE_STR, errorDetails={"type": ["object", "null"]}, createdAt=_WHEN,
        startedAt=_WHEN, finishedAt=_WHEN, nextAttemptAt=_WHEN,
        attemptHistory={"type": "array", "items": _object(
            ["attempt", "outcome"], attempt={"type": "integer"}, outcome={"type": "string"},
            error=_NULLABLE_STR, startedAt=_WHEN, endedAt=_WHEN, nextAttemptAt=_WHEN,
            waitSeconds={"type": ["number", "null"]})})
    rate_limit = _object(["max", "per"], max={"type": "integer", "minimum": 1},
                         per={"type": "number", "minimum": 1})
    tripped = {"type": "array", "items": _object(
        ["node", "held"], node={"type": "string"}, held={"type": "integer"}, trippedAt=_WHEN)}
    node_limit = {"allOf": [rate_limit, _object(
        ["tripped", "held"], tripped={"type": "boolean"}, trippedAt=_WHEN,
        held={"type": "integer"}, windowStart=_WHEN, windowCount={"type": "integer"})]}
    integration = _object(["name", "type", "configuration", "status"], name={"type": "string"},
                          type={"type": "string"}, configuration=_OBJ,
                          status={"enum": ["ready", "error", "unknown"]},
                          reason={"type": "string"}, createdAt=_WHEN, updatedAt=_WHEN)
    token = _object(["id", "name", "createdAt", "revoked"], id={"type": "string"},
                    name={"type": "string"}, createdAt=_WHEN, lastUsedAt=_WHEN,
                    revoked={"type": "boolean"}, revokedAt=_WHEN)
    secret = _object(["name", "createdAt", "updatedAt"], name={"type": "string"},
                     createdAt=_WHEN, updatedAt=_WHEN)
    return {
        "Secret": secret,
        "SecretList": _object(["secrets"], secrets={"type": "array", "items": secret}),
        "SecretInput": {**_object(["value"], value={"type": "string", "minLength": 6}),
                        "additionalProperties": False},
        "Error": _object(["error"], error={"type": "string"},
                         problems={"type": "array", "items": problem}),
        "Problem": problem,
        "Health": _object(["status"], status={"type": "string"}),
        "DeliveryAnswer": _object(["status"], status={"type": "string"}),
        "Event": event,
        "CanvasDocument": _object(
            ["nodes"], name={"type": "string"}, description={"type": "string"},
            nodes={"type": "array", "items": _object(
                ["name", "type"], name={"type": "string"}, type={"type": "string"},
                configuration=_OBJ, integration={"type": "string"},
                concurrencyKey={"type": "string"}, rateLimit=rate_limit)},
            edges={"type": "array", "items": _object(
                ["from", "to"], **{"from": {"type": "string"}}, to={"type": "string"},
                channel={"type": "string"})}),
        "SavedCanvas": _object(["name", "version", "created", "warnings"],
                               name={"type": "string"}, version={"type": "integer"},
                               created={"type": "boolean"},
                               warnings={"type": "array", "items": problem}),
        "CanvasList": _object(["canvases"], canvases={"type": "array", "items": _object(
            ["name", "version"], name={"type": "string"}, version={"type": "integer"},
            updatedAt=_WHEN, triggers={"type": "array", "items": {"type": "string"}},
            lastRunId=_NULLABLE_STR, lastRunState=_NULLABLE_STR, lastRunAt=_WHEN,
            trippedNodes=tripped, paused={"type": "boolean"}, pausedAt=_WHEN)}),
        "CanvasView": _object(
            ["name", "version", "source", "canvas", "nodes"], name={"type": "string"},
            version={"type": "integer"}, description={"type": "string"}, createdAt=_WHEN,
            updatedAt=_WHEN, source={"type": "string"}, canvas=_OBJ,
            warnings={"type": "array"}, paused={"type": "boolean"}, pausedAt=_WHEN,
            nodes={"type": "array", "items": _object(
                ["name", "type", "role"], name={"type": "string"}, type={"type": "string"},
                role={"enum": ["trigger", "action", "unknown"]}, live=live)},
            rateLimits={"type": "object", "additionalProperties": node_limit},
            trippedNodes=tripped),
        "NodeResumed": _object(
            ["canvas", "node", "held", "released", "discarded"], canvas={"type": "string"},
            node={"type": "string"}, held={"enum": ["release", "discard"]},
            released={"type": "integer"}, discarded={"type": "integer"}),
        "RunStarted": _object(["runId"], runId={"type": "string"}),
        **_runaway_schemas(),
        "RunReplayed": _object(["runId", "replayOf"], runId={"type": "string"},
                               replayOf={"type": "string"}),
        "Token": token,
        "NewToken": {"allOf": [token, _object(["token"], token={"type": "string"})]},
        "TokenList": _object(["tokens"], tokens={"type": "array", "items": token}),
        "HookResult": _object(["node", "live"], node={"type": "string"}, live=live),
        "RunList": _object(["runs", "total"], runs={"type": "array", "items": run_summary},
                           total={"type": "integer"}, nextBefore=_NULLABLE_STR),
        "BulkReplay": _object(["batch", "runIds", "count", "matched"],
                              batch={"type": "string"}, runIds={"type": "array"},
                              count={"type": "integer"}, matched={"type": "integer"},
                              skipped=_OBJ, max={"type": "integer"}),
        "ReplayProgress": _object(["total", "done", "byState"], total={"type": "integer"},
                                  done={"type": "integer"}, byState=_OBJ),
        "Run": {"allOf": [run_summary, _object(
            ["root", "executions"], root=event, replayedAs={"type": "array"},
            stoppedAt={"type": "array"},
            executions={"type": "array", "items": execution},
            waitingFor={"type": "array", "items": _ref("WaitingItem"),
                        "description": "What the run waits for now, and until when"})]},
        **waiting_schemas(),
        "Integration": integration,
        "IntegrationList": _object(["integrations"],
                                   integrations={"type": "array", "items": integration}),
        "IntegrationInput": _object(["type"], type={"type": "string", "minLength": 1},
                                    configuration=_OBJ),
        "ResourceList": _object(["resources"], resources={"type": "array", "items": _object(
            ["type", "id", "name"], type={"type": "string"}, id={"type": "string"},
            name={"type": "string"})}),
        "Catalogue": _object(["components", "integrations"],
                             components={"type": "array", "items": _OBJ},
                             integrations={"type": "array", "items": _OBJ}),
    }


def _runaway_schemas() -> dict[str, Any]:
    delivery = _object(
        ["id", "receivedAt", "webhookId", "outcome", "reason", "runId"],
        id={"type": "string"}, receivedAt=_WHEN, webhookId=_NULLABLE_STR,
        outcome={"enum": ["accepted", "duplicate", "rejected", "ignored", "filtered",
                          "paused"]},
        reason={"type": "string"}, runId=_NULLABLE_STR,
        code={"enum": [*(c.value for c in RejectionCode), None],
              "description": "why a rejected delivery was refused; null otherwise"},
        heldEvents={"type": "integer", "description": "events kept until the canvas resumes"})
    return {
        "Delivery": delivery,
        "DeliveryList": _object(["deliveries"],
                                deliveries={"type": "array", "items": delivery}),
        "CanvasPaused": _object(["name", "paused", "pausedAt"], name={"type": "string"},
                                paused={"type": "boolean"}, pausedAt=_WHEN,
                                pendingDeliveries={"type": "integer"}),
        "CanvasResumed": _object(
            ["name", "paused", "runIds", "discarded"], name={"type": "string"},
            paused={"type": "boolean"}, pausedAt=_WHEN,
            pending={"enum": ["run", "discard", None]},
            runIds={"type": "array", "items": {"type": "string"}},
            discarded={"type": "integer"}),
    }


@cache
def openapi_document() -> dict[str, Any]:
    return {
        "openapi": "3.1.0",
        "info": {"title": "incidentflow", "version": "1"},
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": _schemas(),
        },
        "paths": _paths(),
    }
