"""The aggregator's side of the daemon (``daemon.mode: aggregate``): it probes nothing. Every poll it
reads the vantages' results since its last read and tracks each probe's quorum verdict in the live state,
so that gauges, the status page and alerts follow the vantages together. It reads them from Prometheus
(``PrometheusFeed``), and commits every vantage's samples to its store (the engine computes the quorum
from them, as for an import), or from the database the vantages write into (``StoreFeed``,
``source.store``), where they are already.

When the source cannot be read, or Prometheus answers with partial data (its warnings), nothing is taken
for that time, so the engine sees it as unknown (never down); ``/readyz`` says why, and the next read
starts where the last good one ended.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Callable, Mapping

import aiohttp

from ..clock import Clock
from ..config import Config
from ..config.fleet import stale_ms_by_probe
from ..errors import InputError, PrometheusError
from ..samples import Sample
from ..sla.timeline import voted_down
from ..sources.backfill import selectors
from ..sources.prometheus import PrometheusClient
from ..sources.series import Health, SeriesMapper, as_sample, sample_records
from ..storage.errors import StoreError, StoreUnavailable
from ..storage.interface import Storage
from .dbthread import DbThread
from .handoff import ProbeReport, ProbeStatus, VantageStatus
from .recorder import Recorder

log = logging.getLogger("sla_monitor.aggregating")
STORE_CHUNK_MS = 3_600_000  # a store feed catching up reads an hour at a time


def verdict(latest: Mapping[str, Sample], vantages: list[str], rule: str | int, now_ms: int,
            stale_ms: int) -> bool | None:
    """A probe's state by quorum (SLA-SPEC §3, as the engine combines vantages): each vantage's latest
    fresh, known sample votes; down when a majority of the voters (or ``rule`` of them) saw it down, up
    when some voted, None when none did."""
    votes = [s.ok for v in vantages if (s := latest.get(v)) is not None and s.ok is not None
             and now_ms < s.ts_ms + stale_ms]
    if not votes:
        return None
    return not voted_down(votes.count(False), len(votes), rule)


class QuorumFeed:
    """Reads (``read``, a subclass's), tracks and reports: the same reports to the engine side as the
    probe side's."""

    keeps_samples = True  # what it reads is committed to the store (False: it is there already)

    def __init__(self, cfg: Config, open_store: Callable[[], Storage], clock: Clock,
                 publish: Callable[[ProbeReport], None], poll_ms: int, chunk_ms: int):
        self.cfg, self.clock, self.publish = cfg, clock, publish
        self.poll_ms, self.chunk_ms = poll_ms, chunk_ms
        self.stale_ms = stale_ms_by_probe(cfg)
        self.db = DbThread(open_store)
        self.recorder = Recorder(cfg, self.db, self.stale_ms)
        self.latest: dict[str, dict[str, Sample]] = {}  # probe → vantage → its newest sample
        self.read_until: int | None = None
        self.source_error: str | None = None
        self.reads = 0
        self.running = False
        self._task: asyncio.Task | None = None

    async def read(self, lo: int, hi: int) -> list[Sample]:
        """Every vantage's samples in ``[lo, hi)``; SourceUnreadable when the source cannot say."""
        raise NotImplementedError

    def horizon(self, now: int) -> int:
        """How far the source can be read at ``now``."""
        return now

    def first_read(self, now: int, newest: int) -> int:
        """Where reading starts, given the newest sample the store held on start (0: none)."""
        return now

    async def open(self) -> None:
        """Open what the reads need (called once the store is open)."""

    async def close(self) -> None:
        """Close what ``open`` opened."""

    async def start(self) -> None:
        """Open the store and the source, pick up where the store left off, then read every poll."""
        await self.db.start()
        await self.open()
        now = self.clock.now_ms()
        newest = await self._restore(now)
        self.read_until = self.first_read(now, newest)
        self.running = True
        self._task = asyncio.create_task(self._loop())

    async def _restore(self, now: int) -> int:
        """Each vantage's newest stored sample and open down segment, as the quorum's live state: an
        outage that was open keeps its start, hence its event id. Returns the newest stored instant."""
        since_by_vantage: dict[str, dict[str, int]] = {}
        for vantage in self.cfg.vantages:
            history, since = await self.db.call(Storage.live_history, vantage, 1)
            since_by_vantage[vantage] = since
            for probe, rows in history.items():
                if rows and probe in self.stale_ms:
                    ts, ok = rows[0]
                    self.latest.setdefault(probe, {})[vantage] = Sample(probe, vantage, ts, ok, None)
        history, down_since = {}, {}
        for probe, by_vantage in self.latest.items():
            ok = verdict(by_vantage, list(self.cfg.vantages), self.cfg.policy.quorum, now, self.stale_ms[probe])
            if ok is None:
                continue
            ts = max(s.ts_ms for s in by_vantage.values())
            history[probe] = [(ts, ok)] * (1 if ok else self.cfg.policy.confirm_failures)
            if not ok:  # down since the quorum-th vantage went down
                starts = sorted(since_by_vantage[v][probe] for v, s in by_vantage.items()
                                if s.ok is False and probe in since_by_vantage[v])
                if starts:
                    needed = self._needed(by_vantage, now, self.stale_ms[probe])
                    down_since[probe] = starts[min(needed, len(starts)) - 1]
        # An outage open before the restart: the same id, recorded once.
        self.recorder.restore(history, self.cfg.vantage, down_since, (), now)
        return max((s.ts_ms for by_vantage in self.latest.values() for s in by_vantage.values()), default=0)

    def _needed(self, by_vantage: Mapping[str, Sample], now: int, stale_ms: int) -> int:
        """How many down vantages make the quorum now (the voters as ``verdict`` counts them, the rule the engine's)."""
        voters = sum(s.ok is not None and now < s.ts_ms + stale_ms for s in by_vantage.values())
        return next((k for k in range(1, voters + 1) if voted_down(k, voters, self.cfg.policy.quorum)), voters)

    async def _loop(self) -> None:
        while True:
            await self.poll()
            await asyncio.sleep(self.poll_ms / 1000)

    async def poll(self) -> None:
        """One round: read what is new (a chunk at a time when catching up), update the live state,
        commit (with the samples, when it keeps them), report."""
        assert self.read_until is not None
        now = self.clock.now_ms()
        horizon = self.horizon(now)
        while self.read_until < horizon:
            lo, hi = self.read_until, min(horizon, self.read_until + self.chunk_ms)
            try:
                samples = await self.read(lo, hi)
            except SourceUnreadable as exc:
                if self.source_error is None:
                    log.warning("event=source_unreadable error=%r", str(exc))
                self.source_error = str(exc)
                break
            if self.source_error is not None:
                log.info("event=source_readable again_from=%d", lo)
            self.source_error, self.read_until, self.reads = None, hi, self.reads + 1
            self._take(samples)
        self.recorder.take(self.recorder.state.sweep(horizon))
        await self.recorder.flush()
        self.report()

    def _take(self, samples: list[Sample]) -> None:
        """Track the probe's quorum verdict after each new sample, at that sample's instant (and keep the
        sample, when it keeps them). Driven by the data alone (never by when it was read), so two
        aggregators reading the same source see the same outages start at the same instant, and their
        events carry the same ids."""
        for sample in sorted(samples, key=lambda s: (s.ts_ms, s.vantage)):
            if sample.probe not in self.stale_ms:
                continue  # a probe the store knows and this config no longer has
            newest = self.latest.setdefault(sample.probe, {})
            if sample.vantage in newest and sample.ts_ms <= newest[sample.vantage].ts_ms:
                continue  # read before
            newest[sample.vantage] = sample
            if self.keeps_samples:
                self.recorder.store(sample)
            ok = verdict(newest, list(self.cfg.vantages), self.cfg.policy.quorum, sample.ts_ms,
                         self.stale_ms[sample.probe])
            if ok is not None:
                combined = Sample(sample.probe, self.cfg.vantage, sample.ts_ms, ok, sample.latency_ms if ok else None,
                                  error=None if ok else "down at a quorum of vantages")
                self.recorder.track(combined, sample.ts_ms)

    def report(self) -> None:
        """The live state of the quorum verdicts (the engine side's follows it) and the status. The stored
        samples are every vantage's: the engine reads those from the store."""
        self.publish(self.recorder.report([], self.status()))

    def status(self) -> ProbeStatus:
        """The feed's health now."""
        writer = self.recorder.writer
        return ProbeStatus(self.running, writer.written, writer.waiting, writer.last_error, {},
                           VantageStatus(self.cfg.vantage, True, None, None), self.source_error)

    async def stop(self) -> None:
        """Stop reading, commit what was read, report, close."""
        self.running = False
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await self.recorder.flush()
        self.report()
        await self.close()
        await self.db.close()
        log.info("event=aggregating_stopped samples_written=%d", self.recorder.writer.written)


class SourceUnreadable(Exception):
    """The source did not answer, or not wholly: nothing is taken for that time."""


class PrometheusFeed(QuorumFeed):
    """Reads the vantages' results from Prometheus and commits them to the store."""

    def __init__(self, cfg: Config, open_store: Callable[[], Storage], clock: Clock,
                 publish: Callable[[ProbeReport], None]):
        self.source = cfg.source.prometheus
        super().__init__(cfg, open_store, clock, publish, self.source.poll, self.source.chunk)
        self.mapper = SeriesMapper(cfg, self.source)
        self.success, self.duration = selectors(self.source.match, self.source.success_metric,
                                                self.source.duration_metric)
        self._session: aiohttp.ClientSession | None = None

    async def open(self) -> None:
        self._session = aiohttp.ClientSession()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    def first_read(self, now: int, newest: int) -> int:
        # From where the stored samples end (catching up a stop, a chunk at a time), or ``lookback`` ago.
        return newest + 1 if newest else now - self.source.lookback

    async def read(self, lo: int, hi: int) -> list[Sample]:
        assert self._session is not None
        client = PrometheusClient(self._session, self.source.url or "", self.source)
        try:
            health = Health(await client.raw(self.source.health_metric, lo, hi), self.mapper)
            success, duration = await asyncio.gather(client.raw(self.success, lo, hi),
                                                     client.raw(self.duration, lo, hi))
            records = list(sample_records(success, duration, self.mapper, health, (lo, hi), {}))
        except (PrometheusError, InputError) as exc:
            raise SourceUnreadable(str(exc)) from exc
        if client.warnings:  # e.g. a Thanos store was down: what is missing would stay missing
            raise SourceUnreadable(f"partial data ({'; '.join(client.warnings[:3])}); reading it again")
        return [as_sample(r) for r in records]


class StoreFeed(QuorumFeed):
    """Reads the samples that the vantages (``daemon.mode: vantage``) commit to the shared database, once
    they are ``settle`` old; they are stored already."""

    keeps_samples = False

    def __init__(self, cfg: Config, open_store: Callable[[], Storage], clock: Clock,
                 publish: Callable[[ProbeReport], None]):
        assert cfg.source.store is not None
        self.settle_ms = cfg.source.store.settle
        super().__init__(cfg, open_store, clock, publish, cfg.source.store.poll, STORE_CHUNK_MS)

    def horizon(self, now: int) -> int:
        return now - self.settle_ms

    def first_read(self, now: int, newest: int) -> int:
        # The live state starts from each vantage's newest sample (an open outage keeps its start);
        # reading from the horizon takes what is newer. What the vantages saw while no aggregator ran
        # is in the figures, not in the alerts.
        return self.horizon(now)

    async def read(self, lo: int, hi: int) -> list[Sample]:
        try:
            return await self.db.call(Storage.samples_between, lo, hi)
        except (StoreError, StoreUnavailable) as exc:
            raise SourceUnreadable(f"the shared database: {exc}") from exc
