"""The probe side of the daemon: the scheduler, the probes, the vantage's health, the live state, and the
writer that commits each batch of samples with the events they cause, in one transaction.

It runs in a process of its own (``live.probe_process``), so that the engine's work (figures, reports,
the web app) never holds the GIL a probe is waiting for; or, for tests and ``daemon.probe_process: false``,
in the daemon's own loop. Either way it tells the engine side only what is committed: after each flush
a ``ProbeReport`` with the samples now in the store, the schedule drift observed, and its status.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Callable, Mapping

from ..clock import Clock
from ..config import Config
from ..config.fleet import stale_ms_by_probe
from ..probes import ProbeContext, Sample
from ..scheduler import ProbeScheduler
from ..storage.interface import Storage
from ..storage.spool import Spool
from .dbthread import DbThread
from .handoff import ProbeReport, ProbeStatus
from .recorder import Recorder
from .vantage import VantageHealth

log = logging.getLogger("sla_monitor.probing")
SWEEP_REGIONS = 10  # regions recomputed between two turns of the loop (about 500 probes: under 1 ms)


class ProbeSide:
    def __init__(self, cfg: Config, open_store: Callable[[], Storage], clock: Clock,
                 publish: Callable[[ProbeReport], None], public_url: str = "", month: Mapping[str, dict] | None = None,
                 spool: Spool | None = None):
        self.cfg = cfg
        self.clock = clock
        self.publish = publish
        self.db = DbThread(open_store)  # the writer: samples, segments and the events they cause
        self.recorder = Recorder(cfg, self.db, stale_ms_by_probe(cfg), spool)
        self.recorder.public_url, self.recorder.month = public_url, dict(month or {})
        self.ctx = ProbeContext(clock, max_connections=cfg.daemon.max_connections,
                                user_agent=f"sla-monitor (vantage {cfg.vantage})")
        self.vantage_health = VantageHealth(cfg.vantage_health, self.ctx, cfg.vantage)
        self.drift_s: list[float] = []
        self.scheduler = ProbeScheduler([p for p, _, _ in cfg.all_probes()], self.ctx, cfg.vantage, self.on_sample,
                                        lambda s: self.drift_s.append(max(0.0, s)), self.vantage_health.review)
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        """Open the store, pick up the live state where the store left it, start probing."""
        await self.db.start()
        history, since = await self.db.call(Storage.live_history, self.cfg.vantage, self.cfg.policy.confirm_failures)
        conditions = await self.db.call(Storage.open_conditions)
        self.vantage_health.restore(conditions)
        # An outage open before a restart keeps its id: recorded once.
        self.recorder.restore(history, self.cfg.vantage, since, conditions, self.clock.now_ms())
        self.scheduler.start()
        self._tasks = [asyncio.create_task(self._flush_loop()), asyncio.create_task(self.vantage_health.run())]

    def on_sample(self, sample: Sample) -> None:
        """A probe's result: committed with the next flush, and into the live state now."""
        self.recorder.store(sample)
        self.recorder.track(sample, self.clock.now_ms())

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(self.recorder.writer.flush_interval_ms / 1000)
            await self._sweep()
            self.recorder.take((), self.vantage_health.drain_events())
            await self.recorder.flush()
            self.report()

    async def _sweep(self) -> None:
        """Recompute every region, so that probes going stale show: a few regions at a time, the loop
        free in between (a whole fleet of 5,000 probes at once held it for about 4 ms, and the probes
        due then were sent that much late)."""
        regions = self.cfg.regions
        for first in range(0, len(regions), SWEEP_REGIONS):
            self.recorder.take(self.recorder.state.sweep(self.clock.now_ms(), regions[first:first + SWEEP_REGIONS]))
            await asyncio.sleep(0)

    def report(self) -> None:
        """Hand the engine side what was committed since the last report (also when nothing was: a heartbeat)."""
        drift = self.drift_s[:]
        self.drift_s.clear()
        self.publish(self.recorder.report(drift, self.status()))

    def status(self) -> ProbeStatus:
        """The probe side's health now."""
        writer = self.recorder.writer
        return ProbeStatus(self.scheduler.running, writer.written, writer.waiting, writer.last_error,
                           dict(self.scheduler.skipped), self.vantage_health.status())

    async def stop(self) -> None:
        """Stop scheduling, let in-flight probes finish, flush everything probed, report it, close."""
        await self.scheduler.stop(self.cfg.daemon.shutdown_grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self.recorder.take((), self.vantage_health.drain_events())  # a control round's since the last tick
        writer = self.recorder.writer
        if not await self.recorder.flush():
            if writer.spool is not None:  # on disk: forwarded by the next start
                log.warning("event=samples_kept_for_later count=%d buffer=%s error=%r", writer.waiting,
                            writer.spool.path, writer.last_error)
            else:
                log.error("event=unflushed_samples count=%d error=%r", len(writer.pending), writer.last_error)
        await self.ctx.close()
        self.report()  # the last: the scheduler is shut down, so it says not running
        await self.db.close()
        if writer.spool is not None:
            writer.spool.close()
        log.info("event=probing_stopped samples_written=%d", writer.written)
