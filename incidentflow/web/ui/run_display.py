"""How runs are named on screen: ids shortened only as far as they stay distinct.

Run ids begin with the millisecond they were made (``store.codec.new_id``), so runs
started together share a long prefix: a fixed-length prefix is what showed two
different runs under the same short id. The random tail tells them apart; a page
shows the shortest tail (at least ``MIN_SHOWN`` characters) that is unique among the
runs it lists.
"""

from __future__ import annotations

from collections.abc import Iterable

from incidentflow.store.port import RunRecord

MIN_SHOWN = 8


def short_ids(ids: Iterable[str]) -> dict[str, str]:
    """Each id -> its shortest distinct tail among ``ids`` (``…`` + tail)."""
    unique = list(dict.fromkeys(ids))
    longest = max((len(i) for i in unique), default=0)
    for length in range(MIN_SHOWN, longest + 1):
        tails = {i: i[-length:] for i in unique}
        if len(set(tails.values())) == len(unique):
            return {i: (tail if tail == i else "…" + tail) for i, tail in tails.items()}
    return {i: i for i in unique}


def run_labels(runs: Iterable[RunRecord]) -> dict[str, str]:
    return short_ids(run.id for run in runs)
