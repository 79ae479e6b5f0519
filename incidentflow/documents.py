"""Request documents decoded: a JSON body that must be one object, and a canvas
document (YAML or JSON) read exactly as the CLI and UI read it. Errors are the
caller's to fix: ``Malformed`` (400: cannot even be decoded), ``CanvasError`` (422).
"""

from __future__ import annotations

import json
from typing import Any

from incidentflow.canvas_io import read_document
from incidentflow.errors import CanvasError, Malformed, Problem
from incidentflow.jsontext import JsonRejected, decode


def json_object(body: str | bytes) -> dict[str, Any]:
    """A request body that must be one JSON object, decoded by the strict rules of
    ``incidentflow.jsontext``; Malformed (400) naming what is wrong otherwise."""
    try:
        value = decode(body)
    except JsonRejected as exc:
        raise Malformed(f"malformed JSON: {exc}") from None
    if not isinstance(value, dict):
        raise Malformed("the body must be a JSON object")
    return value


def source_text(source: str | bytes | dict[str, Any]) -> str:
    if isinstance(source, bytes):
        try:
            return source.decode("utf-8")
        except UnicodeDecodeError:
            raise Malformed("the canvas must be UTF-8 text") from None
    if isinstance(source, dict):
        return json.dumps(source, indent=2)
    return source


def with_name(source: str | bytes | dict[str, Any], name: str) -> dict[str, Any]:
    """Decode the document and make its name agree with ``name``."""
    document = source if isinstance(source, dict) else load_document(source_text(source))
    given = document.get("name")
    if given is None or given == "":
        return {**document, "name": name}
    if given != name:
        raise CanvasError(
            [Problem(f"the file names {given!r} but the URL names {name!r}", field="name")]
        )
    return document


def load_document(text: str) -> dict[str, Any]:
    """YAML (JSON is YAML) into a mapping, read exactly as the CLI and UI read it
    (keys given twice refused, ``on``/``no`` kept as text); Malformed otherwise."""
    try:
        document = read_document(text)
    except CanvasError as exc:
        raise Malformed(f"not valid YAML or JSON: {exc}") from None
    if not isinstance(document, dict):
        raise Malformed("the canvas must be a mapping with name, nodes and edges")
    return document
