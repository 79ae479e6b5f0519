"""Canvas validation (entered through ``canvas.parse_canvas``): a decoded document read
into a ``Canvas``, every problem collected on the way, each naming node and field path
(see ``canvas.py``): keys, names, components, integrations, field kinds, expressions,
edges, cycles."""

from __future__ import annotations

import difflib
import itertools
import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from incidentflow.canvas import CONFIGURATION, Canvas, Edge, Node, in_configuration, string_leaves
from incidentflow.components.base import Component, Field
from incidentflow.errors import NotFound, Problem
from incidentflow.expressions import EXPRESSIONS
from incidentflow.rate_limit import RateLimit, read_rate_limit

if TYPE_CHECKING:
    from incidentflow.registry import Registry

_NAME = re.compile(r"[\w .\-]{1,100}")
_CANVAS_KEYS = ("name", "description", "nodes", "edges")
_NODE_KEYS = ("name", "type", "integration", "concurrencyKey", "rateLimit", "configuration")
_EDGE_KEYS = ("from", "to", "channel")
# Problem messages stay short on a large canvas (see docs/canvases.md): an unknown edge
# end lists this many valid names, and this many cycles are spelled out.
_NAMES_LISTED = 20
_CYCLES_LISTED = 20


def _name_problem(value: Any) -> str | None:
    """Why ``value`` cannot name a canvas or a node (names appear in URLs)."""
    if value is None or value == "":
        return "is required"
    if not isinstance(value, str):
        return "must be text"
    if len(value) > 100:
        return "must be at most 100 characters"
    if not _NAME.fullmatch(value):
        return "may contain only letters, digits, spaces, '-', '_' and '.'"
    if value != value.strip():
        return "must not start or end with a space"
    if not any(ch.isalnum() for ch in value):
        return "must contain a letter or a digit"
    return None


def _unknown_key(key: str, allowed: tuple[str, ...] | list[str]) -> str:
    close = difflib.get_close_matches(key, allowed, n=1)
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"unknown field {key!r}; {hint}known: {', '.join(allowed) or 'none'}"


