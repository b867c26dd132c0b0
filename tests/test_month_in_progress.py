"""A month in progress (SLA-SPEC §7, worked examples 11–13): the SLA's figure is always over the whole
month, so it can only fall; the month is missed, and a credit announced, only once the downtime so far
exceeds the budget; a month with nothing observed has no figure at all. Through the CLI on a real
SQLite file, the daemon's API and /metrics (its clock fixed at the example's instant), and the events
the daemon would send."""
from __future__ import annotations

import aiohttp
import pytest
from prometheus_client import CollectorRegistry

from conftest import FIXTURES, write_jsonl
from daemon_helpers import metric
from monitor.app import Daemon
from monitor.clock import FixedClock
from monitor.config import load_config, to_fleet
from monitor.hooks import detect
from monitor.sla.calendar import iso
from monitor.sla.engine import evaluate
from monitor.sla.model import Records
from monitor.sla.report import build_month
from monitor.sla.timeline import fold_segments
from spec_examples import NOV, day3, ms, samples

NOW = "2026-11-04T10:00:00Z"  # 4,920 minutes into November
SO_FAR = (NOV[0], ms(NOW))

# id: (down so far, downtime min, availability % over 43,200 min, met, credit %, elapsed figure %)
EXAMPLES = {
    "11-inside-the-budget": ([(day3("09:00"), day3("09:23"))], 23, 99.946759, True, 0, 99.532520),
    "12-past-the-budget": ([(day3("09:00"), day3("09:50"))], 50, 99.884259, False, 10, 98.983740),
    "13-nothing-observed": (None, 0, None, None, 0, None),
}
PARAMS = [pytest.param(name, id=name) for name in EXAMPLES]


def rows(down) -> list[dict]:
    """The month so far: a sample a minute (none at all for example 13)."""
    return [] if down is None else [{"ts": iso(ts), "probe": "w", "ok": ok} for ts, ok in samples(down, SO_FAR)]


def check(region: dict, name: str) -> None:
    _, downtime, availability, met, credit, elapsed = EXAMPLES[name]
    assert round(region["downtime_minutes"], 6) == downtime
    if availability is None:
        assert region["availability_percent"] is None and region["elapsed_availability_percent"] is None
    else:
        assert round(region["availability_percent"], 6) == availability
        assert round(region["elapsed_availability_percent"], 6) == elapsed
    assert region["met"] is met
    assert region["credit"]["total_percent"] == credit
    assert (region["credit"]["amount"] == "0.00") is (credit == 0)  # no amount before the miss is certain
    assert round(region["error_budget_minutes"], 6) == 43.2


@pytest.mark.parametrize("name", PARAMS)
def test_example_through_the_cli(name, run_cli, tmp_path):
    down = EXAMPLES[name][0]
    assert run_cli("import", str(write_jsonl(tmp_path / "s.jsonl", rows(down))), now=NOW).code == 0
    report = run_cli("report", "--month", "2026-11", "--format", "json", now=NOW).json()
    assert report["in_progress"] is True and report["as_of"] == NOW
    check(report["regions"][0], name)
    table = run_cli("report", "--month", "2026-11", now=NOW).out
    assert "in progress as of 2026-11-04T10:00:00Z" in table
    verdict = {True: " yes ", False: " NO ", None: " n/a "}[EXAMPLES[name][3]]
    assert verdict in next(line for line in table.splitlines() if line.startswith("eu-west "))


@pytest.mark.parametrize("name", PARAMS)
async def test_example_through_the_api_and_metrics(name, run_cli, tmp_path):
    down = EXAMPLES[name][0]
    assert run_cli("import", str(write_jsonl(tmp_path / "s.jsonl", rows(down))), now=NOW).code == 0
    daemon = Daemon(load_config(FIXTURES / "spec.yaml"), str(run_cli.db), registry=CollectorRegistry(),
                    clock=FixedClock(ms(NOW)))
    await daemon.start("127.0.0.1:0", probing=False)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{daemon.port}") as http:
            async with http.get("/api/v1/availability?month=2026-11") as response:
                assert response.status == 200
                body = await response.json()
            async with http.get("/metrics") as response:
                text = await response.text()
    finally:
        await daemon.stop()
    assert body["in_progress"] is True
    check(body["regions"][0], name)
    _, _, availability, _, credit, _ = EXAMPLES[name]
    series = {"region": "eu-west", "window": "month_to_date"}
    assert metric(text, "sla_month_assessable", **series) == (0 if availability is None else 1)
    if availability is None:
        assert metric(text, "sla_availability_ratio", **series) is None  # absent, never 1.0
    else:
        assert metric(text, "sla_availability_ratio", **series) == pytest.approx(availability / 100, abs=1e-8)
    assert metric(text, "sla_service_credit_ratio", region="eu-west") == credit / 100
    budget_left = metric(text, "sla_error_budget_remaining_seconds", region="eu-west")
    assert budget_left == pytest.approx((43.2 - EXAMPLES[name][1]) * 60)
    assert (budget_left < 0) is (EXAMPLES[name][3] is False)  # the gauges agree with each other


CFG = load_config(FIXTURES / "spec.yaml")
FLEET = to_fleet(CFG)


def november_at(down, at_ms: int):
    """The engine's November 2026 as of ``at_ms``, with the samples of ``down`` up to then (none for None)."""
    so_far = [(a, min(b, at_ms)) for a, b in down or [] if a < at_ms]
    segments = {("w", "local"): list(fold_segments(samples(so_far, (NOV[0], at_ms)), 180_000))} if down else {}
    timelines = evaluate(FLEET, segments, Records(), NOV[0] - 86_400_000, NOV[1], at_ms)
    return build_month(FLEET, timelines, Records(), 2026, 11, at_ms)


@pytest.mark.parametrize("name", PARAMS)
def test_a_breach_is_announced_only_when_certain(name):
    """No sla.breached for 11 (half the budget left) or 13 (nothing observed); one for 12, once its
    downtime passed 43.2 minutes, and not a minute before."""
    down = EXAMPLES[name][0]

    def breaches(at_ms: int) -> list:
        found = detect.from_result(november_at(down, at_ms), FLEET.policy, CFG.hooks.budget_thresholds,
                                   CFG.hooks.at_risk_minutes, at_ms)
        return [e for e in found if e.type == "sla.breached"]

    assert len(breaches(ms(NOW))) == (1 if name.startswith("12") else 0)
    if name.startswith("12"):
        assert breaches(day3("09:43")) == []  # 43 minutes down: inside the budget still
        assert "credit now 10 %" in breaches(day3("09:45"))[0].summary


def test_the_month_figure_only_falls_as_the_month_goes_on():
    """Example 11 on every day of the rest of the month with nothing more happening: the same figure,
    met throughout, never a credit (the elapsed figure was below target the day after)."""
    down = EXAMPLES["11-inside-the-budget"][0]
    seen = set()
    for at_ms in range(ms(NOW), NOV[1] + 1, 86_400_000):
        region = november_at(down, at_ms).regions[0]
        seen.add((region.figures.availability_percent, region.figures.met, region.credit.total_percent))
    assert len(seen) == 1 and next(iter(seen))[1:] == (True, 0)
