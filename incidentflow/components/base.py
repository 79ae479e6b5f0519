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
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from incidentflow.errors import Problem
from incidentflow.events import FILTERED_REASON, Event  # noqa: F401  (part of the contract)
from incidentflow.wait_records import Wait, Waiting  # noqa: F401  (part of the component contract)

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


class WaitBegins(Exception):  # noqa: N818 (a signal, not an error)
    """Raised by a waiting step's ``execute`` when it has nothing to emit yet: the
    engine records ``waiting`` and frees the worker slot. Not a failure."""

    def __init__(self, waiting: Waiting):
        super().__init__(waiting.summary)
        self.waiting = waiting


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
    # For a waiting step (``Component.waits`` set): its stored wait, None the first
    # time it runs (then it raises ``WaitBegins``).
    waited: Wait | None = None


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
    # Every event type this node may emit, for its reference page (docs/components/).
    # Empty: the type of ``example_output``, or (without one) the input passed on.
    emits: ClassVar[tuple[str, ...]] = ()
    # The same event with only the fields the service guarantees (required in its
    # schema); previews also run against it to find expressions that would fail on a
    # real event lacking an optional field. None: the example has only guaranteed fields.
    example_minimal: ClassVar[dict[str, Any] | None] = None
    # The kind of object this action opens, pages or escalates elsewhere (e.g.
    # "incident.incident"). Such actions are rate-limited, and a trigger that listens
    # for that kind in the same canvas is guarded against feeding itself.
    creates: ClassVar[str | None] = None
    # The kind of wait this step may begin (``WaitBegins``), e.g. "approval": the
    # engine then hands it its stored wait in ``ExecutionContext.waited``.
    waits: ClassVar[str | None] = None

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

    @property
    def sends_json(self) -> bool:
        """The content type is JSON (``application/json`` or ``application/*+json``);
        an absent header is read as JSON too, as senders often leave it out."""
        media = self.headers.get("content-type", "").split(";", 1)[0].strip().lower()
        return media in ("", "application/json") or (
            media.startswith("application/") and media.endswith("+json"))


class RejectionCode(StrEnum):
    """Why a delivery was refused, as a fixed code: logs, metrics labels and the
    delivery log read this, never the English reason (which is for people)."""

    NO_SECRET = "no_secret"  # docs/design-rules.md, "Fail closed"
    MISSING_HEADERS = "missing_headers"  # a header verification needs is absent
    STALE_TIMESTAMP = "stale_timestamp"  # outside the tolerance, or not a time at all
    BAD_SIGNATURE = "bad_signature"  # no signature (or bearer secret) matches
    UNSUPPORTED_MEDIA_TYPE = "unsupported_media_type"
    MALFORMED_BODY = "malformed"  # not the JSON the trigger expects
    TOO_LARGE = "too_large"
    UNKNOWN_ENDPOINT = "unknown_endpoint"
    TRIGGER_ERROR = "trigger_error"  # the trigger itself failed (a bug): 400, logged
    OTHER = "other"  # a trigger rejected without saying why


# What the sender is told for each code: short and generic
# (docs/design-rules.md, "Generic answers"); NO_SECRET says so plainly because the
# operator reads it in the sender's delivery log (docs/design-rules.md, "Fail closed").
_REJECTION_ANSWERS: dict[RejectionCode, tuple[int, str]] = {
    RejectionCode.NO_SECRET: (403, "signing secret not set"),
    RejectionCode.MISSING_HEADERS: (403, "forbidden"),
    RejectionCode.STALE_TIMESTAMP: (403, "forbidden"),
    RejectionCode.BAD_SIGNATURE: (403, "forbidden"),
    RejectionCode.UNSUPPORTED_MEDIA_TYPE: (415, "unsupported media type: send application/json"),
    RejectionCode.MALFORMED_BODY: (400, "bad request"),
    RejectionCode.TOO_LARGE: (413, "payload too large"),
    RejectionCode.UNKNOWN_ENDPOINT: (404, "not found"),
    RejectionCode.TRIGGER_ERROR: (400, "bad request"),
    RejectionCode.OTHER: (400, "bad request"),
}


def rejection_answer(code: RejectionCode) -> tuple[int, str]:
    """(HTTP status, generic body text) a sender gets for a rejection with ``code``."""
    return _REJECTION_ANSWERS[code]


# A 2xx verdict without events whose ``reason`` starts with FILTERED_REASON (defined
# in ``events``, so the store need not know components) was kept out by the
# trigger's own filters: the delivery log records it as "filtered", not "ignored".


