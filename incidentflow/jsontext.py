"""JSON text from outside, decoded strictly, and stored values made safe to show.

``decode`` is the one JSON decoder for every ingress (API bodies, UI payload fields,
canvases written as JSON, signed webhook bodies). Python's ``json`` accepts things that
are not JSON or that break us later, so it refuses them up front with ``JsonRejected``
(a ``ValueError`` naming what is wrong):

- ``NaN``, ``Infinity`` and numbers out of float range (``1e999`` would become inf):
  neither JSON nor storable in PostgreSQL, and the API cannot answer them back;
- numbers longer than ``MAX_NUMBER_CHARS`` (Python refuses to parse 4,300-digit ints,
  and the cost of parsing grows with the square of their length);
- a key given twice in one object (YAML refuses it too; one of the two silently won);
- ``\\ud800``-style escapes that leave a lone surrogate (no UTF-8 text can hold it);
- nesting deeper than ``MAX_DEPTH``, and text that is not UTF-8.

``displayable`` is for values stored before these rules: a copy in which non-finite
numbers become text and lone surrogates become U+FFFD, so every view can show them.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

MAX_DEPTH = 64
MAX_NUMBER_CHARS = 100

# Only these escapes can produce a surrogate: \\uD800-\\uDFFF. A pair that makes one
# character is fine; the decoder joins it, so what is left afterwards is lone.
_SURROGATE_ESCAPE = re.compile(r"\\u[dD][89a-fA-F]")
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")


class JsonRejected(ValueError):
    """The text is not JSON we accept; the message says why (safe to show the caller)."""


class NotJson(JsonRejected):
    """Not JSON at all (a syntax error), as opposed to JSON that breaks a rule above."""


def decode(data: str | bytes, *, unique_keys: bool = True) -> Any:
    """The JSON value in ``data``; JsonRejected if it is not (acceptable) JSON.

    ``unique_keys=False`` skips the duplicate-key check (a third of the decoding time)
    where one reader alone ever reads the bytes and a person never writes them."""
    text = _text(data)
    decoder = _DECODER if unique_keys else _DECODER_LAST_KEY_WINS
    try:
        value = decoder.decode(text)
    except json.JSONDecodeError as exc:
        raise NotJson(f"{exc.msg} at line {exc.lineno}, column {exc.colno}") from None
    except RecursionError:
        raise JsonRejected(f"nested more than {MAX_DEPTH} levels deep") from None
    # Cheap tests first: nesting can only exceed MAX_DEPTH with that many brackets, and
    # a lone surrogate needs a \\uD8xx-\\uDFxx escape (or, in text handed to us as
    # str, the character itself: never ASCII). Most bodies need no walk at all.
    deep = text.count("{") + text.count("[") > MAX_DEPTH
    if deep or _SURROGATE_ESCAPE.search(text) or _may_hold_surrogates(data, text):
        _check_tree(value, 0)
    return value


def displayable(value: Any) -> Any:
    """``value`` with non-finite numbers as text and lone surrogates replaced."""
    if isinstance(value, float) and not math.isfinite(value):
        return str(value).replace("inf", "Infinity").replace("nan", "NaN")
    if isinstance(value, str):
        return _LONE_SURROGATE.sub("\ufffd", value)
    if isinstance(value, dict):
        return {displayable(k): displayable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [displayable(v) for v in value]
    return value


def _text(data: str | bytes) -> str:
    if isinstance(data, str):
        return data
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise JsonRejected(f"not UTF-8 text (byte {exc.start})") from None


def _may_hold_surrogates(data: str | bytes, text: str) -> bool:
    # UTF-8 bytes decoded strictly never hold one; searching is slow, so only for str
    return isinstance(data, str) and not text.isascii() and bool(_LONE_SURROGATE.search(text))


def _check_tree(value: Any, depth: int) -> None:
    if depth > MAX_DEPTH:
        raise JsonRejected(f"nested more than {MAX_DEPTH} levels deep")
    if isinstance(value, str):
        if _LONE_SURROGATE.search(value):
            raise JsonRejected("text holds a lone surrogate escape (\\ud800-\\udfff)")
    elif isinstance(value, dict):
        for key, item in value.items():
            _check_tree(key, depth)
            _check_tree(item, depth + 1)
    elif isinstance(value, list):
        for item in value:
            _check_tree(item, depth + 1)


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    mapping = dict(pairs)
    if len(mapping) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise JsonRejected(f"key {key[:100]!r} appears twice in one object")
            seen.add(key)
    return mapping


def _finite_float(text: str) -> float:
    _check_length(text)
    number = float(text)
    if not math.isfinite(number):
        raise JsonRejected(f"the number {text[:40]} is out of range")
    return number


def _bounded_int(text: str) -> int:
    _check_length(text)
    return int(text)


def _check_length(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonRejected(f"a number has {len(text)} characters (at most {MAX_NUMBER_CHARS})")


def _no_constant(name: str) -> Any:
    raise JsonRejected(f"{name} is not a JSON number")


_NUMBERS: dict[str, Any] = {
    "parse_float": _finite_float, "parse_int": _bounded_int, "parse_constant": _no_constant}
_DECODER = json.JSONDecoder(object_pairs_hook=_unique_keys, **_NUMBERS)
_DECODER_LAST_KEY_WINS = json.JSONDecoder(**_NUMBERS)
