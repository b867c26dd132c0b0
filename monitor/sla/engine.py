"""The SLA engine: segments and records in, per-region timelines out. Pure.

``evaluate`` works on a window ``[lo, hi)`` with ``hi <= now``. The caller
chooses a window wide enough that no period it cares about touches its edges
(``touches_edge`` tells), because a piece is judged whole (SLA-SPEC §6.3).
"""
from __future__ import annotations

from dataclasses import dataclass

from .downtime import Period, judge, unavailability
from .exclusions import ExclusionEntry, excluding_union, region_exclusions
from .intervals import Intervals
from .model import Fleet, Records, RegionSpec
from .timeline import SegmentMap, StateSets, entity_states, region_states, unknown_by_cause


@dataclass(frozen=True)
class RegionTimeline:
    region: RegionSpec
    states: StateSets
    periods: list[Period]
    entries: list[ExclusionEntry]
    excluded: Intervals
    component_states: dict[str, StateSets]
    component_periods: dict[str, list[Period]]  # every component (critical ones make the region's)
    unknown_causes: dict[str, Intervals]  # the region's unknown time split by cause (UNKNOWN_CAUSES)


def third_party_down(fleet: Fleet, segments: SegmentMap, lo: int, hi: int) -> dict[str, Intervals]:
    """When each third party is down; unknown is not down, so it excludes nothing (§3)."""
    return {
        t.name: entity_states(t.probes, fleet.vantages, segments, fleet.policy, lo, hi).down
        for t in fleet.third_parties
    }


def evaluate(fleet: Fleet, segments: SegmentMap, records: Records, lo: int, hi: int, now_ms: int) -> dict[str, RegionTimeline]:
    """State, periods and exclusions of every region over ``[lo, hi)``."""
    policy = fleet.policy
    tp_down = third_party_down(fleet, segments, lo, hi)
    result = {}
    for region in fleet.regions:
        comp_states = {
            c.name: entity_states(c.probes, fleet.vantages, segments, policy, lo, hi) for c in region.components
        }
        states = region_states(comp_states, region.components)
        entries = region_exclusions(region, records, tp_down, fleet.third_parties, policy)
        excluded = excluding_union(entries)
        critical_probes = [p for c in region.components if c.critical for p in c.probes]
        result[region.name] = RegionTimeline(
            region=region,
            states=states,
            periods=judge(unavailability(states, policy), excluded, policy, now_ms),
            entries=entries,
            excluded=excluded,
            component_states=comp_states,
            component_periods={
                c.name: judge(unavailability(comp_states[c.name], policy), excluded, policy, now_ms)
                for c in region.components
            },
            unknown_causes=unknown_by_cause(states.unknown, critical_probes, fleet.vantages, segments),
        )
    return result


def touches_edge(timelines: dict[str, RegionTimeline], lo: int, hi: int, now_ms: int) -> bool:
    """Would a wider window change a period? True when one starts at ``lo`` or ends at ``hi < now``."""
    for timeline in timelines.values():
        all_periods = list(timeline.periods)
        for component in timeline.region.components:
            if not component.critical:  # a critical one's periods lie inside the region's
                all_periods.extend(timeline.component_periods[component.name])
        for period in all_periods:
            if period.start_ms <= lo or (period.end_ms >= hi and hi < now_ms):
                return True
    return False
