"""Large canvases (issue 10): saving a canvas of 100 nodes / 5,000 edges and opening its
page, as ratios to a 10-node canvas saved and opened on the same server in the same run;
a 1,200-node chain's page; and how long /healthz waits while the large canvas is saved
and while its page is built.

    python -m bench.run --figures canvas --databases sqlite --no-readme
"""

from __future__ import annotations

import re
import statistics
import threading
import time
from collections.abc import Callable

import httpx

from bench.context import Context, Figure
from bench.product import ADMIN_TOKEN
from bench.product_figures import _guarded, _product

SMALL_NODES = 10
LARGE_NODES, LARGE_EDGES = 101, 5_000
CHAIN_NODES = 1_200


def canvas_yaml(name: str, nodes: int, edges: int | None = None, *, revision: int = 0) -> str:
    """Start, then noops each wired to every later one (a complete DAG), cut to
    ``edges`` edges; ``revision`` changes the description so each save is a new version."""
    names = [f"n{i}" for i in range(nodes - 1)]
    wiring = [("Start", names[0])] + [(a, b) for i, a in enumerate(names) for b in names[i + 1:]]
    wiring += [("Start", b) for b in names[1:]]  # tops the 4,951 of a complete DAG up
    lines = [f"name: {name}", f"description: revision {revision}", "nodes:",
             "  - {name: Start, type: start}"]
    lines += [f"  - {{name: {n}, type: noop}}" for n in names]
    lines += ["edges:"] + [f"  - {{from: {a}, to: {b}}}" for a, b in wiring[:edges]]
    return "\n".join(lines) + "\n"


def chain_yaml(nodes: int) -> str:
    """A chain listed target-first (the shape that overflowed the recursive layout)."""
    names = ["Start"] + [f"step {i}" for i in range(1, nodes)]
    lines = ["name: chain", "nodes:", "  - {name: Start, type: start}"]
    lines += [f"  - {{name: {n}, type: noop}}" for n in names[1:]]
    pairs = list(zip(names, names[1:], strict=False))[::-1]
    lines += ["edges:"] + [f"  - {{from: {a}, to: {b}}}" for a, b in pairs]
    return "\n".join(lines) + "\n"


def measure_canvas(ctx: Context) -> None:
    _guarded(ctx, "canvas.sqlite", lambda: _canvas_figure(ctx))


def _canvas_figure(ctx: Context) -> Figure:
    repeats = 2 if ctx.options.quick else 5
    with _product(ctx, "sqlite") as product, httpx.Client(
        base_url=product.server.url, timeout=60, follow_redirects=True
    ) as browser:
        _sign_in(browser)
        api = product.api.client

        def save(name: str, nodes: int, edges: int | None = None) -> Callable[[int], None]:
            def put(revision: int) -> None:
                text = canvas_yaml(name, nodes, edges, revision=revision)
                answer = api.put(f"/api/v1/canvases/{name}", content=text,
                                 headers={"content-type": "application/yaml"})
                answer.raise_for_status()
            return put

        def page(path: str) -> Callable[[int], None]:
            def get(_: int) -> None:
                browser.get(path).raise_for_status()
            return get

        metrics = {
            "save_small_ms": _median_ms(save("small", SMALL_NODES), repeats),
            "save_large_ms": _median_ms(save("large", LARGE_NODES, LARGE_EDGES), repeats),
            "page_small_ms": _median_ms(page("/canvases/small"), repeats),
            "page_large_ms": _median_ms(page("/canvases/large"), repeats),
        }
        api.put("/api/v1/canvases/chain", content=chain_yaml(CHAIN_NODES),
                headers={"content-type": "application/yaml"}).raise_for_status()
        metrics["page_chain_ms"] = _median_ms(page("/canvases/chain"), repeats)
        metrics["healthz_idle_max_ms"] = _healthz_max_ms(browser, None)
        metrics["healthz_during_large_page_max_ms"] = _healthz_max_ms(
            browser, page("/canvases/large"))
        metrics["healthz_during_large_save_max_ms"] = _healthz_max_ms(
            browser, lambda _: save("large", LARGE_NODES, LARGE_EDGES)(repeats + 1))
    return Figure(
        metrics=metrics,
        ratios={
            "save_large_vs_small": metrics["save_large_ms"] / metrics["save_small_ms"],
            "page_large_vs_small": metrics["page_large_ms"] / metrics["page_small_ms"],
        },
        notes=[
            f"median of {repeats}; small = {SMALL_NODES} nodes in a complete DAG, large = "
            f"{LARGE_NODES} nodes / {LARGE_EDGES} edges (YAML through PUT /api/v1/canvases, "
            "each save a new version); chain = a 1,200-node chain listed target-first "
            "(drawn as a list); healthz max = the slowest /healthz while the large page "
            "was being built, or the large canvas saved"
        ],
    )


def _sign_in(browser: httpx.Client) -> None:
    page = browser.get("/signin").text
    found = re.search(r'name="csrf_token" value="([^"]+)"', page)
    if not found:
        raise RuntimeError("the sign-in page has no CSRF field")
    answer = browser.post("/signin", data={"token": ADMIN_TOKEN, "csrf_token": found.group(1)})
    answer.raise_for_status()


def _median_ms(action: Callable[[int], None], repeats: int) -> float:
    action(0)  # warm-up (templates compiled, first version saved)
    times = []
    for revision in range(1, repeats + 1):
        started = time.perf_counter()
        action(revision)
        times.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(times), 1)


def _healthz_max_ms(browser: httpx.Client, during: Callable[[int], None] | None) -> float:
    """The slowest /healthz answer while ``during`` runs once in a thread (or for 0.5 s)."""
    done = threading.Event()

    def run() -> None:
        try:
            if during is None:
                time.sleep(0.5)
            else:
                during(0)
        finally:
            done.set()

    worker = threading.Thread(target=run)
    worker.start()
    slowest = 0.0
    with httpx.Client(base_url=str(browser.base_url), timeout=30) as probe:
        while not done.is_set():
            started = time.perf_counter()
            probe.get("/healthz").raise_for_status()
            slowest = max(slowest, time.perf_counter() - started)
            time.sleep(0.005)
    worker.join(timeout=60)
    return round(slowest * 1000, 1)
