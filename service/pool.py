"""Model and OCR work off the event loop: a thread pool sized to the cores behind a bounded
queue. A request that finds every worker busy and the queue full is refused at once (503 with
Retry-After) rather than left waiting past any sensible deadline."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import ParamSpec, TypeVar

from service.errors import overloaded

P = ParamSpec("P")
T = TypeVar("T")


class WorkQueue:
    def __init__(self, workers: int, queue_size: int, retry_after_s: int = 1) -> None:
        self.workers, self.queue_size, self.retry_after_s = workers, queue_size, retry_after_s
        self._executor = ThreadPoolExecutor(workers, thread_name_prefix="docexit-worker")
        # Only the event loop thread touches the counter, so it needs no lock.
        self.pending = 0

    @property
    def waiting(self) -> int:
        """Requests queued for a worker (the rest of `pending` are running)."""
        return max(0, self.pending - self.workers)

    @property
    def busy(self) -> bool:
        """Every worker has a request: work outside the pool would take a live request's core."""
        return self.pending >= self.workers

    @property
    def capacity(self) -> int:
        return self.workers + self.queue_size

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        if self.pending >= self.capacity:
            raise overloaded(self.retry_after_s)
        self.pending += 1
        try:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(
                self._executor, functools.partial(fn, *args, **kwargs)
            )
        finally:
            self.pending -= 1

    def shutdown(self) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)
