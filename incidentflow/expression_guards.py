"""Refusals *before* a value over the budget is built, and the metering code generator.

Checking a result's size after building it is too late for ``'a'|center(10**10)``: the
10 GB string already exists. So every operator, filter and method that can make a value
much larger than its inputs is checked on its arguments first (``center``'s width,
``join``'s separator times the items, a format's field widths ...); what gets through is
then checked on its result (``Meter.size``).

``MeteringCodeGenerator`` makes compiled templates report to the meter: each ``for``
iterable is wrapped (an iteration budget, and the clock is read there), and each piece
of output is counted (the output budget), including plain text written in loops.
"""

from __future__ import annotations

import functools
import re
import string
import types
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from jinja2 import nodes
from jinja2.compiler import CodeGenerator, Frame
from jinja2.utils import _PassArg

from incidentflow.expression_budget import Meter, current

_SEQUENCE = (str, bytes, list, tuple)


# -- operators -------------------------------------------------------------------------

def check_binop(meter: Meter, operator: str, left: Any, right: Any) -> None:
    if operator == "*":
        _check_repeat(meter, left, right)
        _check_repeat(meter, right, left)
        if _is_int(left) and _is_int(right):
            meter.integer_bits(left.bit_length() + right.bit_length() - 1)  # at least
    elif operator == "**":
        if _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1:
            meter.integer_bits((abs(left).bit_length() - 1) * right)
    elif operator == "%" and isinstance(left, str):
        check_percent_format(meter, left, right)


def _check_repeat(meter: Meter, sequence: Any, times: Any) -> None:
    if isinstance(sequence, _SEQUENCE) and _is_int(times):
        meter.length(len(sequence) * times)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# -- formats: a field width is a size -------------------------------------------------

_PERCENT_FIELD = re.compile(r"%(?:\([^)]*\))?[#0+\- ]*(\*|\d+)?(?:\.(\*|\d+))?")


def check_percent_format(meter: Meter, template: str, values: Any) -> None:
    """``'%100000000s' % x``: the widths and precisions written in the format, or
    given through ``*``."""
    starred = False
    for match in _PERCENT_FIELD.finditer(template):
        for number in match.groups():
            if number == "*":
                starred = True
            elif number:
                meter.length(int(number))
    if starred:
        _check_int_arguments(meter, values if isinstance(values, tuple) else (values,), {})


def check_str_format(meter: Meter, template: str, args: tuple[Any, ...],
                     kwargs: Mapping[str, Any]) -> None:
    """``'{:>100000000}'.format(x)``; a width from another field (``{:{w}}``) is
    only known at format time, so then every integer argument counts as a width."""
    for _, _, spec, _ in string.Formatter().parse(template):
        if not spec:
            continue
        if "{" in spec:
            _check_int_arguments(meter, args, kwargs)
        for number in re.findall(r"\d+", spec):
            meter.length(int(number))


def _check_int_arguments(meter: Meter, args: Iterable[Any], kwargs: Mapping[str, Any]) -> None:
    for value in (*args, *kwargs.values()):
        if _is_int(value):
            meter.length(value)


# -- methods of built-in types ----------------------------------------------------------

