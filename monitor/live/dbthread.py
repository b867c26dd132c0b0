"""All store access from the daemon runs on one thread that owns the SQLite connection.

Keeps the event loop free of disk waits (probe timing stays honest) and respects sqlite3's
one-thread-per-connection rule without locks.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Any, Callable

from ..storage import Store


class DbThread:
    def __init__(self, path: str):
        self.path = path
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self.store: Store | None = None

    async def start(self) -> None:
        self.store = await self.call(lambda _: Store.open(self.path))

    async def call(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Run ``fn(store, *args)`` on the store's thread."""
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(self.store, *args))

    async def close(self) -> None:
        if self.store is not None:
            await self.call(lambda store: store.close())
            self.store = None
        self._executor.shutdown(wait=True)
