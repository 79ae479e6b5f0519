"""The HTTP client every outgoing call uses, with the egress policy enforced where it
cannot be dodged: on the address a connection is actually made to.

A host name is resolved once, every address it resolved to is checked, and the
connection goes to one of those checked addresses (never to the name, which the
operating system would resolve again: a DNS answer that changes between the check and
the connection is how rebinding attacks work). TLS still verifies the certificate
against the host name in the URL.

Outgoing calls connect directly: ``HTTP_PROXY`` / ``HTTPS_PROXY`` are not used, since a
proxy would make the connection, and the check, somewhere else.

Cost per call (issue 14, the alert storm; bench/profiles/FINDINGS.md): every connection
the pool holds is looked at on each request, so the pool keeps what it opened (no
close-and-reopen churn) and stays small; and httpcore's per-lock "which async library?"
question must not become a failed import each time (``_remember_missing``).
"""

from __future__ import annotations

import importlib.util
import select
import socket
import ssl
import sys
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import anyio
import httpcore
import httpx

from incidentflow.egress import (
    EgressPolicy,
    EgressRefused,
    check_url,
    current_policy,
    literal_address,
)
from incidentflow.egress_gate import OriginGate

Resolver = Callable[[str, int], Awaitable[list[str]]]
PolicySource = Callable[[], EgressPolicy]

# Connections the shared client opens, all kept alive between calls. Every request
# walks the pool's connections (httpcore checks each one's socket), so a pool this size
# costs a fraction of one of 100; and keep-alive equal to the maximum, because httpcore
# closes an idle connection whenever the pool holds more than the keep-alive count
# (it counts all of them, not the idle ones): with 64 busy worker slots, every call past
# the 20th opened a new connection (and, with TLS, a new handshake).
MAX_CONNECTIONS = 32
# A request's writes up to this size go out in one send (``_PooledStream``).
COALESCE_BYTES = 64 * 1024
# Requests to one origin in the pool at once (``egress_gate``); the rest wait outside it.
PER_ORIGIN = 16
POOL_LIMITS = httpx.Limits(max_connections=MAX_CONNECTIONS,
                           max_keepalive_connections=MAX_CONNECTIONS)


def _remember_missing(module: str) -> None:
    """Record ``module`` as absent, when it is, so importing it fails at once.

    httpcore asks ``import sniffio`` each time it sets up one of its locks or events
    (several per request). Without sniffio installed (httpx no longer needs it), each
    attempt searched every ``sys.path`` entry again: about a fifth of the time of an alert
    storm's outgoing calls. ``None`` in ``sys.modules`` is Python's own "known missing";
    httpcore handles the ImportError as before (asyncio)."""
    if module not in sys.modules and importlib.util.find_spec(module) is None:
        sys.modules[module] = None  # type: ignore[assignment]


_remember_missing("sniffio")


async def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to, in the resolver's order, without repeats."""
    literal = literal_address(host)
    if literal is not None and "%" not in host:
        return [str(literal)]
    try:
        found = await anyio.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:  # socket.gaierror: the name does not resolve (now)
        raise httpcore.ConnectError(f"cannot resolve {host}: {exc}") from exc
    addresses: list[str] = []
    for *_, sockaddr in found:
        address = str(sockaddr[0])
        if address not in addresses:
            addresses.append(address)
    return addresses


class GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve, check every address against the policy, connect to a checked one."""

    def __init__(
        self,
        policy: PolicySource = current_policy,
        resolver: Resolver = resolve,
        inner: httpcore.AsyncNetworkBackend | None = None,
    ):
        self._policy, self._resolver = policy, resolver
        self._inner = inner or httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        policy = self._policy()
        policy.check_host(host)
        addresses = await self._resolve(host, port, timeout)
        for address in addresses:  # every one: a mixed answer is refused as a whole
            policy.check_address(host, address)
        last_error: Exception = httpcore.ConnectError(f"{host} resolved to no address")
        for address in addresses:
            try:
                return _PooledStream(await self._inner.connect_tcp(
                    address, port, timeout, local_address, socket_options))
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last_error = exc
        raise last_error

    async def _resolve(self, host: str, port: int, timeout: float | None) -> list[str]:
        try:
            with anyio.fail_after(timeout):
                return await self._resolver(host, port)
        except TimeoutError as exc:
            raise httpcore.ConnectTimeout(f"resolving {host} timed out") from exc

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise EgressRefused("egress refused: outgoing calls never use Unix sockets")

    async def sleep(self, seconds: float) -> None:
        await self._inner.sleep(seconds)


class _PooledStream(httpcore.AsyncNetworkStream):
    """A connection as the pool sees it, for two costs of every call (the alert storm,
    bench/profiles/FINDINGS.md):

    - "is it readable?": the pool asks it of every idle connection on every request (a
      closed keep-alive shows as readable); anyio's answer built a table of all its
      attributes each time. Here the socket is found once.
    - the request's writes (head, body, end) go out together, in one send, when the
      answer is read: each send to the peer cost a system call and a wakeup of the
      other side. A large body is sent as it comes (past ``COALESCE_BYTES``).
    """

    def __init__(self, inner: httpcore.AsyncNetworkStream):
        self._inner = inner
        self._socket: socket.socket | None = inner.get_extra_info("socket")
        self._pending: list[bytes] = []
        self._pending_bytes = 0
        self._write_timeout: float | None = None

    async def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        await self._flush()
        return await self._inner.read(max_bytes, timeout)

    async def write(self, buffer: bytes, timeout: float | None = None) -> None:
        if not buffer:
            return
        self._pending.append(buffer)
        self._pending_bytes += len(buffer)
        self._write_timeout = timeout
        if self._pending_bytes >= COALESCE_BYTES:
            await self._flush()

    async def _flush(self) -> None:
        if self._pending:
            data = b"".join(self._pending)
            self._pending.clear()
            self._pending_bytes = 0
            await self._inner.write(data, self._write_timeout)

    async def aclose(self) -> None:
        self._pending.clear()  # a request given up: nothing of it is owed
        await self._inner.aclose()

    async def start_tls(
        self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.AsyncNetworkStream:
        await self._flush()
        return _PooledStream(await self._inner.start_tls(ssl_context, server_hostname, timeout))

    def get_extra_info(self, info: str) -> Any:
        if info == "is_readable" and self._socket is not None:
            return _readable(self._socket)
        return self._inner.get_extra_info(info)


def _readable(sock: socket.socket) -> bool:
    """Whether reading would not block (data, or the peer's close); a closed socket
    counts as readable, as httpcore counts it."""
    fd = sock.fileno()
    if fd < 0:
        return True
    poll = select.poll()
    poll.register(fd, select.POLLIN)
    return bool(poll.poll(0))


class EgressTransport(httpx.AsyncHTTPTransport):
    """httpx's own transport, its connection pool built on :class:`GuardedBackend`;
    each request's URL is checked first, so a bad one fails before any lookup."""

    def __init__(
        self,
        policy: PolicySource = current_policy,
        resolver: Resolver = resolve,
        limits: httpx.Limits = POOL_LIMITS,
    ):
        super().__init__(limits=limits)
        self._policy = policy
        # httpx has no parameter for the network backend: replace the pool it built
        # with the same settings plus ours (tests/security/test_egress.py proves the
        # guard sits on real connections).
        self._pool = httpcore.AsyncConnectionPool(
            ssl_context=httpx.create_ssl_context(),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedBackend(policy, resolver),
        )
        self._gate = OriginGate(min(PER_ORIGIN, limits.max_connections or PER_ORIGIN))

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        check_url(request.url, self._policy())
        return await self._gate.send(request, super().handle_async_request)


def egress_client(
    timeout: httpx.Timeout | float,
    *,
    policy: PolicySource = current_policy,
    resolver: Resolver = resolve,
) -> httpx.AsyncClient:
    """The shared client for outgoing calls; redirects are never followed."""
    policy()  # a bad INCIDENTFLOW_EGRESS_* setting stops the start, not the first call
    return httpx.AsyncClient(
        transport=EgressTransport(policy, resolver), timeout=timeout, follow_redirects=False)
