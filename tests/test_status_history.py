"""The status page's history (issue 14): uptime over 24 h / 7 d / 30 d / 90 d and this month (the SLA's
figure beside the raw one), response times from the stored latencies, recent outages with their
reasons; and the page served by the daemon, rendered by Chromium, updating itself from the JSON API
with no console error. Read from the golden store (tests/test_golden.py) at its fixed instant."""
from __future__ import annotations

import asyncio
import html
import json
import re
from fractions import Fraction
from pathlib import Path

import aiohttp
import pytest
from aiohttp import web
from conftest import run_chromium
from prometheus_client import CollectorRegistry
from test_golden import CONFIG, NOW, golden_store  # noqa: F401 - the fixture is used by name

from monitor.app import Daemon
from monitor.clock import FixedClock
from monitor.config import load_config
from monitor.errors import parse_instant

ARTIFACTS = Path(__file__).parent / "artifacts"
DAY = 1440  # minutes


@pytest.fixture
async def served(golden_store, tmp_path):  # noqa: F811
    db = tmp_path / "served.db"
    db.write_bytes(golden_store.read_bytes())
    daemon = Daemon(load_config(str(CONFIG)), str(db), registry=CollectorRegistry(),
                    clock=FixedClock(parse_instant(NOW, "now")))
    await daemon.start("127.0.0.1:0", probing=False)
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{daemon.port}") as http:
            yield daemon, http
    finally:
        await daemon.stop()


def percent(up: Fraction | int, whole: int) -> float:
    return float(Fraction(up) * 100 / whole)


async def test_uptime_windows_latency_and_recent_outages_follow_the_samples(served):
    daemon, http = served
    async with http.get("/api/v1/status") as response:
        status = await response.json()
    us = next(r for r in status["regions"] if r["region"] == "us-east")
    uptime = {u["window"]: u for u in us["uptime"]}
    # us-east's widget: down since 11:40Z (open, 20 min by now, counted), 2026-09-20 70 min counted,
    # 2026-09-15 40 min inside announced maintenance; the monitor was off 30 min on 2026-09-26.
    assert uptime["24h"]["sla_percent"] == uptime["24h"]["raw_percent"] == percent(DAY - 20, DAY)
    assert uptime["7d"]["sla_percent"] == percent(7 * DAY - 20, 7 * DAY)
    thirty = uptime["30d"]
    assert (thirty["counted_minutes"], thirty["down_minutes"]) == (90.0, 130.0)
    assert thirty["unknown_minutes"] == 28.0  # the 30-minute gap less the last sample's staleness allowance
    assert thirty["sla_percent"] == percent(30 * DAY - 90, 30 * DAY)
    assert thirty["raw_percent"] == percent(30 * DAY - 28 - 130, 30 * DAY - 28)
    month = uptime["month"]  # October in Warsaw began 2026-09-30T22:00Z: 5 days 14 hours so far, the open outage
    elapsed, october = 5 * DAY + 14 * 60, 31 * DAY + 60  # the clocks go back an hour on 2026-10-25
    assert month["raw_percent"] == percent(elapsed - 20, elapsed)  # every unavailability over the time so far
    assert month["sla_percent"] == percent(october - 20, october)  # the SLA's: the whole month's figure
    assert [u["window"] for u in us["uptime"]] == ["24h", "7d", "30d", "90d", "month"]

    recent = [(o["start"], o["status"], o["counted_minutes"], o["reasons"]) for o in us["recent_outages"]]
    assert recent == [("2026-10-06T11:40:00Z", "counted", 20.0, []),
                      ("2026-09-20T06:00:00Z", "counted", 70.0, []),
                      ("2026-09-15T00:10:00Z", "excluded", 0.0, ["announced maintenance: database upgrade"])]
    eu = next(r for r in status["regions"] if r["region"] == "eu-west")
    reasons = {o["start"]: o["reasons"] for o in eu["recent_outages"]}
    assert reasons["2026-09-12T07:05:00Z"] == ["third-party outage: Genesys Cloud"]
    assert "2026-09-09T12:00:00Z" not in reasons  # brief and nothing excluded: not an outage worth listing

    # Response times: one sample a minute at 40 ms while up, in 15-minute buckets over the last 24 h
    widget = next(c for c in us["components"] if c["component"] == "widget")
    assert status["latency_bucket_minutes"] == 15
    assert {(b["mean_ms"], b["max_ms"]) for b in widget["latency"]} == {(40.0, 40.0)}
    assert sum(b["samples"] for b in widget["latency"]) == DAY - 20
    assert widget["latency"][0]["start"] == "2026-10-05T12:00:00Z"


