"""Bad input at the public webhook endpoint of a live server: each malformed delivery
gets the right 4xx, and nothing is stored (no run, no event; counters say rejected).

- unsigned (whatever the body): 403, before the body is parsed;
- more than 512 KiB: 413, before anything else;
- signed but malformed: 400.
"""

from __future__ import annotations

import json

import httpx
import pytest
from reliability.deliveries import incident_body, signed
from reliability.ledger import read_ledger

from .conftest import Stack

LIMIT = 512 * 1024


def nested(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def deep_object(depth: int) -> bytes:
    return b'{"a":' * depth + b"1" + b"}" * depth


GOOD = incident_body(1)
MALFORMED_BODIES = {
    "truncated JSON": GOOD[: len(GOOD) // 2],
    "empty body": b"",
    "JSON array": b"[1, 2, 3]",
    "JSON string": b'"public_incident.incident_created_v2"',
    "non-UTF-8 bytes": b'{"event_type": "\xff\xfe\xfa"}',
    "nested 10k deep array": nested(10_000),
    "nested 10k deep object": deep_object(10_000),
    "no event_type": json.dumps({"incident": {"id": "x"}}).encode(),
    "event_type not a string": json.dumps({"event_type": 5}).encode(),
    "incident not an object": json.dumps({"event_type": "public_incident.incident_created_v2",
                                          "public_incident.incident_created_v2": 7}).encode(),
}


def database_url(stack: Stack) -> str:
    return f"sqlite:///{(stack.server.data_dir / 'incidentflow.db').resolve()}"


@pytest.fixture
def counts(stack: Stack):
    """A function giving (runs, incoming events, rejected counter) now. Events emitted by
    nodes are left out: runs of earlier tests may still be finishing in the background."""
    def now() -> tuple[int, int, int]:
        ledger = read_ledger(database_url(stack))
        return ledger.runs, ledger.trigger_events, ledger.counters["rejected"]
    return now


def post(stack: Stack, body: bytes, headers: dict[str, str]) -> httpx.Response:
    return httpx.post(stack.webhook.url, content=body, headers=headers, timeout=30)


@pytest.mark.parametrize("name", sorted(MALFORMED_BODIES))
def test_unsigned_junk_is_403(stack: Stack, counts, name: str) -> None:
    before = counts()
    answer = post(stack, MALFORMED_BODIES[name], {"content-type": "application/json"})
    assert answer.status_code == 403
    runs, events, rejected = counts()
    assert (runs, events, rejected) == (before[0], before[1], before[2] + 1)


@pytest.mark.parametrize("name", sorted(MALFORMED_BODIES))
def test_signed_junk_is_400_and_stores_nothing(stack: Stack, counts, name: str) -> None:
    before = counts()
    delivery = signed(stack.webhook.secret, f"msg_junk_{abs(hash(name))}", MALFORMED_BODIES[name])
    answer = post(stack, delivery.body, delivery.headers)
    assert answer.status_code == 400, (name, answer.status_code, answer.text)
    runs, events, rejected = counts()
    assert (runs, events, rejected) == (before[0], before[1], before[2] + 1)


def test_unsigned_wrong_content_type_is_403(stack: Stack, counts) -> None:
    before = counts()
    answer = post(stack, GOOD, {"content-type": "text/plain"})
    assert answer.status_code == 403
    assert counts()[:2] == before[:2]


def test_signed_wrong_content_type_is_415_and_stores_nothing(stack: Stack, counts) -> None:
    before = counts()
    delivery = signed(stack.webhook.secret, "msg_wrong_type", incident_body(3))
    headers = {**delivery.headers, "content-type": "text/plain"}
    answer = post(stack, delivery.body, headers)
    assert answer.status_code == 415, answer.text
    runs, events, rejected = counts()
    assert (runs, events, rejected) == (before[0], before[1], before[2] + 1)


@pytest.mark.parametrize("size", [LIMIT + 1, 10 * 1024 * 1024])
def test_bodies_over_512_kib_are_413(stack: Stack, counts, size: int) -> None:
    before = counts()
    body = b'{"pad": "' + b"x" * size + b'"}'
    delivery = signed(stack.webhook.secret, f"msg_huge_{size}", body)
    answer = post(stack, body, delivery.headers)
    assert answer.status_code == 413
    assert counts()[:2] == before[:2]


def test_chunked_body_over_512_kib_is_413(stack: Stack, counts) -> None:
    """No content-length to trust: the limit is counted while reading."""
    before = counts()

    def chunks():
        for _ in range(12):
            yield b"y" * 65536

    answer = httpx.post(stack.webhook.url, content=chunks(), timeout=30,
                        headers={"content-type": "application/json"})
    assert answer.status_code == 413
    assert counts()[:2] == before[:2]


def test_an_unsigned_delivery_with_a_64_kib_header_is_refused(stack: Stack, counts) -> None:
    before = counts()
    answer = post(stack, GOOD, {"content-type": "application/json", "x-padding": "h" * 65536})
    assert answer.status_code in (403, 431)
    assert counts()[:2] == before[:2]


def test_a_64_kib_header_value_is_431(stack: Stack, counts) -> None:
    before = counts()
    delivery = signed(stack.webhook.secret, "msg_big_header", incident_body(4))
    headers = {**delivery.headers, "x-padding": "h" * 65536}
    answer = post(stack, delivery.body, headers)
    assert answer.status_code == 431
    assert counts()[:2] == before[:2]


def test_a_huge_signature_header_is_403(stack: Stack, counts) -> None:
    before = counts()
    delivery = signed(stack.webhook.secret, "msg_many_sigs", GOOD)
    headers = {**delivery.headers,
               "webhook-signature": " ".join(["v1,AAAA"] * 1500)}  # under the header limit
    answer = post(stack, GOOD, headers)
    assert answer.status_code == 403
    assert counts()[:2] == before[:2]


def test_a_good_delivery_still_starts_a_run(stack: Stack, counts) -> None:
    """The control: the same endpoint accepts a well-formed signed delivery."""
    before = counts()
    delivery = signed(stack.webhook.secret, "msg_control", incident_body(2))
    answer = post(stack, delivery.body, delivery.headers)
    assert answer.status_code == 200 and answer.json() == {"status": "accepted"}
    assert counts()[0] == before[0] + 1
