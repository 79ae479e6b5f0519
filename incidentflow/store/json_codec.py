"""The JSON text of stored values (SQLAlchemy's ``JSON`` columns), made by orjson.

Under an alert storm the standard library's encoder and decoder were the largest
single cost of the process (9 % of the GIL's time at c=64: every delivery's event is
written, every claim reads its input back; bench/profiles/FINDINGS.md, issue 14).
orjson does the same work several times faster. What orjson refuses but ``json``
took (integers beyond 64 bits, keys that are not strings) and what it would change
(NaN and infinities, which it writes as ``null``) is encoded by ``json`` as before,
so no value that could be stored before is refused or altered now; reading takes
both spellings (``json`` wrote NaN as ``NaN``, which orjson does not read), and
text with a number of 19 digits or more goes to ``json``, which keeps big integers exact.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import orjson


def dumps(value: Any) -> str:
    """The JSON text of ``value`` (compact)."""
    try:
        text = orjson.dumps(value)
    except TypeError:  # > 64-bit integers, non-string keys: the stdlib encodes them
        return json.dumps(value)
    if b"null" in text and _has_non_finite(value):  # orjson wrote NaN/inf as null
        return json.dumps(value)
    return text.decode()


def loads(text: str | bytes) -> Any:
    long_number = _LONG_NUMBER if isinstance(text, str) else _LONG_NUMBER_BYTES
    if long_number.search(text):  # type: ignore[arg-type]
        return json.loads(text)  # orjson would read an integer beyond 64 bits as a float
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:  # NaN or infinity, written by json earlier
        return json.loads(text)


# 19 digits in a row: an integer that may not fit in 64 bits (or a long fraction,
# which the standard library reads as well, only slower).
_LONG_NUMBER = re.compile(r"[0-9]{19}")
_LONG_NUMBER_BYTES = re.compile(rb"[0-9]{19}")


def _has_non_finite(value: Any) -> bool:
    if isinstance(value, float):
        return not math.isfinite(value)
    if isinstance(value, dict):
        return any(_has_non_finite(item) for item in value.values())
    if isinstance(value, list | tuple):
        return any(_has_non_finite(item) for item in value)
    return False
