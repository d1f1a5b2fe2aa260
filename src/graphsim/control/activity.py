"""Simulated Outlook users: a thread that books, moves and cancels meetings now and then,
so a demo tenant is alive (``graphsim serve --activity``, ``roomsync demo``)."""

from __future__ import annotations

import random
import threading
from datetime import UTC, datetime, timedelta

from graphsim.simulator import Simulator


def start_activity(
    sim: Simulator, rooms: list[str], users: list[str], every: float, stop: threading.Event
) -> threading.Thread:
    """Every ``every`` seconds until ``stop`` is set: book a meeting, or cancel one booked."""
    rng = random.Random(7)  # noqa: S311 - simulated users, not security

    def run() -> None:
        booked: list[tuple[str, str]] = []
        while not stop.wait(every):
            start = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
            start += timedelta(days=rng.randint(0, 5), hours=rng.randint(1, 8))
            if booked and rng.random() < 0.3:
                organizer, event_id = booked.pop(rng.randrange(len(booked)))
                sim.outlook.cancel_meeting(organizer, event_id)
                continue
            organizer = rng.choice(users)
            event_id = sim.outlook.create_meeting(
                organizer, rng.choice(rooms), "Ad-hoc meeting", start, start + timedelta(minutes=30)
            )
            booked.append((organizer, event_id))

    thread = threading.Thread(target=run, name="graphsim-activity", daemon=True)
    thread.start()
    return thread
