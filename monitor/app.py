"""Composition root of `sla-monitor run`: store thread, probes, scheduler, live state, web app."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily
from prometheus_client.registry import Collector

from . import sdnotify
from .clock import SYSTEM, Clock
from .config import Config, to_fleet
from .config.fleet import stale_ms_by_probe
from .exporters.prometheus import GaugeText, ProbeExposition, SlaCollector
from .hooks import detect
from .hooks.context import with_context
from .hooks.delivery import Deliverer
from .hooks.events import routed
from .hooks.resend import Resender, active_conditions
from .live.dbthread import DbThread
from .live.figures import LiveFigures
from .live.maintenance import MaintenanceService
from .live.reports import ReportService
from .live.tracker import Tracker
from .live.vantage import VantageHealth
from .live.writer import SampleWriter
from .probes import ProbeContext, Sample
from .scheduler import ProbeScheduler
from .storage import Store
from .web.app import WebDeps, build_app
from .web.status import probe_json

log = logging.getLogger("sla_monitor.daemon")
DRIFT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Daemon:
    def __init__(self, cfg: Config, db_path: str, registry: CollectorRegistry | None = None, clock: Clock = SYSTEM):
        self.cfg = cfg
        self.clock = clock  # every component below reads time through it
        self.fleet = to_fleet(cfg)
        self.stale_ms = stale_ms_by_probe(cfg)
        self.db = DbThread(lambda: Store.open(db_path))  # the writer: samples, records, the outbox
        # The engine's reads (figures and API reports), never in the writer's way; opened after the writer
        # has migrated the schema.
        self.reader = DbThread(lambda: Store.open(db_path))
        self.tracker = Tracker(cfg, self.stale_ms)
        self.figures = LiveFigures(self.reader, self.fleet, clock, capture=self.capture_live)
        self.reports = ReportService(self.reader, self.figures, self.fleet, cfg.daemon.refresh_interval, clock)
        self.writer = SampleWriter(self.db, self.stale_ms, cfg.daemon.flush_interval)
        self.writer.routes = cfg.hooks.routes
        self.registry = registry or CollectorRegistry()
        self.drift = Histogram("monitor_probe_schedule_drift_seconds", "Probe start − planned start",
                               buckets=DRIFT_BUCKETS, registry=self.registry)
        self.hook_results = Counter("monitor_hook_deliveries", "Hook delivery attempts by result",
                                    ["destination", "result"], registry=self.registry)
        self.deliverer = Deliverer(self.db, cfg.hooks, clock,
                                   on_result=lambda d, r: self.hook_results.labels(d, r).inc())
        self.resender = Resender(cfg.hooks, lambda now: active_conditions(
            self.tracker, self.vantage_health, self.figures.maintenance, self.fleet.policy, now), clock)
        # The SLA collector is exposed through the fast text path (GaugeText) rather than the registry.
        self.sla_collector = SlaCollector(self.tracker, self.figures, cfg.vantage, "", clock)  # runbook URL: on start
        self.gauge_text = GaugeText()
        self.probe_exposition = ProbeExposition(self.tracker, cfg.vantage)
        self.registry.register(_MonitorCollector(self))
        self.ctx = ProbeContext(clock, max_connections=cfg.daemon.max_connections)
        self.vantage_health = VantageHealth(cfg.vantage_health, self.ctx, cfg.vantage)
        probes = [p for p, _, _ in cfg.all_probes()]
        self.scheduler = ProbeScheduler(probes, self.ctx, cfg.vantage, self.on_sample,
                                        lambda s: self.drift.observe(max(0.0, s)), self.vantage_health.review)
        self.runner: web.AppRunner | None = None
        self.public_url = (cfg.web.public_url or f"http://{cfg.web.listen}").rstrip("/")  # the bound port on start
        self.port: int | None = None
        self._tasks: list[asyncio.Task] = []

    def capture_live(self, now_ms: int) -> dict:
        """The live states the status page shows beside the figures, taken at the figures' instant."""
        tracker, health = self.tracker, self.vantage_health
        return {
            "probes": {p.id: probe_json(p, now_ms, tracker.confirm) for p in tracker.probes.values()},
            "components": {(r.name, c.name): tracker.component_state(r.name, c.name, now_ms)
                           for r in self.cfg.regions for c in r.components},
            "third_parties": {t.name: tracker.third_party_state(t.name, now_ms) for t in self.cfg.third_parties},
            "vantage": {"vantage": self.cfg.vantage, "healthy": health.healthy,
                        "detail": health.last.detail if health.last is not None else None},
        }

    def metrics_text(self) -> bytes:
        """The whole /metrics body: the registry (drift histogram, own health), the SLA gauges, the probes."""
        return (generate_latest(self.registry) + self.gauge_text.render(self.sla_collector.collect()).encode()
                + self.probe_exposition.text(self.clock.now_ms()).encode())

    def on_sample(self, sample: Sample) -> None:
        self.tracker.record(sample, self.clock.now_ms())
        self.writer.add(sample)
        self._take_events()

    def _take_events(self) -> None:
        """Transitions go to the outbox with the samples that caused them (one transaction)."""
        events = self.tracker.drain_events() + self.vantage_health.drain_events()
        if events:
            self.writer.pending_events.extend(self._with_context(events))
            self.deliverer.wake.set()

    def _with_context(self, events: list) -> list:
        """Each event with the failing probes and their errors, the month's figures and links."""
        failing: dict[str, list[dict]] = {}
        for p in self.tracker.probes.values():
            if p.region is not None and p.last is not None and p.last.ok is False:
                failing.setdefault(p.region, []).append({"component": p.owner, "probe": p.id, "error": p.last.error})
        month = {r.region: r for r in self.figures.current.regions} if self.figures.current is not None else {}
        return [with_context(e, self.public_url, failing, month) for e in events]

    async def start(self, listen: str | None = None, probing: bool = True) -> None:
        """Open the store, restore the live state, compute the figures, serve the web app and (unless
        ``probing`` is False: a read-only daemon that serves what the store holds) start probing."""
        await self.db.start()
        await self.reader.start()  # after the writer: the schema is migrated by then
        history, since = await self.db.live_history(self.cfg.vantage, self.cfg.policy.confirm_failures)
        self.tracker.restore(history, self.cfg.vantage, since)
        self.tracker.update_regions(self.clock.now_ms())
        self._take_events()  # an outage open before a restart keeps its id: recorded once
        await self.figures.refresh()
        host, _, port = (listen or self.cfg.web.listen).rpartition(":")
        maintenance = MaintenanceService(self.db, self.fleet.policy, self.figures, self.clock)
        deps = WebDeps(self.cfg, self.clock, self.figures, self.reports, maintenance, self.metrics_text, self.readiness)
        self.runner = web.AppRunner(build_app(deps), access_log=None,
                                    keepalive_timeout=self.cfg.web.idle_timeout / 1000)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host.strip("[]"), int(port))
        await site.start()
        self.port = self.runner.addresses[0][1]
        self.public_url = (self.cfg.web.public_url or f"http://{host}:{self.port}").rstrip("/")
        self.sla_collector.runbook_url = f"{self.public_url}/runbooks"
        if probing:
            self.scheduler.start()
        self._tasks = [asyncio.create_task(self.writer.run()), asyncio.create_task(self._refresh_loop()),
                       asyncio.create_task(self.deliverer.run()), asyncio.create_task(self.vantage_health.run()),
                       asyncio.create_task(self.resender.run())]
        if (interval := sdnotify.watchdog_interval_s()) is not None:
            self._tasks.append(asyncio.create_task(self._watchdog(interval)))
        sdnotify.notify("READY=1")
        log.info("event=started listen=%s:%s probes=%d regions=%d vantage=%s", host, self.port,
                 len(self.tracker.probes), len(self.cfg.regions), self.cfg.vantage)

    async def stop(self) -> None:
        """Stop scheduling, let in-flight probes finish, flush, close. A second call does nothing."""
        if self.runner is None:
            return
        sdnotify.notify("STOPPING=1")
        log.info("event=stopping")
        await self.scheduler.stop(self.cfg.daemon.shutdown_grace)
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        self._take_events()  # transitions since the last sample (a control round's) are not lost
        if not await self.writer.flush():
            log.error("event=unflushed_samples count=%d error=%r", len(self.writer.pending), self.writer.last_error)
        await self.ctx.close()
        await self.deliverer.close()
        await self.runner.cleanup()
        self.runner = None
        await self.reader.close()
        await self.db.close()
        log.info("event=stopped samples_written=%d", self.writer.written)

    async def _refresh_loop(self) -> None:
        interval = self.cfg.daemon.refresh_interval / 1000
        while True:
            await asyncio.sleep(min(interval, 1.0))
            self.tracker.update_regions(self.clock.now_ms())  # notices probes going stale
            self._take_events()
            if self.figures.computed_ms is None or self.clock.now_ms() - self.figures.computed_ms >= interval * 1000:
                try:
                    await self.figures.refresh()
                    await self._figure_events()
                except Exception:  # figures are best effort; probing and writing go on
                    log.exception("event=figures_refresh_failed")

    async def _figure_events(self) -> None:
        hooks = self.cfg.hooks
        now, current = self.clock.now_ms(), self.figures.current
        if current is None:
            return
        found = (detect.from_result(current, self.fleet.policy, hooks.budget_thresholds, hooks.at_risk_minutes, now)
                 + detect.from_maintenance(self.figures.maintenance, self.fleet.policy, now)
                 + detect.incident_updates(current, now))
        if found and await self.db.record_events(routed(self._with_context(found), hooks.routes)):
            self.deliverer.wake.set()

    async def _watchdog(self, interval: float) -> None:
        # Pets prove the event loop is alive; a full disk is reported on /readyz, not "fixed" by a restart.
        while True:
            sdnotify.notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    def readiness(self) -> list[str]:
        """What keeps the daemon from being ready; empty when ready."""
        problems = []
        if not self.scheduler.running:
            problems.append("scheduler not running")
        if self.writer.last_error is not None:
            problems.append(f"store not writable: {self.writer.last_error} ({len(self.writer.pending)} samples "
                            "waiting; probing continues)")
        if self.figures.computed_ms is None:
            problems.append("figures not computed yet")
        if not self.vantage_health.healthy:
            last = self.vantage_health.last
            problems.append(f"vantage {self.cfg.vantage} unhealthy: {last.detail if last else 'no round yet'} "
                            "(its failed samples are stored as unknown, not down)")
        return problems


