"""Interval algebra against a brute-force model: sets of integer points."""
from __future__ import annotations

from hypothesis import given, strategies as st

from monitor.sla import intervals as iv

raw = st.lists(st.tuples(st.integers(0, 60), st.integers(0, 60)), max_size=8)


def points(intervals) -> set[int]:
    return {p for a, b in intervals for p in range(a, b)}


def is_normal(intervals) -> bool:
    return all(a < b for a, b in intervals) and all(b1 < a2 for (_, b1), (a2, _) in zip(intervals, intervals[1:]))


@given(raw)
def test_normalize(r):
    n = iv.normalize(r)
    assert is_normal(n) and points(n) == points((a, b) for a, b in r if b > a)


@given(raw, raw, raw)
def test_set_operations(a, b, c):
    a, b, c = iv.normalize(a), iv.normalize(b), iv.normalize(c)
    for result, expected in [
        (iv.union(a, b, c), points(a) | points(b) | points(c)),
        (iv.intersect(a, b), points(a) & points(b)),
        (iv.subtract(a, b), points(a) - points(b)),
        (iv.complement(a, 10, 50), set(range(10, 50)) - points(a)),
        (iv.clip(a, 10, 50), points(a) & set(range(10, 50))),
    ]:
        assert is_normal(result) and points(result) == expected
    assert iv.total(a) == len(points(a))
    assert iv.overlap_ms(a, 5, 40) == len(points(a) & set(range(5, 40)))


def test_touching_intervals_merge_and_overlap_counts_once():
    assert iv.normalize([(10, 20), (20, 30), (25, 40)]) == [(10, 40)]
    assert iv.subtract([(0, 100)], [(10, 20), (20, 30)]) == [(0, 10), (30, 100)]


@given(raw, st.integers(0, 60), st.integers(0, 60))
def test_window_finds_exactly_the_overlapping_intervals(a, lo, hi):
    a = iv.normalize(a)
    assert iv.window(a, lo, hi) == [(s, e) for s, e in a if s < hi and e > lo]
