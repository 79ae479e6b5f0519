"""The Secrets page (list with dates, set or replace with a password input, delete after
a confirmation), and secrets as the node panel and the run page show them: masked."""

from __future__ import annotations

import re
from typing import Any

from ui_support import Browser, apply, drain

from incidentflow.crypto import MASK

try:
    from _logscan import known_secret
except ImportError:  # pragma: no cover
    def known_secret(value: str) -> None:
        pass

VALUE = "ui-secret-value-Wm93"
PAGING = """\
name: paging
nodes:
  - {name: Start, type: start}
  - name: Page
    type: http
    configuration:
      method: GET
      url: "http://emulator.test/page?token={{ secrets.PAGER_TOKEN }}"
      headers: {Authorization: "Bearer {{ secrets.PAGER_TOKEN }}"}
edges:
  - {from: Start, to: Page}
"""


def set_secret(browser: Browser, name: str, value: str) -> Any:
    known_secret(value)
    browser.get("/secrets")
    return browser.submit("/secrets", {"name": name, "value": value})


def test_the_nav_leads_to_the_secrets_page(browser: Browser) -> None:
    page = browser.get("/canvases").text
    assert '<a href="/secrets"' in page
    secrets_page = browser.get("/secrets")
    assert secrets_page.status_code == 200
    assert 'href="/secrets" aria-current="page"' in secrets_page.text
    assert "No secrets yet." in secrets_page.text
    assert re.search(r'<input id="secret-value" name="value" type="password"', secrets_page.text)


def test_set_lists_with_dates_and_never_shows_the_value(browser: Browser) -> None:
    saved = set_secret(browser, "PAGER_TOKEN", VALUE)
    assert saved.status_code == 200 and "Secret saved." in saved.text
    row = re.search(r'<tr data-secret="PAGER_TOKEN">(.*?)</tr>', saved.text, re.S)
    assert row, saved.text[:3000]
    assert row.group(1).count("<td>") == 4  # name, created, last set, actions
    assert VALUE not in saved.text


def test_setting_an_existing_name_replaces_it(browser: Browser, app: Any) -> None:
    set_secret(browser, "PAGER_TOKEN", VALUE)
    prefilled = browser.get("/secrets?name=PAGER_TOKEN").text
    assert 'id="secret-name" name="name" type="text" value="PAGER_TOKEN"' in prefilled
    replaced = browser.submit("/secrets", {"name": "PAGER_TOKEN", "value": VALUE + "-new"})
    assert replaced.text.count('data-secret="PAGER_TOKEN"') == 1
    from incidentflow.crypto import SecretBox

    box = SecretBox(app.state.settings.secret_key)
    stored = app.state.host.store.secrets_encrypted()["PAGER_TOKEN"]
    assert box.decrypt(stored) == VALUE + "-new"


def test_a_bad_name_is_explained_next_to_the_field(browser: Browser) -> None:
    refused = set_secret(browser, "bad-name", VALUE)
    assert refused.status_code == 422
    assert 'id="secret-name-error"' in refused.text and "letter or _" in refused.text
    assert 'aria-invalid="true"' in refused.text
    assert VALUE not in refused.text  # a password field is never filled back in
    empty = browser.submit("/secrets", {"name": "GOOD", "value": ""})
    assert empty.status_code == 422 and 'id="secret-value-error"' in empty.text


def test_deleting_asks_first_then_deletes(browser: Browser) -> None:
    set_secret(browser, "PAGER_TOKEN", VALUE)
    confirm = browser.get("/secrets/PAGER_TOKEN/delete")
    assert confirm.status_code == 200
    assert "Delete the secret “PAGER_TOKEN”?" in confirm.text
    assert "secrets.PAGER_TOKEN fail" in confirm.text
    assert 'data-secret="PAGER_TOKEN"' in browser.get("/secrets").text  # asking deleted nothing
    browser.get("/secrets/PAGER_TOKEN/delete")
    done = browser.submit("/secrets/PAGER_TOKEN/delete", {})
    assert "Secret deleted." in done.text and 'data-secret="PAGER_TOKEN"' not in done.text


def test_deleting_an_unknown_secret_is_a_404(browser: Browser) -> None:
    assert browser.get("/secrets/NOPE/delete").status_code == 404
    assert browser.get("/secrets/not-a-name/delete").status_code == 404
    browser.get("/secrets")
    assert browser.submit("/secrets/NOPE/delete", {}).status_code == 404


def test_forms_need_the_csrf_token(browser: Browser) -> None:
    set_secret(browser, "PAGER_TOKEN", VALUE)
    forged = browser.client.post("/secrets", data={"name": "X_NEW", "value": "forged-value"})
    assert forged.status_code == 403
    gone = browser.client.post("/secrets/PAGER_TOKEN/delete", data={"csrf_token": "x"})
    assert gone.status_code == 403
    assert 'data-secret="PAGER_TOKEN"' in browser.get("/secrets").text
    assert "X_NEW" not in browser.get("/secrets").text


def test_the_node_panel_previews_the_mask(browser: Browser) -> None:
    set_secret(browser, "PAGER_TOKEN", VALUE)
    assert apply(browser, PAGING).status_code == 200
    panel = browser.get("/canvases/paging/nodes/Page").text
    assert f"Bearer {MASK}" in panel and f"token={MASK}" in panel
    assert VALUE not in panel


def test_the_canvas_save_warns_about_a_secret_not_set(browser: Browser) -> None:
    saved = apply(browser, PAGING)
    assert saved.status_code == 200
    assert "PAGER_TOKEN" in saved.text and "not set yet" in saved.text


def test_the_run_page_shows_the_mask(browser: Browser, app: Any) -> None:
    set_secret(browser, "PAGER_TOKEN", VALUE)
    apply(browser, PAGING)
    run_id = app.state.host.store.start_run(*_manual_run(app))
    assert drain(browser, app) == 1
    page = browser.get(f"/runs/{run_id}")
    assert page.status_code == 200
    assert f"token={MASK}" in page.text and VALUE not in page.text


def _manual_run(app: Any) -> tuple[Any, ...]:
    from incidentflow.engine.router import first_executions
    from incidentflow.events import Event, utcnow

    canvas = app.state.host.store.get_canvas("paging").canvas
    event = Event("start.manual", {})
    return "paging", "Start", event, list(first_executions(canvas, "Start", event)), utcnow()



def test_the_pages_are_labelled_and_well_structured(browser: Browser) -> None:
    from test_accessibility import problems

    set_secret(browser, "PAGER_TOKEN", VALUE)
    for path in ("/secrets", "/secrets/PAGER_TOKEN/delete"):
        answer = browser.get(path)
        assert answer.status_code == 200, path
        assert problems(answer.text) == [], path
    assert problems(set_secret(browser, "bad-name", VALUE).text) == []