@dataclass(frozen=True)
class WebhookVerdict:
    """What a webhook trigger decided about one delivery.

    ``status`` is the HTTP status to answer. 2xx with ``events`` empty means "accepted,
    nothing to run" (e.g. an event type the node does not listen to). ``public`` is the
    body sent back (generic for 4xx: docs/design-rules.md, "Generic answers");
    ``reason`` is for logs and the UI only; ``code`` classifies a rejection (build one
    with :meth:`rejected`; a rejection without a code counts as ``OTHER``).
    """

    status: int
    public: str
    reason: str = ""
    events: tuple[Event, ...] = ()
    dedupe_key: str | None = None  # e.g. webhook-id; same key twice = one run
    code: RejectionCode | None = None

    @classmethod
    def rejected(
        cls, code: RejectionCode, reason: str, dedupe_key: str | None = None
    ) -> WebhookVerdict:
        """A refusal with the status and generic answer that belong to ``code``."""
        status, public = rejection_answer(code)
        return cls(status, public, reason, dedupe_key=dedupe_key, code=code)

    @classmethod
    def not_json(cls, request: WebhookRequest) -> WebhookVerdict:
        """The refusal of a body sent with a content type that is not JSON (a trigger
        checks ``request.sends_json`` only after verification, so strangers learn nothing
        but 403)."""
        content_type = request.headers.get("content-type", "")
        return cls.rejected(RejectionCode.UNSUPPORTED_MEDIA_TYPE,
                            f"content type {content_type[:100]!r} is not JSON")

    @property
    def accepted(self) -> bool:
        return 200 <= self.status < 300

    @property
    def rejection_code(self) -> RejectionCode:
        return self.code or RejectionCode.OTHER


class WebhookTrigger(Component):
    """A trigger that owns a public endpoint ``/webhooks/{endpoint_id}``.

    It owns its security too: the hook that sets its secret (``SECRET_HOOK`` with one
    parameter, ``SECRET_PARAM``; the secret is stored encrypted with the endpoint,
    never in the canvas), what a usable secret looks like (``secret_problem``) and how
    a delivery is verified (``receive``). The receiver only refuses every delivery while
    no secret is set (docs/design-rules.md, "Fail closed").
    """

    role: ClassVar[Role] = "trigger"
    SECRET_HOOK: ClassVar[str] = "setSecret"
    SECRET_PARAM: ClassVar[str] = "webhookSigningSecret"
    # Kinds of object whose events this trigger receives (matched against ``creates``).
    listens_for: ClassVar[frozenset[str]] = frozenset()
    # Configuration flag (a boolean field) that lets events about objects this very
    # canvas created start runs of it again; off by default.
    SELF_TRIGGER_OPT_IN: ClassVar[str] = "allowSelfTriggered"

    @classmethod
    def secret_hook(cls, label: str, description: str) -> Hook:
        """The hook that sets (empty: clears) this trigger's secret, for ``hooks``."""
        return Hook(cls.SECRET_HOOK, "Set signing secret", fields=(
            Field(cls.SECRET_PARAM, "secret", label, description=description),))

    def secret_problem(self, secret: str, config: Mapping[str, Any]) -> str | None:
        """Why ``secret`` (non-empty, stripped) cannot verify deliveries to a node
        configured with ``config``, or None when it can. Default: a Standard Webhooks
        secret (``whsec_`` then base64)."""
        from incidentflow.components.standard_webhooks import secret_problem

        return secret_problem(secret)

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

    def polls_for_changes(self, config: Mapping[str, Any]) -> bool:
        """True when this node also polls its service for changes (a catch-up for lost
        webhooks): its deliveries then claim the change they carry (``change_of``)
        first, so a change the poll already ran starts nothing."""
        return False

    def change_of(self, event: Event) -> tuple[str, str] | None:
        """(object id, version) of the change ``event`` tells, for ``polls_for_changes``."""
        return None

    def polling_view(self, config: Mapping[str, Any], state: Any) -> dict[str, Any]:
        """How the node shows its poll (last poll, found), from the store's state."""
        return {}

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
        """Verify and parse one delivery. ``secrets`` are the currently valid secrets
        (empty: none set; the receiver refuses such deliveries before asking). Pure: no
        I/O. Rejections carry a :class:`RejectionCode` (``WebhookVerdict.rejected``)."""
        raise NotImplementedError
