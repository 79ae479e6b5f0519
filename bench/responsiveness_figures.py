"""Responsiveness under hostile input (issue 10): ``/healthz`` latency and deliveries
accepted while a hostile template executes and is previewed and a dense canvas's page
is opened and saved, against the same probe and the same deliveries on the same server
in the same run without the hostile part.

    python -m bench.run --figures hostile --databases sqlite --no-readme
"""

from __future__ import annotations

from bench import hostile
from bench.context import Context, Figure
from bench.product import ADMIN_TOKEN
from bench.product_figures import _guarded, _product, _wire_trigger
from bench.servers import free_port

RATE = 40.0  # deliveries per second during both phases


def measure_responsiveness(ctx: Context) -> None:
    _guarded(ctx, "hostile.sqlite", lambda: _responsiveness(ctx))


def _responsiveness(ctx: Context) -> Figure:
    seconds = 3.0 if ctx.options.quick else max(ctx.options.seconds, 10.0)
    with _product(ctx, "sqlite") as product:
        url, api = product.server.url, product.api
        path, secret = _wire_trigger(api, hostile.INTAKE_CANVAS, "intake")
        # Nothing listens there: the hostile http step never gets past its templates.
        sink = f"http://127.0.0.1:{free_port()}"
        hostile.put_canvas(api.client, "hostile", hostile.HOSTILE_CANVAS.replace("SINK", sink))
        hostile.put_canvas(api.client, "dense", hostile.dense_canvas())
        webhook = f"{url}{path}"
        quiet = hostile.measure_phase(url, ADMIN_TOKEN, webhook, secret, seconds, RATE,
                                      f"{ctx.tag()}q", hostile=False)
        loud = hostile.measure_phase(url, ADMIN_TOKEN, webhook, secret, seconds, RATE,
                                     f"{ctx.tag()}h", hostile=True)
    q, h = quiet["healthz"], loud["healthz"]
    assert isinstance(q, dict) and isinstance(h, dict)
    return Figure(
        metrics={
            "quiet_p50_ms": q.get("p50_ms"), "quiet_p99_ms": q.get("p99_ms"),
            "hostile_p50_ms": h.get("p50_ms"), "hostile_p99_ms": h.get("p99_ms"),
            "hostile_max_ms": h.get("max_ms"), "hostile_probe_failures": h.get("failures"),
            "deliveries_sent": loud["deliveries_sent"],
            "deliveries_accepted": loud["deliveries_accepted"],
            "pressure": loud["pressure"],
        },
        ratios={"p99_vs_quiet": round(float(h.get("p99_ms", 0)) / max(
            float(q.get("p99_ms", 0)), 0.1), 2)},
        notes=[f"{seconds:.0f} s per phase, /healthz every 20 ms, {RATE:.0f} deliveries/s; "
               "hostile = runs of a 10^10-iteration template, its node page, and the page "
               "and re-save of a 101-node / 4,951-edge canvas, in a loop"],
    )
