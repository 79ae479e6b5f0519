"""The egress policy: which addresses outgoing calls (the ``http`` step, integrations)
may reach, and which URLs they can use at all.

By default everything is reachable except link-local and cloud-metadata addresses
(where a cloud VM's credentials are served) and the "unspecified" address, which
connects to this machine while looking like no address at all. Loopback and private
ranges stay reachable: the emulator and on-prem services live there.

Two settings adjust it (comma-separated CIDRs and host names)::

    INCIDENTFLOW_EGRESS_DENY    added to the default deny list
    INCIDENTFLOW_EGRESS_ALLOW   exempt from every deny rule (e.g. a metadata proxy)

A host name entry matches that name; one starting with ``.`` matches every name under
it. The policy is checked twice: when a URL is saved (literal addresses and known host
names, see :func:`url_problem`) and when a connection is made, on every address the
name resolved to (``egress_transport``), so DNS rebinding cannot get round it.

Importing this module also keeps URL query strings and userinfo out of httpx's
request log lines (see :func:`redact_url`).
"""

from __future__ import annotations

import ipaddress
import logging
import os
import re
import socket
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

import httpx

from incidentflow.errors import ConfigurationError, PermanentError

ALLOW_SETTING = "INCIDENTFLOW_EGRESS_ALLOW"
DENY_SETTING = "INCIDENTFLOW_EGRESS_DENY"
SCHEMES = ("http", "https")
# What a template may start with; text before the first of these is literal.
_TEMPLATE_MARKERS = ("{{", "{%", "{#")
_HOST_NAME = re.compile(r"^[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]*[a-z0-9_])?)*$")
# glibc also reads "2852039166", "0xa9fea9fe" and "169.254.43518" as IPv4 addresses.
_LEGACY_IPV4 = re.compile(r"^(0x[0-9a-f]+|[0-9]+)(\.(0x[0-9a-f]+|[0-9]+)){0,3}$")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

DEFAULT_DENY_NETWORKS: tuple[tuple[str, str], ...] = (
    ("169.254.0.0/16", "link-local, where cloud metadata services answer"),
    ("fe80::/10", "IPv6 link-local"),
    ("fd00:ec2::254/128", "the AWS metadata service (IPv6)"),
    ("100.100.100.200/32", "the Alibaba Cloud metadata service"),
    ("0.0.0.0/8", "the unspecified address, which reaches this machine"),
    ("::/128", "the unspecified address, which reaches this machine"),
)
DEFAULT_DENY_HOSTS: tuple[str, ...] = (
    "metadata.google.internal",
    "metadata.goog",
    "metadata",
    "instance-data",
    "instance-data.ec2.internal",
)


class EgressError(PermanentError):
    """An outgoing call that must not be made; retrying cannot help."""


class UnusableUrl(EgressError):
    """The URL cannot be used by the HTTP client (scheme, host or port)."""


class EgressRefused(EgressError):
    """The egress policy refuses the destination."""


@dataclass(frozen=True)
class NetworkRule:
    network: Network
    why: str  # shown in the refusal: what this range is
    setting: str | None = None  # the setting that added it; None for a default rule


@dataclass(frozen=True)
class HostRule:
    name: str  # lower case, no trailing dot; ".example.com" matches names under it
    why: str
    setting: str | None = None

    def matches(self, host: str) -> bool:
        if self.name.startswith("."):
            return host.endswith(self.name) or host == self.name[1:]
        return host == self.name


