"""The vendor's own SLA report beside ours (SLA §14): their Downtime, the difference in minutes, and
our counted outages their incident summary does not contain. Pure and exact."""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple

from .model import VendorReport
from .result import Figures, PeriodResult


class VendorComparison(NamedTuple):
    report: VendorReport
    their_downtime_ms: Fraction  # as stated, or implied by their availability over the whole month
    stated: bool  # whether they stated their Downtime (else it is implied)
    difference_ms: Fraction  # our counted Downtime − theirs: what their report leaves out
    availability_difference: Fraction | None  # theirs − ours, in percentage points (None: ours not assessable)
    unlisted: tuple[PeriodResult, ...] | None  # our counted outages no incident of theirs overlaps; None: no summary


def compare(report: VendorReport, figures: Figures, periods: tuple[PeriodResult, ...]) -> VendorComparison:
    """Their report against our month: ``figures`` and ``periods`` are the region's."""
    availability = Fraction(report.availability_percent)
    implied = Fraction(figures.total_ms) * (100 - availability) / 100
    theirs = Fraction(report.downtime_ms) if report.downtime_ms is not None else implied
    ours = figures.availability_percent
    unlisted = None
    if report.incidents is not None:
        unlisted = tuple(p for p in periods if p.counting and not any(
            i.start_ms < p.end_ms and i.end_ms > p.start_ms for i in report.incidents))
    return VendorComparison(report, theirs, report.downtime_ms is not None, figures.downtime_ms - theirs,
                            None if ours is None else availability - ours, unlisted)
