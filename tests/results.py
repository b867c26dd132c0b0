"""Typed engine results for tests that start from figures rather than samples (alert detection,
context, payloads): the same frozen types the engine returns, with the figures derived as it derives them."""
from __future__ import annotations

from fractions import Fraction

from monitor.errors import parse_instant
from monitor.sla import credits
from monitor.sla.incidents import Assessment
from monitor.sla.model import Incident
from monitor.sla.result import (CreditResult, ExclusionSlice, Figures, MonthResult, PeriodResult, Piece,
                                RegionResult)

MINUTE, DAY = 60_000, 86_400_000
TARGET = Fraction(999, 10)


def ms(text: str) -> int:
    return parse_instant(text, "test instant")


def figures(downtime_ms: int, total_ms: int = 30 * DAY) -> Figures:
    """A whole month's figures with ``downtime_ms`` counted (met and budget as the engine decides them)."""
    return Figures(total_ms=total_ms, elapsed_ms=total_ms, downtime_ms=downtime_ms,
                   met=not credits.below(downtime_ms, total_ms, TARGET),
                   budget_ms=Fraction(total_ms) * (100 - TARGET) / 100, unknown_ms=0)


def open_period(start: str, end: str, counted: bool = True, exclusions: tuple[ExclusionSlice, ...] = ()) -> PeriodResult:
    return PeriodResult(ms(start), ms(end), True, exclusions, (Piece(ms(start), ms(end), counted),))


def incident(id: str, severity: str, opened: str, resolved: str | None = None) -> Assessment:
    return Assessment(Incident(id, "eu-west", None, severity, ms(opened), ms(resolved) if resolved else None),
                      None, 0, None, severity in ("P1", "P2"))


def region(name: str = "eu-west", downtime_ms: int = 0, periods: tuple[PeriodResult, ...] = (),
           incidents: tuple[Assessment, ...] = (), credit_percent: int = 0,
           environment: str = "production") -> RegionResult:
    return RegionResult(name, environment, figures(downtime_ms), {}, (), {}, periods, incidents, (), (),
                        CreditResult(eligible=True, total_percent=credit_percent))


def month(*regions: RegionResult, year: int = 2026, number: int = 11) -> MonthResult:
    return MonthResult(year, number, "UTC", 0, TARGET, 15 * MINUTE, True, regions, ())
