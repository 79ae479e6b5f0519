"""Pre-signed incident.io deliveries, varied per request, written for wrk's Lua script.

The body template is incident.io's ``public_incident.incident_created_v2`` example
(from incident.io's public OpenAPI examples, trimmed to ~1.2 KB, the size of a real
created-incident delivery without custom fields). Each delivery gets its own
webhook-id, incident id and name, so a deduplicating receiver does real work for
every request. Timestamps are taken when the pool is built, right before a run:
a pool stays valid for the signature tolerance (5 minutes).
"""

from __future__ import annotations

import copy
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from bench import signing

EVENT_TYPE = "public_incident.incident_created_v2"
TEMPLATE_PATH = Path(__file__).with_name("incident_created_v2.json")


@dataclass(frozen=True)
class Delivery:
    path: str
    webhook_id: str
    timestamp: int
    signature: str
    body: bytes
    incident_name: str

    def headers(self) -> dict[str, str]:
        return {
            "content-type": "application/json",
            "webhook-id": self.webhook_id,
            "webhook-timestamp": str(self.timestamp),
            "webhook-signature": self.signature,
        }


def _template() -> dict:
    return json.loads(TEMPLATE_PATH.read_text())


def incident_body(template: dict, number: int, tag: str) -> tuple[bytes, str]:
    """One delivery body with its own incident id and name; returns (body, name)."""
    payload = copy.deepcopy(template)
    incident = payload[EVENT_TYPE]
    name = f"bench {tag} #{number}: database is sad"
    incident["id"] = f"01BENCH{tag.upper()}{number:012d}"
    incident["name"] = name
    incident["reference"] = f"INC-{number}"
    return json.dumps(payload, separators=(",", ":")).encode(), name


def webhook_id_prefix(tag: str) -> str:
    """What every webhook-id of the deliveries made with ``tag`` starts with."""
    return f"msg_bench_{tag}_"


def signed_deliveries(
    path: str, secret: str, count: int, tag: str, start: int = 0
) -> Iterator[Delivery]:
    """``count`` deliveries to ``path`` signed with ``secret`` at the current time."""
    key = signing.secret_key(secret)
    template = _template()
    now = int(time.time())
    for number in range(start, start + count):
        body, name = incident_body(template, number, tag)
        webhook_id = f"{webhook_id_prefix(tag)}{number}"
        signature = signing.sign(key, webhook_id, now, body)
        yield Delivery(path, webhook_id, now, signature, body, name)


def write_pool(deliveries: Iterator[Delivery], target: Path) -> int:
    """One delivery per line, tab-separated, as ``bench/signed_requests.lua`` reads it."""
    written = 0
    with target.open("wb") as handle:
        for d in deliveries:
            fields = [d.webhook_id, str(d.timestamp), d.signature, d.path]
            handle.write("\t".join(fields).encode() + b"\t" + d.body + b"\n")
            written += 1
    return written


def read_pool(target: Path, count: int) -> list[Delivery]:
    """The first ``count`` deliveries of a pool file, as ``write_pool`` wrote them."""
    found: list[Delivery] = []
    with target.open("rb") as handle:
        for line in handle:
            if len(found) == count:
                break
            webhook_id, timestamp, signature, path, body = line.rstrip(b"\n").split(b"\t", 4)
            name = json.loads(body)[EVENT_TYPE]["name"]
            found.append(Delivery(path.decode(), webhook_id.decode(), int(timestamp),
                                  signature.decode(), body, name))
    return found
