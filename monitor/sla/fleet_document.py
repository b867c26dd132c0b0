"""The engine's inputs besides samples and records (``Fleet``: regions, components, probes with their
``stale_after``, third parties, the policy) as plain JSON and back, exactly: fractions as "999/10",
money as decimal text, dates as ISO. An evidence bundle carries it, so that the vendor recomputes the
month with the same engine and without the customer's config (which holds URLs and secrets)."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction
from typing import Any

from .model import AvailabilityTier, ComponentSpec, Fleet, Policy, ProbeSpec, RegionSpec, ThirdPartySpec


def fleet_document(fleet: Fleet) -> dict[str, Any]:
    """``fleet`` as JSON-ready values."""
    policy = fleet.policy
    return {
        "timezone": fleet.timezone,
        "vantages": list(fleet.vantages),
        "region_specs": [{"name": r.name, "environment": r.environment, "support_plan": r.support_plan,
                     "components": [{"name": c.name, "critical": c.critical, "probes": _probes(c.probes)}
                                    for c in r.components],
                     "depends_on": list(r.depends_on),
                     "monthly_fee": None if r.monthly_fee is None else str(r.monthly_fee), "currency": r.currency}
                    for r in fleet.regions],
        "third_parties": [{"name": t.name, "provider": t.provider, "probes": _probes(t.probes)}
                          for t in fleet.third_parties],
        "policy": {
            "target_percent": str(policy.target_percent),
            "downtime_threshold_ms": policy.downtime_threshold_ms,
            "threshold_before_exclusions": policy.threshold_before_exclusions,
            "stale_after_factor": policy.stale_after_factor, "quorum": policy.quorum,
            "flap_merge_ms": policy.flap_merge_ms, "unknown_counts_as": policy.unknown_counts_as,
            "maintenance_notice_ms": policy.maintenance_notice_ms, "maintenance_max_ms": policy.maintenance_max_ms,
            "credit_cap_percent": policy.credit_cap_percent,
            "availability_tiers": [[str(t.below_percent), t.credit_percent] for t in policy.availability_tiers],
            "resolution_target_ms": [list(target) for target in policy.resolution_target_ms],
            "p3_business_days": policy.p3_business_days, "claim_window_days": policy.claim_window_days,
        },
        "holidays": sorted(day.isoformat() for day in fleet.holidays),
        "vendor_status": fleet.vendor_status,
    }


def _probes(probes: tuple[ProbeSpec, ...]) -> list[list]:
    return [[p.id, p.stale_ms] for p in probes]


def fleet_of(document: dict[str, Any]) -> Fleet:
    """The ``Fleet`` a ``fleet_document`` describes (a KeyError, TypeError or ValueError when it is not one)."""
    policy = document["policy"]
    return Fleet(
        timezone=document["timezone"],
        vantages=tuple(document["vantages"]),
        regions=tuple(RegionSpec(
            name=r["name"], environment=r["environment"], support_plan=r["support_plan"],
            components=tuple(ComponentSpec(c["name"], bool(c["critical"]), _specs(c["probes"])) for c in r["components"]),
            depends_on=tuple(r["depends_on"]),
            monthly_fee=None if r["monthly_fee"] is None else Decimal(r["monthly_fee"]), currency=r["currency"],
        ) for r in document["region_specs"]),
        third_parties=tuple(ThirdPartySpec(t["name"], t["provider"], _specs(t["probes"]))
                            for t in document["third_parties"]),
        policy=Policy(
            target_percent=Fraction(policy["target_percent"]),
            downtime_threshold_ms=int(policy["downtime_threshold_ms"]),
            threshold_before_exclusions=bool(policy["threshold_before_exclusions"]),
            stale_after_factor=int(policy["stale_after_factor"]), quorum=policy["quorum"],
            flap_merge_ms=int(policy["flap_merge_ms"]), unknown_counts_as=policy["unknown_counts_as"],
            maintenance_notice_ms=int(policy["maintenance_notice_ms"]),
            maintenance_max_ms=int(policy["maintenance_max_ms"]),
            credit_cap_percent=int(policy["credit_cap_percent"]),
            availability_tiers=tuple(AvailabilityTier(Fraction(below), int(credit))
                                     for below, credit in policy["availability_tiers"]),
            resolution_target_ms=tuple((str(name), int(ms)) for name, ms in policy["resolution_target_ms"]),
            p3_business_days=int(policy["p3_business_days"]), claim_window_days=int(policy["claim_window_days"]),
        ),
        holidays=frozenset(dt.date.fromisoformat(day) for day in document["holidays"]),
        vendor_status=bool(document.get("vendor_status", False)),
    )


def _specs(probes: list[list]) -> tuple[ProbeSpec, ...]:
    return tuple(ProbeSpec(str(probe_id), int(stale_ms)) for probe_id, stale_ms in probes)
