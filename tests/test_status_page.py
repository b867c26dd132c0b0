"""The status page tells the SLA story (issue 9): rendered by headless Chromium (Debian's chromium) at
each phase of an outage cycle, with the badge, banner and reason of every region read from the DOM.
Screenshots go to tests/artifacts/ (git-ignored) for a person to look at."""
from __future__ import annotations

import asyncio
import html
import datetime as dt
import re
from pathlib import Path

import pytest
from conftest import run_chromium
from daemon_helpers import running_daemon, until

ARTIFACTS = Path(__file__).parent / "artifacts"


def browse(page: Path, shot: Path) -> str:
    """Chromium's DOM of the page, and a screenshot of it."""
    dom = run_chromium("--hide-scrollbars", "--dump-dom", page.as_uri())
    assert dom.returncode == 0 and "<body" in dom.stdout, dom.stderr[-2000:]
    shooting = run_chromium("--hide-scrollbars", f"--screenshot={shot}", "--window-size=1100,1900", page.as_uri())
    assert shooting.returncode == 0, shooting.stderr[-2000:]
    return dom.stdout


def text(fragment: str) -> str:
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", fragment)).split())


def regions(dom: str) -> dict[str, dict]:
    """Per region section of the DOM: the badge's state and text, the banner's status and text, the
    availability and coverage shown, and each probe row's text."""
    found = {}
    for section in re.findall(r'<section class="region".*?</section>', dom, re.S):
        name = re.search(r'data-region="([^"]+)"', section).group(1)
        badge = re.search(r'<span class="badge [^"]*" data-state="([^"]+)">(.*?)</span>', section, re.S)
        banner = re.search(r'<div class="banner [^"]*" data-status="([^"]+)">(.*?)</div>', section, re.S)
        found[name] = {
            "badge": badge.group(1), "badge_text": text(badge.group(2)),
            "banner": banner.group(1) if banner else None, "banner_text": text(banner.group(2)) if banner else "",
            "availability": text(re.search(r'<b class="availability">(.*?)</b>', section, re.S).group(1)),
            "coverage_warning": text(m.group(1)) if (m := re.search(r'coverage-warning">(.*?)</div>', section, re.S)) else "",
            "probes": {p: text(row) for p, row in re.findall(r'<tr data-probe="([^"]+)">(.*?)</tr>', section, re.S)},
        }
    return found


def third_parties(dom: str) -> dict[str, str]:
    return {name: text(row) for name, row in re.findall(r'<tr data-third-party="([^"]+)">(.*?)</tr>', dom, re.S)}


@pytest.fixture
async def running(fleet, tmp_path):
    async with running_daemon(fleet, str(tmp_path / "d.db"), control=True, threshold_minutes="0.05") as daemon:  # 3 s
        yield fleet, daemon