def chromium_page(url: str, shot: Path, dark: bool = False) -> tuple[str, list[str]]:
    """Chromium's DOM of ``url`` after its scripts ran (virtual time lets the live update finish), the
    console messages it logged, and a screenshot."""
    common = ["--hide-scrollbars", "--virtual-time-budget=5000", *(["--force-dark-mode"] if dark else [])]
    run = run_chromium(*common, "--enable-logging=stderr", "--v=0", "--dump-dom", url)
    assert run.returncode == 0 and "<body" in run.stdout, run.stderr[-2000:]
    shooting = run_chromium(*common, f"--screenshot={shot}", "--window-size=1100,2400", url)
    assert shooting.returncode == 0, shooting.stderr[-2000:]
    return run.stdout, [line for line in run.stderr.splitlines() if ":CONSOLE" in line]


def cell(dom: str, region: str, window: str, kind: str) -> str:
    section = re.search(rf'<section class="region"[^>]*data-region="{region}".*?</section>', dom, re.S).group(0)
    return html.unescape(re.search(rf'data-window="{window}" data-kind="{kind}"[^>]*>([^<]*)<', section).group(1))


async def test_the_served_page_updates_itself_from_the_api_with_no_console_error(served):
    daemon, http = served
    ARTIFACTS.mkdir(exist_ok=True)
    async with http.get("/api/v1/status") as response:
        status = await response.json()
    url = f"http://127.0.0.1:{daemon.port}/"
    for dark in (False, True):
        shot = ARTIFACTS / f"status-history-{'dark' if dark else 'light'}.png"
        dom, console = await asyncio.to_thread(chromium_page, url, shot, dark)
        assert console == []
        assert 'data-live="ok"' in dom, "the page's script read /api/v1/status and applied it"
        for region in status["regions"]:
            for u in region["uptime"]:
                sla = f"{u['sla_percent']:.3f} %" if u["trusted"] else "–"  # under half observed: no figure
                assert cell(dom, region["region"], u["window"], "sla") == sla
                raw = "–" if u["raw_percent"] is None or not u["trusted"] else f"{u['raw_percent']:.3f} %"
                assert cell(dom, region["region"], u["window"], "raw") == raw
        # Instants in the config's zone (Europe/Warsaw, +02:00 in October) with the ISO instant beside:
        # the snapshot time and the open outage's banner are the script's, the outage list the server's.
        assert f'<span id="as-of"><time datetime="{status["as_of"]}">2026-10-06 14:00 +02:00</time></span>' in dom
        assert re.search(r'data-region="us-east".*?Unavailable since <time datetime="2026-10-06T11:40:00Z">'
                         r'2026-10-06 13:40 \+02:00</time>', dom, re.S)
        assert ('<time datetime="2026-09-20T06:00:00Z">2026-09-20 08:00</time>–'
                '<time datetime="2026-09-20T07:10:00Z">09:10 +02:00</time> (70.0 min)') in dom
        assert "mean 40 ms, slowest 40 ms over the last 24 hours" in dom
        assert "announced maintenance: database upgrade" in dom
        # every bar says in words what its colour says
        bars = re.findall(r'<li class="(\w+)" title="([^"]+)" aria-label="([^"]+)"', dom)
        assert len(bars) == 3 * 90 and all(title == label and title[:10].count("-") == 2 for _, title, label in bars)
        assert {cls for cls, _, _ in bars} >= {"up", "down", "excluded", "brief", "unknown"}
    # prefers-color-scheme: the dark rendering is not the light one
    assert (ARTIFACTS / "status-history-dark.png").read_bytes() != (ARTIFACTS / "status-history-light.png").read_bytes()


async def test_the_script_replaces_an_older_snapshots_figures_without_a_reload(served, tmp_path):
    """The page as served at 12:00, in front of the API's snapshot of 12:30 (same origin, a small
    aiohttp server holding both): Chromium shows the newer figures, so they came from the script."""
    daemon, http = served
    async with http.get("/") as response:
        page = await response.text()
    daemon.clock.advance(30 * 60_000)
    await daemon.figures.refresh()
    async with http.get("/api/v1/status") as response:
        newer = await response.read()
    async with http.get("/") as response:
        newer_page = await response.text()
    us = next(r for r in json.loads(newer)["regions"] if r["region"] == "us-east")
    old = re.search(r'data-region="us-east".*?data-window="24h" data-kind="sla">([^<]*)<', page, re.S).group(1)
    fresh = f"{us['uptime'][0]['sla_percent']:.3f} %"
    # by 12:30 the samples (which end at 12:00) have gone stale: the region is unknown, no longer down
    assert fresh != old and us["outage"] is None and us["state"] == "unknown"
    assert re.search(r'data-region="us-east".*?data-state="down-counted"', page, re.S)

    pages = [page, newer_page]  # the browser's load gets the old page; the script's fetch of it, the newer

    async def first_page(request):
        return web.Response(text=pages.pop(0) if len(pages) > 1 else pages[0], content_type="text/html")

    async def newer_status(request):
        return web.Response(body=newer, content_type="application/json")

    app = web.Application()
    app.router.add_get("/", first_page)
    app.router.add_get("/api/v1/status", newer_status)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    try:
        port = site._server.sockets[0].getsockname()[1]
        dom, console = await asyncio.to_thread(chromium_page, f"http://127.0.0.1:{port}/", tmp_path / "s.png")
    finally:
        await runner.cleanup()
    assert console == []
    assert cell(dom, "us-east", "24h", "sla") == fresh
    section = re.search(r'<section class="region"[^>]*data-region="us-east".*?</section>', dom, re.S).group(0)
    assert 'data-state="unknown"' in section and 'data-status="unknown"' in section
    assert "Unavailable since" not in section
    # the history (bars, charts, recent outages) came from the newer page: the outage is no longer open
    assert 'data-history="2026-10-06T12:30:00Z"' in dom
    # the snapshot time the script wrote, in the page's zone as the server writes it
    assert '<span id="as-of"><time datetime="2026-10-06T12:30:00Z">2026-10-06 14:30 +02:00</time></span>' in dom
    assert '<span id="as-of"><time datetime="2026-10-06T12:00:00Z">2026-10-06 14:00 +02:00</time></span>' in page
    newer_outage = us["recent_outages"][0]
    since = rf'<time datetime="{newer_outage["start"]}">[^<]*</time> ?– ?'
    assert newer_outage["end"] is not None and re.search(since + rf'<time datetime="{newer_outage["end"]}">', section)
    assert not re.search(since + "now", section) and re.search(since + "now", page)


