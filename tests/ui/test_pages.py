"""The UI pages through the real app and store, incident.io played by the emulator."""

from __future__ import annotations

import re
from typing import Any

from starlette.routing import Route
from ui_support import ADMIN_TOKEN, MANUAL, MIRROR, Browser, apply, csrf_of, drain

from incidentflow.web.ui.session import COOKIE_NAME

# -- sign in, sign out, gate ---------------------------------------------------------


def test_pages_need_a_session(anon: Browser) -> None:
    for path in ["/", "/canvases", "/canvases/new", "/integrations", "/runs/x"]:
        answer = anon.client.get(path, follow_redirects=False)
        assert answer.status_code == 303, path
        assert answer.headers["location"].startswith("/signin?next=")


def test_open_paths_stay_open(anon: Browser) -> None:
    assert anon.client.get("/healthz").status_code == 200
    assert anon.client.get("/static/ui.css").status_code == 200
    assert anon.client.get("/signin").status_code == 200


def test_wrong_token_is_refused(anon: Browser) -> None:
    answer = anon.sign_in("ifa_wrong")
    assert answer.status_code == 401
    assert "That token was not accepted." in answer.text
    assert anon.client.get("/canvases", follow_redirects=False).status_code == 303


def test_session_cookie_is_httponly_lax_and_secure(anon: Browser) -> None:
    anon.get("/signin")
    answer = anon.client.post(
        "/signin", data={"csrf_token": csrf_of(anon.page), "token": ADMIN_TOKEN},
        follow_redirects=False,
    )
    cookie = answer.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" in cookie


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(anon: Browser) -> None:
    anon.get("/signin?next=/integrations")
    answer = anon.submit("/signin", {"token": ADMIN_TOKEN, "next": "/integrations"},
                         follow_redirects=False)
    assert answer.headers["location"] == "/integrations"
    anon.client.cookies.clear()
    anon.get("/signin")
    answer = anon.submit("/signin", {"token": ADMIN_TOKEN, "next": "//evil.example/x"},
                         follow_redirects=False)
    assert answer.headers["location"] == "/"


def test_sign_out_ends_the_session_even_for_a_kept_cookie(browser: Browser) -> None:
    kept = browser.client.cookies.get(COOKIE_NAME)
    browser.get("/canvases")
    answer = browser.submit("/signout", {})
    assert "You are signed out." in answer.text
    browser.client.cookies.set(COOKIE_NAME, kept, domain="flows.example.com")
    assert browser.client.get("/canvases", follow_redirects=False).status_code == 303


def test_forged_cookie_is_refused(browser: Browser) -> None:
    value = browser.client.cookies.get(COOKIE_NAME)
    body, signature = value.rsplit(".", 1)
    browser.client.cookies.set(COOKIE_NAME, body + "." + "0" * len(signature),
                               domain="flows.example.com")
    assert browser.client.get("/canvases", follow_redirects=False).status_code == 303


def test_every_form_post_checks_the_csrf_token(browser: Browser, app: Any) -> None:
    ui_app = next(r.app for r in app.routes if getattr(r, "name", "") == "ui")
    posts = [r for r in ui_app.routes if isinstance(r, Route) and "POST" in (r.methods or ())]
    assert len(posts) >= 11
    for route in posts:
        path = route.path.format(name="mirror", node="On Incident", token_id="x", run_id="x",
                                 execution_id="x")
        answer = browser.client.post(path, data={"csrf_token": "wrong", "token": ADMIN_TOKEN})
        assert answer.status_code == 403, path
        assert "did not come from this site" in answer.text


# -- canvases and the editor -------------------------------------------------------------


def test_editor_shows_the_error_at_the_node_and_field_then_saves_the_fix(
    with_integration: Browser,
) -> None:
    browser = with_integration
    broken = MIRROR.replace("    configuration:\n      name:", "    configuration:\n      nam:")
    answer = apply(browser, broken)
    assert answer.status_code == 422
    problem = re.search(r'class="problem" data-node="Open follow-up" data-field="([^"]*)"',
                        answer.text)
    assert problem, answer.text[:2000]
    # the broken node is drawn highlighted; the others are not
    assert re.search(r'class="node role-action has-error"\s+data-node="Open follow-up"',
                     answer.text)
    assert 'has-error" data-node="On Incident"' not in answer.text
    assert "nam:" in answer.text  # the text typed is kept for fixing
    fixed = apply(browser, MIRROR)
    assert fixed.status_code == 200 and "Canvas saved." in fixed.text
    assert "v1" in fixed.text
    again = apply(browser, MIRROR.replace("private", "public"))
    assert "v2" in again.text


