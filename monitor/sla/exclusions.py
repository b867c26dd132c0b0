"""Exclusions of a region (SLA-SPEC §5) and the attribution of excluded time to reasons."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping, Sequence

from .intervals import Intervals, intersect, normalize, overlap_ms, subtract
from .model import COUNTED, REASONS, MaintenanceWindow, Policy, Records, RegionSpec, ThirdPartySpec

THIRD_PARTY_PREFIX = "third_party:"


@dataclass(frozen=True)
class ExclusionEntry:
    """One exclusion as reported; ``reason`` is None where it excludes nothing (flags say why)."""

    start_ms: int
    end_ms: int
    reason: str | None
    flags: tuple[str, ...]
    source: str  # "maintenance:ID", "exclusion:ID" or "third_party:NAME"
    detail: str = ""  # provider name, note or maintenance reason


def assess_maintenance(window: MaintenanceWindow, policy: Policy) -> tuple[str | None, tuple[str, ...]]:
    """The reason a window excludes under (None: it excludes nothing) and its flags."""
    if window.cancelled:
        return None, ("cancelled",)
    if window.kind == "emergency":
        return "emergency_maintenance", ("emergency",)
    flags = []
    on_time = window.announced_at_ms is not None and (
        window.announced_at_ms <= window.start_ms - policy.maintenance_notice_ms
    )
    if not on_time:
        flags.append("late_notice")
    if window.end_ms - window.start_ms > policy.maintenance_max_ms:
        flags.append("overrun")
    return ("maintenance" if on_time else None), tuple(flags)


def maintenance_for(region: str, windows: Iterable[MaintenanceWindow]) -> list[MaintenanceWindow]:
    """Windows that apply to ``region`` (its own and the all-regions ones)."""
    return [w for w in windows if w.region in (None, region)]


def region_exclusions(
    region: RegionSpec,
    records: Records,
    third_party_down: Mapping[str, Intervals],
    third_parties: Sequence[ThirdPartySpec],
    policy: Policy,
) -> list[ExclusionEntry]:
    """Every exclusion entry of a region, excluding or not, sorted by start."""
    entries: list[ExclusionEntry] = []
    for window in maintenance_for(region.name, records.maintenance):
        reason, flags = assess_maintenance(window, policy)
        entries.append(
            ExclusionEntry(window.start_ms, window.end_ms, reason, flags, f"maintenance:{window.id}", window.reason)
        )
    counted: Intervals = []
    for hand in records.exclusions:
        if hand.region not in (None, region.name):
            continue
        if hand.cause == COUNTED:
            counted.append((hand.start_ms, hand.end_ms))
            entries.append(
                ExclusionEntry(hand.start_ms, hand.end_ms, None, ("disputed",), f"exclusion:{hand.id}", hand.note)
            )
            continue
        reason = "third_party" if hand.cause.startswith(THIRD_PARTY_PREFIX) else hand.cause
        entries.append(ExclusionEntry(hand.start_ms, hand.end_ms, reason, (), f"exclusion:{hand.id}", hand.note))
    counted = normalize(counted)
    providers = {t.name: t.provider for t in third_parties}
    for name in region.depends_on:
        for start, end in subtract(third_party_down.get(name, []), counted):
            entries.append(
                ExclusionEntry(start, end, "third_party", (), f"{THIRD_PARTY_PREFIX}{name}", providers.get(name, name))
            )
    entries.sort(key=lambda e: (e.start_ms, e.end_ms, e.source))
    return entries


def excluding_union(entries: Iterable[ExclusionEntry]) -> Intervals:
    """All time that some entry excludes."""
    return normalize((e.start_ms, e.end_ms) for e in entries if e.reason is not None)


def attribute(down: Intervals, entries: Sequence[ExclusionEntry], lo: int, hi: int) -> dict[str, int]:
    """Excluded down milliseconds inside ``[lo, hi)`` per reason, each ms to the first reason that applies."""
    remaining = down
    result = {}
    for reason in REASONS:
        covered = normalize((e.start_ms, e.end_ms) for e in entries if e.reason == reason)
        if not covered:
            result[reason] = 0
            continue
        part = intersect(remaining, covered)
        result[reason] = overlap_ms(part, lo, hi)
        remaining = subtract(remaining, part)
    return result


def flags_of(entries: Iterable[ExclusionEntry]) -> list[str]:
    """Union of the entries' flags, in a stable order."""
    return sorted({flag for e in entries for flag in e.flags})

