"""The browser UI: server-rendered pages for canvases, runs and integrations.

Public API (wired into ``create_app`` by the web app):

    ui_app(host, settings) -> Starlette     mount at "/" after the API and webhook routes
    routes(host, settings) -> list[BaseRoute]  the same, as ``[Mount("/", ui_app(...))]``

Everything under it needs a signed-in session except ``/signin`` and ``/static``.
"""

from incidentflow.web.ui.ui_app import routes, ui_app

__all__ = ["routes", "ui_app"]
