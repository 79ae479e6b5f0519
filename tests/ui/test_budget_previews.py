"""Node-panel previews run under the expression budget, off the event loop: a hostile
template shows a readable budget error instead of freezing the page (and the server)."""

from __future__ import annotations

import html
import re
import time
from dataclasses import replace

import pytest
from ui_support import Browser, apply

from bench.hostile import HOSTILE_LOOP
from incidentflow.expression_budget import Budget
from incidentflow.settings import Settings

CANVAS = f"""\
name: hostile
nodes:
  - {{name: Start, type: start}}
  - name: Notify
    type: http
    configuration:
      url: "http://127.0.0.1:9/hook"
      body: {{text: "{HOSTILE_LOOP}", big: "{{{{ 'a'|center(10000000) }}}}"}}
edges:
  - {{from: Start, to: Notify}}
"""


@pytest.fixture
def settings(settings: Settings) -> Settings:
    # Unlimited iterations: the clock is what stops the loop.
    return replace(settings, expression_budget=Budget(timeout_seconds=0.3,
                                                      max_iterations=10**12))


def preview_of(page: str, field: str) -> str:
    found = re.search(rf'class="preview bad" id="field-{field}-preview">(.*?)</p>', page, re.S)
    assert found, f"no preview error for {field}"
    return html.unescape(found.group(1))


def test_a_hostile_preview_shows_the_budget_it_went_over(browser: Browser) -> None:
    assert apply(browser, CANVAS).status_code in (200, 201)
    started = time.monotonic()
    page = browser.get("/canvases/hostile/nodes/Notify")
    assert page.status_code == 200
    assert time.monotonic() - started < 5
    error = preview_of(page.text, "body")
    assert "over the time budget: still running (limit 0.3 s; raise it with " \
           "INCIDENTFLOW_EXPRESSION_TIMEOUT_SECONDS)" in error


def test_previewing_typed_values_is_budgeted_too(browser: Browser) -> None:
    apply(browser, CANVAS)
    browser.get("/canvases/hostile/nodes/Notify")
    answer = browser.submit("/canvases/hostile/nodes/Notify", {
        "action": "preview", "field-url": "{{ 'a'|center(10000000) }}",
        "field-body": "{}", "field-headers": "{}", "field-method": "POST",
        "field-timeout": "10",
    })
    error = preview_of(answer.text, "url")
    assert "over the output budget" in error and "INCIDENTFLOW_EXPRESSION_MAX_OUTPUT_BYTES" \
        in error
