"""The range overview (``report --from --to``) as a document: one small chart per region (a bar per
month against the target) and the months × regions table. Pure: the overview's rows in, a view out."""
from __future__ import annotations

import math
from collections import defaultdict
from decimal import Decimal

from .document import Json, LocalTimes, Terms

BAR_W, CHART_H = 24, 90


def range_view(rows: list[Json], terms: Terms, timezone: str, target: float, generated_ms: int) -> Json:
    """Per region: its months as bars (height: availability between the chart's floor and 100 %), the
    target line, and the table cells, each with the row's JSON values."""
    months = list(dict.fromkeys(row["month"] for row in rows))
    by_region: dict[str, dict[str, Json]] = defaultdict(dict)
    for row in rows:
        by_region[row["region"]][row["month"]] = row
    assessed = [row for row in rows if row["availability_percent"] is not None]  # no data: no bar, no cell value
    lowest = min((row["availability_percent"] for row in assessed), default=100.0)
    floor = float(max(0, min(98, math.floor(lowest) - 1)))  # a whole percent below the lowest month, 98 at most
    span = 100.0 - floor
    y = lambda percent: round((100.0 - percent) / span * CHART_H, 2)  # noqa: E731 - SVG y grows down
    regions = []
    for region, cells in by_region.items():
        bars: list[Json] = []
        credits: dict[str, Decimal] = defaultdict(Decimal)
        for i, month in enumerate(months):
            if month not in cells or cells[month]["availability_percent"] is None:
                continue
            row = cells[month]
            top = y(row["availability_percent"])
            bars.append({"x": i * BAR_W + 2, "y": top, "h": round(CHART_H - top, 2), "met": row["met"],
                         "title": f"{month}: {row['availability_percent']:.4f} %, {row['downtime_minutes']:.2f} min "
                                  f"counted" + (f", credit {row['credit_percent']} %" if row["credit_percent"] else "")})
            if row["credit_amount"] is not None:
                credits[row["currency"]] += Decimal(row["credit_amount"])
        regions.append({"region": region, "bars": bars, "cells": [cells.get(m) for m in months],
                        "credits": ", ".join(f"{amount} {currency}" for currency, amount in sorted(credits.items()))
                                   or "–",
                        "missed": sum(row["met"] is False for row in cells.values())})
    return {"service": terms.service, "first": months[0] if months else "", "last": months[-1] if months else "",
            "months": months, "timezone": timezone, "generated": LocalTimes(timezone).at(generated_ms),
            "target": target, "target_y": y(target), "floor": floor, "width": len(months) * BAR_W + 4,
            "height": CHART_H, "bar_w": BAR_W - 4, "regions": regions}
