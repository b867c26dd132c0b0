"""Service credits (SLA §9, SLA-SPEC §8) in exact arithmetic."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from fractions import Fraction
from typing import Sequence

from .incidents import Assessment
from .intervals import Intervals, intersect
from .model import AvailabilityTier, Policy, RegionSpec


def below(downtime_ms: int, total_ms: int, percent: Fraction) -> bool:
    """Is availability strictly below ``percent``? Exact: ``(total − down) × 100 < percent × total``."""
    return (total_ms - downtime_ms) * 100 < percent * total_ms


def availability_credit(downtime_ms: int, total_ms: int, tiers: Sequence[AvailabilityTier]) -> int:
    """The first (lowest) tier availability falls below, else 0."""
    for tier in sorted(tiers, key=lambda t: t.below_percent):
        if below(downtime_ms, total_ms, tier.below_percent):
            return tier.credit_percent
    return 0


@dataclass(frozen=True)
class ResolutionCredit:
    percent: int
    counted: int
    missed: int
    mean_delay_percent: Fraction | None


def resolution_credit(assessments: Sequence[Assessment]) -> ResolutionCredit:
    """§9.2: more than 10 % of P1/P2 incidents missed → credit by the missed ones' mean delay."""
    counted = [a for a in assessments if a.counts]
    missed = [a for a in counted if a.met is False]
    if not counted or Fraction(len(missed), len(counted)) <= Fraction(1, 10):
        return ResolutionCredit(0, len(counted), len(missed), None)
    delays = [Fraction(a.resolution_ms - a.target_ms, a.target_ms) * 100 for a in missed if a.target_ms is not None]
    mean = sum(delays, Fraction(0)) / len(delays)  # a missed incident always has a target
    percent = 10 if mean <= 25 else 15 if mean <= 50 else 25
    return ResolutionCredit(percent, len(counted), len(missed), mean)


def same_event(assessments: Sequence[Assessment], counted_pieces: Intervals, now_ms: int) -> bool:
    """Does a missed incident overlap a counted downtime piece? (§9.3: then credits don't add.)"""
    for a in assessments:
        if a.counts and a.met is False:
            end = a.incident.resolved_ms if a.incident.resolved_ms is not None else now_ms
            if end > a.incident.opened_ms and intersect([(a.incident.opened_ms, end)], counted_pieces):
                return True
    return False


def ineligibility(region: RegionSpec) -> str | None:
    """Why no credit applies to a region, or None when it is eligible."""
    if region.environment != "production":
        return "non-production environment: availability commitments and credits apply to production only (SLA §8)"
    if region.support_plan != "premium":
        return f"support plan is {region.support_plan}: service credits are for Premium Support only (SLA §9)"
    return None


def combine(availability_percent: int, resolution_percent: int, same: bool, policy: Policy) -> int:
    """Larger of the two for the same event, else their sum; then the monthly cap."""
    combined = max(availability_percent, resolution_percent) if same else availability_percent + resolution_percent
    return min(combined, policy.credit_cap_percent)


def amount(total_percent: int, monthly_fee: Decimal | None) -> Decimal | None:
    """Credit amount in the fee's currency, rounded half-up to cents."""
    if monthly_fee is None:
        return None
    return (Decimal(total_percent) * monthly_fee / 100).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
