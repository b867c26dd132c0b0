"""Composition root of `sla-monitor run`: the store's threads, the figures, hooks and web app, and the probe side."""
from __future__ import annotations

import asyncio
import contextlib
import logging
import resource
import signal
import socket
from typing import Iterator

from aiohttp import web
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from . import sdnotify
from .clock import SYSTEM, Clock
from .config import Config, to_fleet
from .config.fleet import stale_ms_by_probe
from .exporters.prometheus import GaugeText, ProbeExposition, SlaCollector
from .gcpause import settle
from .hooks import detect
from .hooks.context import month_context, with_context
from .hooks.delivery import Deliverer
from .hooks.events import routed
from .hooks.resend import Resender, posts_outages
from .live.alerts import AlertMaker
from .live.closing import keep_closing
from .live.conditions import active_conditions
from .live.dbthread import DbThread
from .live.figures import LiveFigures
from .live.handoff import ProbeReport, ProbeStatus, VantageStatus, before_first_round
from .live.inloop import InLoop
from .live.maintenance import MaintenanceService
from .live.probe_process import ProbeProcess
from .live.recorder import certificates_warned
from .live.records import RecordService
from .live.reports import ReportService
from .live.scheduled import ScheduledMail
from .live.state import LiveState
from .live.updating import UpdateService
from .live.vendor_status import keep_reading
from .storage import open_store
from .storage.errors import StoreError, StoreUnavailable
from .storage.interface import Storage
from .storage.location import ALERTING, DaemonLocking, daemon_lock, vantage_role
from .web.handlers import WebDeps
from .web.routes import build_app
from .web.status import capture_probe