class CanvasReader:
    """Reads a decoded document into a Canvas, collecting every problem on the way."""

    def __init__(self, registry: Registry):
        self.registry = registry
        self.problems: list[Problem] = []
        self.components: dict[str, Component] = {}  # valid nodes by name
        self.declared: set[str] = set()  # every name a node claimed, valid or not
        self.references: list[tuple[str, str, str, bool]] = []  # node, field, text, condition

    def problem(self, message: str, node: str | None = None, field: str | None = None) -> None:
        self.problems.append(Problem(message, node=node, field=field))

    def read(self, document: Any) -> Canvas | None:
        if not isinstance(document, dict):
            self.problem("a canvas must be a mapping with name, nodes and edges")
            return None
        for key in document:
            if key not in _CANVAS_KEYS:
                self.problem(_unknown_key(key, _CANVAS_KEYS), field=key)
        name = document.get("name")
        if message := _name_problem(name):
            self.problem(f"canvas name {message}", field="name")
        description = document.get("description") or ""
        if not isinstance(description, str):
            self.problem("must be text", field="description")
        nodes = self.read_nodes(document.get("nodes"))
        edges = self.read_edges(document.get("edges"))
        self.check_references()
        self.check_cycles(edges)
        if self.problems:
            return None
        return Canvas(str(name), tuple(nodes), tuple(edges), str(description))

    # --- nodes

    def read_nodes(self, raw: Any) -> list[Node]:
        if not isinstance(raw, list) or not raw:
            self.problem("a canvas needs a list of nodes", field="nodes")
            return []
        nodes = []
        for index, item in enumerate(raw):
            node = self.read_node(index, item)
            if node is not None:
                nodes.append(node)
        return nodes

    def read_node(self, index: int, raw: Any) -> Node | None:
        label = f"nodes[{index}]"
        if not isinstance(raw, dict):
            self.problem("a node must be a mapping with name and type", node=label)
            return None
        before = len(self.problems)
        name = self.node_name(label, raw.get("name"))
        label = name or label
        component = self.node_component(label, raw.get("type"))
        misplaced = self.node_keys(label, component, raw)
        configuration = self.node_configuration(
            label, component, raw.get("configuration"), misplaced
        )
        self.node_integration(label, component, raw.get("integration"))
        key = raw.get("concurrencyKey")
        self.expression(label, "concurrencyKey", key, condition=False)
        rate_limit = self.node_rate_limit(label, raw.get("rateLimit"))
        if component is not None and len(self.problems) == before:
            self.problems += in_configuration(component, component.check(label, configuration))
        if name is None or component is None or len(self.problems) > before:
            return None
        self.components[name] = component
        return Node(name, component.type, configuration, raw.get("integration"), key,
                    rate_limit)

    def node_keys(self, label: str, component: Component | None, raw: dict) -> set[str]:
        """Reports keys a node does not have; returns the configuration fields written
        beside ``configuration`` instead of inside it, reported once as misplaced (not
        also as "is required": that pair read as a contradiction)."""
        fields = {f.name for f in component.fields} if component is not None else set()
        misplaced = set()
        for key in raw:
            if key in _NODE_KEYS:
                continue
            if key in fields:
                misplaced.add(key)
                self.problem(f"{key!r} belongs under 'configuration:' "
                             f"(write it as configuration.{key})", node=label, field=key)
            else:
                self.problem(_unknown_key(key, _NODE_KEYS), node=label, field=key)
        return misplaced

    def node_rate_limit(self, label: str, raw: Any) -> RateLimit | None:
        rate_limit, problems = read_rate_limit(raw)
        for field_path, message in problems:
            self.problem(message, label, field_path)
        return rate_limit

    def node_name(self, label: str, name: Any) -> str | None:
        if message := _name_problem(name):
            self.problem(f"node name {message}", node=label, field="name")
            if isinstance(name, str):
                self.declared.add(name)
            return None
        if name in self.declared:
            self.problem(f"another node is already named {name!r}", node=name, field="name")
            return None
        self.declared.add(name)
        return str(name)

    def node_component(self, label: str, type_: Any) -> Component | None:
        if type_ is None or type_ == "":
            self.problem("is required", node=label, field="type")
            return None
        try:
            return self.registry.component(str(type_))
        except NotFound:
            known = ", ".join(sorted(self.registry.components))
            self.problem(f"unknown node type {type_!r}; known types: {known}", label, "type")
            return None

    def node_integration(self, label: str, component: Component | None, given: Any) -> None:
        if component is None:
            return
        needed = component.integration is not None and not component.integration_optional
        if needed and given is None:
            message = f"{component.type} needs a configured {component.integration!r} integration"
            self.problem(f"{message}: name it with 'integration:'", label, "integration")
        elif component.integration is None and given is not None:
            self.problem(f"{component.type} does not use an integration", label,
                         "integration")
        elif given is not None and _name_problem(given):
            self.problem("must be the name of a configured integration", label, "integration")

    def node_configuration(
        self, label: str, component: Component | None, raw: Any, misplaced: set[str]
    ) -> dict:
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            self.problem("must be a mapping of field names to values", label, CONFIGURATION)
            return {}
        if component is None:
            return {}
        names = [f.name for f in component.fields]
        for key in raw:
            if key not in names:
                self.problem(_unknown_key(key, names), label, f"{CONFIGURATION}.{key}")
        configuration: dict[str, Any] = {}
        for spec in component.fields:
            value = raw.get(spec.name)
            # Omitted takes the default; given but blank ("" or []) does only when optional.
            omitted_or_optional = value is None or not spec.required
            if _is_blank(value) and omitted_or_optional and spec.default is not None:
                value = _json_copy(spec.default)
            if _is_blank(value):
                if spec.required and spec.name not in misplaced:
                    self.problem("is required", label, f"{CONFIGURATION}.{spec.name}")
                continue
            for field_path, message in _field_problems(spec, value):
                self.problem(message, label, f"{CONFIGURATION}.{field_path}")
            self.field_expressions(label, spec, value)
            configuration[spec.name] = value
        return configuration

    def field_expressions(self, label: str, spec: Field, value: Any) -> None:
        where = f"{CONFIGURATION}.{spec.name}"
        if spec.kind == "condition" and isinstance(value, str):
            self.expression(label, where, value, condition=True)
        elif spec.kind in ("template", "object"):
            for field_path, text in string_leaves(value, where):
                self.expression(label, field_path, text, condition=False)

    def expression(self, label: str, where: str, text: Any, *, condition: bool) -> None:
        if text is None:
            return
        if not isinstance(text, str):
            self.problem("must be text", label, where)
            return
        check = EXPRESSIONS.check_condition if condition else EXPRESSIONS.check_template
        if message := check(text):
            self.problem(message, label, where)
        else:
            self.references.append((label, where, text, condition))

    def check_references(self) -> None:
        for label, where, text, condition in self.references:
            for name in sorted(EXPRESSIONS.referenced_nodes(text, condition=condition)):
                if name not in self.declared:
                    self.problem(f"refers to node {name!r}, which is not in the canvas",
                                 label, where)

    # --- edges

    def read_edges(self, raw: Any) -> list[Edge]:
        if raw is None:
            return []
        if not isinstance(raw, list):
            self.problem("must be a list of {from, to, channel}", field="edges")
            return []
        edges: list[Edge] = []
        seen: set[Edge] = set()  # a set, not the list: thousands of edges stay linear
        for index, item in enumerate(raw):
            edge = self.read_edge(f"edges[{index}]", item)
            if edge is not None and edge in seen:
                self.problem("the same edge is listed twice", field=f"edges[{index}]")
            elif edge is not None:
                seen.add(edge)
                edges.append(edge)
        return edges

    def read_edge(self, label: str, raw: Any) -> Edge | None:
        if not isinstance(raw, dict):
            self.problem("an edge must be a mapping with from and to", field=label)
            return None
        for key in raw:
            if key not in _EDGE_KEYS:
                self.problem(_unknown_key(key, _EDGE_KEYS), field=f"{label}.{key}")
        source = self.edge_end(label, "from", raw.get("from"))
        target = self.edge_end(label, "to", raw.get("to"))
        channel = raw.get("channel", "default")
        channel = "default" if channel is None else channel
        if not isinstance(channel, str):
            self.problem("must be text", field=f"{label}.channel")
            return None
        ok = source is not None and target is not None
        if source is not None and channel not in self.components[source].channels:
            channels = ", ".join(self.components[source].channels)
            self.problem(f"node {source!r} ({self.components[source].type}) has no channel "
                         f"{channel!r}; its channels: {channels}", field=f"{label}.channel")
            ok = False
        if target is not None and self.components[target].role == "trigger":
            self.problem(f"{target!r} is a trigger; nothing can lead into a trigger",
                         field=f"{label}.to")
            ok = False
        return Edge(str(source), str(target), channel) if ok else None

    def edge_end(self, label: str, key: str, name: Any) -> str | None:
        """The node an edge end names, if it is a valid node (a broken one is reported)."""
        if name is None or name == "":
            self.problem("is required", field=f"{label}.{key}")
        elif not isinstance(name, str) or name not in self.declared:
            self.problem(f"unknown node {name!r}; nodes: {self.known_nodes()}",
                         field=f"{label}.{key}")
        elif name in self.components:
            return name
        return None  # declared but broken: its own problem is already reported

    def known_nodes(self) -> str:
        """The valid node names for an "unknown node" message, cut short: listing all of
        a large canvas in each of thousands of edge problems would make the answer
        grow as nodes x edges."""
        names = list(itertools.islice(self.components, _NAMES_LISTED + 1))
        if len(names) <= _NAMES_LISTED:
            return ", ".join(names)
        more = len(self.components) - _NAMES_LISTED
        return f"{', '.join(names[:_NAMES_LISTED])} and {more} more"

    def check_cycles(self, edges: list[Edge]) -> None:
        cycles = _cycles(list(self.components), edges)
        for cycle in cycles[:_CYCLES_LISTED]:
            path = " → ".join([*cycle, cycle[0]])
            self.problem(f"the edges form a cycle: {path}", node=cycle[0], field="edges")
        if len(cycles) > _CYCLES_LISTED:
            self.problem(f"and {len(cycles) - _CYCLES_LISTED} more edges close a cycle",
                         field="edges")


