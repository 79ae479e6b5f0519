"""Secrets for canvases: named values that templates read as ``{{ secrets.NAME }}``.

What lives here, and why together:
- the rules for names and values, checked the same way by the API, the UI and the CLI;
- :class:`CanvasSecrets`, set / list / delete (values encrypted with ``SecretBox`` before
  they reach the store; listings carry names and dates only);
- which secrets a canvas reads, so saving one that reads a secret not set yet warns;
- :class:`SecretValues`, the decrypted values the worker renders with, and the masking
  that keeps them out of what is stored and shown (resolved configuration, errors,
  emitted events), URL-encoded forms included;
- :class:`SecretCache`, the worker's short-lived copy (like its integration cache), so
  only nodes whose templates read ``secrets`` cost a query and decryptions.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar
from urllib.parse import quote, quote_plus

from jinja2 import TemplateSyntaxError, nodes

from incidentflow.canvas import string_leaves
from incidentflow.crypto import MASK, SecretBox
from incidentflow.errors import InvalidInput, Problem
from incidentflow.events import iso
from incidentflow.log_setup import register_secret

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from incidentflow.app_service import AppService
    from incidentflow.canvas import Canvas, Node
    from incidentflow.components.base import Component, Emission
    from incidentflow.registry import Registry
    from incidentflow.store.port import SecretRecord

T = TypeVar("T")

SCOPE_NAME = "secrets"
NAME_RULE = r"^[A-Za-z_][A-Za-z0-9_]{0,99}$"
_NAME = re.compile(NAME_RULE)
MAX_VALUE_CHARS = 64 * 1024
# The log filter masks registered values from this length on (shorter ones would mask
# ordinary words), so a shorter secret could not be kept out of every log line.
MIN_VALUE_CHARS = 6
CACHE_SECONDS = 5.0  # a new or rotated value reaches running workers within this
_EXPRESSION_KINDS = ("template", "object", "condition")


# -- rules ---------------------------------------------------------------------------------


def check_name(name: Any) -> str:
    """``name`` if it is a valid secret name, else InvalidInput (a 422) saying why."""
    if not isinstance(name, str) or not _NAME.match(name):
        raise InvalidInput(
            f"invalid secret name {name!r}",
            [Problem("must start with a letter or _, then letters, digits or _ "
                     "(at most 100 characters), e.g. PAGER_TOKEN", field="name")],
        )
    return name


def check_value(value: Any) -> str:
    if not isinstance(value, str):
        raise InvalidInput("invalid secret value",
                           [Problem("is required and must be a string", field="value")])
    if not value:
        raise InvalidInput("invalid secret value", [Problem("must not be empty", field="value")])
    if len(value) < MIN_VALUE_CHARS:
        raise InvalidInput("invalid secret value", [Problem(
            f"must be at least {MIN_VALUE_CHARS} characters (shorter values cannot be "
            "masked in logs without masking ordinary words)", field="value")])
    if len(value) > MAX_VALUE_CHARS:
        raise InvalidInput("invalid secret value", [Problem(
            f"is longer than {MAX_VALUE_CHARS} characters", field="value")])
    return value


def value_in(body: Mapping[str, Any]) -> str:
    """The value of a ``{"value": "..."}`` request body; any other key is refused, so a
    typo cannot pass for a secret that was set."""
    extra = sorted(set(body) - {"value"})
    if extra:
        raise InvalidInput("invalid secret request", [
            Problem("unknown field (the body is {\"value\": \"...\"})", field=key)
            for key in extra])
    return check_value(body.get("value"))


def secret_view(record: SecretRecord) -> dict[str, Any]:
    """A secret as the API shows it: its name and dates, never its value."""
    return {"name": record.name, "createdAt": iso(record.created_at),
            "updatedAt": iso(record.updated_at)}


# -- the application service ---------------------------------------------------------------


class CanvasSecrets:
    """Set, list and delete secrets (shared by the API, the UI and, through the API, the
    CLI). Values go in encrypted and never come back out."""

    def __init__(self, host: AppService):
        self.host = host
        self.db = host.db

    async def put(self, name: Any, value: Any) -> SecretRecord:
        name, value = check_name(name), check_value(value)
        register_values(value)  # before anything could log it
        encrypted = self.host.box.encrypt(value)
        return await self.db.put_secret(name, encrypted, self.host.clock())

    async def records(self) -> list[SecretRecord]:
        return await self.db.list_secrets()

    async def names(self) -> set[str]:
        return {record.name for record in await self.records()}

    async def delete(self, name: str) -> None:
        await self.db.delete_secret(name)

    async def missing_in(self, canvas: Canvas) -> list[Problem]:
        """Warnings for the secrets ``canvas`` reads that are not set (no query when it
        reads none)."""
        if not referenced_secrets(canvas, self.host.registry):
            return []
        return missing_secret_warnings(canvas, self.host.registry, await self.names())


def register_values(value: str) -> None:
    """Mask ``value`` in every log line, in the forms a URL gives it too."""
    for form in _forms(value):
        register_secret(form)


# -- which secrets a canvas reads --------------------------------------------------------------


def missing_secret_warnings(
    canvas: Canvas, registry: Registry, existing: set[str]
) -> list[Problem]:
    """One warning per node field that reads a secret not set (yet): the canvas is
    saved anyway, since the secret may be set later."""
    warnings = []
    for node_name, where, secret in referenced_secrets(canvas, registry):
        if secret not in existing:
            warnings.append(Problem(
                f"reads secret {secret!r}, which is not set yet; runs fail until it is "
                f"(incidentflow secrets set {secret})", node_name, where))
    return warnings


def referenced_secrets(canvas: Canvas, registry: Registry) -> list[tuple[str, str, str]]:
    """(node, field path, secret name) for every ``secrets.NAME`` / ``secrets["NAME"]``
    in the canvas's expressions."""
    found = []
    for node in canvas.nodes:
        component = registry.components.get(node.type)
        if component is None:
            continue
        for where, text, condition in _expressions(component, node.configuration):
            for secret in sorted(_secret_names(text, condition)):
                found.append((node.name, where, secret))
    return found


