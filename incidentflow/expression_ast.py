"""What an expression's syntax tree tells before it runs: whether it only reads values
(cheap enough for the event loop), which nodes it names, and the constant keys of its
lookups (to say where a missing value was spelled).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from jinja2 import nodes

# What a string may contain and still be evaluated on the event loop: reading values,
# comparing and combining them, and filters that take time in proportion to their input
# at most. Anything else (loops, calls, arithmetic, other filters) goes to the pool.
LOOKUP_NODES = (
    nodes.Template, nodes.Output, nodes.TemplateData, nodes.Name, nodes.Getattr,
    nodes.Getitem, nodes.Const, nodes.Compare, nodes.Operand, nodes.Not, nodes.And,
    nodes.Or, nodes.CondExpr, nodes.Test, nodes.List, nodes.Tuple, nodes.Dict, nodes.Pair,
    nodes.Keyword,
)
LOOKUP_FILTERS = frozenset({
    "default", "d", "lower", "upper", "string", "trim", "length", "count", "first", "last",
    "tojson", "title", "capitalize", "int", "float", "bool",
})


def is_lookup(ast: nodes.Node) -> bool:
    for node in ast.find_all(nodes.Node):
        if isinstance(node, nodes.Filter):
            if node.name not in LOOKUP_FILTERS:
                return False
        elif not isinstance(node, LOOKUP_NODES):
            return False
    return True


def lookups(ast: nodes.Node) -> Iterator[nodes.Getattr | nodes.Getitem]:
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        if isinstance(node, nodes.Getattr | nodes.Getitem):
            yield node


def node_references(ast: nodes.Node) -> frozenset[str]:
    names = set()
    for node in lookups(ast):
        key = const_key(node)
        if isinstance(node.node, nodes.Name) and node.node.name == "nodes" and isinstance(key, str):
            names.add(key)
    return frozenset(names)


def const_key(node: nodes.Getattr | nodes.Getitem) -> Any:
    if isinstance(node, nodes.Getattr):
        return node.attr
    return node.arg.value if isinstance(node.arg, nodes.Const) else None
