"""SVG badges of a region, shields-style, for READMEs, wikis and dashboards: this month's SLA figure,
coloured against the target (``availability``), and the region's state now (``state``). Both come from
the status page's snapshot; they draw nothing from elsewhere (no fonts, no scripts, no links)."""
from __future__ import annotations

from fractions import Fraction
from typing import NamedTuple
from xml.sax.saxutils import escape

from ..config import Config
from ..live.figures import LiveFigures
from ..reports.document import LocalTimes
from .status import MIN_COVERAGE_PERCENT, region_state

GREEN, YELLOW, RED, BLUE, GREY = "#4c1", "#dfb317", "#e05d44", "#007ec6", "#9f9f9f"
WARN_BUDGET_PERCENT = 75  # the month's error budget used from which the figure shows yellow
STATE_COLOURS = {"up": GREEN, "down": RED, "maintenance": BLUE, "unknown": GREY}
KINDS = ("availability", "state")


class Badge(NamedTuple):
    label: str
    value: str
    colour: str
    title: str  # what a screen reader and a tooltip say


def availability_badge(figures: LiveFigures, cfg: Config, region: str) -> Badge:
    """The month's availability against the target (the whole month's figure if nothing more happens, as
    the status page gives it): green while met with budget left, yellow once ``WARN_BUDGET_PERCENT`` of
    the budget is used, red once the target is missed, grey while too little of the month was seen."""
    mtd = figures.current.region(region) if figures.current is not None else None
    target = cfg.policy.target_percent
    shown = mtd.figures.availability_percent if mtd is not None else None
    coverage = mtd.figures.coverage_percent if mtd is not None else None
    if mtd is None or shown is None or coverage is None or coverage < MIN_COVERAGE_PERCENT:
        # As on the status page: too little of the month seen to give a figure.
        seen = f" (only {float(coverage):.1f} % of the month so far monitored)" if coverage is not None else ""
        return Badge("SLA", "–", GREY, f"{region}: no availability figure yet this month{seen}")
    used = Fraction(mtd.figures.downtime_ms) / mtd.figures.budget_ms * 100 if mtd.figures.budget_ms else Fraction(0)
    colour = RED if mtd.figures.met is False else YELLOW if used >= WARN_BUDGET_PERCENT else GREEN
    value = f"{float(shown):.3f} %"
    return Badge("SLA", value, colour, f"{region}: {value} this month so far (target {float(target):g} %, "
                                      f"{float(used):.0f} % of the error budget used)")


def state_badge(figures: LiveFigures, cfg: Config, region: str, now_ms: int) -> Badge:
    """The region's state at the snapshot: up, down, maintenance (an announced window, not down) or unknown."""
    state = region_state(figures, cfg, region)
    at = figures.computed_ms if figures.computed_ms is not None else now_ms
    if state == "up" and figures.active_maintenance(region, at):
        state = "maintenance"
    return Badge(region, state, STATE_COLOURS[state],
                 f"{region}: {state} as of {LocalTimes(cfg.timezone).at(figures.computed_ms)}")


def text_width(text: str) -> int:
    """About how wide ``text`` is in 11 px Verdana (shields' font): narrow, wide and other characters."""
    narrow, wide = set("ijlrtf .,:;|!'()[]"), set("mwMW@%")
    return sum(4 if c in narrow else 10 if c in wide else 7 for c in text)


def render_badge(badge: Badge) -> str:
    """The badge as a standalone SVG document."""
    left, right = text_width(badge.label) + 10, text_width(badge.value) + 10
    width = left + right
    label, value, title = escape(badge.label), escape(badge.value), escape(badge.title)
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="20" role="img" aria-label="{title}">'
        f"<title>{title}</title>"
        f'<linearGradient id="s" x2="0" y2="100%"><stop offset="0" stop-color="#bbb" stop-opacity=".1"/>'
        f'<stop offset="1" stop-opacity=".1"/></linearGradient>'
        f'<clipPath id="r"><rect width="{width}" height="20" rx="3" fill="#fff"/></clipPath>'
        f'<g clip-path="url(#r)"><rect width="{left}" height="20" fill="#555"/>'
        f'<rect x="{left}" width="{right}" height="20" fill="{badge.colour}"/>'
        f'<rect width="{width}" height="20" fill="url(#s)"/></g>'
        f'<g fill="#fff" text-anchor="middle" font-family="Verdana,Geneva,DejaVu Sans,sans-serif" font-size="11">'
        f'<text x="{left / 2}" y="14">{label}</text><text x="{left + right / 2}" y="14">{value}</text></g></svg>\n')
