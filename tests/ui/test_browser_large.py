"""Large canvases in Debian's chromium against a real `incidentflow serve`: a dense
canvas is drawn with the bounded layout and zooms; a 1,200-node chain is listed and its
nodes open. Nothing is written under docs/ (no screenshots)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from browser_support import launch, require_chromium
from helpers import free_port
from servers import cli, process

pytestmark = pytest.mark.browser

TOKEN = "ifa_browser_large_" + "D" * 30

pw_sync = pytest.importorskip("playwright.sync_api")


def dense_yaml() -> str:
    """Start and 100 noops, each wired to every later one: 101 nodes, 4,951 edges."""
    names = [f"n{i}" for i in range(100)]
    lines = ["name: dense", "nodes:", "  - {name: Start, type: start}"]
    lines += [f"  - {{name: {n}, type: noop}}" for n in names]
    lines += ["edges:", "  - {from: Start, to: n0}"]
    lines += [f"  - {{from: {a}, to: {b}}}" for i, a in enumerate(names) for b in names[i + 1:]]
    return "\n".join(lines) + "\n"


def chain_yaml() -> str:
    """A chain of 1,200 nodes, its edges listed target-first."""
    names = ["Start"] + [f"step {i}" for i in range(1, 1200)]
    lines = ["name: chain", "nodes:", "  - {name: Start, type: start}"]
    lines += [f"  - {{name: {n}, type: noop}}" for n in names[1:]]
    pairs = list(zip(names, names[1:], strict=False))[::-1]
    lines += ["edges:"] + [f"  - {{from: {a}, to: {b}}}" for a, b in pairs]
    return "\n".join(lines) + "\n"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    require_chromium()
    logs = tmp_path_factory.mktemp("logs")
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        "INCIDENTFLOW_ADMIN_TOKEN": TOKEN,
        "INCIDENTFLOW_SECRET_KEY": "browser-large-secret-key",
        "INCIDENTFLOW_DATA_DIR": str(tmp_path_factory.mktemp("data")),
        "INCIDENTFLOW_PUBLIC_URL": url,
    }
    with process([*cli(), "serve", "--port", str(port)], f"{url}/healthz", env,
                 logs / "server.log"):
        with httpx.Client(base_url=url, timeout=60,
                          headers={"Authorization": f"Bearer {TOKEN}"}) as api:
            for name, text in (("dense", dense_yaml()), ("chain", chain_yaml())):
                answer = api.put(f"/api/v1/canvases/{name}", content=text,
                                 headers={"Content-Type": "application/yaml"})
                assert answer.status_code == 200, answer.text
        yield url


@pytest.fixture(scope="module")
def page(base: str) -> Iterator[Any]:
    with pw_sync.sync_playwright() as playwright:
        browser = launch(playwright)
        context = browser.new_context(viewport={"width": 1280, "height": 860}, base_url=base)
        context.set_default_timeout(20_000)
        page = context.new_page()
        page.goto("/signin")
        page.get_by_label("Token").fill(TOKEN)
        page.get_by_role("button", name="Sign in").click()
        pw_sync.expect(page.get_by_role("heading", name="Canvases")).to_be_visible()
        yield page
        context.close()
        browser.close()


def test_a_dense_canvas_is_drawn_bounded_and_zooms(page: Any) -> None:
    expect = pw_sync.expect
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto("/canvases/dense")
    expect(page.get_by_text("long edges are drawn straight")).to_be_visible()
    expect(page.locator("g.node")).to_have_count(101)
    expect(page.locator("path.edge")).to_have_count(4951)
    zoom = page.locator("[data-zoom-level]")
    page.get_by_role("button", name="Fit").click()
    expect(zoom).to_have_text("25 %")  # 101 layers wide: fitting stops at the minimum
    page.get_by_role("button", name="Reset zoom").click()
    expect(zoom).to_have_text("75 %")  # the zoom the page opened at
    page.locator('g.node[data-node="n50"]').click()
    expect(page).to_have_url(f"{page.url.split('/canvases')[0]}/canvases/dense/nodes/n50")
    expect(page.locator("g.node.selected")).to_have_count(1)
    assert errors == []


def test_a_1200_node_chain_is_listed_and_its_nodes_open(page: Any) -> None:
    expect = pw_sync.expect
    page.goto("/canvases/chain")
    expect(page.get_by_text("Too large to draw:")).to_be_visible()
    expect(page.locator("ol.outline > li")).to_have_count(1200)
    expect(page.locator("svg g.node")).to_have_count(0)
    expect(page.locator('[data-zoom-tools]')).to_be_hidden()  # nothing to zoom
    item = page.locator('ol.outline > li[data-node="step 600"]')
    expect(item).to_contain_text("→ step 601")
    item.get_by_role("link", name="step 600").click()
    expect(page.locator('ol.outline > li[aria-current="true"]')).to_have_attribute(
        "data-node", "step 600")
