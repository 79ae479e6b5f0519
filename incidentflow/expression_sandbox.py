"""The Jinja2 sandbox expressions run in: immutable, strict about missing values, and
metered (see ``expression_budget``), so a template cannot change what it reads, hide a
typo behind an empty string, or cost more than its budget.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NoReturn

from jinja2 import StrictUndefined
from jinja2.exceptions import UndefinedError
from jinja2.runtime import Undefined
from jinja2.sandbox import ImmutableSandboxedEnvironment

from incidentflow.expression_budget import current
from incidentflow.expression_guards import (
    MeteringCodeGenerator,
    check_binop,
    check_method,
    check_str_format,
)


class MissingValue(UndefinedError):
    """Carries the undefined value so the message can say *where* it was missing."""

    def __init__(self, undefined: Undefined):
        super().__init__(undefined._undefined_message)
        self.undefined = undefined


class StrictValue(StrictUndefined):
    """StrictUndefined whose failures carry the undefined value itself."""

    __slots__ = ()

    def _fail_with_undefined_error(self, *args: Any, **kwargs: Any) -> NoReturn:
        if self._undefined_exception is not UndefinedError:  # e.g. SecurityError
            raise self._undefined_exception(self._undefined_message)
        raise MissingValue(self)

    # The base class binds these to *its* function, so re-point them at ours.
    __add__ = __radd__ = __sub__ = __rsub__ = _fail_with_undefined_error
    __mul__ = __rmul__ = __div__ = __rdiv__ = _fail_with_undefined_error
    __truediv__ = __rtruediv__ = _fail_with_undefined_error
    __floordiv__ = __rfloordiv__ = _fail_with_undefined_error
    __mod__ = __rmod__ = __pos__ = __neg__ = _fail_with_undefined_error
    __call__ = __getitem__ = _fail_with_undefined_error
    __lt__ = __le__ = __gt__ = __ge__ = _fail_with_undefined_error
    __int__ = __float__ = __complex__ = _fail_with_undefined_error
    __pow__ = __rpow__ = _fail_with_undefined_error
    __iter__ = __str__ = __len__ = _fail_with_undefined_error  # type: ignore[assignment]
    __eq__ = __ne__ = __bool__ = __hash__ = _fail_with_undefined_error  # type: ignore[assignment]
    __contains__ = _fail_with_undefined_error


def finalize(value: Any) -> Any:
    # Mixed text: a dict or list reads better (and parses) as JSON than as a Python repr.
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, default=str)
    return value


class Sandbox(ImmutableSandboxedEnvironment):
    """The sandbox, metered: loops, calls, filters, operators and output report to the
    evaluation's budget (``expression_budget.current()``), and what could build a huge
    value is refused before it is built (``expression_guards``)."""

    code_generator_class = MeteringCodeGenerator
    intercepted_binops = frozenset({"*", "**", "%", "+"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        meter = current()
        check_binop(meter, operator, left, right)
        return meter.size(super().call_binop(context, operator, left, right))

    def call(self, context: Any, obj: Any, /, *args: Any, **kwargs: Any) -> Any:
        meter = current()
        meter.step()
        args = check_method(meter, obj, args, kwargs)
        return meter.size(super().call(context, obj, *args, **kwargs))

    def wrap_str_format(self, value: Any) -> Callable[..., str] | None:
        formatted = super().wrap_str_format(value)
        if formatted is None:
            return None
        template = str(value.__self__)

        def checked(*args: Any, **kwargs: Any) -> str:
            meter = current()
            check_str_format(meter, template, args, kwargs)
            return str(meter.size(formatted(*args, **kwargs)))

        return checked

    # Called by the code ``MeteringCodeGenerator`` writes.
    def metered_iter(self, iterable: Iterable[Any]) -> Iterator[Any]:
        meter = current()
        for item in iterable:
            meter.step()
            yield item

    def metered_text(self, text: str) -> str:
        return current().wrote(text)

    def metered_size(self, value: Any) -> Any:
        return current().size(value)

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, dict) and attribute in obj:
            return obj[attribute]  # event data first: a key named "items" beats dict.items
        return super().getattr(obj, attribute)
