"""Sandboxed expressions: ``{{ ... }}`` templates and bare conditions (Jinja2 sandbox).

Names in scope: ``root`` (the run's trigger event), ``previous`` (this execution's input
event), ``nodes["Name"]`` (latest event a node emitted in this run), ``run``
(``{"id", "canvas"}``) and ``secrets.NAME`` (a secret's value, see ``secrets_service``;
the worker provides it only to nodes that read it). Events are plain dicts
``{type, timestamp, data}``.

Rules:
- a string that is one whole ``{{ expr }}`` keeps the native type of ``expr``;
  mixed text becomes a string (dicts and lists inside it are written as JSON);
- an unknown name or a missing field is an :class:`ExpressionError` naming node and
  field, never a silent empty string;
- on a dict, a data key wins over a dict method (``root.data.items`` is the key);
- every evaluation runs under a budget (time, output size, integer size, iterations:
  ``incidentflow.expression_budget``); going over it is a :class:`BudgetError`.

Evaluation is synchronous. Strings that are plain lookups (``inline_safe``) are cheap
enough for the event loop; the others belong in ``expression_pool``.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from jinja2 import Template, TemplateError, TemplateSyntaxError, meta, nodes
from jinja2.exceptions import SecurityError
from jinja2.parser import Parser
from jinja2.runtime import Undefined

from incidentflow.errors import ExpressionError
from incidentflow.events import Event
from incidentflow.expression_ast import is_lookup, node_references
from incidentflow.expression_budget import Budget, BudgetError, BudgetExceeded, current, metered
from incidentflow.expression_explain import SCOPE_NAMES, explain_missing
from incidentflow.expression_guards import guarded_filters
from incidentflow.expression_sandbox import MissingValue, Sandbox, StrictValue, finalize

_CACHE_LIMIT = 4096
_MARKUP = ("{{", "{%", "{#")
_WHOLE = re.compile(r"\A\s*\{\{-?(?P<expr>.*?)-?\}\}\s*\Z", re.S)


@dataclass(frozen=True)
class _Compiled:
    """A compiled string: either one whole expression (native result) or a template."""

    source: str  # template text, used to explain failures
    expression: Callable[..., Any] | None = None
    template: Template | None = None
    lookup: bool = False  # only reads values (names, fields, constants): builds nothing

    def run(self, scope: Mapping[str, Any]) -> Any:
        current().new_value()
        if self.expression is not None:
            value = _plain(self.expression(**scope))
            if not self.lookup:
                _check_size(value)
            return value
        assert self.template is not None
        return self.template.render(scope)


@dataclass(frozen=True)
class _Analysis:
    """What a save-time check learnt about one string: its problem and the nodes it names."""

    problem: str | None = None
    nodes: frozenset[str] = frozenset()
    names: frozenset[str] = frozenset()  # top-level scope names it reads (root, nodes, ...)
    lookup: bool = True  # plain lookups only: cheap enough to evaluate on the event loop


_PLAIN_TEXT = _Analysis()


def _check_size(value: Any) -> None:
    """A whole expression's native result, measured as the JSON it will be sent as."""
    meter = current()
    if isinstance(value, dict | list):
        meter.length(len(json.dumps(value, ensure_ascii=False)))
    else:
        meter.size(value)


def _plain(value: Any) -> Any:
    """A JSON-safe copy of a native result; fails on any undefined value inside."""
    if isinstance(value, Undefined):
        value._fail_with_undefined_error()
    if value is None or isinstance(value, str | bool | int):
        return value
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"result {value} is not a finite number")
        return value
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | range):
        return [_plain(v) for v in value]
    raise ValueError(f"result of type {type(value).__name__} is not a JSON value")