log = logging.getLogger("sla_monitor.daemon")
DRIFT_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class Daemon:
    """The engine side (store reads, figures, hooks, web) and the probe side, which runs in a process of
    its own (``probe_process=True``, as ``sla-monitor run`` does) or in this loop (tests, on any clock)."""

    def __init__(self, cfg: Config, db_path: str, registry: CollectorRegistry | None = None, clock: Clock = SYSTEM,
                 probe_process: bool = False, log_format: str = "text"):
        self.cfg = cfg
        self.clock = clock  # every component below reads time through it
        self.fleet = to_fleet(cfg)
        self.db = DbThread(lambda: open_store(db_path))  # records and the outbox; the samples are the probe side's
        # The engine's reads (figures and API reports), never in a writer's way; opened after the writer
        # has migrated the schema.
        self.reader = DbThread(lambda: open_store(db_path))
        # What the probe side has committed, as the gauges, the status page and the resends show it: it
        # follows the probe side's reports and computes no transitions of its own.
        self.live = LiveState(cfg, stale_ms_by_probe(cfg))
        self.probe_status: ProbeStatus | None = None  # None until the probe side's first report
        self.failed = False  # the probe process kept dying: serve() exits non-zero
        self.figures = LiveFigures(self.reader, self.fleet, clock, capture=self.capture_live)
        self.reports = ReportService(self.reader, self.figures, self.fleet, cfg.daemon.refresh_interval, clock)
        self.registry = registry or CollectorRegistry()
        self.drift = Histogram("monitor_probe_schedule_drift_seconds", "Request sent − planned start",
                               buckets=DRIFT_BUCKETS, registry=self.registry)
        self.hook_results = Counter("monitor_hook_deliveries", "Hook delivery attempts by result",
                                    ["destination", "result"], registry=self.registry)
        self.deliverer = Deliverer(self.db, cfg.hooks, clock, on_result=lambda d, r: self.hook_results.labels(d, r).inc(),
                                   instance=f"{cfg.vantage}@{socket.gethostname()}")
        alerts = AlertMaker(cfg)  # the resends' events, made as the probe side made them
        self.resender = Resender(cfg.hooks, lambda now: active_conditions(
            self.live, alerts, self.vantage, self.figures, self.fleet.policy, now), clock)
        # The SLA collector is exposed through the fast text path (GaugeText) rather than the registry.
        posted = frozenset(r.name for r in cfg.regions if posts_outages(cfg.hooks, r.name))
        self.sla_collector = SlaCollector(self.live, self.figures, cfg.vantage, "", clock,  # runbook URL: on start
                                          posted)
        self.gauge_text = GaugeText()
        self.probe_exposition = ProbeExposition(self.live, cfg.vantage)
        self.registry.register(_MonitorCollector(self))
        self.probing: InLoop | None = None  # the probe side, when it shares this loop
        self.probes: InLoop | ProbeProcess
        if cfg.daemon.mode == "aggregate":  # probes nothing: reads the vantages' results
            from .live.aggregating import PrometheusFeed, StoreFeed

            feed = StoreFeed if cfg.source.store is not None else PrometheusFeed
            self.probes = InLoop(feed(cfg, lambda: open_store(db_path), clock, self.on_report))
        elif probe_process:
            self.probes = ProbeProcess(cfg, db_path, self.on_report, self._give_up, log_format)
        else:
            from .live.probing import ProbeSide  # only here: the daemon's side loads no probes
            from .storage.spool import spool_for

            self.probes = self.probing = InLoop(ProbeSide(cfg, lambda: open_store(db_path), clock, self.on_report,
                                                          spool=spool_for(db_path, cfg.storage)))
        self.alerting = cfg.daemon.alerting
        self.started_probing = False
        self.runner: web.AppRunner | None = None
        self.public_url = (cfg.web.public_url or f"http://{cfg.web.listen}").rstrip("/")  # the bound port on start
        self.port: int | None = None
        self.month: dict[str, dict] = {}  # hooks.context.month_context of the latest figures
        self.stopped = asyncio.Event()  # set when the daemon must stop on its own (see ``failed``)
        self._tasks: list[asyncio.Task] = []

    @property
    def vantage(self) -> VantageStatus:
        """The vantage's health as the probe side last reported it."""
        if self.probe_status is None:
            return before_first_round(self.cfg.vantage_health, self.cfg.vantage)
        return self.probe_status.vantage

    def capture_live(self, now_ms: int) -> dict:
        """The live states the status page shows beside the figures, taken at the figures' instant."""
        live, vantage = self.live, self.vantage
        return {
            "probes": {p.id: capture_probe(p, now_ms, live.confirm) for p in live.probes.values()},
            "components": {(r.name, c.name): live.component_state(r.name, c.name, now_ms)
                           for r in self.cfg.regions for c in r.components},
            "third_parties": {t.name: live.third_party_state(t.name, now_ms) for t in self.cfg.third_parties},
            "vantage": {"vantage": self.cfg.vantage, "healthy": vantage.healthy, "detail": vantage.detail},
        }

    def metrics_text(self) -> bytes:
        """The whole /metrics body: the registry (drift histogram, own health), the SLA gauges, the probes."""
        return (generate_latest(self.registry) + self.sla_collector.text(self.gauge_text.render).encode()
                + self.probe_exposition.text(self.clock.now_ms()).encode())

    def on_report(self, report: ProbeReport) -> None:
        """What the probe side committed: the live state it left, the drift histogram, the deliverer's wake."""
        self.live.adopt(report.live.progress, report.live.conditions)
        self.probe_exposition.update({probe: progress.last for probe, progress in report.live.progress.items()})
        for drift in report.drift_s:
            self.drift.observe(drift)
        self.probe_status = report.status
        if report.events_committed:
            self.deliverer.wake.set()

    def _give_up(self) -> None:
        self.failed = True
        self.stopped.set()

    async def start(self, listen: str | None = None, probing: bool = True) -> None:
        """Open the store, restore the live state, compute the figures, serve the web app and (unless
        ``probing`` is False: a read-only daemon that serves what the store holds) start probing."""
        await self.db.start()
        await self.reader.start()  # after the writer: the schema is migrated by then
        history, since = await self.db.call(Storage.live_history, self.cfg.vantage, self.cfg.policy.confirm_failures)
        # Until the probe side's first report: the state the store gives (its transitions are the probe side's to announce).
        self.live.restore(history, self.cfg.vantage, since, certificates_warned(await self.db.call(Storage.open_conditions)))
        self.probe_exposition.update(self.live.last_samples())
        self.live.resume(self.clock.now_ms())
        await self.figures.refresh()
        self.month = month_context(self.figures.current)
        host, _, port = (listen or self.cfg.web.listen).rpartition(":")
        maintenance = MaintenanceService(self.db, self.fleet.policy, self.figures, self.clock, self.reports.forget)
        updates = UpdateService(self.db, self.cfg, self.figures, self.clock, self.deliverer.wake.set)
        records = RecordService(self.db, self.figures, self.clock, self.reports.forget)
        deps = WebDeps(self.cfg, self.clock, self.figures, self.reports, maintenance, updates, records,
                       self.metrics_text, self.readiness, lambda: self.public_url)
        self.runner = web.AppRunner(build_app(deps), access_log=None,
                                    keepalive_timeout=self.cfg.web.idle_timeout / 1000)
        await self.runner.setup()
        site = web.TCPSite(self.runner, host.strip("[]"), int(port))
        await site.start()
        self.port = self.runner.addresses[0][1]
        self.public_url = (self.cfg.web.public_url or f"http://{host}:{self.port}").rstrip("/")
        self.sla_collector.runbook_url = f"{self.public_url}/runbooks"
        if probing:
            await self.probes.start(self.public_url, self.month)
            self.started_probing = True
        self._tasks = [asyncio.create_task(self._refresh_loop())]
        if self.alerting:  # a vantage leaves the events to its database's aggregator
            self._tasks += [asyncio.create_task(self.deliverer.run()), asyncio.create_task(self.resender.run()),
                            asyncio.create_task(keep_closing(self.cfg, self.db, self.clock, lambda: self.public_url,
                                                             self.deliverer.wake.set))]
            if self.cfg.vendor_status is not None and probing:  # read as the probes are: not by a read-only daemon
                self._tasks.append(asyncio.create_task(keep_reading(self.cfg.vendor_status, self.db, self.clock)))
            if self.cfg.schedules:
                mail = ScheduledMail(self.cfg, self.fleet, self.db, self.reader, self.clock, lambda: self.public_url,
                                     self.deliverer.wake.set)
                self._tasks.append(asyncio.create_task(mail.run()))
        if (interval := sdnotify.watchdog_interval_s()) is not None:
            self._tasks.append(asyncio.create_task(self._watchdog(interval)))
        sdnotify.notify("READY=1")
        log.info("event=started listen=%s:%s probes=%d regions=%d vantage=%s", host, self.port,
                 len(self.live.probes), len(self.cfg.regions), self.cfg.vantage)

    async def stop(self) -> None:
        """Stop probing (the probe side flushes everything probed), then the engine side. A second call
        does nothing."""
        if self.runner is None:
            return
        sdnotify.notify("STOPPING=1")
        log.info("event=stopping")
        if self.started_probing:
            await self.probes.stop()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.deliverer.close()
        await self.runner.cleanup()
        self.runner = None
        await self.reader.close()
        await self.db.close()
        log.info("event=stopped samples_written=%d", self.probe_status.written if self.probe_status else 0)

    async def _refresh_loop(self) -> None:
        interval = self.cfg.daemon.refresh_interval / 1000
        while True:
            await asyncio.sleep(min(interval, 1.0))
            self.probes.check()
            if self.figures.computed_ms is None or self.clock.now_ms() - self.figures.computed_ms >= interval * 1000:
                try:
                    await self.figures.refresh()
                    self.sla_collector.prepare(self.gauge_text.render)  # now, not in the next scrape
                    self.month = month_context(self.figures.current)
                    self.probes.set_month(self.month)
                    if self.alerting:
                        await self._figure_events()
                except Exception:  # figures are best effort; probing and writing go on
                    log.exception("event=figures_refresh_failed")

    async def _figure_events(self) -> None:
        hooks = self.cfg.hooks
        now, current = self.clock.now_ms(), self.figures.current
        if current is None:
            return
        found = (detect.from_result(current, self.fleet.policy, hooks.budget_thresholds, hooks.at_risk_minutes, now,
                                    self.live.outage_start)
                 + detect.from_maintenance(self.figures.maintenance, self.fleet.policy, now, self.live.zone)
                 + detect.incident_updates(current, now))
        failing = self.live.failing()
        found = [with_context(e, self.public_url, failing, self.month) for e in found]
        recorded = await self.db.call(Storage.record_events, routed(found, hooks.routes)) if found else 0
        if recorded:
            self.deliverer.wake.set()

    async def _watchdog(self, interval: float) -> None:
        # Pets prove the event loop is alive; a full disk is reported on /readyz, not "fixed" by a restart.
        while True:
            sdnotify.notify("WATCHDOG=1")
            await asyncio.sleep(interval)

    def readiness(self) -> list[str]:
        """What keeps the daemon from being ready; empty when ready."""
        problems = []
        status, vantage = self.probe_status, self.vantage
        if status is None or not status.running or not self.probes.running:
            problems.append("probing not running" if self.started_probing else "probing not started")
        if status is not None and status.source_error is not None:
            problems.append(f"source unreadable: {status.source_error} (that time stays unknown until it is read)")
        if status is not None and status.last_error is not None:
            problems.append(f"store not writable: {status.last_error} ({status.pending} samples "
                            "waiting; probing continues)")
        if self.figures.computed_ms is None:
            problems.append("figures not computed yet")
        if not vantage.healthy:
            problems.append(f"vantage {self.cfg.vantage} unhealthy: {vantage.detail or 'no round yet'} "
                            "(its failed samples are stored as unknown, not down)")
        return problems