class _MonitorCollector(Collector):
    """The daemon's own health."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon

    def collect(self):
        pending = GaugeMetricFamily("monitor_store_pending_samples", "Samples not yet in the store")
        pending.add_metric([], len(self.daemon.writer.pending))
        ready = GaugeMetricFamily("monitor_ready", "1 when /readyz is ready")
        ready.add_metric([], 0 if self.daemon.readiness() else 1)
        healthy = GaugeMetricFamily("monitor_vantage_healthy", "1 while this vantage's control targets pass",
                                    labels=["vantage"])
        healthy.add_metric([self.daemon.cfg.vantage], 1 if self.daemon.vantage_health.healthy else 0)
        yield healthy
        depth = GaugeMetricFamily("monitor_hook_queue_depth", "Hook deliveries waiting in the outbox")
        depth.add_metric([], self.daemon.deliverer.depth)
        yield depth
        written = GaugeMetricFamily("monitor_samples_written", "Samples written to the store since start")
        written.add_metric([], self.daemon.writer.written)
        skipped = CounterMetricFamily("monitor_probe_runs_skipped", "Scheduled runs not started on time",
                                      labels=["reason"])
        for reason, count in self.daemon.scheduler.skipped.items():
            skipped.add_metric([reason], count)
        yield from (pending, ready, written, skipped)


def raise_file_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit: probes, the store and the web port share descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


async def serve(cfg: Config, db_path: str, listen: str | None = None) -> None:
    """Run until SIGTERM or SIGINT, then stop cleanly."""
    raise_file_limit()
    daemon = Daemon(cfg, db_path)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await daemon.start(listen)
    print(f"sla-monitor: status page http://{(listen or cfg.web.listen).rpartition(':')[0]}:{daemon.port}/", flush=True)
    try:
        await stop.wait()
    finally:
        await daemon.stop()
