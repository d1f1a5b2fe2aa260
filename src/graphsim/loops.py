"""Event loops on their own threads: one runs in-process requests, one background work.

Background work (room processing after its delay, notification delivery and retries)
is counted while pending, so :meth:`BackgroundLoop.settle` can wait until all of it is
done — tests drain the simulator deterministically instead of sleeping.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import threading
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


class LoopThread:
    """An asyncio loop running forever on a daemon thread."""

    def __init__(self, name: str) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def submit(self, coro: Coroutine[Any, Any, T]) -> concurrent.futures.Future[T]:
        return asyncio.run_coroutine_threadsafe(coro, self.loop)

    async def run_here(self, coro: Coroutine[Any, Any, T]) -> T:
        """Await ``coro`` on this loop from whatever loop the caller is on."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            return await coro
        return await asyncio.wrap_future(self.submit(coro))

    def close(self) -> None:
        if self.loop.is_closed():
            return
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=5)
        if not self._thread.is_alive():
            self.loop.close()


class BackgroundLoop(LoopThread):
    """A loop whose scheduled work is counted until it finishes."""

    def __init__(self) -> None:
        super().__init__("graphsim-background")
        self._pending = 0
        self._idle = threading.Condition()
        self._tasks: set[asyncio.Task[None]] = set()
        self.errors: list[BaseException] = []

    def _begin(self) -> None:
        with self._idle:
            self._pending += 1

    def _end(self) -> None:
        with self._idle:
            self._pending -= 1
            if self._pending == 0:
                self._idle.notify_all()

    def call_later(self, delay: float, work: Callable[[], None]) -> None:
        """Run ``work`` on the loop after ``delay`` seconds (from any thread)."""
        self._begin()

        def run() -> None:
            try:
                work()
            except Exception as exc:
                self.errors.append(exc)
            finally:
                self._end()

        self.loop.call_soon_threadsafe(lambda: self.loop.call_later(delay, run))

    def spawn(self, work: Callable[[], Awaitable[None]]) -> None:
        """Run the coroutine ``work()`` on the loop (from any thread)."""
        self._begin()

        async def run() -> None:
            try:
                await work()
            except Exception as exc:
                self.errors.append(exc)
            finally:
                self._end()

        def start() -> None:
            task = self.loop.create_task(run())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

        self.loop.call_soon_threadsafe(start)

    @property
    def pending(self) -> int:
        with self._idle:
            return self._pending

    def settle(self, timeout: float) -> bool:
        """Wait until no background work is pending; False if ``timeout`` passed first."""
        with self._idle:
            return self._idle.wait_for(lambda: self._pending == 0, timeout=timeout)