def _expressions(
    component: Component, configuration: Mapping[str, Any]
) -> Iterator[tuple[str, str, bool]]:
    for spec in component.fields:
        if spec.kind not in _EXPRESSION_KINDS:
            continue
        value = configuration.get(spec.name, spec.default)
        for where, text in string_leaves(value, spec.name):
            yield where, text, spec.kind == "condition"




@lru_cache(maxsize=1024)
def _secret_names(text: str, condition: bool) -> frozenset[str]:
    from incidentflow.expressions import EXPRESSIONS

    if SCOPE_NAME not in text:
        return frozenset()
    try:
        ast = EXPRESSIONS.env.parse("{{ " + text + " }}" if condition else text)
    except TemplateSyntaxError:
        return frozenset()  # the canvas check reports the syntax error itself
    names = set()
    for lookup in ast.find_all((nodes.Getattr, nodes.Getitem)):
        target = lookup.node  # type: ignore[attr-defined]
        if isinstance(target, nodes.Name) and target.name == SCOPE_NAME:
            key = _constant_key(lookup)
            if isinstance(key, str):
                names.add(key)
    return frozenset(names)


def _constant_key(lookup: nodes.Node) -> Any:
    if isinstance(lookup, nodes.Getattr):
        return lookup.attr
    if isinstance(lookup, nodes.Getitem) and isinstance(lookup.arg, nodes.Const):
        return lookup.arg.value
    return None


def reads_secrets(node: Node, component: Component) -> bool:
    """Whether resolving ``node`` may read ``secrets`` (only then does the worker read
    and decrypt them); True on a syntax error, as ``EXPRESSIONS.reads`` is."""
    from incidentflow.expressions import EXPRESSIONS

    return any(
        EXPRESSIONS.reads(text, SCOPE_NAME, condition=condition)
        for _, text, condition in _expressions(component, node.configuration)
    )


