"""What an integration is: a named connection to an outside service.

An integration type (e.g. ``incident``) declares its configuration fields (secret
ones are encrypted at rest; ``destination_fields`` say where they are sent), how to
validate a configuration against the service, which resources it can list for
pickers, and the components it brings.
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from incidentflow.components.base import Component, Field

if TYPE_CHECKING:
    import httpx


@dataclass(frozen=True)
class IntegrationStatus:
    status: Literal["ready", "error"]
    reason: str = ""  # a sentence a person can act on, when status is "error"


@dataclass(frozen=True)
class Resource:
    type: str
    id: str
    name: str
    # What a picker may show besides the name (a custom field's options, a user's
    # email); camelCase keys, added to the API's answer only when present.
    details: Mapping[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "id": self.id, "name": self.name, **self.details}


class Integration:
    type: ClassVar[str]
    label: ClassVar[str]
    description: ClassVar[str] = ""
    # Setup instructions shown next to the form (markdown-ish plain text).
    instructions: ClassVar[str] = ""
    fields: ClassVar[tuple[Field, ...]] = ()
    resource_types: ClassVar[tuple[str, ...]] = ()
    components: ClassVar[tuple[builtins.type[Component], ...]] = ()
    # URL fields that decide where the secret fields are sent (e.g. a base URL). They
    # are checked against the egress policy when saved, and changing one needs every
    # stored secret given again: otherwise one request could send the stored key to
    # any host.
    destination_fields: ClassVar[tuple[str, ...]] = ()

    async def validate(
        self, config: Mapping[str, Any], http: httpx.AsyncClient
    ) -> IntegrationStatus:
        raise NotImplementedError

    async def list_resources(
        self, config: Mapping[str, Any], resource_type: str, http: httpx.AsyncClient,
        query: str = "",
    ) -> list[Resource]:
        """The resources of one type; ``query`` (may be empty) narrows a searchable
        type such as users."""
        raise NotImplementedError

    @classmethod
    def secret_fields(cls) -> tuple[str, ...]:
        return tuple(f.name for f in cls.fields if f.kind == "secret")