async def test_each_phase_of_an_outage_reads_right_on_the_page(running, tmp_path):
    fleet, daemon = running
    ARTIFACTS.mkdir(exist_ok=True)

    async def page_when(name: str, marker: str, *more: str, shot: str | None = None) -> dict:
        """Serve the page until the region's section carries ``marker`` (and ``more``), then read it
        through Chromium (its screenshot named ``shot``, or after the marker)."""
        async def served():
            async with daemon.http.get("/") as response:
                body = await response.text()
            section = re.search(rf'data-region="{name}".*?</section>', body, re.S)
            return body if section and all(m in section.group(0) for m in (marker, *more)) else None
        body = await until(served, timeout=20)
        page = tmp_path / f"{name}-{marker.split('=')[-1].strip(chr(34))}.html"
        page.write_text(body)
        dom = await asyncio.to_thread(browse, page, ARTIFACTS / f"status-{shot or page.stem}.png")
        shown = regions(dom)
        for region in shown.values():  # badge and banner never disagree
            if region["banner"] in ("counted", "brief", "excluded"):
                assert region["badge"] == f"down-{region['banner']}", region
            elif region["banner"] == "unknown":
                assert region["badge"] == "unknown", region
            else:
                assert region["badge"] in ("up", "unknown") and not region["badge"].startswith("down"), region
        overall = re.search(r'<div class="overall" id="overall" data-state="(\w+)"[^>]*>(.*?)</div>', dom, re.S)
        return {"regions": shown, "third": third_parties(dom), "dom": dom, "overall": overall.groups()}

    # 1. Everything up. The monitor started seconds ago: the month is barely covered, so the
    #    availability is not shown as a figure but as "–" with the reason.
    await until(lambda: daemon.live.region_state.get("eu-west") == "up" and daemon.live.third_state.get("vonage") == "up"
                and daemon.live.third_state.get("genesys") == "up")
    seen = daemon_now()  # the page is a snapshot of the figures' refresh: one after the live state is up
    await until(lambda: daemon.figures.computed_ms is not None and daemon.figures.computed_ms >= seen)
    up = await page_when("eu-west", 'data-state="up"', shot="new-install-first-hour")
    assert up["regions"]["eu-west"]["badge_text"] == "up" and up["regions"]["eu-west"]["banner"] is None
    assert up["regions"]["eu-west"]["availability"] == "–"
    # Nor is any rolling window's: minutes of data are no 100 % over a day or 90 days ("this month" too).
    section = re.search(r'data-region="eu-west".*?</section>', up["dom"], re.S).group(0)
    assert re.findall(r'data-kind="(?:sla|raw)"[^>]*>([^<]*)<', section) == ["–"] * 10
    assert "of the month so far was monitored" in up["regions"]["eu-west"]["coverage_warning"]
    assert up["third"]["genesys"].startswith("Genesys Cloud (genesys) up eu-west")

    def local_instant(text: str) -> dt.datetime:
        """An instant as the page writes it (seconds only when there are any)."""
        return dt.datetime.strptime(text, "%Y-%m-%d %H:%M:%S %z" if text.count(":") == 3 else "%Y-%m-%d %H:%M %z")

    # 2. eu-west down, shorter than the threshold so far: brief, not counted.
    fleet.set_mode("eu-west", "refuse")
    # The figures read the store just after taking the live probe states, so on a loaded machine one
    # snapshot can show the region down from a failure its probe row does not show yet: wait for both.
    brief = (await page_when("eu-west", 'data-state="down-brief"',
                             '<td>eu-west-widget</td><td class="state">failing</td>'))["regions"]["eu-west"]
    assert brief["badge_text"] == "down · brief"
    # What it is now, and from when it would count: its start plus the threshold, in local time.
    since, counts_from = re.fullmatch(r"Unavailable since (.+?) \(\d+\.\d min\): brief, not counted yet: it counts "
                                      r"against the SLA from (.+?) if still down then \(0\.05 minutes in a row, "
                                      r"after exclusions\)", brief["banner_text"]).groups()
    assert local_instant(counts_from) - local_instant(since) == dt.timedelta(seconds=3)
    # refused; or reset or cut, when the connection or the request came as the port closed
    widget = brief["probes"]["eu-west-widget"]
    assert "failing" in widget and re.search(r"connect: Connection (refused|reset by peer)|server closed the connection",
                                             widget), widget

    # 3. Past the threshold: counted.
    counted_page = await page_when("eu-west", 'data-state="down-counted"', shot="counted-outage")
    counted = counted_page["regions"]["eu-west"]
    assert counted["badge_text"] == "down · counted" and "counts against the SLA" in counted["banner_text"]
    state, line = counted_page["overall"]  # one line over every region, above them
    assert state == "down" and re.fullmatch(rf"1 of {len(counted_page['regions'])} regions down: eu-west(; \d unknown)?",
                                            text(line)), line
    assert counted["banner_text"].startswith("Unavailable since ")
    fleet.set_mode("eu-west", "up")
    await page_when("eu-west", 'data-state="up"')

    # 4. Genesys Cloud down first, then eu-west: excluded, with the provider, its incident and the probe.
    fleet.set_mode("genesys", "down")
    await until(lambda: daemon.live.third_state.get("genesys") == "down")
    fleet.set_mode("eu-west", "refuse")
    excluded_page = await page_when("eu-west", 'data-state="down-excluded"', shot="brief-excluded-outage")
    excluded = excluded_page["regions"]["eu-west"]
    assert excluded["badge_text"] == "down · excluded"
    assert "excluded: Genesys Cloud is down (third party); incident genesys unavailable; seen by genesys-api; not " \
        "counted now; if it goes on, it counts once down 0.05 minutes after the exclusion ends" in excluded["banner_text"]
    assert excluded_page["third"]["genesys"].startswith("Genesys Cloud (genesys) down eu-west")
    fleet.set_mode("eu-west", "up")
    fleet.set_mode("genesys", "up")
    await until(lambda: daemon.live.third_state.get("genesys") == "up")
    healthy = await page_when("eu-west", 'data-state="up"', shot="healthy")
    assert healthy["overall"][0] == "up" and re.fullmatch(r"All \d+ regions up", text(healthy["overall"][1]))

    # 5. The non-critical Management Panel down: the region stays up, the probe shows its error.
    fleet.set_mode("panel", "down")
    await until(lambda: daemon.live.component_state("eu-west", "panel", daemon_now()) == "down")
    panel = await page_when("eu-west", 'HTTP 503 (expected 200)')
    assert panel["regions"]["eu-west"]["badge"] == "up" and panel["regions"]["eu-west"]["banner"] is None
    assert "HTTP 503 (expected 200)" in panel["regions"]["eu-west"]["probes"]["eu-west-panel"]
    fleet.set_mode("panel", "up")

    # 6. The monitor loses its network: unknown, never down, and the page says why.
    fleet.set_mode("control", "refuse")
    await asyncio.sleep(0.15)
    for name in ("eu-west", "us-east", "panel", "genesys", "unlinked", "vonage"):
        fleet.set_mode(name, "refuse")
    # Wait for the cause, not just the state: on a loaded machine a probe can go stale (unknown, with the
    # vantage still healthy) before the vantage's own check has seen the network go.
    lost = await page_when("eu-west", "this monitor lost its network")
    assert lost["regions"]["eu-west"]["badge_text"] == "unknown"
    assert "this monitor lost its network" in lost["regions"]["eu-west"]["banner_text"]
    assert 'id="vantage-banner"' in lost["dom"] and "cannot see the network" in lost["dom"]
    assert all(r["badge"] in ("unknown", "up") for r in lost["regions"].values())


