"""Unavailability periods, pieces and the 15-minute rule (SLA-SPEC §4, §6)."""
from __future__ import annotations

from typing import NamedTuple, Sequence

from .intervals import Intervals, intersect, overlap_ms, subtract, union, window
from .model import Policy
from .timeline import StateSets


class Piece(NamedTuple):
    start_ms: int
    end_ms: int
    counted: bool  # judged on the whole piece, even where it crosses a month end


class Period(NamedTuple):
    start_ms: int
    end_ms: int
    pieces: tuple[Piece, ...]
    open: bool  # still down at ``now``: its counted pieces count with their length so far


def unavailability(states: StateSets, policy: Policy) -> Intervals:
    """Maximal down intervals, with ``unknown_counts_as`` and ``flap_merge`` applied."""
    down, unknown = states.down, states.unknown
    if policy.unknown_counts_as == "down":
        down, unknown = union(down, unknown), []
    if policy.flap_merge_ms <= 0 or not down:
        return down
    merged = [down[0]]
    for start, end in down[1:]:
        gap_start = merged[-1][1]
        # Only an all-up gap merges: unknown time inside it splits the period (§4).
        if start - gap_start <= policy.flap_merge_ms and not intersect([(gap_start, start)], unknown):
            merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    return merged


def judge(periods: Intervals, excluded: Intervals, policy: Policy, now_ms: int) -> list[Period]:
    """Cut each period by the exclusions and decide which pieces count."""
    threshold = policy.downtime_threshold_ms
    judged = []
    for start, end in periods:
        cuts = window(excluded, start, end)
        if not cuts:  # the common case: nothing excluded, the period is its one piece
            judged.append(Period(start, end, (Piece(start, end, end - start >= threshold),), end >= now_ms))
            continue
        remaining = subtract([(start, end)], cuts)
        if policy.threshold_before_exclusions:
            whole = end - start >= threshold
            pieces = tuple(Piece(a, b, whole) for a, b in remaining)
        else:
            pieces = tuple(Piece(a, b, b - a >= threshold) for a, b in remaining)
        judged.append(Period(start, end, pieces, end >= now_ms))
    return judged


def counted_pieces(periods: Sequence[Period]) -> Intervals:
    """The counted pieces as an interval set."""
    return [(p.start_ms, p.end_ms) for period in periods for p in period.pieces if p.counted]


def downtime_ms(periods: Sequence[Period], lo: int, hi: int) -> int:
    """Counted downtime inside ``[lo, hi)``: a piece's milliseconds split across the months it overlaps."""
    return overlap_ms(counted_pieces(periods), lo, hi)
