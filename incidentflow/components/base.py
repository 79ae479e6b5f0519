"""What every node type is: the component contract.

A component is a stateless object. The engine resolves a node's configuration
(templates rendered, conditions evaluated) and hands it to ``execute`` together with
everything else the component may need in an :class:`ExecutionContext`. A component
never touches the database: it returns what it emitted and the engine records it.

Triggers are components with ``role = "trigger"``. Webhook triggers also implement
:meth:`WebhookTrigger.receive`, a pure function from raw request to verdict, so that
signature checks are testable without a server and cheap on the hot path.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from incidentflow.errors import Problem
from incidentflow.events import Event

if TYPE_CHECKING:
    import httpx

FieldKind = Literal[
    "text",  # plain string, no expressions
    "template",  # string; may hold {{ }} expressions; a whole-field {{ }} keeps its native type
    "object",  # JSON value (dict/list/scalar); every string inside is a template
    "condition",  # a bare Jinja expression evaluated to a boolean (filter, if)
    "select",  # one of ``options`` (or of an integration resource list)
    "multiselect",  # a list drawn from ``options``
    "boolean",
    "number",
    "secret",  # sensitive string: encrypted at rest, masked everywhere
]

Role = Literal["trigger", "action"]


@dataclass(frozen=True)
class Option:
    value: str
    label: str


@dataclass(frozen=True)
class Field:
    """One configuration field of a node, an integration or a hook."""

    name: str
    kind: FieldKind
    label: str
    required: bool = False
    default: Any = None
    description: str = ""
    options: tuple[Option, ...] = ()
    # For selects whose options come from the integration (e.g. "severity").
    resource: str | None = None

    @property
    def takes_expressions(self) -> bool:
        return self.kind in ("template", "object", "condition")


@dataclass(frozen=True)
class Hook:
    """A named action a person runs on a node, outside any run (e.g. Set signing secret)."""

    name: str
    label: str
    fields: tuple[Field, ...] = ()


@dataclass(frozen=True)
class Emission:
    """One event a node emitted on one of its output channels."""

    event: Event
    channel: str = "default"
    # The downstream executions this emission enqueues start no earlier than this
    # (the ``wait`` step); None: at once.
    not_before: datetime | None = None
    # True: this event becomes the run's trigger event (``root``). For a trigger's own
    # first step that completes what its delivery only pointed at (a private
    # incident.io event, fetched): the run's later steps see the whole object.
    root: bool = False


@dataclass
class ExecutionContext:
    """Everything a component sees while it runs. No database handle on purpose."""

    canvas: str
    node: str
    run_id: str
    execution_id: str
    # Stable across every attempt of this execution: send it to external APIs.
    idempotency_key: str
    attempt: int
    input: Event
    config: dict[str, Any]  # resolved: expressions already rendered
    http: httpx.AsyncClient
    now: datetime
    # The decrypted configuration of the integration named by the node, if any.
    integration: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class RemoteCheck:
    """Result of checking a node against the outside world when the canvas is saved."""

    errors: list[Problem] = field(default_factory=list)
    warnings: list[Problem] = field(default_factory=list)


class Component:
    """Base class of every node type. Subclasses set the class attributes."""

    type: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    icon: ClassVar[str] = "●"
    role: ClassVar[Role] = "action"
    integration: ClassVar[str | None] = None  # integration type this node needs
    # True when naming the integration is allowed but not required (On Incident: the
    # seed's canvases name it; receiving works without an API key).
    integration_optional: ClassVar[bool] = False
    fields: ClassVar[tuple[Field, ...]] = ()
    channels: ClassVar[tuple[str, ...]] = ("default",)
    hooks: ClassVar[tuple[Hook, ...]] = ()
    # One example of what this node emits; the UI previews expressions against it.
    example_output: ClassVar[dict[str, Any] | None] = None
    # The kind of object this action opens, pages or escalates elsewhere (e.g.
    # "incident.incident"). Such actions are rate-limited, and a trigger that listens
    # for that kind in the same canvas is guarded against feeding itself.
    creates: ClassVar[str | None] = None

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        """Static checks beyond field kinds/required (pure; run on every save)."""
        return []

    async def check_remote(
        self,
        node: str,
        config: Mapping[str, Any],
        integration: Mapping[str, Any] | None,
        http: httpx.AsyncClient,
    ) -> RemoteCheck:
        """Checks that need the outside world (e.g. the severity exists). Must not raise:
        an unreachable service is a warning, never a reason to refuse the save."""
        return RemoteCheck()

    async def execute(self, ctx: ExecutionContext) -> list[Emission]:
        raise NotImplementedError(f"{self.type} cannot be executed")

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    def created_id(self, event: Event) -> str | None:
        """The id (elsewhere) of the object ``event`` reports this action created; for
        actions with ``creates`` set. Recorded so the canvas's own triggers recognise
        events about it (the self-trigger guard)."""
        return None


@dataclass(frozen=True)
class WebhookRequest:
    headers: Mapping[str, str]  # lower-case names
    body: bytes


# A 2xx verdict without events whose ``reason`` starts with this was kept out by the
# trigger's own filters: the delivery log records it as "filtered", not "ignored".
FILTERED_REASON = "filtered: "


@dataclass(frozen=True)
class WebhookVerdict:
    """What a webhook trigger decided about one delivery.

    ``status`` is the HTTP status to answer. 2xx with ``events`` empty means "accepted,
    nothing to run" (e.g. an event type the node does not listen to). ``public`` is the
    body sent back (generic for 4xx: docs/design-rules.md, "Generic answers");
    ``reason`` is for logs and the UI only.
    """

    status: int
    public: str
    reason: str = ""
    events: tuple[Event, ...] = ()
    dedupe_key: str | None = None  # e.g. webhook-id; same key twice = one run

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300


class WebhookTrigger(Component):
    """A trigger that owns a public endpoint ``/webhooks/{endpoint_id}``."""

    role: ClassVar[Role] = "trigger"
    # Kinds of object whose events this trigger receives (matched against ``creates``).
    listens_for: ClassVar[frozenset[str]] = frozenset()
    # Configuration flag (a boolean field) that lets events about objects this very
    # canvas created start runs of it again; off by default.
    SELF_TRIGGER_OPT_IN: ClassVar[str] = "allowSelfTriggered"

    def subject_id(self, event: Event) -> str | None:
        """The id of the object (of a kind in ``listens_for``) that ``event`` is about,
        or None. The receiver compares it with what create actions of the same canvas
        opened."""
        return None

    def could_be_self_created(self, event: Event) -> bool:
        """False when the event itself shows its object was not opened through an
        integration's API (e.g. a person declared the incident): no create action can
        have made it, so the guard neither looks it up nor waits. True when unsure."""
        return True

    def receiving_config(
        self, configuration: Mapping[str, Any], integration: str | None
    ) -> Mapping[str, Any]:
        """What ``receive`` gets as ``config``: the node's configuration, to which a
        trigger may add the name of the integration its node names (computed once per
        endpoint, not per delivery)."""
        return configuration

    def first_step(self, event: Event) -> bool:
        """True when a run started by ``event`` begins with this trigger's own
        execution (``execute``, e.g. fetching what a private delivery only names by
        id) instead of the nodes wired to it, which then handle what it emits."""
        return False

    def allows_self_triggered(self, config: Mapping[str, Any]) -> bool:
        return config.get(self.SELF_TRIGGER_OPT_IN) is True

    def receive(
        self,
        request: WebhookRequest,
        secrets: list[str],
        config: Mapping[str, Any],
        now: datetime,
    ) -> WebhookVerdict:
        """Verify and parse one delivery. ``secrets`` are the currently valid signing
        secrets (empty: none set, reject). Pure: no I/O."""
        raise NotImplementedError
