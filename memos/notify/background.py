"""A bounded queue drained by a few worker tasks: fire-and-forget work that never blocks a request."""
from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

T = TypeVar("T")

log = logging.getLogger(__name__)


class BackgroundQueue(Generic[T]):
    """``submit`` never waits: a full queue drops the item (and says so in the log).

    Workers start on the first ``submit`` inside a running event loop, so the
    owner can be built before the loop exists; ``close`` stops them.
    """

    def __init__(self, name: str, handler: Callable[[T], Awaitable[object]], *, size: int, workers: int) -> None:
        self.name = name
        self._handler = handler
        self._size = size
        self._worker_count = workers
        self._queue: asyncio.Queue[T] | None = None
        self._workers: list[asyncio.Task[None]] = []

    def submit(self, item: T) -> bool:
        """Queue ``item``; False when it was dropped because the queue is full."""
        queue = self._ensure_started()
        try:
            queue.put_nowait(item)
        except asyncio.QueueFull:
            log.warning("%s queue is full; dropping one item", self.name)
            return False
        return True

    async def join(self) -> None:
        """Wait until everything submitted so far has been handled (for tests and shutdown)."""
        if self._queue is not None:
            await self._queue.join()

    async def close(self) -> None:
        workers, self._workers = self._workers, []
        for worker in workers:
            worker.cancel()
        for worker in workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._queue = None

    def _ensure_started(self) -> asyncio.Queue[T]:
        if self._queue is None:
            self._queue = asyncio.Queue(self._size)
            self._workers = [
                asyncio.get_running_loop().create_task(self._work(), name=f"{self.name}-{index}")
                for index in range(self._worker_count)
            ]
        return self._queue

    async def _work(self) -> None:
        queue = self._queue
        assert queue is not None
        while True:
            item = await queue.get()
            try:
                await self._handler(item)
            except Exception:  # one failed delivery must not stop the worker
                log.exception("%s: background job failed", self.name)
            finally:
                queue.task_done()
