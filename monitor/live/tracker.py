"""In-memory live state of every probe, component, third party and region at this vantage.

The states follow SLA-SPEC §3 at one vantage (each instance is one vantage; Prometheus or the
report combines vantages). An outage is *announced* once a probe has failed ``confirm_failures``
samples in a row; accounting still starts at the first failed sample, from the store.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Callable, Iterable
from zoneinfo import ZoneInfo

from ..config import Config
from ..config.models import RegionConfig
from ..event import Event
from ..hooks import events
from ..samples import Sample
from ..sla.calendar import iso, parse_iso_ms

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
    streak_start_ms: int | None = None  # first failed sample of the current run of failures

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
    outage_start: dict[str, int] = field(default_factory=dict)  # region → start of its announced outage
    third_state: dict[str, str] = field(default_factory=dict)
    third_down_since: dict[str, int] = field(default_factory=dict)  # third party → start of its down spell
    cert_warned: dict[str, tuple[int, int]] = field(default_factory=dict)  # probe → (expiry warned about, since)
    events: list = field(default_factory=list)  # transitions not yet handed to the writer
    # The daemon's copy of the probe side's state: it keeps the same state, but records no events and logs
    # nothing (the probe side does both).
    mirror: bool = False
    # (region, component) → its state when last computed: a sample recomputes its own component only, and
    # its region from these. Every update_regions of all regions (each flush tick) recomputes them all,
    # so a component going stale shows within a tick.
    component_states: dict[tuple[str, str], str] = field(default_factory=dict)
    # (region or None, component or third party) → its probes: a sample touches only its own group.
    groups: dict[tuple[str | None, str], list[ProbeState]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for probe, region, owner in self.cfg.all_probes():
            state = ProbeState(probe.id, probe.kind, region, owner, self.stale_ms[probe.id])
            self.probes[probe.id] = state
            self.groups.setdefault((region, owner), []).append(state)
        self.regions = {r.name: r for r in self.cfg.regions}
        self.zone = ZoneInfo(self.cfg.timezone)  # event texts give times as the status page does

    @property
    def confirm(self) -> int:
        return self.cfg.policy.confirm_failures

    def restore(self, history: dict[str, list[tuple[int, bool | None]]], vantage: str,
                down_since: dict[str, int] | None = None, conditions: Iterable[Event] = ()) -> None:
        """Pick up where a previous run stopped: last samples (newest first) from the store, where
        each probe's current down segment began (so an outage keeps its start, and its event id), and
        the certificates warned about that no renewal ended yet (``conditions``, the outbox's open
        ones): a renewal seen after a restart is announced, under the warning's key."""
        for warned in conditions:
            probe = warned.data.get("probe")
            if warned.type == "certificate.expiring" and probe in self.probes:
                self.cert_warned[probe] = (parse_iso_ms(warned.data["expires"]), parse_iso_ms(warned.data["start"]))
        for probe_id, rows in history.items():
            state = self.probes.get(probe_id)
            if state is None or not rows:
                continue
            ts, ok = rows[0]
            state.last = Sample(probe_id, vantage, ts, ok, None)
            state.consecutive_failures = 0
            for failed_ts, was_ok in rows:
                if was_ok is not False:  # up or unknown ends a run of failures
                    break
                state.consecutive_failures += 1
                state.streak_start_ms = failed_ts
            if ok is False and down_since and probe_id in down_since:
                state.streak_start_ms = down_since[probe_id]

    def resume(self, now_ms: int) -> None:
        """After ``restore``: the regions' and the third parties' states as the restored samples give
        them. An outage or a third party's failure still going on is detected again with the start it
        had, so its event has the id it had (the outbox takes it once) and its recovery is announced
        under the same key: a restart loses no ``third_party.up``."""
        self.update_regions(now_ms)
        for third in self.cfg.third_parties:
            self.update_third_party(third.name, now_ms)

    def record(self, sample: Sample, now_ms: int) -> None:
        """One new sample: its probe's streak, then its region's (or third party's) state and events."""
        state = self._advance(sample, now_ms)
        if state.region is None:
            self.update_third_party(state.owner, now_ms)
            return
        self.component_states[(state.region, state.owner)] = self.component_state(state.region, state.owner, now_ms)
        region = self.regions[state.region]
        self._set_region(region, self._region_of(region, lambda c: self.component_states.get((region.name, c))
                                                 or self.component_state(region.name, c, now_ms)), now_ms)

    def replay(self, samples: list[Sample], now_ms: int) -> None:
        """A batch of samples at once (the mirror's update from a committed batch): each probe's streak,
        then each touched region and third party once."""
        regions: set[str] = set()
        third_parties: set[str] = set()
        for sample in samples:
            state = self._advance(sample, now_ms)
            (regions if state.region is not None else third_parties).add(state.region or state.owner)
        self.update_regions(now_ms, [self.regions[name] for name in regions])
        for name in third_parties:
            self.update_third_party(name, now_ms)

    def _advance(self, sample: Sample, now_ms: int) -> ProbeState:
        state = self.probes[sample.probe]
        state.last = sample
        if sample.ok is False:
            if state.consecutive_failures == 0:
                state.streak_start_ms = sample.ts_ms
            state.consecutive_failures += 1
        else:
            state.consecutive_failures, state.streak_start_ms = 0, None
        if sample.ok and sample.cert_expiry_ms is not None:
            self._certificate_events(state, sample, now_ms)
        return state

    def update_third_party(self, name: str, now_ms: int) -> None:
        """third_party.down / .up on a change between down and up (unknown is neither)."""
        before, after = self.third_state.get(name, UNKNOWN), self.third_party_state(name, now_ms)
        if after == before or after == UNKNOWN:
            return
        self.third_state[name] = after
        provider = next(t.provider for t in self.cfg.third_parties if t.name == name)
        if after == DOWN:
            starts = [p.streak_start_ms for p in self.groups.get((None, name), ()) if p.streak_start_ms is not None]
            since = self.third_down_since[name] = min(starts, default=now_ms)
            self._emit(events.third_party(name, provider, True, now_ms, since))
        elif before == DOWN:
            since = self.third_down_since.pop(name, now_ms)
            self._emit(events.third_party(name, provider, False, now_ms, since))

    def _certificate_events(self, state: ProbeState, sample: Sample, now_ms: int) -> None:
        """certificate.expiring once per certificate that is valid but near its end; certificate.renewed
        (same dedup key) when the probe sees another one: not near its end, or near its end too (then its
        own certificate.expiring follows, under its own key), so every warning is ended."""
        warning = (sample.detail or {}).get("warning")
        warned = self.cert_warned.get(state.id)
        replaced = warned is not None and sample.cert_expiry_ms is not None and warned[0] != sample.cert_expiry_ms
        if warned is not None and (not warning or replaced):
            expiry, since = warned
            del self.cert_warned[state.id]
            self._emit(events.certificate(state.id, state.region, expiry, False, now_ms,
                                          f"now valid until {iso(sample.cert_expiry_ms)}", since))
        if warning and sample.cert_expiry_ms is not None and state.id not in self.cert_warned:
            self.cert_warned[state.id] = (sample.cert_expiry_ms, sample.ts_ms)
            self._emit(events.certificate(state.id, state.region, sample.cert_expiry_ms, True, now_ms, warning,
                                          sample.ts_ms))
            if not self.mirror:
                log.warning("event=certificate_expiring probe=%s expires=%s", state.id, iso(sample.cert_expiry_ms))

    def _outage_events(self, region: RegionConfig, after: str, now_ms: int) -> None:
        """outage.opened when a region turns down (once per outage, also across unknown spells and
        restarts: the id carries the outage's start); outage.resolved when it is up again."""
        name = region.name
        if after == DOWN and name not in self.outage_start:
            starts = [p.streak_start_ms for c in region.components if c.critical
                      for p in self.groups.get((name, c.name), ()) if p.state(now_ms, self.confirm) == DOWN
                      and p.streak_start_ms is not None]
            start = min(starts, default=now_ms)
            self.outage_start[name] = start
            self._emit(events.outage_opened(name, start, now_ms, self.zone))
            if not self.mirror:
                log.warning("event=outage_opened region=%s since=%s", name, iso(start))
        elif after == UP and name in self.outage_start:
            start = self.outage_start.pop(name)
            self._emit(events.outage_resolved(name, start, now_ms))
            if not self.mirror:
                log.info("event=outage_resolved region=%s", name)

    def failing(self) -> dict[str, list[dict]]:
        """Per region, its probes whose last sample failed and their errors (the context of an outage alert)."""
        found: dict[str, list[dict]] = {}
        for p in self.probes.values():
            if p.region is not None and p.last is not None and p.last.ok is False:
                found.setdefault(p.region, []).append({"component": p.owner, "probe": p.id, "error": p.last.error})
        return found

    def _emit(self, event: Event) -> None:
        if not self.mirror:
            self.events.append(event)

    def drain_events(self) -> list:
        drained, self.events = self.events, []
        return drained

    def component_state(self, region: str, component: str, now_ms: int) -> str:
        return combine([p.state(now_ms, self.confirm) for p in self.groups.get((region, component), ())])

    def third_party_state(self, name: str, now_ms: int) -> str:
        """Unknown third parties are not down (they exclude nothing)."""
        return combine([p.state(now_ms, self.confirm) for p in self.groups.get((None, name), ())])

    def compute_region(self, region_cfg: RegionConfig, now_ms: int) -> str:
        states = {c.name: self.component_state(region_cfg.name, c.name, now_ms) for c in region_cfg.components}
        self.component_states.update({(region_cfg.name, name): state for name, state in states.items()})
        return self._region_of(region_cfg, states.__getitem__)

    @staticmethod
    def _region_of(region_cfg: RegionConfig, state_of: Callable[[str], str]) -> str:
        """A region's state from its critical components' (``state_of`` a component name); up without any."""
        critical = [state_of(c.name) for c in region_cfg.components if c.critical]
        return combine(critical) if critical else UP

    def update_regions(self, now_ms: int, regions: Iterable[RegionConfig] | None = None) -> list[tuple[str, str, str]]:
        """Recompute region states (all, or those given); log and return the transitions."""
        changes = []
        for region in regions if regions is not None else self.cfg.regions:
            if (change := self._set_region(region, self.compute_region(region, now_ms), now_ms)) is not None:
                changes.append(change)
        return changes

    def _set_region(self, region: RegionConfig, after: str, now_ms: int) -> tuple[str, str, str] | None:
        before = self.region_state.get(region.name, UNKNOWN)
        if after == before:
            return None
        self.region_state[region.name] = after
        self._outage_events(region, after, now_ms)
        return region.name, before, after
