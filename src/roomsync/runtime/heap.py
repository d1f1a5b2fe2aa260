"""How a long-running roomsync process sets CPython's cycle collector (docs/decisions.md §5).

A first sync allocates several container objects per event and keeps a transaction's
worth of rows alive until they are written; with the default thresholds that promotes
objects into the oldest generation quickly enough to trigger a full collection every few
hundred milliseconds, each walking every object the process holds (its imported modules
and their caches included). Measured on ``bench.initial_sync``: a quarter of the round's
wall time went to the collector.

So, once a process has imported and configured what it runs:

- the objects alive then (modules, metadata, compiled queries) are frozen: they live as
  long as the process, and no collection walks them again;
- the youngest generation is collected every 20,000 allocations instead of 700, so the
  objects of a page in hand are usually freed by reference counting before a collection
  looks at them.

Cycles are still collected; memory stays bounded by the pages in flight.
"""

from __future__ import annotations

import gc

YOUNG_GENERATION_THRESHOLD = 20_000


def settle_heap() -> None:
    """Freeze what the process holds now and space out the youngest collections."""
    gc.collect()
    gc.freeze()
    _, middle, oldest = gc.get_threshold()
    gc.set_threshold(YOUNG_GENERATION_THRESHOLD, middle, oldest)
