"""What one expression evaluation may cost: time, output, integer size, iterations.

A template is user input that runs inside the server. Without limits one canvas can
freeze the process (``{% for i in range(100000) %}{% for j in range(100000) %}``) or
make it build and send gigabytes (``'a'|center(10000000)``). Every evaluation therefore
runs under a :class:`Budget`, metered by a :class:`Meter` that the sandbox consults at
every loop iteration, call, filter, operator and piece of output
(``incidentflow.expressions``).

The meter of the running evaluation lives in a thread-local: evaluation is synchronous,
so whichever thread evaluates (the event loop for plain lookups, the expression pool
otherwise) sees its own meter.
"""

from __future__ import annotations

import functools
import math
import threading
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from incidentflow.errors import ExpressionError

_YIELD_EVERY = 0xFF  # steps between two offers of the GIL to other threads
# Bits per decimal digit: the integer budget is stated in digits, checked in bits.
_BITS_PER_DIGIT = math.log2(10)


@dataclass(frozen=True)
class Budget:
    """The limits of one evaluation (one field's value, all its strings)."""

    timeout_seconds: float = 1.0
    max_output_bytes: int = 1_048_576  # per rendered value
    max_integer_digits: int = 1_000
    max_iterations: int = 100_000  # loop iterations, calls and filters together

    @classmethod
    def from_env(cls, env: Mapping[str, str]) -> Budget:
        """The budget set by ``INCIDENTFLOW_EXPRESSION_*``; ValueError names a bad one."""
        return cls(
            timeout_seconds=_positive(env, "time", float),
            max_output_bytes=_positive(env, "output", int),
            max_integer_digits=_positive(env, "integer", int),
            max_iterations=_positive(env, "iterations", int),
        )

    @property
    def max_integer_bits(self) -> int:
        """An integer of more bits surely has more digits than allowed."""
        return int(self.max_integer_digits * _BITS_PER_DIGIT) + 1


@dataclass(frozen=True)
class _Limit:
    attribute: str
    setting: str
    unit: str


LIMITS = {
    "time": _Limit("timeout_seconds", "INCIDENTFLOW_EXPRESSION_TIMEOUT_SECONDS", "s"),
    "output": _Limit("max_output_bytes", "INCIDENTFLOW_EXPRESSION_MAX_OUTPUT_BYTES", "bytes"),
    "integer": _Limit("max_integer_digits", "INCIDENTFLOW_EXPRESSION_MAX_INTEGER_DIGITS",
                      "digits"),
    "iterations": _Limit("max_iterations", "INCIDENTFLOW_EXPRESSION_MAX_ITERATIONS",
                         "iterations"),
}


def _positive(env: Mapping[str, str], name: str, kind: type[int] | type[float]) -> Any:
    limit = LIMITS[name]
    raw = env.get(limit.setting)
    if raw is None or raw.strip() == "":
        return getattr(Budget, limit.attribute)
    try:
        value = kind(raw)
    except ValueError:
        raise ValueError(f"{limit.setting} must be a number, got {raw!r}") from None
    if not value > 0 or (kind is float and not math.isfinite(value)):
        raise ValueError(f"{limit.setting} must be greater than 0, got {raw!r}")
    return value


class BudgetExceeded(Exception):  # noqa: N818 - it reads as what happened
    """Raised inside the sandbox; ``expressions`` turns it into :class:`BudgetError`.

    A plain ``Exception`` subclass on purpose: Jinja's constant folding catches
    ``Exception`` and defers the work to run time, where the budget applies again."""

    def __init__(self, budget: str, limit: float, what: str):
        self.budget, self.limit, self.what = budget, limit, what
        setting = LIMITS[budget].setting
        super().__init__(f"over the {budget} budget: {what} (limit {_amount(budget, limit)}; "
                         f"raise it with {setting})")

    @property
    def setting(self) -> str:
        return LIMITS[self.budget].setting


class BudgetError(ExpressionError):
    """An expression went over its budget: a permanent failure, never retried."""

    def __init__(self, breach: BudgetExceeded, node: str | None, field: str | None):
        super().__init__(str(breach), node=node, field=field)
        self.budget, self.limit, self.setting = breach.budget, breach.limit, breach.setting