@dataclass(frozen=True)
class EgressPolicy:
    deny_networks: tuple[NetworkRule, ...] = ()
    deny_hosts: tuple[HostRule, ...] = ()
    allow_networks: tuple[Network, ...] = ()
    allow_hosts: tuple[HostRule, ...] = ()

    @classmethod
    def from_settings(cls, allow: str = "", deny: str = "") -> EgressPolicy:
        """The default rules, plus ``deny``, minus whatever ``allow`` names."""
        extra_networks, extra_hosts = _entries(deny, DENY_SETTING)
        allow_networks, allow_hosts = _entries(allow, ALLOW_SETTING)
        return cls(
            deny_networks=(
                *(NetworkRule(ipaddress.ip_network(cidr), why) for cidr, why in
                  DEFAULT_DENY_NETWORKS),
                *(NetworkRule(n, "", DENY_SETTING) for n in extra_networks),
            ),
            deny_hosts=(
                *(HostRule(h, "a cloud metadata host name") for h in DEFAULT_DENY_HOSTS),
                *(HostRule(h, "", DENY_SETTING) for h in extra_hosts),
            ),
            allow_networks=tuple(allow_networks),
            allow_hosts=tuple(HostRule(h, "", ALLOW_SETTING) for h in allow_hosts),
        )

    def host_allowed(self, host: str) -> bool:
        """True when ``host`` is exempt by name (every address it resolves to)."""
        return any(rule.matches(normal_host(host)) for rule in self.allow_hosts)

    def check_host(self, host: str) -> None:
        """Refuse a known host name or a literal address, before any DNS lookup."""
        name = normal_host(host)
        if self.host_allowed(name):
            return
        for rule in self.deny_hosts:
            if rule.matches(name):
                what = name if rule.name == name else f"{name}, which matches {rule.name}"
                raise EgressRefused(f"egress refused: {what}, {_rule_text(rule.why, rule.setting)}")
        address = literal_address(name)
        if address is not None:
            self.check_address(name, address)

    def check_address(self, host: str, address: Address | str) -> None:
        """Refuse ``address`` (what ``host`` resolved to) unless it is allowed."""
        if self.host_allowed(host):
            return
        ip = ipaddress.ip_address(address) if isinstance(address, str) else address
        candidates = [ip]
        if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
            candidates.append(ip.ipv4_mapped)  # ::ffff:169.254.169.254 is 169.254.169.254
        if any(c in n for c in candidates for n in self.allow_networks):
            return
        for rule in self.deny_networks:
            if any(c in rule.network for c in candidates):
                raise EgressRefused(
                    f"egress refused: {_subject(host, ip)}, which is in {rule.network}, "
                    f"{_rule_text(rule.why, rule.setting)}")


def _subject(host: str, ip: Address) -> str:
    name = normal_host(host)
    if name == str(ip):
        return name
    if literal_address(name) == ip:
        return f"{name} (address {ip})"
    return f"{name} resolves to {ip}"


def _rule_text(why: str, setting: str | None) -> str:
    if setting is None:
        return f"{why}: denied by default; to allow it, add it to {ALLOW_SETTING}"
    return f"denied by {setting}"


def _entries(raw: str, setting: str) -> tuple[list[Network], list[str]]:
    networks: list[Network] = []
    hosts: list[str] = []
    for entry in (e.strip() for e in (raw or "").split(",")):
        if not entry:
            continue
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
            continue
        except ValueError:
            pass
        name = entry.lower().rstrip(".")
        bare = name.removeprefix("*.").removeprefix(".")
        if not _HOST_NAME.match(bare):
            raise ConfigurationError(
                f"{setting}: {entry!r} is neither a CIDR (e.g. 10.0.0.0/8) nor a host name")
        hosts.append("." + bare if name.startswith((".", "*.")) else bare)
    return networks, hosts


@lru_cache(maxsize=8)
def _policy_for(allow: str, deny: str) -> EgressPolicy:
    return EgressPolicy.from_settings(allow, deny)


def current_policy(env: Mapping[str, str] | None = None) -> EgressPolicy:
    """The policy the environment asks for (parsed once per distinct setting)."""
    env = os.environ if env is None else env
    return _policy_for(env.get(ALLOW_SETTING, ""), env.get(DENY_SETTING, ""))


# -- hosts and URLs ---------------------------------------------------------------------


def normal_host(host: str) -> str:
    """Lower case, no brackets, no trailing dot: ``METADATA.google.internal.`` is the
    metadata server too."""
    return host.strip().strip("[]").lower().rstrip(".")


