"""This vantage's own health: control targets tell the monitor's network outage from the Service's.

A failed target sample is judged before it is stored. When the failure is the monitor's own
(``probes.faults``), or the control targets fail in a round that started after it, the sample is
*unknown* (with its cause), never down: SLA §10 counts neither the customer's nor anyone's internet
connectivity against the Service, and a monitor without a network has seen nothing of it. Successful
samples stay up, and a status feed's reading stays as read (it does not depend on this host's
network, only the reading of it does).
"""
from __future__ import annotations

import asyncio
import dataclasses
import logging
from dataclasses import dataclass
from typing import Iterable

from ..checks import Probe
from ..config.models import VantageHealthConfig
from ..event import Event
from ..hooks import events
from ..probes import ProbeContext, Sample, run_probe
from ..probes.faults import LOCAL, RESOLVER
from ..sla.calendar import parse_iso_ms
from .handoff import NO_CONTROLS as NO_CONTROLS_DETAIL
from .handoff import VantageStatus

log = logging.getLogger("sla_monitor.vantage")
VANTAGE_UNHEALTHY = "vantage_unhealthy"
MONITOR_FAULT = "monitor_fault"
RECHECK_S = 5.0


@dataclass(frozen=True)
class Verdict:
    """One round of control probes."""

    started_ms: int
    healthy: bool
    resolver_ok: bool | None  # a control probe resolved a name through the system resolver (None: none does)
    detail: str


NO_CONTROLS = Verdict(0, True, None, NO_CONTROLS_DETAIL)


def unknown(sample: Sample, cause: str, why: str) -> Sample:
    """The sample as unknown for ``cause``, keeping what the probe saw in its error."""
    return dataclasses.replace(sample, ok=None, cause=cause, fault=None, error=f"{why}; probe saw: {sample.error}")


class VantageHealth:
    def __init__(self, cfg: VantageHealthConfig, ctx: ProbeContext, vantage: str):
        self.cfg = cfg
        self.ctx = ctx
        self.vantage = vantage
        self.last: Verdict | None = None if cfg.probes else NO_CONTROLS
        self.degraded_since_ms: int | None = None
        self.events: list = []  # transitions not yet handed to the writer
        self._round: asyncio.Task | None = None
        self._resolver_probes = {p.id for p in cfg.probes if p.uses_system_resolver()}

    def restore(self, conditions: Iterable[Event]) -> None:
        """This vantage's degraded spell still open in the outbox before a restart (``conditions``):
        degraded since its start until the first round says otherwise, so a recovery is announced
        under the spell's key and a spell still going on is not announced again."""
        for spell in conditions:
            if spell.type == "monitor.degraded" and spell.data.get("vantage") == self.vantage and self.cfg.probes:
                self.degraded_since_ms = parse_iso_ms(spell.data["since"])
                self.last = Verdict(self.degraded_since_ms, False, None, spell.data.get("detail") or "degraded")

    @property
    def healthy(self) -> bool:
        """The latest round's verdict (healthy until a first round says otherwise)."""
        return self.last is None or self.last.healthy

    def status(self) -> VantageStatus:
        """What the engine side needs: healthy or not, since when degraded, the latest verdict."""
        return VantageStatus(self.vantage, self.healthy, self.degraded_since_ms,
                             self.last.detail if self.last is not None else None)

    async def review(self, probe: Probe, sample: Sample) -> Sample:
        """The sample as it should be stored: a failure that is the monitor's own becomes unknown."""
        if sample.ok and not self.healthy and self._round is None:
            self._start_round()  # a target answered: the network may be back, ask the controls now
        if sample.ok is not False or probe.is_feed:
            return sample
        if sample.fault == LOCAL:
            return unknown(sample, MONITOR_FAULT, "the monitor's own fault")
        verdict = await self.verdict_since(sample.ts_ms)
        if not verdict.healthy:
            return unknown(sample, VANTAGE_UNHEALTHY, f"vantage {self.vantage} unhealthy ({verdict.detail})")
        if sample.fault == RESOLVER and verdict.resolver_ok is not True:
            return unknown(sample, MONITOR_FAULT, "the monitor's resolver failed (no control lookup succeeded)")
        return sample

    async def verdict_since(self, ts_ms: int) -> Verdict:
        """The verdict of a control round that started at or after ``ts_ms`` (one round at a time,
        shared by every sample waiting on it)."""
        if not self.cfg.probes:
            return NO_CONTROLS
        while True:
            if self.last is not None and self.last.started_ms >= ts_ms:
                return self.last
            round_task = self._round if self._round is not None else self._start_round()
            verdict = await asyncio.shield(round_task)
            if verdict.started_ms >= ts_ms:
                return verdict

    def _start_round(self) -> asyncio.Task:
        self._round = asyncio.ensure_future(self._run_round(self.ctx.clock.now_ms()))
        return self._round

    async def _run_round(self, started_ms: int) -> Verdict:
        try:
            samples = await asyncio.gather(*(run_probe(p, self.ctx, self.vantage) for p in self.cfg.probes))
            verdict = self._judge(started_ms, samples)
            self._record(verdict)
            return verdict
        finally:
            self._round = None

    def _judge(self, started_ms: int, samples: list[Sample]) -> Verdict:
        passed = [s for s in samples if s.ok]
        failed = [f"{p.id}: {s.error}" for p, s in zip(self.cfg.probes, samples, strict=True) if not s.ok]
        detail = f"{len(passed)}/{len(self.cfg.probes)} control targets ok" + (f": {'; '.join(failed)}" if failed else "")
        resolver_ok = (any(s.ok for p, s in zip(self.cfg.probes, samples, strict=True) if p.id in self._resolver_probes)
                       if self._resolver_probes else None)
        return Verdict(started_ms, len(passed) >= self.cfg.min_ok, resolver_ok, detail)

    def _record(self, verdict: Verdict) -> None:
        was_healthy = self.healthy
        self.last = verdict
        now = self.ctx.clock.now_ms()
        if was_healthy and not verdict.healthy:
            self.degraded_since_ms = verdict.started_ms
            log.warning("event=vantage_degraded vantage=%s detail=%r", self.vantage, verdict.detail)
            self.events.append(events.vantage_health(self.vantage, False, verdict.started_ms, now, verdict.detail))
        elif not was_healthy and verdict.healthy:
            since = self.degraded_since_ms if self.degraded_since_ms is not None else verdict.started_ms
            self.degraded_since_ms = None
            log.info("event=vantage_recovered vantage=%s", self.vantage)
            self.events.append(events.vantage_health(self.vantage, True, since, now, verdict.detail))

    async def run(self) -> None:
        """A control round every ``interval`` until cancelled, at least every RECHECK_S while unhealthy
        (failed target samples add their own rounds, and a target answering while unhealthy too)."""
        if not self.cfg.probes:
            return
        while True:
            await self.verdict_since(self.ctx.clock.now_ms())
            pause = self.cfg.interval / 1000
            await asyncio.sleep(pause if self.healthy else min(pause, RECHECK_S))

    def drain_events(self) -> list:
        drained, self.events = self.events, []
        return drained
