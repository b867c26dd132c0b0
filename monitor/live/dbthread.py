"""A store on a thread of its own, reached through named async methods.

Keeps the event loop free of disk waits (probe timing stays honest) and respects sqlite3's
one-thread-per-connection rule without locks. The store is opened by an injected function, so the
daemon runs on any ``storage.Storage`` implementation.
"""
from __future__ import annotations

import asyncio
import concurrent.futures
from typing import Callable, Concatenate, Mapping, ParamSpec, Sequence, TypeVar

from ..samples import Sample
from ..sla.model import Records
from ..storage.interface import DueDeliveries, Routed, Storage

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

    async def close(self) -> None:
        """Close the store and end its thread."""
        if self._store is not None:
            await self.run(lambda store: store.close())
            self._store = None
        self._executor.shutdown(wait=True)

    # -- the store's operations the daemon uses (storage.interface.Storage says what each does) --

    async def append_samples(self, samples: Sequence[Sample], stale_ms: Mapping[str, int],
                             routed: Sequence[Routed] = ()) -> None:
        await self.run(lambda s: s.append_samples(samples, stale_ms, routed))

    async def live_history(self, vantage: str,
                           per_probe: int) -> tuple[dict[str, list[tuple[int, bool | None]]], dict[str, int]]:
        return await self.run(lambda s: s.live_history(vantage, per_probe))

    async def load_records(self) -> Records:
        return await self.run(lambda s: s.load_records())

    async def maintenance_rows(self, window_id: int | None = None) -> list[dict]:
        return await self.run(lambda s: s.maintenance_rows(window_id))

    async def add_maintenance(self, *, region: str | None, start_ms: int, end_ms: int, kind: str,
                              announced_at_ms: int | None, reason: str, by: str, now_ms: int) -> int:
        return await self.run(lambda s: s.add_maintenance(
            region=region, start_ms=start_ms, end_ms=end_ms, kind=kind, announced_at_ms=announced_at_ms,
            reason=reason, by=by, now_ms=now_ms))

    async def cancel_maintenance(self, window_id: int, by: str, now_ms: int) -> None:
        await self.run(lambda s: s.cancel_maintenance(window_id, by, now_ms))

    async def record_events(self, routed: Sequence[Routed]) -> int:
        return await self.run(lambda s: s.record_events(routed))

    async def due_deliveries(self, now_ms: int) -> DueDeliveries:
        return await self.run(lambda s: s.due_deliveries(now_ms))

    async def mark_delivery(self, seq: int, destination: str, status: str, attempts: int, next_attempt_ms: int,
                            error: str | None, now_ms: int) -> None:
        await self.run(lambda s: s.mark_delivery(seq, destination, status, attempts, next_attempt_ms, error, now_ms))

    async def expire_deliveries(self, destination: str, before_ms: int, now_ms: int) -> list[str]:
        return await self.run(lambda s: s.expire_deliveries(destination, before_ms, now_ms))

    async def open_conditions(self) -> list:
        return await self.run(lambda s: s.open_conditions())

    async def pending_deliveries(self) -> int:
        return await self.run(lambda s: s.pending_deliveries())

    async def event_log(self, limit: int = 200) -> list[dict]:
        return await self.run(lambda s: s.event_log(limit))
