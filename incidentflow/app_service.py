"""The application service: what the API, the UI and the CLI share, as one object with
a room per noun (``host.canvases``, ``host.canvas_views``, ``host.integrations``,
``host.secrets``) around the shared parts: settings, the store's async face, the
registry, the secret box, the outgoing HTTP client, the clock and the worker's wake-up.

Store calls go through the async port (``store.aio``); remote calls (integration checks,
resource lists) happen outside any store call, never inside a transaction
(docs/design-rules.md, "No transaction around outside calls").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from incidentflow.canvas_service import CanvasService
from incidentflow.canvas_views import CanvasViews
from incidentflow.crypto import SecretBox
from incidentflow.errors import UpstreamError  # raised by the services, kept importable
from incidentflow.events import utcnow
from incidentflow.integration_service import IntegrationService
from incidentflow.receiver import Receiver
from incidentflow.secrets_service import CanvasSecrets
from incidentflow.self_trigger import SelfTriggerGuard

if TYPE_CHECKING:
    import httpx

    from incidentflow.registry import Registry
    from incidentflow.settings import Settings
    from incidentflow.store.async_port import AsyncStore
    from incidentflow.store.port import Store

__all__ = ["AppService", "UpstreamError"]


class AppService:
    def __init__(
        self,
        settings: Settings,
        store: Store,
        registry: Registry,
        box: SecretBox,
        http: httpx.AsyncClient,
        wakeup: Any = None,
        *,
        clock: Callable[[], datetime] = utcnow,
    ):
        self.settings, self.store, self.registry = settings, store, registry
        self.db: AsyncStore = store.aio
        self.box, self.http, self.wakeup, self.clock = box, http, wakeup, clock
        guard = SelfTriggerGuard(self.db, lambda: self.clock(),
                                 settings.self_trigger_wait_seconds, settings.lease_seconds)
        # The webhook hot path has a room of its own (receiver.py); the services tell it
        # when what it caches changes.
        self.receiver = Receiver(store, registry, box, guard, clock=lambda: self.clock())
        self.canvases = CanvasService(self)
        self.canvas_views = CanvasViews(self)
        self.integrations = IntegrationService(self)
        self.secrets = CanvasSecrets(self)

    def wake(self) -> None:
        """Tell this process's worker that work was committed."""
        if self.wakeup is not None:
            self.wakeup.notify()

