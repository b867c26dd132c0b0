"""APScheduler wiring: one interval job per probe, start offsets spread across each interval.

``max_instances=1`` (a probe never overlaps itself), ``coalesce`` (missed runs collapse into one),
``misfire_grace_time`` of half an interval (a run later than that is skipped, not bunched up).
Each run records its schedule drift: when its request left (``probes.base.REQUEST_SENT``) − planned start.
A stall anywhere between the planned instant and the send shows, not only a late job start.
"""
from __future__ import annotations

import asyncio
import datetime as dt
import logging
from typing import Awaitable, Callable

from apscheduler.events import EVENT_JOB_MAX_INSTANCES, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from .checks import Probe
from .probes import ProbeContext, Sample, run_probe
from .probes.base import REQUEST_SENT

log = logging.getLogger("sla_monitor.scheduler")
STARTUP_DELAY_MS = 200


def spread_offsets(probes: list, now_ms: int) -> dict[str, int]:
    """First run of each probe: probes sharing an interval are spaced evenly across it (no thundering herd)."""
    by_interval: dict[int, list] = {}
    for probe in sorted(probes, key=lambda p: p.id):
        by_interval.setdefault(probe.interval, []).append(probe)
    return {probe.id: now_ms + STARTUP_DELAY_MS + interval * i // len(group)
            for interval, group in by_interval.items() for i, probe in enumerate(group)}


class ProbeScheduler:
    def __init__(self, probes: list[Probe], ctx: ProbeContext, vantage: str, on_sample: Callable[[Sample], None],
                 on_drift: Callable[[float], None],
                 review: Callable[[Probe, Sample], Awaitable[Sample]] | None = None):
        self.probes = probes
        self.ctx = ctx
        self.vantage = vantage
        self.on_sample = on_sample
        self.on_drift = on_drift
        self.review = review  # judges a sample before it is delivered (the vantage's health)
        self.scheduler = AsyncIOScheduler(timezone=dt.timezone.utc)
        self.inflight: set[asyncio.Task] = set()
        self.runs = 0
        self.skipped = {"missed": 0, "still_running": 0}  # runs APScheduler did not start on time
        self.scheduler.add_listener(self._skip, EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)

    def _skip(self, event: JobExecutionEvent) -> None:
        self.skipped["missed" if event.code == EVENT_JOB_MISSED else "still_running"] += 1

    def start(self) -> None:
        firsts = spread_offsets(self.probes, self.ctx.clock.now_ms())
        for probe in self.probes:
            first = firsts[probe.id]
            self.scheduler.add_job(
                self._run, IntervalTrigger(seconds=probe.interval / 1000,
                                           start_date=dt.datetime.fromtimestamp(first / 1000, dt.timezone.utc)),
                args=[probe, first], id=probe.id, max_instances=1, coalesce=True,
                misfire_grace_time=max(1, probe.interval // 2000), replace_existing=True)
        self.scheduler.start()

    @property
    def running(self) -> bool:
        return self.scheduler.running

    async def _run(self, probe: Probe, first_ms: int) -> None:
        started = self.ctx.clock.now_ms()
        planned = first_ms + round((started - first_ms) / probe.interval) * probe.interval
        # The job's own task runs the probe (one task per run, no wrapper). ``stop`` waits for the tasks in
        # ``inflight`` before it shuts APScheduler down (which cancels its jobs' tasks): never a probe halfway.
        task = asyncio.current_task()
        assert task is not None
        self.inflight.add(task)
        try:
            sent: list[int] = []
            REQUEST_SENT.set(sent)  # this task's own context: the probe's first send lands here
            sample = await run_probe(probe, self.ctx, self.vantage)
            if sent:
                self.on_drift((sent[0] - planned) / 1000)
            self.runs += 1
            if self.review is not None:
                sample = await self.review(probe, sample)
            self.on_sample(sample)
        finally:
            self.inflight.discard(task)

    async def stop(self, grace_ms: int) -> None:
        """Stop scheduling, let in-flight probes end (their own timeouts bound them), then shut down."""
        if self.scheduler.running:
            self.scheduler.pause()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + grace_ms / 1000
        await asyncio.sleep(0)  # a job submitted just before the pause starts its probe now
        # Until none is left: a job that started after a first look adds its probe to the set.
        while self.inflight and loop.time() < deadline:
            log.info("event=shutdown_waiting inflight=%d", len(self.inflight))
            await asyncio.wait(set(self.inflight), timeout=max(0.0, deadline - loop.time()))
        for task in set(self.inflight):
            task.cancel()
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
