"""In-memory live state of every probe, component, third party and region at this vantage.

The states follow SLA-SPEC §3 at one vantage (each instance is one vantage; Prometheus or the
report combines vantages). An outage is *announced* once a probe has failed ``confirm_failures``
samples in a row; accounting still starts at the first failed sample, from the store.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

from ..config import Config
from ..probes import Sample

log = logging.getLogger("sla_monitor.state")
UP, DOWN, UNKNOWN = "up", "down", "unknown"


@dataclass
class ProbeState:
    id: str
    kind: str
    region: str | None  # None for a third party's probe
    owner: str  # component or third-party name
    stale_ms: int
    last: Sample | None = None
    consecutive_failures: int = 0

    def state(self, now_ms: int, confirm: int) -> str:
        if self.last is None or self.last.ok is None or now_ms >= self.last.ts_ms + self.stale_ms:
            return UNKNOWN  # silent or unreadable: never "still down"
        if self.last.ok:
            return UP
        return DOWN if self.consecutive_failures >= confirm else UP


def combine(states: list[str]) -> str:
    """Down if any is down; else unknown if any is unknown; else up (SLA-SPEC §3)."""
    if DOWN in states:
        return DOWN
    return UNKNOWN if UNKNOWN in states else UP


@dataclass
class Tracker:
    cfg: Config
    stale_ms: dict[str, int]
    probes: dict[str, ProbeState] = field(default_factory=dict)
    region_state: dict[str, str] = field(default_factory=dict)
    # (region or None, component or third party) → its probes: a sample touches only its own group.
    groups: dict[tuple[str | None, str], list[ProbeState]] = field(default_factory=dict)

    def __post_init__(self):
        for probe, region, owner in self.cfg.all_probes():
            state = ProbeState(probe.id, probe.kind, region, owner, self.stale_ms[probe.id])
            self.probes[probe.id] = state
            self.groups.setdefault((region, owner), []).append(state)
        self.regions = {r.name: r for r in self.cfg.regions}

    @property
    def confirm(self) -> int:
        return self.cfg.policy.confirm_failures

    def restore(self, history: dict[str, list[tuple[int, bool]]], vantage: str) -> None:
        """Pick up where a previous run stopped: last samples (newest first) from the store."""
        for probe_id, rows in history.items():
            state = self.probes.get(probe_id)
            if state is None or not rows:
                continue
            ts, ok = rows[0]
            state.last = Sample(probe_id, vantage, ts, ok, None)
            state.consecutive_failures = 0
            for _, was_ok in rows:
                if was_ok:
                    break
                state.consecutive_failures += 1

    def record(self, sample: Sample, now_ms: int) -> None:
        state = self.probes[sample.probe]
        state.last = sample
        state.consecutive_failures = state.consecutive_failures + 1 if sample.ok is False else 0
        if state.region is not None:
            self.update_regions(now_ms, [self.regions[state.region]])

    def component_state(self, region: str, component: str, now_ms: int) -> str:
        return combine([p.state(now_ms, self.confirm) for p in self.groups.get((region, component), ())])

    def third_party_state(self, name: str, now_ms: int) -> str:
        """Unknown third parties are not down (they exclude nothing)."""
        return combine([p.state(now_ms, self.confirm) for p in self.groups.get((None, name), ())])

    def compute_region(self, region_cfg, now_ms: int) -> str:
        critical = [self.component_state(region_cfg.name, c.name, now_ms) for c in region_cfg.components if c.critical]
        return combine(critical) if critical else UP

    def update_regions(self, now_ms: int, regions=None) -> list[tuple[str, str, str]]:
        """Recompute region states (all, or those given); log and return the transitions."""
        changes = []
        for region in regions if regions is not None else self.cfg.regions:
            before = self.region_state.get(region.name, UNKNOWN)
            after = self.compute_region(region, now_ms)
            if after != before:
                self.region_state[region.name] = after
                changes.append((region.name, before, after))
                if after == DOWN:
                    log.warning("event=outage_opened region=%s", region.name)
                elif before == DOWN:
                    log.info("event=outage_resolved region=%s now=%s", region.name, after)
        return changes
