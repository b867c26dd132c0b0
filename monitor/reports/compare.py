"""Two JSON reports of one month side by side: what the check of an evidence bundle prints when the month
computed again differs from the report the bundle carries."""
from __future__ import annotations

import json


def report_differences(expected: str, recomputed: str) -> list[str]:
    """Per region, the figures that differ between two JSON reports (availability, downtime, credit)."""
    ours = {r.get("region"): r for r in json.loads(recomputed).get("regions", [])}
    found = []
    for region in json.loads(expected).get("regions", []):
        again = ours.get(region.get("region"), {})
        for key in ("availability_percent", "downtime_minutes", "credit_percent"):
            if region.get(key) != again.get(key):
                found.append(f"{region.get('region')} {key}: the report says {region.get(key)}, the bundle gives "
                             f"{again.get(key)}")
    return found or ["the reports differ in their details (compare report.json with `report --format json`)"]
