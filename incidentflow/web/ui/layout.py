"""Left-to-right layered layout of a canvas graph, computed in Python for SVG.

Sugiyama in three small steps:
1. layers by longest path from the sources (back edges of a cycle are ignored),
2. long edges split into dummy points, one per layer they cross, so they route
   through the gaps between boxes instead of over them,
3. order within each layer by repeated barycentre sweeps, keeping the order with the
   fewest crossings.

Every step is iterative and its work is bounded, so a large or dense canvas (thousands
of edges, a chain of thousands of nodes) costs at most about a second, never a stack
overflow: past ``MAX_BENDS`` dummy points long edges are drawn straight (``bounded``),
and the sweeps stop when they would spend more than ``SWEEP_WORK``. Crossings are
counted exactly in O(e log e) per pair of layers. Normal canvases are far below both
bounds and are drawn exactly as before.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

BOX_W, BOX_H = 232, 64
GAP_X, GAP_Y = 116, 26
# A branch (if true/false, http success/failure) leaves its own port on the source box
# and runs straight for LEAD pixels under its label before it bends, so a label sits
# on its own edge and never on a neighbour's.
LEAD = 66
MARGIN = 24
SWEEPS = 8
# A complete graph of 100 nodes has ~170,000 layer crossings among its long edges;
# splitting them all would cost seconds and draw nothing readable.
MAX_BENDS = 5_000
# Link visits (one per segment end, per sweep) the crossing reduction may spend.
SWEEP_WORK = 200_000


@dataclass(frozen=True)
class Box:
    name: str
    x: float
    y: float
    layer: int


@dataclass(frozen=True)
class Route:
    source: str
    target: str
    channel: str
    path: str  # SVG path data
    label_x: float
    label_y: float
    labelled: bool = False  # draw the channel label (once per source port)


@dataclass
class Layout:
    width: float
    height: float
    boxes: dict[str, Box] = field(default_factory=dict)
    routes: list[Route] = field(default_factory=list)
    crossings: int = 0
    # True when the graph was too large for the full treatment: long edges run
    # straight (possibly over boxes) and the order had fewer sweeps (docs/canvases.md).
    bounded: bool = False


def layout(nodes: list[str], edges: list[tuple[str, str, str]]) -> Layout:
    """Place ``nodes`` (in file order) and route ``edges`` (source, target, channel)."""
    known = set(nodes)
    edges = [e for e in edges if e[0] in known and e[1] in known and e[0] != e[1]]
    forward = _acyclic(nodes, edges)
    layer_of = _longest_path_layers(nodes, forward)
    bends = sum(layer_of[target] - layer_of[source] - 1 for source, target, _ in forward)
    split = bends <= MAX_BENDS
    chains, layers = _split_long_edges(nodes, forward, layer_of, split=split)
    layers, complete = _order(layers, chains)
    result = _place(layers, chains, forward, layer_of)
    result.bounded = not (split and complete)
    # Edges closing a cycle are still drawn, directly (canvas validation rejects cycles,
    # but a draft in the editor may have one).
    centre = {n: (b.x + BOX_W / 2, b.y + BOX_H / 2) for n, b in result.boxes.items()}
    kept = set(forward)
    for edge in edges:
        if edge not in kept:
            result.routes.append(_route([edge[0], edge[1]], *edge, centre))
    return result


def _acyclic(nodes: list[str], edges: list[tuple[str, str, str]]) -> list[tuple[str, str, str]]:
    """Drop edges that close a cycle (found by depth-first search in file order)."""
    out: dict[str, list[tuple[str, str, str]]] = {n: [] for n in nodes}
    for edge in edges:
        out[edge[0]].append(edge)
    state: dict[str, int] = {}  # 1 on the stack, 2 finished
    kept: list[tuple[str, str, str]] = []
    for root in nodes:
        if root in state:
            continue
        stack = [(root, iter(out[root]))]
        state[root] = 1
        while stack:
            node, pending = stack[-1]
            step = next(pending, None)
            if step is None:
                state[node] = 2
                stack.pop()
            elif state.get(step[1]) == 1:
                continue  # back edge: part of a cycle, not used for layering
            else:
                kept.append(step)
                if step[1] not in state:
                    state[step[1]] = 1
                    stack.append((step[1], iter(out[step[1]])))
    return kept


def _longest_path_layers(nodes: list[str], edges: list[tuple[str, str, str]]) -> dict[str, int]:
    """Each node's layer: the length of the longest path reaching it from a source.

    In topological order (Kahn), not by recursion: a chain of thousands of nodes
    listed target-first would otherwise exhaust the stack."""
    outgoing: dict[str, list[str]] = {n: [] for n in nodes}
    waiting = dict.fromkeys(nodes, 0)  # edges into a node not yet settled
    for source, target, _ in edges:
        outgoing[source].append(target)
        waiting[target] += 1
    layer = dict.fromkeys(nodes, 0)
    ready = [node for node in nodes if waiting[node] == 0]
    while ready:
        node = ready.pop()
        for target in outgoing[node]:
            layer[target] = max(layer[target], layer[node] + 1)
            waiting[target] -= 1
            if waiting[target] == 0:
                ready.append(target)
    return layer


Chain = list[str]  # source, dummy points..., target


def _split_long_edges(
    nodes: list[str], edges: list[tuple[str, str, str]], layer_of: dict[str, int], *,
    split: bool = True,
) -> tuple[list[Chain], list[list[str]]]:
    """Layers of node names, and each edge as the chain of points it passes through;
    without ``split`` a long edge is just its two ends (drawn straight)."""
    layers: list[list[str]] = [[] for _ in range(max(layer_of.values(), default=0) + 1)]
    for node in nodes:
        layers[layer_of[node]].append(node)
    chains: list[Chain] = []
    for index, (source, target, _) in enumerate(edges):
        chain = [source]
        crossed = range(layer_of[source] + 1, layer_of[target]) if split else range(0)
        for step in crossed:
            dummy = f"\x00{index}:{step}"  # cannot collide with a node name
            layers[step].append(dummy)
            chain.append(dummy)
        chain.append(target)
        chains.append(chain)
    return chains, layers


def _order(layers: list[list[str]], chains: list[Chain]) -> tuple[list[list[str]], bool]:
    """The order with the fewest crossings found, and whether all sweeps ran."""
    up: dict[str, list[str]] = {}
    down: dict[str, list[str]] = {}
    for chain in chains:
        for a, b in zip(chain, chain[1:], strict=False):
            down.setdefault(a, []).append(b)
            up.setdefault(b, []).append(a)
    best = [list(layer) for layer in layers]
    best_count = _crossings(best, down)
    current = [list(layer) for layer in layers]
    # One sweep visits every point and both ends of every segment.
    per_sweep = sum(len(layer) for layer in layers) + 2 * sum(len(d) for d in down.values())
    sweeps = min(SWEEPS, SWEEP_WORK // max(per_sweep, 1))
    for sweep in range(sweeps):
        if sweep % 2 == 0:
            for i in range(1, len(current)):
                current[i] = _by_barycentre(current[i], current[i - 1], up)
        else:
            for i in range(len(current) - 2, -1, -1):
                current[i] = _by_barycentre(current[i], current[i + 1], down)
        count = _crossings(current, down)
        if count < best_count:
            best, best_count = [list(layer) for layer in current], count
    return best, sweeps == SWEEPS


def _by_barycentre(layer: list[str], fixed: list[str], links: dict[str, list[str]]) -> list[str]:
    position = {name: i for i, name in enumerate(fixed)}

    def key(item: tuple[int, str]) -> float:
        index, name = item
        linked = [position[n] for n in links.get(name, []) if n in position]
        return sum(linked) / len(linked) if linked else float(index)

    # Stable sort: nodes without neighbours keep their place.
    return [name for _, name in sorted(enumerate(layer), key=key)]


def _crossings(layers: list[list[str]], down: dict[str, list[str]]) -> int:
    """Pairs of segments between neighbouring layers that cross (segments sharing an
    end do not), in O(e log e) per pair of layers instead of comparing every pair."""
    total = 0
    for upper, lower in zip(layers, layers[1:], strict=False):
        position = {name: i for i, name in enumerate(lower)}
        # Targets in source order, each source's targets ascending: two segments cross
        # exactly when a later one in this sequence has a smaller target.
        targets: list[int] = []
        for source in upper:
            targets += sorted(position[t] for t in down.get(source, []) if t in position)
        total += _inversions(targets, len(lower))
    return total


def _inversions(values: list[int], size: int) -> int:
    """Pairs i < j with values[i] > values[j], for values in range(size) (Fenwick tree)."""
    tree = [0] * (size + 1)
    found = 0
    for seen, value in enumerate(values):
        index, not_above = value + 1, 0
        while index > 0:  # how many earlier values are <= value
            not_above += tree[index]
            index -= index & -index
        found += seen - not_above
        index = value + 1
        while index <= size:
            tree[index] += 1
            index += index & -index
    return found


def _place(
    layers: list[list[str]],
    chains: list[Chain],
    edges: list[tuple[str, str, str]],
    layer_of: dict[str, int],
) -> Layout:
    tallest = max((len(layer) for layer in layers), default=0)
    height = tallest * BOX_H + max(tallest - 1, 0) * GAP_Y + 2 * MARGIN
    width = len(layers) * BOX_W + max(len(layers) - 1, 0) * GAP_X + 2 * MARGIN
    centre: dict[str, tuple[float, float]] = {}
    result = Layout(width=width, height=height, crossings=_crossings(layers, _down(chains)))
    for index, layer in enumerate(layers):
        span = len(layer) * BOX_H + max(len(layer) - 1, 0) * GAP_Y
        top = (height - span) / 2
        x = MARGIN + index * (BOX_W + GAP_X)
        for row, name in enumerate(layer):
            y = top + row * (BOX_H + GAP_Y)
            centre[name] = (x + BOX_W / 2, y + BOX_H / 2)
            if not name.startswith("\x00"):
                result.boxes[name] = Box(name=name, x=x, y=y, layer=index)
    ports = _ports(chains, edges, centre)
    labelled: set[tuple[str, str]] = set()
    for chain, (source, target, channel) in zip(chains, edges, strict=True):
        route = _route(chain, source, target, channel, centre, ports[(source, channel)])
        if channel != "default" and (source, channel) not in labelled:
            labelled.add((source, channel))
            route = replace(route, labelled=True)
        result.routes.append(route)
    return result


def _ports(
    chains: list[Chain], edges: list[tuple[str, str, str]], centre: dict[str, tuple[float, float]]
) -> dict[tuple[str, str], float]:
    """The y of each (source, channel) port: channels spread down the box's right side,
    ordered by where their edges go (the upper branch leaves from the upper port)."""
    heading: dict[str, dict[str, list[float]]] = {}
    for chain, (source, _, channel) in zip(chains, edges, strict=True):
        heading.setdefault(source, {}).setdefault(channel, []).append(centre[chain[1]][1])
    ports: dict[tuple[str, str], float] = {}
    for source, channels in heading.items():
        order = sorted(channels, key=lambda c: sum(channels[c]) / len(channels[c]))
        top = centre[source][1] - BOX_H / 2
        for index, channel in enumerate(order):
            ports[(source, channel)] = top + BOX_H * (index + 1) / (len(order) + 1)
    return ports


def _down(chains: list[Chain]) -> dict[str, list[str]]:
    down: dict[str, list[str]] = {}
    for chain in chains:
        for a, b in zip(chain, chain[1:], strict=False):
            down.setdefault(a, []).append(b)
    return down


def _route(
    chain: Chain,
    source: str,
    target: str,
    channel: str,
    centre: dict[str, tuple[float, float]],
    port_y: float | None = None,
) -> Route:
    """A smooth path from the source's port on its right side to the left side of the
    target, passing through each dummy point; a branch first runs straight under its label."""
    sx, sy = centre[source]
    tx, ty = centre[target]
    start = (sx + BOX_W / 2, sy if port_y is None else port_y)
    parts = [f"M {start[0]:.1f} {start[1]:.1f}"]
    lead = LEAD if channel != "default" else 0
    if lead:
        parts.append(f"L {start[0] + lead:.1f} {start[1]:.1f}")
    points = [(start[0] + lead, start[1])]
    for dummy in chain[1:-1]:  # run straight through the slot reserved in each layer
        cx, cy = centre[dummy]
        points += [(cx - BOX_W / 2, cy), (cx + BOX_W / 2, cy)]
    points.append((tx - BOX_W / 2 - 6, ty))  # stop short: room for the arrow head
    for (x1, y1), (x2, y2) in zip(points, points[1:], strict=False):
        bend = (x2 - x1) / 2
        parts.append(f"C {x1 + bend:.1f} {y1:.1f} {x2 - bend:.1f} {y2:.1f} {x2:.1f} {y2:.1f}")
    return Route(
        source=source,
        target=target,
        channel=channel,
        path=" ".join(parts),
        label_x=start[0] + (lead or (points[1][0] - start[0])) / 2,
        label_y=start[1],
    )