class _MonitorCollector(Collector):
    """The daemon's own health."""

    def __init__(self, daemon: Daemon):
        self.daemon = daemon

    def collect(self) -> Iterator[Metric]:
        daemon, status = self.daemon, self.daemon.probe_status
        pending = GaugeMetricFamily("monitor_store_pending_samples", "Samples not yet in the store")
        pending.add_metric([], status.pending if status is not None else 0)
        ready = GaugeMetricFamily("monitor_ready", "1 when /readyz is ready")
        ready.add_metric([], 0 if daemon.readiness() else 1)
        healthy = GaugeMetricFamily("monitor_vantage_healthy", "1 while this vantage's control targets pass",
                                    labels=["vantage"])
        healthy.add_metric([daemon.cfg.vantage], 1 if daemon.vantage.healthy else 0)
        yield healthy
        depth = GaugeMetricFamily("monitor_hook_queue_depth", "Hook deliveries waiting in the outbox")
        depth.add_metric([], daemon.deliverer.depth)
        yield depth
        written = GaugeMetricFamily("monitor_samples_written", "Samples written to the store since start")
        written.add_metric([], status.written if status is not None else 0)
        skipped = CounterMetricFamily("monitor_probe_runs_skipped", "Scheduled runs not started on time",
                                      labels=["reason"])
        for reason, count in (status.skipped if status is not None else {"missed": 0, "still_running": 0}).items():
            skipped.add_metric([reason], count)
        restarts = CounterMetricFamily("monitor_probe_process_restarts", "Probe processes restarted after dying")
        restarts.add_metric([], daemon.probes.restarts if isinstance(daemon.probes, ProbeProcess) else 0)
        yield from (pending, ready, written, skipped, restarts)


