"""Half-open interval sets on integer milliseconds.

An interval set is a list of ``(start_ms, end_ms)`` tuples, sorted, disjoint,
non-empty and non-touching (``[a, b)`` and ``[b, c)`` are one interval
``[a, c)``). Every function here takes and returns sets in that normal form,
so results compose without re-normalising. Pure: no clock, no I/O.
"""
from __future__ import annotations

import bisect
import itertools
from typing import Iterable

Interval = tuple[int, int]
Intervals = list[Interval]


def normalize(intervals: Iterable[Interval]) -> Intervals:
    """Sort, drop empty intervals and merge overlapping or touching ones."""
    return _coalesce(sorted(iv for iv in intervals if iv[1] > iv[0]))


def _coalesce(ordered: Iterable[Interval]) -> Intervals:
    out: Intervals = []
    for start, end in ordered:
        if out and start <= out[-1][1]:
            if end > out[-1][1]:
                out[-1] = (out[-1][0], end)
        else:
            out.append((start, end))
    return out


def union(*sets: Intervals) -> Intervals:
    """Union of normalised sets."""
    if len(sets) == 1:
        return list(sets[0])
    # Timsort finds the sorted runs and merges them in C: faster than a heapq.merge in Python.
    return _coalesce(sorted(itertools.chain(*sets)))


def intersect(a: Intervals, b: Intervals) -> Intervals:
    """Intersection of two normalised sets."""
    out: Intervals = []
    i = j = 0
    while i < len(a) and j < len(b):
        start = max(a[i][0], b[j][0])
        end = min(a[i][1], b[j][1])
        if start < end:
            out.append((start, end))
        if a[i][1] < b[j][1]:
            i += 1
        else:
            j += 1
    return out


def subtract(a: Intervals, b: Intervals) -> Intervals:
    """Points of ``a`` not in ``b``."""
    out: Intervals = []
    j = 0
    for start, end in a:
        while j < len(b) and b[j][1] <= start:
            j += 1
        k = j
        cursor = start
        while k < len(b) and b[k][0] < end:
            if b[k][0] > cursor:
                out.append((cursor, b[k][0]))
            cursor = max(cursor, b[k][1])
            k += 1
        if cursor < end:
            out.append((cursor, end))
    return out


def clip(a: Intervals, lo: int, hi: int) -> Intervals:
    """``a`` restricted to ``[lo, hi)``."""
    if hi <= lo:
        return []
    inside = window(a, lo, hi)
    if inside:
        if inside[0][0] < lo:
            inside[0] = (lo, inside[0][1])
        if inside[-1][1] > hi:
            inside[-1] = (inside[-1][0], hi)
    return inside


def complement(a: Intervals, lo: int, hi: int) -> Intervals:
    """Points of ``[lo, hi)`` not in ``a``."""
    return subtract([(lo, hi)], a) if hi > lo else []


def total(a: Intervals) -> int:
    """Summed length in milliseconds."""
    return sum(end - start for start, end in a)


def overlap_ms(a: Intervals, lo: int, hi: int) -> int:
    """Length of ``a`` inside ``[lo, hi)``."""
    return sum(min(end, hi) - max(start, lo) for start, end in window(a, lo, hi))


def window(a: Intervals, lo: int, hi: int) -> Intervals:
    """The intervals of ``a`` that overlap ``[lo, hi)``, unclipped, found by bisection (O(log n + k))."""
    if not a:
        return []
    first = bisect.bisect_right(a, (lo, lo))
    if first and a[first - 1][1] > lo:
        first -= 1
    last = bisect.bisect_left(a, (hi, hi), first)
    return a[first:last]
