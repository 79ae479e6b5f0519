"""The Secrets page in Debian's chromium against a real ``incidentflow serve``: reach it
from the nav, set a secret through the password input, see it listed without its value,
delete it after the confirmation step."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from browser_support import launch, require_chromium
from helpers import free_port
from servers import cli, process

try:
    from _logscan import known_secret
except ImportError:  # pragma: no cover
    def known_secret(value: str) -> None:
        pass

pytestmark = pytest.mark.browser

TOKEN = "ifa_secrets_browser_" + "D" * 24
VALUE = "browser-secret-value-Hn52"

pw_sync = pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    logs = tmp_path_factory.mktemp("logs")
    url = f"http://127.0.0.1:{free_port()}"
    env = {
        "INCIDENTFLOW_ADMIN_TOKEN": TOKEN,
        "INCIDENTFLOW_SECRET_KEY": "secrets-browser-test-key",
        "INCIDENTFLOW_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "INCIDENTFLOW_PUBLIC_URL": url,
    }
    port = url.rsplit(":", 1)[1]
    with process([*cli(), "serve", "--port", port], f"{url}/healthz", env,
                 logs / "server-secrets.log"):
        yield url


@pytest.fixture
def page(base: str) -> Iterator[Any]:
    with pw_sync.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(base_url=base)
        context.set_default_timeout(10_000)
        yield context.new_page()
        context.close()
        browser.close()


def test_set_list_and_delete_a_secret(page: Any) -> None:
    expect = pw_sync.expect
    known_secret(VALUE)
    page.goto("/signin")
    page.get_by_label("Token").fill(TOKEN)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Secrets").click()
    expect(page.get_by_role("heading", name="Secrets", exact=True).first).to_be_visible()
    expect(page.get_by_text("No secrets yet.")).to_be_visible()

    value = page.get_by_label("Value", exact=True)
    assert value.get_attribute("type") == "password"
    page.get_by_label("Name").fill("PAGER_TOKEN")
    value.fill(VALUE)
    page.get_by_role("button", name="Save secret").click()
    expect(page.get_by_role("status").filter(has_text="Secret saved.")).to_be_visible()
    row = page.locator('tr[data-secret="PAGER_TOKEN"]')
    expect(row).to_contain_text("PAGER_TOKEN")
    assert VALUE not in page.content()
    assert page.get_by_label("Value", exact=True).input_value() == ""  # never filled back in

    row.get_by_role("link", name="Delete PAGER_TOKEN").click()
    expect(page.get_by_role("heading", name="Delete the secret “PAGER_TOKEN”?")).to_be_visible()
    page.get_by_role("button", name="Delete secret").click()
    expect(page.get_by_role("status").filter(has_text="Secret deleted.")).to_be_visible()
    expect(page.locator('tr[data-secret="PAGER_TOKEN"]')).to_have_count(0)
