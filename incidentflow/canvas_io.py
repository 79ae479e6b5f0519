"""Canvas text in and out: YAML/JSON loading (safe, bounded) and YAML dumping.

``read_document`` turns text (or an already-decoded mapping) into a private,
JSON-safe copy of the document, or raises ``CanvasError``; ``incidentflow.canvas``
then validates that document into a ``Canvas``. ``dump_canvas_yaml`` writes the
canonical file form back. Both are also importable from ``incidentflow.canvas``.
"""

from __future__ import annotations

import math
import re
from typing import TYPE_CHECKING, Any

import yaml

from incidentflow import jsontext
from incidentflow.errors import CanvasError, Problem

if TYPE_CHECKING:
    from incidentflow.canvas import Canvas

MAX_SOURCE_CHARS = 1_000_000
MAX_VALUES = 50_000  # strings, numbers, lists... in one canvas (also stops YAML alias bombs)
MAX_DEPTH = 64


def read_document(source: str | bytes | dict[str, Any]) -> Any:
    """The decoded document as plain JSON values; CanvasError when it is not readable."""
    return _plain_document(_load(source))


def dump_canvas_yaml(canvas: Canvas) -> str:
    return yaml.dump(
        canvas.to_dict(), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=120
    )


class _Dumper(yaml.SafeDumper):
    """PyYAML may write a trailing Unicode line break (NEL, LS, PS) in a single-quoted
    scalar, where reading folds it into a space; double quotes escape it instead."""

    def represent_str(self, data: str) -> yaml.ScalarNode:
        if any(ch in data for ch in "\x85\u2028\u2029"):
            return self.represent_scalar("tag:yaml.org,2002:str", data, style='"')
        return super().represent_str(data)


_Dumper.add_representer(str, _Dumper.represent_str)


# --- loading -----------------------------------------------------------------------

_DROPPED_TAGS = ("tag:yaml.org,2002:timestamp", "tag:yaml.org,2002:bool")


# libyaml's parser when PyYAML was built with it: ten times faster than the pure one.
_SafeBase: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_SafeBase):  # type: ignore[valid-type,misc]
    """Safe YAML with YAML 1.2 habits: dates stay text, only true/false are booleans
    (``on:`` and ``no`` are text), and a key given twice is refused (a likely typo)."""

    yaml_implicit_resolvers = {
        first: [(tag, rx) for tag, rx in resolvers if tag not in _DROPPED_TAGS]
        for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
    }

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: set[Any] = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)  # type: ignore[no-untyped-call]
            if isinstance(key, str) and key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"key {key!r} appears twice", key_node.start_mark
                )
            if isinstance(key, str):
                seen.add(key)
        return super().construct_mapping(node, deep=deep)


_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)


def _load(source: str | bytes | dict[str, Any]) -> Any:
    if isinstance(source, dict):
        return source
    if isinstance(source, bytes):
        try:
            source = source.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise CanvasError([Problem(f"the canvas is not UTF-8 text ({exc.reason})")]) from None
    if not isinstance(source, str):
        raise CanvasError([Problem("a canvas is YAML or JSON text, or a mapping")])
    if len(source) > MAX_SOURCE_CHARS:
        raise CanvasError([Problem(f"the canvas is larger than {MAX_SOURCE_CHARS} characters")])
    try:
        return _parse_text(source)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise CanvasError([Problem(f"not valid YAML{where}: {exc.problem}")]) from None
    except yaml.YAMLError as exc:
        raise CanvasError([Problem(f"not valid YAML: {exc}")]) from None
    except RecursionError:
        raise CanvasError([Problem("the canvas is nested too deeply")]) from None


def _parse_text(text: str) -> Any:
    if text.lstrip().startswith("{"):
        try:
            return jsontext.decode(text)
        except jsontext.NotJson:
            pass  # not JSON; YAML flow style ("{name: x}") or a YAML error with a line number
        except jsontext.JsonRejected as exc:  # JSON, but a key twice, NaN...: as YAML would
            raise CanvasError([Problem(str(exc))]) from None
    return yaml.load(text, Loader=_Loader)  # noqa: S506 - _Loader is a SafeLoader


def _plain_document(value: Any) -> Any:
    """A private JSON-safe copy of the document, or CanvasError naming what is not."""
    problems: list[Problem] = []
    budget = [MAX_VALUES]
    copied = _plain(value, "", problems, budget, 0)
    if problems:
        raise CanvasError(problems[:20])
    return copied


def _plain(value: Any, path: str, problems: list[Problem], budget: list[int], depth: int) -> Any:
    budget[0] -= 1
    if budget[0] < 0 or depth > MAX_DEPTH:
        if not problems:
            problems.append(Problem("the canvas is too large or nested too deeply"))
        return None
    where = path or "the canvas"
    if isinstance(value, dict):
        out = {}
        for key, item in value.items():
            if not isinstance(key, str):
                problems.append(Problem(f"key {key!r} is not text", field=where))
            out[str(key)] = _plain(item, _join(path, str(key)), problems, budget, depth + 1)
        return out
    if isinstance(value, list | tuple):
        return [_plain(v, f"{path}[{i}]", problems, budget, depth + 1) for i, v in enumerate(value)]
    if isinstance(value, str):
        if "\x00" in value or not _encodable(value):
            problems.append(Problem("text contains a NUL or an invalid character", field=where))
        return value
    if isinstance(value, float) and not math.isfinite(value):
        problems.append(Problem(f"{value} is not a finite number", field=where))
    elif not (value is None or isinstance(value, bool | int | float)):
        problems.append(Problem(f"a {type(value).__name__} is not a JSON value", field=where))
    return value


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key