def _amount(budget: str, limit: float) -> str:
    unit = LIMITS[budget].unit
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)
    return f"{limit:,} {unit}" if unit != "s" else f"{limit:g} s"


class Meter:
    """One evaluation's spending, checked against its budget as it goes."""

    __slots__ = ("budget", "deadline", "steps", "written")

    def __init__(self, budget: Budget):
        self.budget = budget
        self.deadline = time.monotonic() + budget.timeout_seconds
        self.steps = 0
        self.written = 0  # bytes of output of the value being rendered

    def step(self) -> None:
        """One loop iteration, call or filter; also where the clock is read."""
        self.steps += 1
        if not self.steps & _YIELD_EVERY:
            # Hand the GIL over now rather than at the end of the switch interval: the
            # event loop, waiting for it, answers sooner while a long template runs.
            time.sleep(0)
        if self.steps > self.budget.max_iterations:
            raise BudgetExceeded("iterations", self.budget.max_iterations,
                                 "too many loop iterations, calls and filters")
        if time.monotonic() > self.deadline:
            raise BudgetExceeded("time", self.budget.timeout_seconds, "still running")

    def wrote(self, text: str) -> str:
        """Count output of the value being rendered (text built by nested blocks and
        macros counts where it is written, and again where it is output)."""
        self.written += len(text)
        if self.written > self.budget.max_output_bytes:
            raise BudgetExceeded("output", self.budget.max_output_bytes,
                                 "the rendered text is too long")
        return text

    def new_value(self) -> None:
        self.written = 0

    # -- checks of single values ---------------------------------------------------------
    def size(self, value: Any) -> Any:
        """``value`` itself, unless it is longer or larger than the budget allows."""
        if isinstance(value, str | bytes | list | tuple | dict | set):
            self.length(len(value))
        elif isinstance(value, int) and not isinstance(value, bool):
            self.integer(value)
        return value

    def integer(self, value: int) -> None:
        """Exactly: at most ``max_integer_digits`` digits."""
        self.integer_bits(value.bit_length())
        digits = self.budget.max_integer_digits
        if value.bit_length() > digits * _BITS_PER_DIGIT - 4 and abs(value) >= _ten_to(digits):
            raise BudgetExceeded("integer", digits, f"an integer of more than {digits:,} digits")

    def length(self, length: int) -> None:
        if length > self.budget.max_output_bytes:
            raise BudgetExceeded("output", self.budget.max_output_bytes,
                                 f"a value of length {length:,} is too long")

    def integer_bits(self, bits: int) -> None:
        """``bits``: what the integer will have at least (checked before computing it)."""
        if bits > self.budget.max_integer_bits:
            raise BudgetExceeded("integer", self.budget.max_integer_digits,
                                 f"an integer of about {int(bits / _BITS_PER_DIGIT):,} "
                                 "digits is too large")


@functools.lru_cache(maxsize=8)
def _ten_to(digits: int) -> int:
    return 10**digits


class _Unmetered(Meter):
    """No evaluation running (Jinja folding constants while compiling): sizes are still
    checked against the default budget; steps and output are not counted."""

    __slots__ = ()

    def __init__(self) -> None:
        super().__init__(Budget())

    def step(self) -> None:
        pass

    def wrote(self, text: str) -> str:
        return text


_UNMETERED = _Unmetered()
_local = threading.local()


def current() -> Meter:
    """The meter of the evaluation running in this thread."""
    meter: Meter | None = getattr(_local, "meter", None)
    return _UNMETERED if meter is None else meter


@contextmanager
def metered(budget: Budget) -> Iterator[Meter]:
    """Meter what runs inside; an evaluation already metered in this thread keeps its
    meter (one field's budget covers all its strings)."""
    outer: Meter | None = getattr(_local, "meter", None)
    if outer is not None:
        yield outer
        return
    meter = _local.meter = Meter(budget)
    try:
        yield meter
    finally:
        _local.meter = None
