"""Small things a new SRE tripped over (issue #13): plurals, the favicon, the node
warning marker's tooltip, the sign-in hint, clearing a signing secret, the nav on runs."""

from __future__ import annotations

import json
import re
from typing import Any

from ui_support import MANUAL, MIRROR, Browser, apply

from incidentflow.settings import Settings

SECRET = "whsec_" + "QUJD" * 8


def test_the_integration_lists_the_severities_it_can_see(with_integration: Browser) -> None:
    page = with_integration.get("/integrations").text
    assert "<h3>Severities it can see</h3>" in page
    assert "Severitys" not in page


def test_favicon_ico_leads_to_the_svg_icon_without_signing_in(anon: Browser) -> None:
    answer = anon.client.get("/favicon.ico", follow_redirects=False)
    assert answer.status_code == 301
    assert answer.headers["location"] == "/static/favicon.svg"
    icon = anon.client.get("/favicon.ico")  # followed, as a browser does
    assert icon.status_code == 200
    assert icon.headers["content-type"].startswith("image/svg+xml")
    assert icon.text.startswith("<svg")


def test_every_page_links_its_icon(anon: Browser, browser: Browser) -> None:
    for page in (anon.get("/signin").text, browser.get("/canvases").text):
        assert '<link rel="icon" href="/static/favicon.svg" type="image/svg+xml">' in page


def test_the_warning_marker_says_what_the_warning_is(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)  # On Incident has no signing secret yet
    page = with_integration.get("/canvases/mirror").text
    marker = re.search(r'<text class="flag"[^>]*>(.*?)</text>', page, re.S)
    assert marker, "no warning marker drawn"
    assert 'aria-label="Warning: not operational: signing secret not set"' in marker.group(0)
    assert marker.group(1) == "<title>Warning: not operational: signing secret not set</title>⚠"


def test_the_sign_in_hint_names_the_configured_token_file(anon: Browser,
                                                          settings: Settings) -> None:
    token_file = settings.data_dir / "admin.token"
    token_file.write_text("ifa_generated")  # as `serve` writes it when none is given
    page = anon.get("/signin").text
    assert f"<code>{token_file}</code>" in page
    assert ".incidentflow/admin.token" not in page


def test_the_sign_in_hint_without_a_token_file_names_the_variable(anon: Browser) -> None:
    page = anon.get("/signin").text  # the test settings pass the token directly
    assert "admin.token" not in page
    assert "<code>INCIDENTFLOW_ADMIN_TOKEN</code>" in page


def test_clearing_the_signing_secret_asks_first(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)
    node = "/canvases/mirror/nodes/On%20Incident"
    with_integration.get(node)
    with_integration.submit(f"{node}/secret", {"secret": SECRET})
    panel = with_integration.get(node).text
    assert 'value="clear"' not in panel  # no one-click clear button any more
    assert f'<a class="button danger" href="{node}/secret/clear">' in panel

    confirm = with_integration.get(f"{node}/secret/clear")
    assert confirm.status_code == 200
    assert "Clear the signing secret of “On Incident”?" in confirm.text
    assert "rejected" in confirm.text and f'href="{node}">Cancel</a>' in confirm.text
    assert 'id="secret-status">set' in with_integration.get(node).text  # asking cleared nothing

    # The old one-click form post no longer clears it.
    with_integration.get(node)
    refused = with_integration.submit(f"{node}/secret", {"action": "clear"})
    assert refused.status_code == 422 and 'id="secret-status">set' in refused.text

    with_integration.get(f"{node}/secret/clear")
    cleared = with_integration.submit(f"{node}/secret/clear", {})
    assert "Signing secret cleared." in cleared.text
    assert 'id="secret-status">not set' in cleared.text


def test_clearing_needs_the_csrf_token(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)
    node = "/canvases/mirror/nodes/On%20Incident"
    with_integration.get(node)
    with_integration.submit(f"{node}/secret", {"secret": SECRET})
    refused = with_integration.client.post(f"{node}/secret/clear", data={"csrf_token": "x"})
    assert refused.status_code == 403
    assert 'id="secret-status">set' in with_integration.get(node).text


def test_clearing_is_only_offered_for_a_webhook_trigger(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)
    assert with_integration.get(
        "/canvases/mirror/nodes/Open%20follow-up/secret/clear").status_code == 404
    assert with_integration.get("/canvases/mirror/nodes/Nope/secret/clear").status_code == 404
    assert with_integration.get("/canvases/nope/nodes/X/secret/clear").status_code == 404


def test_the_nav_keeps_canvases_current_on_a_run_page(with_integration: Browser,
                                                      app: Any) -> None:
    apply(with_integration, MANUAL)
    with_integration.get("/canvases/manual/nodes/Start")
    answer = with_integration.submit("/canvases/manual/nodes/Start/run",
                                     {"payload": json.dumps({"title": "DB down"})})
    assert "/runs/" in str(answer.url)
    assert '<a href="/canvases" aria-current="page">Canvases</a>' in answer.text
    assert answer.text.count('aria-current="page"') == 1