def named_secrets(node: Node, component: Component) -> frozenset[str]:
    """The secret names ``node`` spells out (``secrets.NAME``, ``secrets["NAME"]``)."""
    return frozenset(name for _, text, condition in _expressions(component, node.configuration)
                     for name in _secret_names(text, condition))


def preview_scope(names: set[str]) -> dict[str, str]:
    """What previews see as ``secrets``: every set name, each value the mask."""
    return dict.fromkeys(sorted(names), MASK)


# -- values at run time ----------------------------------------------------------------------


@dataclass(frozen=True)
class SecretValues:
    """The decrypted values by name (the ``secrets`` scope), and their masking."""

    by_name: dict[str, str]
    _forms: tuple[str, ...] = field(default=(), repr=False)

    @classmethod
    def of(cls, values: Mapping[str, str]) -> SecretValues:
        forms = {form for value in values.values() for form in _forms(value)}
        # Longest first: a value that contains another must be masked whole.
        return cls(dict(values), tuple(sorted(forms, key=len, reverse=True)))

    def __repr__(self) -> str:
        return f"SecretValues(<{len(self.by_name)} hidden>)"

    def mask(self, value: Any) -> Any:
        """``value`` (strings inside dicts and lists too) with every secret masked."""
        if not self._forms:
            return value
        if isinstance(value, str):
            return self._mask_text(value)
        if isinstance(value, dict):
            return {self.mask(k): self.mask(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.mask(item) for item in value]
        return value

    def _mask_text(self, text: str) -> str:
        for form in self._forms:
            if form in text:
                text = text.replace(form, MASK)
        return text


NO_SECRETS = SecretValues({})


def masked_emissions(emissions: list[Emission], values: SecretValues) -> list[Emission]:
    """The events a node emitted, secrets masked (an echoing server must not put a
    secret into the run's events, where the next nodes and the run page read them)."""
    return [
        replace(e, event=replace(e.event, type=values.mask(e.event.type),
                                 data=values.mask(e.event.data)))
        for e in emissions
    ]


def _forms(value: str) -> set[str]:
    """The value and the ways a URL may carry it (percent-encoded, ``+`` for spaces)."""
    return {value, quote(value, safe=""), quote_plus(value),
            quote(value, safe="!$&'()*+,;=:@/?")} - {""}


class SecretCache:
    """The worker's copy of every secret, decrypted, kept ``CACHE_SECONDS``."""

    def __init__(self, seconds: float = CACHE_SECONDS):
        self.seconds = seconds
        self._values: SecretValues | None = None
        self._expires = 0.0
        self._loading: asyncio.Future[SecretValues] | None = None

    def fresh(self) -> SecretValues | None:
        return self._values if self._expires > time.monotonic() else None

    async def get(self, load: Callable[[], Awaitable[SecretValues]],
                  wanted: frozenset[str] = frozenset()) -> SecretValues:
        """The cached values, or those ``load`` (which calls :meth:`load` in a thread)
        returns. Single flight: when the cache runs out under load, the executions
        that want it share one read instead of each reading and decrypting.
        A ``wanted`` name the cached copy lacks reads again at once: a secret set a
        moment ago must not fail the run as "not set" (a permanent failure)."""
        cached = self.fresh()
        if cached is not None and wanted <= cached.by_name.keys():
            return cached
        if self._loading is None or self._loading.done():
            self._loading = asyncio.ensure_future(load())
        return await asyncio.shield(self._loading)

    def load(self, encrypted: Mapping[str, str], box: SecretBox) -> SecretValues:
        """Decrypt every secret's ciphertext (``secrets_encrypted`` of the store) and keep
        the values (CPU work: call it in a thread)."""
        plain = {name: box.decrypt(token) for name, token in encrypted.items()}
        for value in plain.values():
            register_values(value)
        values = SecretValues.of(plain)
        self._values, self._expires = values, time.monotonic() + self.seconds
        return values