def test_canvas_list_shows_version_triggers_and_last_run(with_integration: Browser,
                                                          app: Any) -> None:
    apply(with_integration, MANUAL)
    page = with_integration.get("/canvases").text
    assert "manual" in page and "never" in page
    _run_manual(with_integration, {"title": "DB down"})
    drain(with_integration, app)
    page = with_integration.get("/canvases").text
    assert re.search(r'badge ok">succeeded', page)


def test_graph_links_every_node_to_its_panel(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)
    page = with_integration.get("/canvases/mirror").text
    assert 'href="/canvases/mirror/nodes/On%20Incident"' in page
    assert 'href="/canvases/mirror/nodes/Open%20follow-up"' in page
    assert page.count('<path class="edge"') == 1


def test_canvas_page_flags_a_trigger_without_secret_and_does_not_refresh(
    with_integration: Browser,
) -> None:
    apply(with_integration, MIRROR)
    page = with_integration.get("/canvases/mirror").text
    assert 'badge bad">not operational' in page
    assert "data-live-refresh" not in page  # only runs in progress refresh by themselves
    with_integration.submit("/canvases/mirror/nodes/On%20Incident/secret",
                            {"action": "set", "secret": "whsec_" + "QUJD" * 8})
    page = with_integration.get("/canvases/mirror").text
    assert "not operational" not in page


def test_unknown_canvas_is_a_404_page(browser: Browser) -> None:
    answer = browser.get("/canvases/nope")
    assert answer.status_code == 404 and "Not found" in answer.text


# -- On Incident panel -----------------------------------------------------------------


def test_on_incident_panel_explains_setup_and_warns_until_the_secret_is_set(
    with_integration: Browser,
) -> None:
    apply(with_integration, MIRROR)
    page = with_integration.get("/canvases/mirror/nodes/On%20Incident").text
    found = re.search(r'id="webhook-url" type="text" readonly value="([^"]+)"', page)
    assert found
    url = found.group(1)
    assert url.startswith("https://flows.example.com/webhooks/")
    assert "Not operational until the signing secret is set." in page
    assert "Settings → Webhooks" in page and "Public incident created (v2)" in page
    assert 'id="secret-status">not set' in page
    answer = with_integration.submit("/canvases/mirror/nodes/On%20Incident/secret",
                                     {"action": "set", "secret": "whsec_" + "QUJD" * 8})
    assert "Signing secret stored." in answer.text
    assert 'id="secret-status">set' in answer.text
    assert "QUJD" not in answer.text  # never shown back
    assert "Not operational" not in answer.text
    # Clearing asks first: the panel links to a confirmation page, posting it clears.
    assert 'href="/canvases/mirror/nodes/On%20Incident/secret/clear"' in answer.text
    confirm = with_integration.get("/canvases/mirror/nodes/On%20Incident/secret/clear")
    assert "Clear the signing secret of “On Incident”?" in confirm.text
    cleared = with_integration.submit("/canvases/mirror/nodes/On%20Incident/secret/clear", {})
    assert "Signing secret cleared." in cleared.text
    assert 'id="secret-status">not set' in cleared.text


def test_a_malformed_secret_is_explained_beside_the_field(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)
    with_integration.get("/canvases/mirror/nodes/On%20Incident")
    answer = with_integration.submit("/canvases/mirror/nodes/On%20Incident/secret",
                                     {"action": "set", "secret": "not-a-secret"})
    assert answer.status_code == 422
    assert re.search(r'id="secret-error">[^<]*whsec_', answer.text)


# -- Create Incident panel -------------------------------------------------------------


def test_create_incident_panel_picks_severity_and_previews_expressions(
    with_integration: Browser,
) -> None:
    apply(with_integration, MIRROR)
    page = with_integration.get("/canvases/mirror/nodes/Open%20follow-up").text
    severities = re.findall(r'<option value="(01[A-Z0-9]+)"', page)
    assert len(severities) >= 2
    assert re.search(r'<option value="01FCNDV6P870EA6S7TK1DSYDG1" selected>', page)
    # the name previewed against On Incident's example event
    assert "[follow-up] Our database is sad" in page


