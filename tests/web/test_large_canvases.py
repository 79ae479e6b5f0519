"""Large canvases through the API and the UI: a dense canvas saves and its page draws
the bounded layout, a 1,200-node chain saves and its pages list it, and the drawing is
built off the event loop. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import re
import sys
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from starlette.testclient import TestClient

from incidentflow import canvas_service as host_module
from incidentflow.errors import Problem
from incidentflow.web import api_canvases as web_api
from incidentflow.web.ui import graph as graphs
from incidentflow.web.ui.problems import locate

from .conftest import ADMIN_TOKEN, PUBLIC_URL


def dense_canvas(nodes: int = 101) -> dict[str, Any]:
    """Start, then noops each wired to every later one: 101 nodes give 4,951 edges."""
    names = [f"n{i}" for i in range(nodes - 1)]
    return {
        "name": "dense",
        "nodes": [{"name": "Start", "type": "start"}] + [
            {"name": n, "type": "noop"} for n in names
        ],
        "edges": [{"from": "Start", "to": names[0]}] + [
            {"from": a, "to": b} for i, a in enumerate(names) for b in names[i + 1:]
        ],
    }


def chain_canvas(length: int = 1200) -> dict[str, Any]:
    """Start and a chain of noops, the edges listed target-first."""
    names = ["Start"] + [f"step {i}" for i in range(1, length)]
    return {
        "name": "chain",
        "nodes": [{"name": "Start", "type": "start"}] + [
            {"name": n, "type": "noop"} for n in names[1:]
        ],
        "edges": [{"from": a, "to": b} for a, b in zip(names, names[1:], strict=False)][::-1],
    }


@pytest.fixture
def client(app: Any) -> Iterator[TestClient]:
    """One client for both doors: a UI session signed in through the form (its cookie
    is Secure, hence https), and the API with ``API`` headers."""
    with TestClient(app, base_url=PUBLIC_URL) as browser:
        page = browser.get("/signin").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page)
        assert csrf is not None
        answer = browser.post("/signin", data={"token": ADMIN_TOKEN,
                                               "csrf_token": csrf.group(1)})
        assert answer.status_code == 200, answer.text
        yield browser


API = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def _watch(monkeypatch: pytest.MonkeyPatch, module: Any, name: str) -> list[bool]:
    """For each call of ``module.name``: did it run on the event loop's thread?"""
    seen: list[bool] = []
    original = getattr(module, name)

    def watched(*args: Any, **kwargs: Any) -> Any:
        try:
            asyncio.get_running_loop()
            seen.append(True)
        except RuntimeError:  # no loop running here: a worker thread
            seen.append(False)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, watched)
    return seen


@pytest.fixture
def drawn_on_loop(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """For each graph a page builds: was it built on the event loop's thread?"""
    return _watch(monkeypatch, graphs, "build_graph")


def test_a_dense_canvas_saves_and_its_page_draws_the_bounded_layout(
    client: TestClient, drawn_on_loop: list[bool], monkeypatch: pytest.MonkeyPatch
) -> None:
    read_on_loop = _watch(monkeypatch, web_api, "load_document")
    checked_on_loop = _watch(monkeypatch, host_module, "parse_canvas")
    text = yaml.safe_dump(dense_canvas())
    saved = client.put("/api/v1/canvases/dense", content=text,
                       headers={**API, "Content-Type": "application/yaml"})
    assert saved.status_code == 200, saved.text
    assert saved.json()["created"] is True
    assert (read_on_loop, checked_on_loop) == ([False], [False])
    view = client.get("/api/v1/canvases/dense", headers=API).json()
    assert len(view["canvas"]["edges"]) == 4951

    page = client.get("/canvases/dense")
    assert page.status_code == 200
    assert "<title id=\"graph-title\">101 nodes, 4951 edges</title>" in page.text
    assert "long edges are drawn straight" in page.text
    assert page.text.count('class="node-link"') == 101
    assert page.text.count('<path class="edge"') == 4951

    node = client.get("/canvases/dense/nodes/n50")
    assert node.status_code == 200 and 'aria-current="true"' in node.text
    assert drawn_on_loop == [False, False]


def test_a_1200_node_chain_listed_target_first_saves_and_is_listed(
    client: TestClient, drawn_on_loop: list[bool]
) -> None:
    saved = client.put("/api/v1/canvases/chain", json=chain_canvas(), headers=API)
    assert saved.status_code == 200, saved.text

    page = client.get("/canvases/chain")
    assert page.status_code == 200
    assert "Too large to draw:</strong> 1200 nodes and 1199 edges" in page.text
    assert "<svg viewBox" not in page.text
    outline = page.text[page.text.index('<ol class="outline">'):page.text.index("</ol>")]
    assert outline.count('href="/canvases/chain/nodes/') == 1200
    assert "→ step 1</span>" in outline and "→ step 600</span>" in outline

    editor = client.get("/canvases/chain/edit")
    assert editor.status_code == 200 and "Too large to draw" in editor.text
    assert drawn_on_loop == [False, False]


def test_an_editor_save_with_a_problem_at_each_of_2000_nodes_locates_them_all(
    client: TestClient,
) -> None:
    source = "name: broken\nnodes:\n" + "".join(
        f"  - name: n{i}\n    type: nope\n" for i in range(2000)
    ) + "edges: []\n"
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/canvases/new").text)
    assert csrf is not None
    answer = client.post("/canvases", data={"source": source, "csrf_token": csrf.group(1)})
    assert answer.status_code == 422
    assert "Not saved: 2000 problems." in answer.text
    assert "Too large to draw:</strong> 2000 nodes and 0 edges" in answer.text
    # Each problem links to its node's line: n1999's type is on line 2 + 2 * 1999 + 2.
    assert 'data-node="n1999" data-field="type"' in answer.text
    assert 'data-line="4000">line 4000</a>' in answer.text


def test_locating_problems_reads_the_source_once() -> None:
    """Calls made by ``locate`` for n and 4n problems in a source of n and 4n nodes:
    a search of the whole source per problem would grow sixteenfold."""

    def calls(nodes: int) -> int:
        source = "".join(f"  - name: n{i}\n    type: nope\n" for i in range(nodes))
        problems = [Problem("unknown", node=f"n{i}", field="type") for i in range(nodes)]
        made = 0

        def count(frame: Any, event: str, arg: Any) -> None:
            nonlocal made
            made += event in ("call", "c_call")

        sys.setprofile(count)
        try:
            located = locate(problems, source)
        finally:
            sys.setprofile(None)
        assert located[-1].line == 2 * nodes
        return made

    assert calls(2000) / calls(500) < 6  # ~4 when linear; ~8.6 searching per problem


def test_the_editor_explains_a_draft_whose_nodes_are_not_a_list(client: TestClient) -> None:
    csrf = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/canvases/new").text)
    assert csrf is not None
    answer = client.post("/canvases", data={"source": "name: odd\nnodes: 5\nedges: x\n",
                                            "csrf_token": csrf.group(1)})
    assert answer.status_code == 422
    assert "a canvas needs a list of nodes" in answer.text