def test_the_overall_line_names_the_regions_down_first_then_the_unknown():
    from monitor.web.status import overall

    def of(**states):
        return overall([{"region": name.replace("_", "-"), "state": state} for name, state in states.items()])
    assert of(eu_west="up", us_east="up", staging="up") == {"state": "up", "text": "All 3 regions up"}
    assert of(eu_west="up") == {"state": "up", "text": "The region is up"}
    assert of(eu_west="down", us_east="unknown", staging="up") == {
        "state": "down", "text": "1 of 3 regions down: eu-west; 1 unknown"}
    assert of(eu_west="up", us_east="unknown") == {"state": "unknown", "text": "1 of 2 regions up, 1 unknown: us-east"}


def test_a_day_bar_shows_its_downtime_whatever_share_of_it_is_unknown():
    import datetime as dt

    from monitor.sla.result import DayBar
    from monitor.web.status import _bar_class

    day, hour = dt.date(2026, 12, 3), 3_600_000
    mostly_unknown = {"unknown_ms": 20 * hour, "span_ms": 24 * hour}
    assert _bar_class(DayBar(day, counted_ms=1_350_000, down_ms=1_350_000, excluded_ms=0, **mostly_unknown)) == "down"
    assert _bar_class(DayBar(day, counted_ms=0, down_ms=600_000, excluded_ms=0, **mostly_unknown)) == "brief"
    assert _bar_class(DayBar(day, counted_ms=0, down_ms=600_000, excluded_ms=600_000, **mostly_unknown)) == "excluded"
    assert _bar_class(DayBar(day, counted_ms=0, down_ms=0, excluded_ms=0, **mostly_unknown)) == "unknown"
    assert _bar_class(DayBar(day, counted_ms=0, down_ms=0, excluded_ms=0, unknown_ms=hour, span_ms=24 * hour)) == "up"


async def test_the_rolling_windows_come_from_the_banners_snapshot_between_history_evaluations(served):
    """The history (bars, outage list) is evaluated now and then; the rolling windows are not left
    behind by it: at every snapshot they equal a full evaluation at that snapshot's instant, so the
    open outage's minutes agree with the banner and the month's figures."""
    from monitor.accounting import UPTIME_WINDOWS, recent_history
    from monitor.config import to_fleet
    from monitor.sla.intervals import overlap_ms

    daemon, _ = served
    evaluated = daemon.figures.history_ms
    daemon.clock.advance(25_000)  # under the next history evaluation's interval
    await daemon.figures.refresh()
    now = daemon.figures.computed_ms
    assert daemon.figures.history_ms == evaluated and now == evaluated + 25_000
    full = await daemon.figures.db.run(lambda store: recent_history(store, to_fleet(daemon.cfg), now))
    for region, windows in daemon.figures.uptime.items():
        down, counted, unknown = full.intervals[region]
        assert [(w.label, w.down_ms, w.counted_ms, w.unknown_ms) for w in windows] == [
            (label, overlap_ms(down, now - span, now), overlap_ms(counted, now - span, now),
             overlap_ms(unknown, now - span, now)) for label, span in UPTIME_WINDOWS], region
    us = daemon.figures.current.region("us-east")
    assert us.open_period() is not None  # the open outage grew by the 25 s, in the windows too
    day = next(w for w in daemon.figures.uptime["us-east"] if w.label == "24h")
    assert day.counted_ms == sum(p.end_ms - max(p.start_ms, now - 86_400_000) for period in us.periods
                                 for p in period.pieces if p.counted and p.end_ms > now - 86_400_000)