def daemon_now() -> int:
    from monitor import clock
    return clock.SYSTEM.now_ms()


async def test_a_healthy_month_reads_right(tmp_path, capsys):
    """The demo's October 2026 (make demo-month) seen on its last day at noon, every region up: the
    month's figures, the rolling windows and the bars read as a month of data does; a screenshot for a
    person to look at (status-healthy.png)."""
    from prometheus_client import CollectorRegistry

    from monitor import demo
    from monitor.app import Daemon
    from monitor.clock import FixedClock
    from monitor.config import load_config
    from monitor.errors import parse_instant

    root = Path(__file__).parent.parent
    config, db = str(root / "config" / "demo-month.yaml"), tmp_path / "october.db"
    assert demo.main(["--config", config, "--db", str(db)]) == 0
    capsys.readouterr()
    daemon = Daemon(load_config(config), str(db), registry=CollectorRegistry(),
                    clock=FixedClock(parse_instant("2026-10-31T12:00:00Z", "now")))
    await daemon.start("127.0.0.1:0", probing=False)
    try:
        page = tmp_path / "healthy.html"
        page.write_text(await asyncio.to_thread(lambda: run_page(daemon.port)))
        dom = await asyncio.to_thread(browse, page, ARTIFACTS / "status-healthy.png")
    finally:
        await daemon.stop()
    overall = text(re.search(r'<div class="overall" id="overall"[^>]*>(.*?)</div>', dom, re.S).group(1))
    assert overall == "All 3 regions up"
    shown = regions(dom)
    for name in ("eu-west", "us-east"):
        region = shown[name]
        assert region["badge"] == "up" and region["banner"] is None and region["coverage_warning"] == ""
        assert re.fullmatch(r"\d{2}\.\d{4} %", region["availability"]), region
        section = re.search(rf'data-region="{name}".*?</section>', dom, re.S).group(0)
        assert "–" not in re.findall(r'data-kind="(?:sla|raw)"[^>]*>([^<]*)<', section)[:3]  # 24 h, 7 d, 30 d shown
    # us-east's 70 counted minutes are past its 44.7-minute budget: missed, whatever October's last
    # hours bring; eu-west's 25 are not. Staging, not production, has no budget to show.
    def verdict(name: str) -> str:
        section = re.search(rf'data-region="{name}".*?</section>', dom, re.S).group(0)
        return text(re.search(r'<small class="verdict">(.*?)</small>', section, re.S).group(1))
    assert verdict("us-east") == "target missed: a service credit is owed" and verdict("eu-west") == ""
    staging = re.search(r'data-region="staging".*?</section>', dom, re.S).group(0)
    assert re.search(r'<b class="budget">–</b><small>no SLA budget: non-production</small>', staging)


def run_page(port: int) -> str:
    import urllib.request

    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10) as answer:
        return answer.read().decode()
