"""The integration form asks for the key again when the base URL moves (the stored key
is only sent where it was saved to go), and refuses a metadata address beside the field.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from browser_support import launch, require_chromium
from ui_support import EMULATOR_KEY, EMULATOR_URL, Browser


def update_form(page: str, name: str = "incident") -> str:
    """The update form of integration ``name`` (its <details> block)."""
    found = re.search(rf'<details[^>]*>\s*<summary>Replace the API key of {name}</summary>'
                      r'.*?</details>', page, re.S)
    assert found, "no update form"
    return found.group(0)


def test_the_update_form_says_the_key_is_needed_again_for_a_new_base_url(
    with_integration: Browser,
) -> None:
    form = update_form(with_integration.get("/integrations").text)
    assert "Needed again if you change the Base URL" in form
    assert 'data-destination="http://emulator.test"' in form
    assert "data-needed-when-moved" in form


def test_moving_the_base_url_without_the_key_is_refused_in_that_form(
    with_integration: Browser,
) -> None:
    with_integration.get("/integrations")
    answer = with_integration.submit("/integrations", {
        "name": "incident", "type": "incident", "replace": "incident",
        "field-baseUrl": "https://elsewhere.example"})
    assert answer.status_code == 422
    form = update_form(answer.text)
    assert form.startswith("<details open")
    assert "changing baseUrl needs apiKey again" in form
    assert 'value="https://elsewhere.example"' in form  # what was typed stays
    assert re.search(r'id="upd-incident-apiKey"[^>]*\brequired\b', form)
    # Nothing was stored: the integration still points at the emulator.
    page = with_integration.get("/integrations").text
    assert 'data-integration-status="incident">ready' in page
    assert f'value="{EMULATOR_URL}"' in update_form(page)


def test_moving_the_base_url_with_the_key_saves(with_integration: Browser) -> None:
    with_integration.get("/integrations")
    answer = with_integration.submit("/integrations", {
        "name": "incident", "type": "incident", "replace": "incident",
        "field-apiKey": EMULATOR_KEY, "field-baseUrl": EMULATOR_URL + "/"})
    assert answer.status_code == 200 and "Integration saved." in answer.text


def test_a_metadata_base_url_is_refused_beside_the_field(browser: Browser) -> None:
    browser.get("/integrations")
    answer = browser.submit("/integrations", {
        "name": "incident", "type": "incident", "field-apiKey": EMULATOR_KEY,
        "field-baseUrl": "http://169.254.169.254"})
    assert answer.status_code == 422
    assert re.search(r'id="new-baseUrl-error">egress refused: 169\.254\.169\.254', answer.text)


# -- in chromium: the key becomes required as soon as the base URL moves -------------------

@pytest.mark.browser
def test_the_key_becomes_required_while_the_base_url_differs(with_integration: Browser) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    require_chromium()
    page_html = with_integration.get("/integrations").text
    script = with_integration.client.get("/static/ui.js").text

    def serve(route: Any) -> None:
        if route.request.url.endswith("/static/ui.js"):
            route.fulfill(body=script, content_type="text/javascript")
        elif route.request.url.endswith("/integrations"):
            route.fulfill(body=page_html, content_type="text/html")
        else:
            route.fulfill(body="", status=204)

    with sync_api.sync_playwright() as playwright:
        chromium = launch(playwright)
        try:
            page = chromium.new_page()
            page.route("**/*", serve)
            page.goto("https://flows.example.com/integrations")
            page.click("summary:has-text('Replace the API key of incident')")
            key, base = page.locator("#upd-incident-apiKey"), page.locator("#upd-incident-baseUrl")
            assert key.evaluate("el => el.required") is False
            base.fill("https://elsewhere.example")
            assert key.evaluate("el => el.required") is True
            base.fill(EMULATOR_URL + "/")  # the same address again
            assert key.evaluate("el => el.required") is False
        finally:
            chromium.close()
