"""The create rate limit in the UI pages (real app and store, the emulator as
incident.io): the self-feeding warning, a tripped node and its Release/Discard buttons."""

from __future__ import annotations

from typing import Any

from ui_support import RATE_LIMITED_LOOP, Browser, apply, drain

FEEDS_ITSELF = "This canvas can feed itself."


def tripped_canvas(browser: Browser, app: Any, runs: int) -> None:
    """The loop canvas run ``runs`` times: one incident opened, the rest held."""
    assert apply(browser, RATE_LIMITED_LOOP).status_code == 200
    for _ in range(runs):
        browser.get("/canvases/loop/nodes/Start")
        assert browser.submit("/canvases/loop/nodes/Start/run", {"payload": "{}"}
                              ).status_code == 200
    assert drain(browser, app) == runs


def test_a_self_feeding_canvas_is_flagged_in_editor_panels_and_save_warnings(
        with_integration: Browser) -> None:
    browser = with_integration
    saved = apply(browser, RATE_LIMITED_LOOP)
    assert "Warnings from the last save" in saved.text
    assert "this canvas can feed itself: &#39;Create&#39; creates incident.incident" in saved.text
    editor = browser.get("/canvases/loop/edit").text
    assert 'id="feedback"' in editor and FEEDS_ITSELF in editor
    assert ("Protected by the self-trigger guard of &#39;On Incident&#39; and the rate limit "
            "of &#39;Create&#39; (1 per 600 s)") in editor
    create = browser.get("/canvases/loop/nodes/Create").text
    assert FEEDS_ITSELF in create and "This node creates <code>incident.incident</code>" in create
    assert 'id="rate-limit-figures">1 per 600 s<' in create and 'id="not-tripped"' in create
    trigger = browser.get("/canvases/loop/nodes/On Incident").text
    assert FEEDS_ITSELF in trigger and "This trigger listens for" in trigger
    assert 'id="rate-limit"' not in trigger  # triggers create nothing
    start = browser.get("/canvases/loop/nodes/Start").text
    assert FEEDS_ITSELF not in start


def test_no_feedback_warning_without_a_listening_trigger(with_integration: Browser) -> None:
    plain = RATE_LIMITED_LOOP.replace("  - {name: On Incident, type: incident.onIncident}\n", "")
    assert FEEDS_ITSELF not in apply(with_integration, plain).text
    assert FEEDS_ITSELF not in with_integration.get("/canvases/loop/edit").text
    create = with_integration.get("/canvases/loop/nodes/Create").text
    assert FEEDS_ITSELF not in create and 'id="rate-limit"' in create


def test_a_tripped_node_shows_everywhere_and_release_runs_what_it_held(
        with_integration: Browser, app: Any) -> None:
    browser = with_integration
    tripped_canvas(browser, app, 3)
    listing = browser.get("/canvases").text
    assert "Create tripped: 2 held" in listing
    page = browser.get("/canvases/loop").text
    assert 'id="tripped-nodes"' in page and "holds 2 executions" in page
    assert "rate limit tripped: 2 held" in page  # the graph's flag on the node
    panel = browser.get("/canvases/loop/nodes/Create").text
    assert 'id="tripped"' in panel and 'id="held-count">2 held<' in panel
    run_id = app.state.host.store.list_runs("loop", 10)[0].id
    run = browser.get(f"/runs/{run_id}").text
    assert "Held:</strong> node &#39;Create&#39; went past its rate limit (1 per 600 s)" in run

    browser.get("/canvases/loop/nodes/Create")
    released = browser.submit("/canvases/loop/nodes/Create/resume", {"held": "release"})
    assert released.status_code == 200
    assert "Node resumed: what it held is running now." in released.text
    assert 'id="not-tripped"' in released.text
    assert "tripped" not in browser.get("/canvases").text
    assert drain(browser, app) == 2
    states = [r.state for r in app.state.host.store.list_runs("loop", 10)]
    assert states == ["succeeded"] * 3


def test_discard_finishes_the_held_runs(with_integration: Browser, app: Any) -> None:
    browser = with_integration
    tripped_canvas(browser, app, 2)
    browser.get("/canvases/loop/nodes/Create")
    discarded = browser.submit("/canvases/loop/nodes/Create/resume", {"held": "discard"})
    assert "what it held was discarded and those runs are finished" in discarded.text
    runs = app.state.host.store.list_runs("loop", 10)
    assert sorted(r.state for r in runs) == ["succeeded", "succeeded"]
    held_run = next(r for r in runs if app.state.host.store.get_run(r.id).executions[0]
                    .state == "discarded")
    assert "Discarded:</strong> discarded by a person" in browser.get(f"/runs/{held_run.id}").text


def test_a_resume_without_a_choice_is_refused(with_integration: Browser, app: Any) -> None:
    tripped_canvas(with_integration, app, 2)
    with_integration.get("/canvases/loop/nodes/Create")
    refused = with_integration.submit("/canvases/loop/nodes/Create/resume", {"held": "later"})
    assert refused.status_code == 422
    assert "Create.held: must be &#34;release&#34; or &#34;discard&#34;" in refused.text
    assert app.state.host.store.node_limits("loop")[0].held == 1
