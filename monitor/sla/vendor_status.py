"""The vendor's own status page confronted with our outages: for each counted outage, whether the
vendor posted an incident covering it, how long after our first failed sample, with which stated
impact; the incidents it posted that we did not observe; the share of our counted Downtime it
acknowledged and its median posting lag. Never an exclusion: what the vendor says excuses nothing.
Pure and exact."""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple, Sequence

from .model import VendorPost
from .result import PeriodResult


class Acknowledgement(NamedTuple):
    period: PeriodResult  # a counted outage of ours (clipped to the month)
    post: VendorPost | None  # the earliest post covering it; None: never posted
    lag_ms: int | None  # posted − our first failed sample (negative: posted before we saw it)


class StatusConfrontation(NamedTuple):
    outages: tuple[Acknowledgement, ...]
    blind_spots: tuple[VendorPost, ...]  # posted for the region, overlapping no outage we observed
    acknowledged: Fraction | None  # the share of our counted Downtime covered by a post; None: no Downtime
    median_lag_ms: Fraction | None  # over the acknowledged outages; None: none


# A post made after an outage ended still acknowledges it when made within this long of its end: vendors
# post late, often once it is over, and often state the posting time as the start.
LATE_POST_MS = 24 * 3_600_000


def covers(post: VendorPost, start_ms: int, end_ms: int, until_ms: int, next_ms: int | None = None) -> bool:
    """Whether the post speaks of ``[start_ms, end_ms)``: its stated span (its start or posting, to its
    resolution or ``until``) overlaps it, or it was posted after it began, within LATE_POST_MS of its end
    and before the next outage of ours began (``next_ms``: a late post is about the latest one)."""
    begin = post.posted_ms if post.started_ms is None else min(post.started_ms, post.posted_ms)
    end = until_ms if post.resolved_ms is None else max(post.resolved_ms, begin + 1)
    late = start_ms <= post.posted_ms < min(end_ms + LATE_POST_MS, next_ms if next_ms is not None else until_ms + 1)
    return (begin < end_ms and end > start_ms) or late


def confront(region: str, periods: Sequence[PeriodResult], posts: Sequence[VendorPost], lo_ms: int,
             until_ms: int) -> StatusConfrontation:
    """``periods``: the region's unavailability periods of the month so far ``[lo_ms, until_ms)``."""
    mine = [p for p in posts if region in p.regions]
    spans = [(q.start_ms, q.end_ms, periods[i + 1].start_ms if i + 1 < len(periods) else None, q)
             for i, q in enumerate(periods)]
    outages = []
    for start, end, next_ms, period in spans:
        if not period.counting:
            continue
        covering = [p for p in mine if covers(p, start, end, until_ms, next_ms)]
        post = min(covering, key=lambda p: (p.posted_ms, p.id), default=None)
        outages.append(Acknowledgement(period, post, None if post is None else post.posted_ms - start))
    blind = tuple(p for p in mine if covers(p, lo_ms, until_ms, until_ms)
                  and not any(covers(p, start, end, until_ms, next_ms) for start, end, next_ms, _ in spans))
    return overall([StatusConfrontation(tuple(outages), blind, None, None)])


def overall(confrontations: Sequence[StatusConfrontation]) -> StatusConfrontation:
    """Several regions' confrontations as one (the service's): their outages and blind spots together,
    the share acknowledged and the median lag over all of them."""
    outages = tuple(a for c in confrontations for a in c.outages)
    counted = {id(a): sum(x.end_ms - x.start_ms for x in a.period.pieces if x.counted) for a in outages}
    total = sum(counted.values())
    acknowledged = None if not total else Fraction(sum(counted[id(a)] for a in outages if a.post), total)
    return StatusConfrontation(outages, tuple(p for c in confrontations for p in c.blind_spots), acknowledged,
                               _median([a.lag_ms for a in outages if a.post]))


def _median(values: list) -> Fraction | None:
    if not values:
        return None
    ordered, middle = sorted(values), len(values) // 2
    return Fraction(ordered[middle]) if len(ordered) % 2 else Fraction(ordered[middle - 1] + ordered[middle], 2)