def _field_problems(spec: Field, value: Any) -> Iterator[tuple[str, str]]:
    """(field path, message) for a value of the wrong kind. Expressions are checked apart."""
    kind = spec.kind
    if kind in ("text", "template", "secret", "condition", "select") and not isinstance(
        value, str
    ):
        yield spec.name, "must be text" + (" (an expression)" if kind == "condition" else "")
    elif kind == "select" and spec.resource is None and spec.options:
        allowed = [o.value for o in spec.options]
        if value not in allowed:
            yield spec.name, f"{value!r} is not one of: {', '.join(allowed)}"
    elif kind == "multiselect":
        yield from _multiselect_problems(spec, value)
    elif kind == "boolean" and not isinstance(value, bool):
        yield spec.name, "must be true or false"
    elif kind == "number" and (isinstance(value, bool) or not isinstance(value, int | float)):
        yield spec.name, "must be a number"


def _multiselect_problems(spec: Field, value: Any) -> Iterator[tuple[str, str]]:
    if not isinstance(value, list):
        yield spec.name, "must be a list"
        return
    allowed = [o.value for o in spec.options]
    seen: set[str] = set()
    for index, item in enumerate(value):
        if not isinstance(item, str):
            yield f"{spec.name}[{index}]", "must be text"
            continue
        if allowed and spec.resource is None and item not in allowed:
            yield f"{spec.name}[{index}]", f"{item!r} is not one of: {', '.join(allowed)}"
        elif item in seen:
            yield f"{spec.name}[{index}]", f"{item!r} is listed twice"
        seen.add(item)


