"""From samples to probe, component, third-party and region state (SLA-SPEC §2, §3).

A state timeline is held as two interval sets over a window ``[lo, hi)``:
``down`` and ``unknown``; whatever is in neither is ``up``. That keeps every
aggregation rule a line or two of interval algebra.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, Mapping, Sequence

from .intervals import Intervals, _coalesce, clip, complement, intersect, normalize, subtract, union
from .model import NO_DATA, STORED_UNKNOWN_CAUSES, ComponentSpec, Policy, ProbeSpec, Segment

SegmentMap = Mapping[tuple[str, str], Sequence[Segment]]


@dataclass(frozen=True)
class StateSets:
    down: Intervals
    unknown: Intervals


def fold_segments(
    samples: Iterable[tuple],
    stale_ms: int,
    seed_start: int | None = None,
    next_ts: int | None = None,
) -> Iterator[Segment]:
    """Fold ``(ts_ms, ok)`` or ``(ts_ms, ok, cause)`` samples, sorted by ts with unique ts, into
    maximal runs of one state: up, down, or unknown for a cause (``ok`` None).

    A sample holds on ``[ts, min(next_ts, ts + stale_ms))``; consecutive
    holdings with the same state that touch become one segment. To refold part
    of a stored timeline: ``seed_start`` is where the run holding the first
    sample began (that sample's own state, up to it), and ``next_ts`` is the
    sample after the last one given.
    """
    # A state is True (up), False (down) or the unknown cause (a str): one value to compare.
    # Any: these hold None until the first sample, then ints and states (the hot loop stays unboxed).
    run_start: Any = None
    run_end: Any = None
    run_state: Any = None
    prev_ts: Any = None
    prev_state: Any = None
    for sample in samples:
        ts, ok = sample[0], sample[1]
        # Indexing, not star-unpacking: this loop folds every imported sample.
        state = (True if ok else False) if ok is not None else (
            sample[2] if len(sample) > 2 and sample[2] else NO_DATA)
        if prev_ts is None:
            if seed_start is not None:
                run_start, run_end, run_state = seed_start, ts, state
        else:
            end = ts if ts - prev_ts < stale_ms else prev_ts + stale_ms
            if run_state == prev_state and run_end == prev_ts:
                run_end = end
            else:
                if run_start is not None:
                    yield _segment(run_start, run_end, run_state)
                run_start, run_end, run_state = prev_ts, end, prev_state
        prev_ts, prev_state = ts, state
    if prev_ts is None:
        return
    end = prev_ts + stale_ms if next_ts is None else min(next_ts, prev_ts + stale_ms)
    if run_state == prev_state and run_end == prev_ts:
        yield _segment(run_start, end, run_state)
    else:
        if run_start is not None:
            yield _segment(run_start, run_end, run_state)
        yield _segment(prev_ts, end, prev_state)


def _segment(start: int, end: int, state: Any) -> Segment:
    """A run as a segment: ``state`` is True/False (up/down) or an unknown cause."""
    return Segment(start, end, state, None) if state.__class__ is bool else Segment(start, end, None, state)


def dedupe_sorted(samples: Iterable[tuple]) -> list[tuple]:
    """Sort samples by ts; of equal ts the one that came later wins (idempotent re-import)."""
    latest: dict[int, tuple] = {}
    for sample in samples:
        latest[sample[0]] = sample
    return [latest[ts] for ts in sorted(latest)]


def probe_states(segments: Sequence[Segment], lo: int, hi: int) -> StateSets:
    """State sets of one probe at one vantage over ``[lo, hi)``."""
    # Unpacked by position: the store hands over plain (start, end, ok) rows, which Segment also is.
    # ``ok == 0`` is down (False, or SQLite's 0); None (unknown) is neither down nor known.
    down = clip(_coalesce([(s[0], s[1]) for s in segments if s[2] == 0]), lo, hi)
    known = clip(_coalesce([(s[0], s[1]) for s in segments if s[2] is not None]), lo, hi)
    return StateSets(down, complement(known, lo, hi))


def any_down(states: Sequence[StateSets]) -> StateSets:
    """Down if any is down; else unknown if any is unknown; else up."""
    if not states:
        return StateSets([], [])
    down = union(*(s.down for s in states))
    return StateSets(down, subtract(union(*(s.unknown for s in states)), down))


def voted_down(down: int, voters: int, rule: str | int) -> bool:
    """The quorum rule (SLA-SPEC §3) for one instant: ``down`` of the ``voters`` (the vantages that know
    the state) saw it down; down with a majority of them, or with ``rule`` of them when it is a number."""
    return down >= rule if isinstance(rule, int) else 2 * down > voters


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
            elif voted_down(n_down, known, rule):
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


def unknown_by_cause(unknown: Intervals, probes: Sequence[ProbeSpec], vantages: Sequence[str],
                     segments: SegmentMap) -> dict[str, Intervals]:
    """Split an entity's ``unknown`` time by why: each millisecond goes to the first stored cause
    (in ``STORED_UNKNOWN_CAUSES`` order) that one of ``probes`` at some vantage was unknown for;
    the rest is ``no_data`` (no sample at all). The parts are disjoint and add up to ``unknown``."""
    marked: dict[str, list] = {}
    for probe in probes:
        for vantage in vantages:
            for a, b, ok, *rest in segments.get((probe.id, vantage), ()):
                if ok is None:
                    marked.setdefault(rest[0] if rest and rest[0] else NO_DATA, []).append((a, b))
    parts: dict[str, Intervals] = {}
    left = unknown
    for cause in STORED_UNKNOWN_CAUSES:
        parts[cause] = intersect(left, normalize(marked.get(cause, ())))
        left = subtract(left, parts[cause])
    parts[NO_DATA] = left
    return parts
