"""The growth plot of docs/performance.md, rendered from bench/results/*.json.

Left: a steady-state pull round against the number of rooms (roomsync, the sequential loop,
the lower bound the limits allow). Right: the initial sync against the number of events
(wall time, and peak memory on the second axis).

    python -m bench.plot   (needs the ``bench`` extra: matplotlib)
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from bench.harness import RESULTS

OUTPUT = Path(__file__).parent.parent / "docs" / "performance-growth.png"


def render(output: Path = OUTPUT) -> Path:
    import matplotlib  # noqa: PLC0415 - optional: only `make bench` installs it

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt  # noqa: PLC0415

    figure, (rooms_axis, events_axis) = plt.subplots(1, 2, figsize=(11, 4.2))
    _rooms_panel(rooms_axis, _load("pull_round"))
    _events_panel(events_axis, _load("initial_sync"))
    figure.tight_layout()
    figure.savefig(output, dpi=110)
    plt.close(figure)
    return output


def _load(name: str) -> dict[str, Any] | None:
    path = RESULTS / f"{name}.json"
    return dict(json.loads(path.read_text())) if path.exists() else None


def _rooms_panel(axis: Any, data: dict[str, Any] | None) -> None:
    axis.set_title("Steady-state pull round (50 ms per Graph call)")
    axis.set_xlabel("rooms")
    axis.set_ylabel("seconds per round")
    if data is None:
        return
    results = sorted(data["results"], key=lambda r: r["rooms"])
    rooms = [r["rooms"] for r in results]
    for key, label, style in [
        ("round_s", "roomsync (shipped defaults)", "o-"),
        ("peer_s", "plain peer (aiohttp, 256 in flight)", "d-."),
        ("sequential_s", "sequential httpx loop", "s--"),
        ("lower_bound_s", "lower bound of the limits", "^:"),
    ]:
        if all(r.get(key) is not None for r in results):
            axis.plot(rooms, [r[key] for r in results], style, label=label)
    axis.axhline(120, color="grey", linewidth=0.8)
    axis.annotate("2-minute cycle", (rooms[0], 120), textcoords="offset points", xytext=(0, 4))
    axis.set_xscale("log")
    axis.set_yscale("log")
    axis.legend()


def _events_panel(axis: Any, data: dict[str, Any] | None) -> None:
    axis.set_title("Initial sync (500 rooms, pages of 16)")
    axis.set_xlabel("events in the window")
    axis.set_ylabel("seconds for the first round")
    if data is None:
        return
    memory_axis = axis.twinx()
    memory_axis.set_ylabel("peak memory added by the round (MiB)")
    for backend in sorted({r["backend"] for r in data["results"]}):
        points = sorted(
            (r for r in data["results"] if r["backend"] == backend), key=lambda r: r["events"]
        )
        events = [r["events"] for r in points]
        axis.plot(events, [r["wall_s"] for r in points], "o-", label=f"time, {backend}")
        memory = [r["peak_rss_growth_mb"] for r in points]
        memory_axis.plot(events, memory, "s:", label=f"peak memory, {backend}")
    memory_axis.set_ylim(bottom=0)
    axis.set_ylim(bottom=0)
    axis.set_xlim(left=0)
    handles, labels = axis.get_legend_handles_labels()
    more_handles, more_labels = memory_axis.get_legend_handles_labels()
    axis.legend(handles + more_handles, labels + more_labels, loc="upper left")


if __name__ == "__main__":
    print(render())
