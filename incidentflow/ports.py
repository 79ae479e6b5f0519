"""Is a TCP port free to listen on? Asked before `serve` and `demo` start, so a port
held by another server is a clear error instead of a confusing one later (the demo
would otherwise talk to that other server and be refused with a 401)."""

from __future__ import annotations

import errno
import socket


def port_in_use(host: str, port: int) -> bool:
    """True when nothing can listen on ``host:port`` now (another process holds it).
    Binds the way uvicorn does (SO_REUSEADDR), so a port in TIME_WAIT counts as free."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                return True
            raise
    return False


def port_taken_message(host: str, port: int, option: str = "--port") -> str:
    return (f"port {port} is in use on {host}: another server (perhaps `make run` or "
            f"another incidentflow) is listening there. Stop it, or choose another port "
            f"with {option}.")