def check_method(meter: Meter, method: Any, args: tuple[Any, ...],
                 kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    """Arguments for calling a built-in method (``'a'.center(n)``, ``sep.join(xs)``),
    checked; returns the arguments to call with (an iterator given to ``join`` is
    read into a list first, to count it)."""
    if not isinstance(method, types.BuiltinMethodType | types.MethodWrapperType):
        return args
    owner, name = getattr(method, "__self__", None), method.__name__
    if isinstance(owner, str) and name == "join" and len(args) == 1:
        items = list(args[0])
        _check_join(meter, owner, items)
        return (items,)
    if isinstance(owner, str) and name == "replace" and len(args) >= 2:
        _check_replace(meter, owner, args[0], args[1], args[2] if len(args) > 2 else None)
        return args
    if isinstance(owner, str | bytes | int):
        # Any other width, count or size over the output budget: nothing a template
        # needs builds that much (``center``, ``ljust``, ``zfill``, ``to_bytes`` ...).
        _check_int_arguments(meter, args, kwargs)
    return args


def _check_join(meter: Meter, separator: Any, items: list[Any]) -> None:
    joins = max(0, len(items) - 1)
    meter.length(len(str(separator)) * joins)


def _check_replace(meter: Meter, text: Any, old: Any, new: Any, count: Any) -> None:
    text, old, new = str(text), str(old), str(new)
    found = text.count(old) if old else len(text) + 1
    if _is_int(count) and count >= 0:
        found = min(found, count)
    meter.length(len(text) + found * max(0, len(new) - len(old)))


# -- filters ----------------------------------------------------------------------------

Filter = Callable[..., Any]


def _center(meter: Meter, value: Any, width: Any = 80, *_: Any, **__: Any) -> None:
    if _is_int(width):
        meter.length(len(str(value)) + width)


def _indent(meter: Meter, value: Any, width: Any = 4, *_: Any, **__: Any) -> None:
    text = str(value)
    per_line = width if _is_int(width) else len(str(width))
    meter.length(len(text) + (text.count("\n") + 1) * max(0, per_line))


def _wordwrap(meter: Meter, value: Any, width: Any = 79, break_long_words: Any = True,
              wrapstring: Any = None, *_: Any, **kwargs: Any) -> None:
    wrapstring = kwargs.get("wrapstring", wrapstring)
    if wrapstring:
        text = str(value)
        meter.length(len(text) + (len(text) + 1) * len(str(wrapstring)))


def _count(meter: Meter, value: Any, count: Any = 1, *_: Any, **__: Any) -> None:
    if _is_int(count):  # batch's linecount, slice's slices: lists built to that size
        meter.length(count)


def _format(meter: Meter, value: Any, *args: Any, **kwargs: Any) -> None:
    check_percent_format(meter, str(value), args or kwargs)


def _replace(meter: Meter, value: Any, old: Any = "", new: Any = "", count: Any = None,
             *_: Any, **__: Any) -> None:
    _check_replace(meter, value, old, new, count)


_PRECHECKS: dict[str, Callable[..., None]] = {
    "center": _center, "indent": _indent, "wordwrap": _wordwrap, "batch": _count,
    "slice": _count, "format": _format, "replace": _replace,
}


def guarded_filters(filters: Mapping[str, Filter]) -> dict[str, Filter]:
    """Each filter counted as a step and its result sized; the ones that can grow a
    value checked beforehand; ``join`` counts its items before joining them."""
    return {name: _guarded(name, function) for name, function in filters.items()}


def _guarded(name: str, function: Filter) -> Filter:
    passed = 1 if _PassArg.from_obj(function) is not None else 0  # context, env ...
    precheck = _PRECHECKS.get(name)
    joins = name == "join"

    @functools.wraps(function)
    def guarded(*args: Any, **kwargs: Any) -> Any:
        meter = current()
        meter.step()
        if joins and len(args) > passed:
            items = list(args[passed])
            separator = args[passed + 1] if len(args) > passed + 1 else kwargs.get("d", "")
            _check_join(meter, separator, items)
            args = (*args[:passed], items, *args[passed + 1:])
        elif precheck is not None and len(args) > passed:
            precheck(meter, *args[passed:], **kwargs)
        return meter.size(function(*args, **kwargs))

    return guarded


# -- compiled code that reports to the meter ----------------------------------------------

class MeteringCodeGenerator(CodeGenerator):
    """Jinja's code generator, plus calls to the sandbox's ``metered_*`` methods."""

    def visit_For(self, node: nodes.For, frame: Frame) -> None:
        # ``for x in xs`` compiles as ``for x in environment.metered_iter(xs)``: a call
        # node, as Jinja allows no node types of our own.
        counted_iter = nodes.Call(nodes.EnvironmentAttribute("metered_iter"), [node.iter],
                                  [], None, None, lineno=node.lineno)
        counted = nodes.For(node.target, counted_iter, node.body, node.else_, node.test,
                            node.recursive, lineno=node.lineno)
        super().visit_For(counted, frame)

    def visit_Concat(self, node: nodes.Concat, frame: Frame) -> None:
        self.write("environment.metered_size(")
        super().visit_Concat(node, frame)
        self.write(")")

    def _output_const_repr(self, group: Iterable[Any]) -> str:
        return f"environment.metered_text({super()._output_const_repr(group)})"

    def _output_child_pre(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        self.write("environment.metered_text(")
        super()._output_child_pre(node, frame, finalize)

    def _output_child_post(self, node: nodes.Expr, frame: Frame, finalize: Any) -> None:
        super()._output_child_post(node, frame, finalize)
        self.write(")")