class Expressions:
    """Compiles (once, cached) and evaluates templates and conditions in the sandbox."""

    def __init__(self, budget: Budget | None = None) -> None:
        self.budget = budget or Budget()  # when the caller gives none
        self.env = Sandbox(undefined=StrictValue, finalize=finalize, autoescape=False)
        self.env.filters["fromjson"] = json.loads
        self.env.filters = guarded_filters(self.env.filters)  # type: ignore[assignment]
        # Paragraphs of lorem ipsum on demand: of no use in a workflow, and a size knob.
        del self.env.globals["lipsum"]
        self._cache: dict[tuple[str, str], _Compiled] = {}
        self._analyses: dict[tuple[str, str], _Analysis] = {}

    # --- checks at save time -------------------------------------------------------

    def check_template(self, text: str) -> str | None:
        """Why ``text`` is not a valid template, or None."""
        return self._analysis(text, condition=False).problem

    def check_condition(self, text: str) -> str | None:
        """Why ``text`` is not a valid bare expression, or None."""
        return self._analysis(text, condition=True).problem

    def referenced_nodes(self, text: str, *, condition: bool = False) -> frozenset[str]:
        """Node names used as ``nodes["Name"]`` / ``nodes.Name`` (empty on syntax errors)."""
        return self._analysis(text, condition=condition).nodes

    def inline_safe(self, text: str, *, condition: bool = False) -> bool:
        """Whether ``text`` only looks values up (``{{ root.data.incident.name }}``): no
        loop, call, filter or operator that could take time, so evaluating it on the
        event loop is fine. Decided once per string (cached)."""
        analysis = self._analysis(text, condition=condition)
        return analysis.problem is None and analysis.lookup

    def reads(self, text: str, name: str, *, condition: bool = False) -> bool:
        """Whether ``text`` may read the scope variable ``name`` (True on syntax errors:
        when in doubt, provide it)."""
        analysis = self._analysis(text, condition=condition)
        return analysis.problem is not None or name in analysis.names

    def _analysis(self, text: str, *, condition: bool) -> _Analysis:
        if not condition and not _has_markup(text):
            return _PLAIN_TEXT
        key = ("condition" if condition else "template", text)
        found = self._analyses.get(key)
        if found is None:
            found = self._analyse(text, condition)
            if len(self._analyses) >= _CACHE_LIMIT:
                self._analyses.clear()
            self._analyses[key] = found
        return found

    def _analyse(self, text: str, condition: bool) -> _Analysis:
        if condition and not text.strip():
            return _Analysis("the expression is empty")
        try:
            if condition:
                self._compiled_expression(text)
                ast = self._expression_ast(text)
            else:
                self._compiled_template(text)
                ast = self.env.parse(text)
        except TemplateSyntaxError as exc:
            return _Analysis(_syntax_message(exc))
        return _Analysis(self._unknown_names(ast), node_references(ast),
                         frozenset(meta.find_undeclared_variables(ast)), is_lookup(ast))

    # --- evaluation at run time ------------------------------------------------------

    def render(self, value: Any, scope: Mapping[str, Any], node: str, field: str,
               budget: Budget | None = None) -> Any:
        """Render every string in ``value`` (dict values and list items recursively),
        all under one ``budget`` (output: per string)."""
        with metered(budget or self.budget):
            return self._render(value, scope, node, field)

    def _render(self, value: Any, scope: Mapping[str, Any], node: str, field: str) -> Any:
        if isinstance(value, str):
            if not _has_markup(value):
                return value
            return self._run(lambda: self._compiled_template(value), scope, node, field)
        if isinstance(value, dict):
            return {k: self._render(v, scope, node, f"{field}.{k}") for k, v in value.items()}
        if isinstance(value, list):
            return [self._render(v, scope, node, f"{field}[{i}]") for i, v in enumerate(value)]
        return value

    def evaluate(self, expression: str, scope: Mapping[str, Any], node: str, field: str,
                 budget: Budget | None = None) -> Any:
        """Value of a bare expression such as ``root.data.severity == 'major'``."""
        if not expression.strip():
            raise ExpressionError("the expression is empty", node=node, field=field)
        with metered(budget or self.budget):
            return self._run(lambda: self._compiled_expression(expression), scope, node, field)

    def condition(
        self, expression: str, scope: Mapping[str, Any], node: str, field: str,
        budget: Budget | None = None,
    ) -> bool:
        return bool(self.evaluate(expression, scope, node, field, budget))

    # --- internals -------------------------------------------------------------------

    def _run(
        self,
        compile_: Callable[[], _Compiled],
        scope: Mapping[str, Any],
        node: str,
        field: str,
    ) -> Any:
        try:
            compiled = compile_()
        except TemplateSyntaxError as exc:
            raise ExpressionError(_syntax_message(exc), node=node, field=field) from None
        try:
            return compiled.run(scope)
        except BudgetExceeded as exc:
            raise BudgetError(exc, node=node, field=field) from None
        except MissingValue as exc:
            message = explain_missing(self.env, exc.undefined, compiled.source, scope)
        except SecurityError as exc:
            message = f"not allowed: {exc}"
        except TemplateError as exc:
            message = str(exc)
        except Exception as exc:  # any runtime failure (1/0, 'a' + 1) is the user's
            message = f"{type(exc).__name__}: {exc}"
        raise ExpressionError(message, node=node, field=field)

    def _compiled_template(self, text: str) -> _Compiled:
        found = self._cache.get(("template", text))
        if found is None:
            match = _WHOLE.match(text)
            if match and self._is_single_expression(text):
                expression = self.env.compile_expression(match["expr"], undefined_to_none=False)
                found = _Compiled(text, expression=expression,
                                  lookup=is_lookup(self.env.parse(text)))
            else:
                template = self.env.from_string(text)
                found = _Compiled(text, template=template, lookup=is_lookup(self.env.parse(text)))
            self._remember(("template", text), found)
        return found

    def _compiled_expression(self, text: str) -> _Compiled:
        found = self._cache.get(("expression", text))
        if found is None:
            expression = self.env.compile_expression(text, undefined_to_none=False)
            lookup = is_lookup(self._expression_ast(text))
            found = _Compiled("{{ " + text + " }}", expression=expression, lookup=lookup)
            self._remember(("expression", text), found)
        return found

    def _remember(self, key: tuple[str, str], compiled: _Compiled) -> None:
        if len(self._cache) >= _CACHE_LIMIT:
            self._cache.clear()  # crude but bounded; canvases hold few distinct strings
        self._cache[key] = compiled

    def _is_single_expression(self, text: str) -> bool:
        kinds = [kind for _, kind, _ in self.env.lex(text)]
        blocks = {"block_begin", "comment_begin", "raw_begin"}
        return kinds.count("variable_begin") == 1 and not blocks.intersection(kinds)

    def _expression_ast(self, text: str) -> nodes.Template:
        parser = Parser(self.env, text, state="variable")
        expression = parser.parse_expression()
        if not parser.stream.eos:
            parser.fail("unexpected text after the expression", parser.stream.current.lineno)
        ast = nodes.Template([nodes.Output([expression])])
        ast.set_environment(self.env)
        return ast

    def _unknown_names(self, ast: nodes.Template) -> str | None:
        known = set(SCOPE_NAMES) | set(self.env.globals)
        unknown = sorted(meta.find_undeclared_variables(ast) - known)
        if not unknown:
            return None
        return f"unknown name {', '.join(map(repr, unknown))} (names: {', '.join(SCOPE_NAMES)})"


def _syntax_message(exc: TemplateSyntaxError) -> str:
    where = f" (line {exc.lineno})" if exc.lineno and exc.lineno > 1 else ""
    return f"syntax error: {exc.message}{where}"


def _has_markup(text: str) -> bool:
    return any(marker in text for marker in _MARKUP)


def scope_for(
    root: Event, previous: Event, nodes: Mapping[str, Event], run_id: str, canvas: str
) -> dict[str, Any]:
    """The names an expression sees while ``previous`` is handled in run ``run_id``."""
    return {
        "root": root.as_dict(),
        "previous": previous.as_dict(),
        "nodes": {name: event.as_dict() for name, event in nodes.items()},
        "run": {"id": run_id, "canvas": canvas},
    }


def _budget_from_environment() -> Budget:
    """The budget of evaluations whose caller names none (routing keys): the process's
    ``INCIDENTFLOW_EXPRESSION_*`` settings. A bad value falls back to the defaults here;
    ``Settings.from_env`` refuses it when the process starts."""
    try:
        return Budget.from_env(os.environ)
    except ValueError:
        return Budget()


EXPRESSIONS = Expressions(_budget_from_environment())