def literal_address(host: str) -> Address | None:
    """The address ``host`` spells out, in any form the resolver accepts, or None."""
    name = normal_host(host).split("%", 1)[0]  # an IPv6 zone ("%eth0") names no address
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    if _LEGACY_IPV4.match(name):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(name))
        except OSError:
            return None
    return None


def check_url(url: str | httpx.URL, policy: EgressPolicy | None = None) -> httpx.URL:
    """``url`` parsed, or UnusableUrl / EgressRefused saying why it cannot be called."""
    parsed = _usable(url)
    (policy or current_policy()).check_host(parsed.host)
    return parsed


def _usable(url: str | httpx.URL) -> httpx.URL:
    shown = redact_url(url)
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(url.strip())
    except httpx.InvalidURL as exc:
        raise UnusableUrl(f"invalid URL {shown}: {exc}") from None
    if not parsed.scheme:
        raise UnusableUrl(f"URL {shown} has no scheme (use http:// or https://)")
    if parsed.scheme not in SCHEMES:
        raise UnusableUrl(f"unsupported URL scheme {parsed.scheme}:// in {shown} "
                          "(use http:// or https://)")
    host = parsed.raw_host.decode("ascii", "replace")
    if not host:
        raise UnusableUrl(f"URL {shown} has no host")
    if literal_address(host) is None and not _HOST_NAME.match(normal_host(host)):
        raise UnusableUrl(f"URL {shown} has an invalid host {host!r}")
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise UnusableUrl(f"URL {shown} has an invalid port {parsed.port}")
    return parsed


def url_problem(url: str, policy: EgressPolicy | None = None) -> str | None:
    """Why ``url`` cannot be called, or None."""
    try:
        check_url(url, policy)
    except EgressError as exc:
        return str(exc)
    return None


def template_url_problem(template: str, policy: EgressPolicy | None = None) -> str | None:
    """Like :func:`url_problem` for a URL template, as far as its literal start decides:
    ``http://169.254.169.254/{{ path }}`` is refused at save; ``{{ root.data.url }}`` can
    only be checked when it runs."""
    cut = min((i for i in (template.find(m) for m in _TEMPLATE_MARKERS) if i >= 0),
              default=-1)
    if cut < 0:
        return url_problem(template, policy)
    literal = template[:cut].strip()
    scheme, sep, rest = literal.partition("://")
    if not sep:
        return None
    if scheme.lower() not in SCHEMES:
        return f"unsupported URL scheme {scheme}:// (use http:// or https://)"
    ends = [i for i in (rest.find(c) for c in "/?#") if i >= 0]
    if not ends:
        return None  # the host is still being written by the template
    return url_problem(f"{scheme}://{rest[:min(ends)]}/", policy)


def redact_url(url: str | httpx.URL) -> str:
    """``scheme://host[:port]/path``: no userinfo (``user:pass@``), query or fragment,
    which may hold tokens. For log lines and error messages."""
    text = str(url).strip()
    try:
        parsed = url if isinstance(url, httpx.URL) else httpx.URL(text)
    except httpx.InvalidURL:
        return _redact_text(text)
    if not parsed.scheme or not parsed.host:
        return _redact_text(text)
    host = f"[{parsed.host}]" if ":" in parsed.host else parsed.host
    port = f":{parsed.port}" if parsed.port is not None else ""
    return f"{parsed.scheme}://{host}{port}{parsed.path}"


def _redact_text(text: str) -> str:
    """Best effort for text httpx cannot parse: cut the query, drop any userinfo."""
    text = re.split(r"[?#]", text, maxsplit=1)[0]
    return re.sub(r"(?<=://)[^/@]*@", "", text)


class _RedactUrls(logging.Filter):
    """httpx logs ``HTTP Request: POST <url> "HTTP/1.1 200 OK"`` with the full URL."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(
                redact_url(a) if isinstance(a, httpx.URL) else a for a in record.args)
        return True


def _redact_http_logs() -> None:
    logger = logging.getLogger("httpx")
    if not any(isinstance(f, _RedactUrls) for f in logger.filters):
        logger.addFilter(_RedactUrls())


_redact_http_logs()