def _is_blank(value: Any) -> bool:
    return value is None or value == [] or (isinstance(value, str) and not value.strip())


def _json_copy(value: Any) -> Any:
    """Defaults may be tuples (frozen field specs); the canvas holds JSON values."""
    if isinstance(value, dict):
        return {k: _json_copy(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_json_copy(v) for v in value]
    return value


def _cycles(names: list[str], edges: list[Edge]) -> list[list[str]]:
    """Cycles found by an iterative depth-first walk (one per back edge), in file order.

    Only the first ``_CYCLES_LISTED`` are spelled out (a path each); the rest are
    counted, each as an empty list, so the walk stays linear in nodes + edges."""
    successors: dict[str, list[str]] = {name: [] for name in names}
    for edge in edges:
        successors[edge.source].append(edge.target)
    state: dict[str, str] = {}  # "open" while on the current path, then "done"
    depth: dict[str, int] = {}  # where an open node sits on the current path
    cycles: list[list[str]] = []
    for start in names:
        if start in state:
            continue
        path, stack = [start], [iter(successors[start])]
        state[start], depth[start] = "open", 0
        while stack:
            following = next(stack[-1], None)
            if following is None:
                state[path.pop()] = "done"
                stack.pop()
            elif state.get(following) == "open":
                spelled = len(cycles) < _CYCLES_LISTED
                cycles.append(path[depth[following]:] if spelled else [])
            elif following not in state:
                state[following], depth[following] = "open", len(path)
                path.append(following)
                stack.append(iter(successors[following]))
    return cycles
