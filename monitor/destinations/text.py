"""An event's details in words, for the destinations that show them to a person."""
from __future__ import annotations

from typing import Callable

from ..event import Event


def cut(text: str, limit: int) -> str:
    """``text`` within ``limit`` characters, an ellipsis where it was cut (a service refuses longer)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def detail_lines(event: Event, esc: Callable[[str], str] = str, code: Callable[[str], str] = str) -> list[str]:
    """The event's details as lines for a person: the month's figures, the exclusion now, each failing
    probe with its error. ``esc`` escapes text for the destination's markup, ``code`` marks a probe id."""
    data, lines = event.data, []
    if "error_budget_remaining_minutes" in data:
        availability = data["availability_percent"]
        lines.append(f"availability this month {'no data' if availability is None else f'{availability} %'}, "
                     f"error budget left {data['error_budget_remaining_minutes']} min")
    if data.get("exclusion"):
        lines.append(f"excluded now: {esc(str(data['exclusion']))}")
    lines += [f"{esc(p['component'])}/{code(esc(p['probe']))}: {esc(str(p['error']))}" for p in data.get("failing", [])]
    return lines