def test_preview_error_is_shown_inline_and_nothing_is_saved(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)
    with_integration.get("/canvases/mirror/nodes/Open%20follow-up")
    answer = with_integration.submit("/canvases/mirror/nodes/Open%20follow-up", {
        "action": "preview", "field-name": "{{ root.data.incident.nope }}",
        "field-severityId": "01FCNDV6P870EA6S7TK1DSYDG1", "field-visibility": "public",
    })
    preview = re.search(r'class="preview bad" id="field-name-preview">(.*?)</p>', answer.text, re.S)
    assert preview and "nope" in preview.group(1)
    assert "v1" in answer.text


def test_saving_the_node_form_makes_a_new_version(with_integration: Browser) -> None:
    apply(with_integration, MIRROR)
    with_integration.get("/canvases/mirror/nodes/Open%20follow-up")
    answer = with_integration.submit("/canvases/mirror/nodes/Open%20follow-up", {
        "action": "save", "field-name": "Copy of {{ root.data.incident.reference }}",
        "field-severityId": "01FCNDV6P870EA6S7TK1DSYDG0", "field-visibility": "public",
    })
    assert "Node saved as a new canvas version." in answer.text
    assert "v2" in answer.text and "Copy of INC-123" in answer.text


# -- runs ------------------------------------------------------------------------------


def test_manual_run_shows_executions_and_links_the_incident(with_integration: Browser,
                                                            app: Any) -> None:
    apply(with_integration, MANUAL)
    answer = _run_manual(with_integration, {"title": "DB down"})
    assert "/runs/" in str(answer.url)
    assert 'data-live-refresh' in answer.text  # in progress: the page refreshes itself
    drain(with_integration, app)
    page = with_integration.get(str(answer.url)).text
    assert 'id="run-state">succeeded' in page
    assert "Manual: DB down" in page  # resolved configuration
    link = re.search(r'<a href="(http[^"]+)" target="_blank" rel="noopener noreferrer">(INC-\d+)',
                     page)
    assert link, "the created incident is linked"
    assert 'data-live-refresh' not in page


def test_bad_json_payload_is_explained(with_integration: Browser) -> None:
    apply(with_integration, MANUAL)
    with_integration.get("/canvases/manual/nodes/Start")
    answer = with_integration.submit("/canvases/manual/nodes/Start/run", {"payload": "{oops"})
    assert answer.status_code == 422
    assert "not valid JSON" in answer.text and "{oops" in answer.text


# -- integrations ------------------------------------------------------------------------


def test_integration_key_is_never_shown_and_severities_are_listed(
    with_integration: Browser,
) -> None:
    page = with_integration.get("/integrations").text
    assert 'data-integration-status="incident">ready' in page
    assert "emulator-ui-key" not in page
    assert "Major" in page and "Create incidents" in page


def test_a_rejected_key_is_shown_as_not_saved(browser: Browser) -> None:
    browser.get("/integrations")
    answer = browser.submit("/integrations", {
        "name": "incident", "type": "incident",
        "field-apiKey": "wrong-key", "field-baseUrl": "http://emulator.test",
    })
    assert answer.status_code == 422
    assert "Integration saved." not in answer.text
    assert re.search(r'id="new-apiKey-error">not saved: API key rejected', answer.text)
    assert "data-integration-status" not in answer.text  # nothing stored


def test_a_rejected_key_can_be_saved_anyway_on_purpose(browser: Browser) -> None:
    browser.get("/integrations")
    answer = browser.submit("/integrations", {
        "name": "incident", "type": "incident", "save_anyway": "on",
        "field-apiKey": "wrong-key", "field-baseUrl": "http://emulator.test",
    })
    assert answer.status_code == 200 and "without a working check" in answer.text
    assert 'data-integration-status="incident">error' in answer.text
    assert "API key rejected" in answer.text


def test_the_add_form_never_replaces_a_key(with_integration: Browser, app: Any) -> None:
    browser = with_integration
    page = browser.get("/integrations").text
    assert 'id="new-name" name="name" value="incident-2"' in page  # a free name
    before = app.state.host.store.get_integration("incident")
    answer = browser.submit("/integrations", {
        "name": "incident", "type": "incident",
        "field-apiKey": "another-key", "field-baseUrl": "http://emulator.test",
    })
    assert answer.status_code == 409 and "already exists" in answer.text
    assert "Replace key" in answer.text
    after = app.state.host.store.get_integration("incident")
    assert after.secrets_encrypted == before.secrets_encrypted


# -- helpers -------------------------------------------------------------------------------


def _run_manual(browser: Browser, payload: dict[str, Any]) -> Any:
    import json

    browser.get("/canvases/manual/nodes/Start")
    return browser.submit("/canvases/manual/nodes/Start/run", {"payload": json.dumps(payload)})