def raise_file_limit() -> None:
    """Soft RLIMIT_NOFILE up to the hard limit: probes, the store and the web port share descriptors."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard == resource.RLIM_INFINITY or soft < hard:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (hard if hard != resource.RLIM_INFINITY else 65536, hard))


def lock_roles(cfg: Config) -> tuple[str, ...]:
    """What a daemon holds the store's lock for: alerting (one daemon per database records and delivers
    the events), writing its vantage's samples (one per vantage), or both."""
    alerting = (ALERTING,) if cfg.daemon.alerting else ()
    writing = () if cfg.daemon.mode == "aggregate" else (vantage_role(cfg.vantage),)
    return alerting + writing


STANDBY_POLL_S = 2  # how often a standby asks for the lock, and an active daemon checks it holds it


async def serve(cfg: Config, db_path: str, listen: str | None = None, log_format: str = "text",
                standby: bool = False) -> int:
    """Run until SIGTERM or SIGINT, then stop cleanly; 1 when the probe process kept dying or another
    daemon became active on the database, else 0. A ``standby`` waits for the lock first."""
    raise_file_limit()
    lock = daemon_lock(db_path, lock_roles(cfg))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    if standby:
        if not await _wait_for_lock(lock, stop):
            return 0
    else:
        lock.acquire(SYSTEM.now_ms())  # before anything opens the store: a second daemon is refused
    try:
        return await _serve_locked(cfg, db_path, listen, log_format, lock, stop)
    finally:
        lock.release()


async def _wait_for_lock(lock: DaemonLocking, stop: asyncio.Event) -> bool:
    """A standby's wait: True once it holds the lock, False when stopped first."""
    said = ""
    while not stop.is_set():
        try:
            await asyncio.to_thread(lock.acquire, SYSTEM.now_ms())
            log.info("event=standby_active (the daemon that was active has stopped; this one takes over)")
            return True
        except (StoreError, StoreUnavailable) as exc:  # held by the active daemon, or the database away
            if str(exc) != said:
                log.info("event=standby waiting=%r", str(exc))
                print(f"sla-monitor: standby: {exc}", flush=True)
                said = str(exc)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(STANDBY_POLL_S):
                await stop.wait()
    return False


async def _watch_lock(lock: DaemonLocking, daemon: "Daemon") -> None:
    """Stop the daemon (failed) once another one is active on the database: two would alert twice."""
    while True:
        await asyncio.sleep(STANDBY_POLL_S)
        if not await asyncio.to_thread(lock.check, SYSTEM.now_ms()):
            log.critical("event=daemon_lock_lost (another daemon is active on the database now; this one stops)")
            daemon.failed = True
            daemon.stopped.set()
            return


async def _serve_locked(cfg: Config, db_path: str, listen: str | None, log_format: str, lock: DaemonLocking,
                        stop: asyncio.Event) -> int:
    daemon = Daemon(cfg, db_path, probe_process=cfg.daemon.probe_process, log_format=log_format)
    stop_waiter = asyncio.create_task(_stop_on(stop, daemon))
    watcher = asyncio.create_task(_watch_lock(lock, daemon))
    await daemon.start(listen)
    settle()  # the config, the live state, the routes: built once, kept for good
    print(f"sla-monitor: status page http://{(listen or cfg.web.listen).rpartition(':')[0]}:{daemon.port}/", flush=True)
    try:
        await daemon.stopped.wait()
    finally:
        for task in (stop_waiter, watcher):
            task.cancel()
        await daemon.stop()
    return 1 if daemon.failed else 0


async def _stop_on(stop: asyncio.Event, daemon: "Daemon") -> None:
    await stop.wait()
    daemon.stopped.set()
