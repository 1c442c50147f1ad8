"""A virtual clock and sleep for asyncio: time jumps to the next wake-up when every task waits."""

from __future__ import annotations

import asyncio
import heapq
import itertools
from collections.abc import Awaitable
from typing import TypeVar

T = TypeVar("T")


class VirtualTime:
    def __init__(self, start: float = 0.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._seq = itertools.count()

    def clock(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self.now + max(0.0, seconds), next(self._seq), future))
        await future

    async def drive(self, awaitable: Awaitable[T]) -> T:
        """Run ``awaitable`` to completion, advancing the clock whenever all tasks are asleep."""
        task = asyncio.ensure_future(awaitable)
        while not task.done():
            for _ in range(20):  # let every runnable task reach its next await
                await asyncio.sleep(0)
            if task.done() or not self._sleepers:
                continue
            target, _, future = heapq.heappop(self._sleepers)
            self.now = max(self.now, target)
            if not future.cancelled():
                future.set_result(None)
        return task.result()

    def run(self, awaitable: Awaitable[T]) -> T:
        async def main() -> T:
            return await self.drive(awaitable)

        return asyncio.run(main())
