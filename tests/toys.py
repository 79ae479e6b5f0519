"""The suite's toy components: small stand-ins with the shapes the real ones have (a
trigger with a webhook, filter, if, an http-like step, actions that create things), so
tests of canvases and of the engine's rules do not depend on the real catalogue.
``make_registry()`` is a catalogue of all of them (import as ``toys``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, ClassVar

from incidentflow.components.base import Component, Field, Option, WebhookTrigger
from incidentflow.errors import Problem
from incidentflow.registry import Registry

EVENTS = ("thing.created", "thing.updated")


class Start(Component):
    type = "start"
    label = "Start"
    role = "trigger"


class OnThing(WebhookTrigger):
    type = "things.onThing"
    label = "On Thing"
    integration = "things"
    listens_for: ClassVar[frozenset[str]] = frozenset({"things.thing"})
    fields = (
        Field(
            "events",
            "multiselect",
            "Events",
            required=True,
            default=EVENTS,  # a tuple on purpose: the canvas must hold a list
            options=tuple(Option(e, e) for e in EVENTS),
        ),
        Field("allowSelfTriggered", "boolean", "Allow self-triggered"),
    )


class Filter(Component):
    type = "filter"
    label = "Filter"
    fields = (Field("expression", "condition", "Condition", required=True),)


class If(Component):
    type = "if"
    label = "If"
    fields = (Field("expression", "condition", "Condition", required=True),)
    channels = ("true", "false")


class Http(Component):
    type = "http"
    label = "HTTP"
    channels = ("success", "failure")
    fields = (
        Field("url", "template", "URL", required=True),
        Field("method", "select", "Method", default="POST",
              options=(Option("GET", "GET"), Option("POST", "POST"))),
        Field("body", "object", "Body"),
        Field("timeout", "number", "Timeout"),
        Field("followRedirects", "boolean", "Follow redirects"),
        Field("note", "text", "Note"),
    )

    def check(self, node: str, config: Mapping[str, Any]) -> list[Problem]:
        if config.get("method") == "GET" and "body" in config:
            return [Problem("a GET request has no body", node=node, field="body")]
        return []


class CreateThing(Component):
    type = "things.createThing"
    label = "Create Thing"
    integration = "things"
    creates = "things.thing"
    fields = (
        Field("name", "template", "Name", required=True),
        Field("severityId", "select", "Severity", required=True, resource="severity"),
        Field("visibility", "select", "Visibility", default="public",
              options=(Option("public", "Public"), Option("private", "Private"))),
    )


class PageSomeone(Component):
    type = "pager.page"
    label = "Page"
    creates = "pager.page"


class Note(Component):
    type = "note"
    label = "Note"


def make_registry() -> Registry:
    """Every toy, in a catalogue of its own."""
    registry = Registry()
    for component in (Start(), OnThing(), Filter(), If(), Http(), CreateThing(),
                      PageSomeone(), Note()):
        registry.add_component(component)
    return registry
