"""The delivery worker: sends due outbox entries, in order per destination, with timeouts,
exponential backoff with jitter, a maximum age, and transient versus permanent failures."""
from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import random
import socket
from typing import Callable

import aiohttp

from ..clock import Clock
from ..config.models import HooksConfig
from ..destinations import Destination
from ..destinations.transport import retry_after_ms
from ..event import Event
from ..outbox import OutboxStore, OutboxThread
from ..redact import safe_error

log = logging.getLogger("sla_monitor.hooks")
BASE_DELAY_MS, MAX_DELAY_MS = 2_000, 600_000


def backoff_ms(attempts: int, rng: random.Random) -> int:
    """2 s, 4 s, 8 s … up to 10 min, each ±20 % so that retries from many daemons spread out."""
    return int(min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** (attempts - 1)) * rng.uniform(0.8, 1.2))


def claim_ms(dest: Destination) -> int:
    """How long an attempt holds its delivery: longer than the send can take (its timeout, twice, and
    some), so that no other instance starts the same one while this one may still be sending."""
    return 2 * dest.timeout + 20_000


class Deliverer:
    def __init__(self, db: OutboxThread, hooks_cfg: HooksConfig, clock: Clock,
                 on_result: Callable[[str, str], None] | None = None, rng: random.Random | None = None,
                 poll_ms: int = 1000, instance: str = ""):
        self.db = db
        # Who claims deliveries: the same name after a restart (vantage@host), so that the claims of its
        # stopped self are let go at once. Instances sharing a store have different names.
        self.instance = instance or f"{socket.gethostname()}:{os.getpid()}"
        self._released = False
        self.clock = clock
        self.destinations = {d.name: d for d in hooks_cfg.destinations}
        self.on_result = on_result or (lambda destination, result: None)
        self.rng = rng or random.Random()
        self.poll_ms = poll_ms
        self.depth = 0
        self.wake = asyncio.Event()
        self._session: aiohttp.ClientSession | None = None

    async def run(self) -> None:
        while True:
            try:
                await self.deliver_due()
            except Exception:  # the outbox keeps everything: log and try again next round
                log.exception("event=hook_round_failed")
            # asyncio.timeout, not wait_for: Python 3.11's wait_for swallows a cancellation that arrives as the
            # wake-up does, and this loop then outlives the daemon's stop (it hung a test teardown).
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_ms / 1000):
                    await self.wake.wait()
            self.wake.clear()

    async def deliver_due(self) -> None:
        if not self.destinations:
            return
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None))
        session = self._session
        if not self._released:
            released = await self.db.call(OutboxStore.release_claims, self.instance, self.clock.now_ms())
            if released:
                log.info("event=hook_claims_released count=%d (held when this instance stopped)", released)
            self._released = True
        try:
            await self._expire()
            queue = await self.db.call(OutboxStore.due_deliveries, self.clock.now_ms())
            await asyncio.gather(*(self._destination(session, name, items) for name, items in queue.items()))
        finally:
            self.depth = await self.db.call(OutboxStore.pending_deliveries)

    async def _expire(self) -> None:
        """Give up every pending delivery older than its destination's ``max_age``, also those queued
        behind one that is waiting for a retry (each is logged and counted)."""
        now = self.clock.now_ms()
        for name, dest in self.destinations.items():
            for event_id in await self.db.call(OutboxStore.expire_deliveries, name, now - dest.max_age, now):
                self.on_result(name, "failed")
                log.error("event=hook_failed destination=%s event_id=%s error=%r", name, event_id,
                          "not delivered within max_age")

    async def _destination(self, session: aiohttp.ClientSession, name: str,
                           items: list[tuple[int, Event, int]]) -> None:
        dest = self.destinations.get(name)
        for seq, event, attempts in items:
            now = self.clock.now_ms()
            if dest is None:
                await self.db.call(OutboxStore.mark_delivery, seq, name, "failed", attempts, now,
                                   "destination no longer configured", now)
                continue
            if not await self.db.call(OutboxStore.claim_delivery, seq, name, now, now + claim_ms(dest), self.instance):
                return  # another instance sharing the store attempts it now: it goes on in order from there
            try:
                body, headers = dest.build_payload(event, now)
            except Exception as exc:  # a bug or a bad event: fail this one alone, the queue moves on
                error = f"payload could not be built: {type(exc).__name__}: {exc}"[:300]
                await self.db.call(OutboxStore.mark_delivery, seq, name, "failed", attempts, now, error, now)
                self.on_result(name, "failed")
                log.exception("event=hook_failed destination=%s event_id=%s error=%r", name, event.id, error)
                continue
            result = await dest.send(session, body, headers)
            if result.error is not None:  # library errors carry the URL, whose path may be the secret
                result = dataclasses.replace(result, error=safe_error(result.error, dest.secrets()))
            attempts += 1
            now = self.clock.now_ms()
            if result.ok:
                await self.db.call(OutboxStore.mark_delivery, seq, name, "delivered", attempts, now, None, now)
                self.on_result(name, "delivered")
                continue
            too_old = now - event.occurred_at_ms > dest.max_age
            if result.permanent or too_old:
                reason = result.error if result.permanent else f"gave up after max_age: {result.error}"
                await self.db.call(OutboxStore.mark_delivery, seq, name, "failed", attempts, now, reason, now)
                self.on_result(name, "failed")
                log.error("event=hook_failed destination=%s event_id=%s error=%r", name, event.id, reason)
                continue
            # The wait the service asked for, when it is longer: sooner would only be refused again.
            asked = result.retry_after_ms or retry_after_ms(result.retry_after, now / 1000) or 0
            wait = max(backoff_ms(attempts, self.rng), asked)
            await self.db.call(OutboxStore.mark_delivery, seq, name, "pending", attempts, now + wait, result.error, now)
            self.on_result(name, "retry")
            log.warning("event=hook_retry destination=%s event_id=%s attempts=%d error=%r", name, event.id, attempts,
                        result.error)
            return  # keep this destination's order: nothing after it goes first

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

