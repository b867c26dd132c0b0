"""A store on a thread of its own, reached through named async methods.

Keeps the event loop free of disk waits (probe timing stays honest) and respects sqlite3's
one-thread-per-connection rule without locks. The store is opened by an injected function, so the
daemon runs on any ``storage.Storage`` implementation.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Callable, Concatenate, ParamSpec, TypeVar

from ..storage.interface import Storage

P = ParamSpec("P")
T = TypeVar("T")


class DbThread:
    def __init__(self, open_store: Callable[[], Storage]):
        self._open = open_store
        self._executor = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix="store")
        self._store: Storage | None = None

    async def start(self) -> None:
        """Open the store on its thread."""
        loop = asyncio.get_running_loop()
        self._store = await loop.run_in_executor(self._executor, self._open)

    async def run(self, fn: Callable[Concatenate[Storage, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """``fn(store, *args, **kwargs)`` on the store's thread: the engine's reads (``accounting``)."""
        store = self._store
        if store is None:
            raise RuntimeError("the store is not open (DbThread.start first)")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, lambda: fn(store, *args, **kwargs))

    async def call(self, op: Callable[Concatenate[Storage, P], T], *args: P.args, **kwargs: P.kwargs) -> T:
        """The store's operation ``op``, named by the protocol (``Storage.live_history``), on the store's
        thread: typed by the protocol's signature, run by the open store's method of that name. Every
        operation of ``storage.interface.Storage`` is reachable so, none written out again here."""
        name = op.__name__
        return await self.run(lambda store: getattr(store, name)(*args, **kwargs))

    async def close(self) -> None:
        """Close the store and end its thread."""
        if self._store is not None:
            await self.run(lambda store: store.close())
            self._store = None
        self._executor.shutdown(wait=True)
