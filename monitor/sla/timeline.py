"""From samples to probe, component, third-party and region state (SLA-SPEC §2, §3).

A state timeline is held as two interval sets over a window ``[lo, hi)``:
``down`` and ``unknown``; whatever is in neither is ``up``. That keeps every
aggregation rule a line or two of interval algebra.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Iterator, Mapping, Sequence

from .intervals import Intervals, _coalesce, clip, complement, subtract, union
from .model import ComponentSpec, Policy, ProbeSpec, Segment

SegmentMap = Mapping[tuple[str, str], Sequence[Segment]]


@dataclass(frozen=True)
class StateSets:
    down: Intervals
    unknown: Intervals


def fold_segments(
    samples: Iterable[tuple[int, bool]],
    stale_ms: int,
    seed_start: int | None = None,
    next_ts: int | None = None,
) -> Iterator[Segment]:
    """Fold ``(ts_ms, ok)`` samples, sorted by ts with unique ts, into maximal known runs.

    A sample holds on ``[ts, min(next_ts, ts + stale_ms))``; consecutive
    holdings with the same state that touch become one segment. To refold part
    of a stored timeline: ``seed_start`` is where the run holding the first
    sample began (that sample's own state, up to it), and ``next_ts`` is the
    sample after the last one given.
    """
    run_start = run_end = run_ok = None
    prev_ts = prev_ok = None
    for ts, ok in samples:
        ok = bool(ok)
        if prev_ts is None:
            if seed_start is not None:
                run_start, run_end, run_ok = seed_start, ts, ok
        else:
            end = ts if ts - prev_ts < stale_ms else prev_ts + stale_ms
            if run_ok is prev_ok and run_end == prev_ts:
                run_end = end
            else:
                if run_start is not None:
                    yield Segment(run_start, run_end, run_ok)
                run_start, run_end, run_ok = prev_ts, end, prev_ok
        prev_ts, prev_ok = ts, ok
    if prev_ts is None:
        return
    end = prev_ts + stale_ms if next_ts is None else min(next_ts, prev_ts + stale_ms)
    if run_ok is prev_ok and run_end == prev_ts:
        yield Segment(run_start, end, run_ok)
    else:
        if run_start is not None:
            yield Segment(run_start, run_end, run_ok)
        yield Segment(prev_ts, end, prev_ok)


def dedupe_sorted(samples: Iterable[tuple[int, bool]]) -> list[tuple[int, bool]]:
    """Sort samples by ts; of equal ts the one that came later wins (idempotent re-import)."""
    latest: dict[int, bool] = {}
    for ts, ok in samples:
        latest[ts] = ok
    return sorted(latest.items())


def probe_states(segments: Sequence[Segment], lo: int, hi: int) -> StateSets:
    """State sets of one probe at one vantage over ``[lo, hi)``."""
    # Unpacked by position: the store hands over plain (start, end, ok) rows, which Segment also is.
    down = clip(_coalesce([(a, b) for a, b, ok in segments if not ok]), lo, hi)
    known = clip(_coalesce([(a, b) for a, b, _ in segments]), lo, hi)
    return StateSets(down, complement(known, lo, hi))


def any_down(states: Sequence[StateSets]) -> StateSets:
    """Down if any is down; else unknown if any is unknown; else up."""
    if not states:
        return StateSets([], [])
    down = union(*(s.down for s in states))
    return StateSets(down, subtract(union(*(s.unknown for s in states)), down))


def quorum(per_vantage: Sequence[StateSets], rule: str | int, lo: int, hi: int) -> StateSets:
    """Combine one entity's state at each vantage (SLA-SPEC §3): unknown vantages do not vote."""
    if len(per_vantage) == 1 and rule in ("majority", 1):
        return per_vantage[0]
    events: list[tuple[int, int, int]] = []
    for states in per_vantage:
        events.extend((a, 1, 0) for a, _ in states.down)
        events.extend((b, -1, 0) for _, b in states.down)
        events.extend((a, 0, 1) for a, _ in states.unknown)
        events.extend((b, 0, -1) for _, b in states.unknown)
    events.sort()
    voters = len(per_vantage)
    down: Intervals = []
    unknown: Intervals = []
    n_down = n_unknown = 0
    cursor = lo
    for t, d_down, d_unknown in events + [(hi, 0, 0)]:
        if t > cursor:
            known = voters - n_unknown
            if known == 0:
                unknown.append((cursor, t))
            elif (2 * n_down > known) if rule == "majority" else (n_down >= rule):
                down.append((cursor, t))
            cursor = t
        n_down += d_down
        n_unknown += d_unknown
    return StateSets(_coalesce(down), _coalesce(unknown))


def entity_states(
    probes: Sequence[ProbeSpec], vantages: Sequence[str], segments: SegmentMap, policy: Policy, lo: int, hi: int
) -> StateSets:
    """A component's or third party's state: any probe down at a vantage, then the quorum."""
    per_vantage = [
        any_down([probe_states(segments.get((p.id, v), ()), lo, hi) for p in probes]) for v in vantages
    ]
    return quorum(per_vantage, policy.quorum, lo, hi)


def region_states(component_states: Mapping[str, StateSets], components: Sequence[ComponentSpec]) -> StateSets:
    """Region: down if a critical component is down; else unknown if one is unknown; else up."""
    return any_down([component_states[c.name] for c in components if c.critical])
