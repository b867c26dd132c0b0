"""The status page's Atom feed and SVG badges. The feed is parsed by feedparser, as feed readers do; the
badges are drawn by headless Chromium. A real daemon against the simulated fleet goes through an outage
of eu-west and a maintenance window of us-east, and the feed and badges follow; the badge colours
against the target come from the engine's own month on a store."""
from __future__ import annotations

import asyncio
import io
import re
import xml.etree.ElementTree as ET

import feedparser
import pytest
from PIL import Image

from conftest import FIXTURES, run_chromium
from daemon_helpers import running_daemon, until
from monitor.accounting import month_report
from monitor.clock import FixedClock
from monitor.config import parse_config, to_fleet
from monitor.live.figures import LiveFigures
from monitor.samples import Sample
from monitor.storage import Storage
from monitor.storage.memory import MemoryStore
from monitor.web.badges import GREEN, GREY, RED, YELLOW, availability_badge

NOV = 1_793_491_200_000  # 2026-11-01T00:00:00Z
MIN = 60_000


def month_so_far(down_minutes: int, sampled_days: int = 15, now_days: int = 15) -> tuple[LiveFigures, object]:
    """The engine's November to date (``now_days`` in) on a store sampled every minute for the first
    ``sampled_days``, eu-west down ``down_minutes`` in a row on the 3rd (the month's budget: 43.2 minutes)."""
    cfg = parse_config((FIXTURES / "spec.yaml").read_text())
    fleet = to_fleet(cfg)
    store = MemoryStore()
    down = range(NOV + 2 * 1440 * MIN + 600 * MIN, NOV + 2 * 1440 * MIN + (600 + down_minutes) * MIN, MIN)
    store.append_samples([Sample("w", "local", ts, ts not in down, 5.0 if ts not in down else None)
                          for ts in range(NOV, NOV + sampled_days * 1440 * MIN, MIN)], {"w": 3 * MIN})
    now = NOV + now_days * 1440 * MIN
    figures = LiveFigures(None, fleet, FixedClock(now))  # its store is not read here
    figures.current, figures.computed_ms = month_report(store, fleet, 2026, 11, now, all_components=True), now
    return figures, cfg


@pytest.mark.parametrize("down, value, colour", [
    (0, "100.000 %", GREEN),
    (35, "99.919 %", YELLOW),  # 35 of 43.2 minutes: 81 % of the budget used, target still met
    (50, "99.884 %", RED),  # the target missed
])
def test_the_availability_badge_is_the_months_figure_coloured_against_the_target(down, value, colour):
    figures, cfg = month_so_far(down)
    badge = availability_badge(figures, cfg, "eu-west")
    assert (badge.value, badge.colour) == (value, colour)
    assert badge.title.startswith(f"eu-west: {value} this month so far (target 99.9 %")
    shown = figures.current.region("eu-west").figures.availability_percent
    assert f"{float(shown):.3f} %" == value  # the engine's figure, as the status page shows it


def test_too_little_of_the_month_seen_gives_no_figure():
    figures, cfg = month_so_far(0, sampled_days=1, now_days=15)  # 1 day of 15 seen: as the status page, no figure
    badge = availability_badge(figures, cfg, "eu-west")
    assert (badge.value, badge.colour) == ("–", GREY)
    assert badge.title == "eu-west: no availability figure yet this month (only 6.7 % of the month so far monitored)"


def badge_parts(svg: str) -> tuple[str, str, str]:
    """(title, value text, value colour) of a badge, read as XML."""
    ns = {"s": "http://www.w3.org/2000/svg"}
    root = ET.fromstring(svg)
    texts = [t.text for t in root.iterfind(".//s:text", ns)]
    fills = [r.get("fill") for r in root.iterfind(".//s:rect", ns)]
    return root.find("s:title", ns).text, texts[1], fills[2]


def drawn_colour(url: str, svg: str, tmp_path, name: str) -> tuple[int, int, int]:
    """The colour Chromium draws near the right end of the badge (its value's half)."""
    shot = tmp_path / f"{name}.png"
    done = run_chromium("--hide-scrollbars", f"--screenshot={shot}", "--window-size=400,60", url)
    assert done.returncode == 0, done.stderr[-2000:]
    width = int(re.search(r'width="(\d+)"', svg).group(1))
    return Image.open(io.BytesIO(shot.read_bytes())).convert("RGB").getpixel((width - 6, 4))


def chromium_dom(url: str) -> str:
    done = run_chromium("--dump-dom", url)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "error on line" not in done.stdout and "This page contains the following errors" not in done.stdout
    return done.stdout


def near(colour: tuple[int, int, int], hex_colour: str) -> bool:
    """Within the badge's 10 % gloss of ``hex_colour`` (#rgb or #rrggbb)."""
    digits = hex_colour[1:] if len(hex_colour) == 7 else "".join(c * 2 for c in hex_colour[1:])
    want = tuple(int(digits[i:i + 2], 16) for i in (0, 2, 4))
    return all(abs(a - b) <= 30 for a, b in zip(colour, want, strict=True))


async def test_the_feed_and_badges_follow_an_outage_and_a_maintenance_window(fleet, tmp_path):
    async with running_daemon(fleet, str(tmp_path / "d.db")) as daemon:  # threshold 0.02 min: 1.2 s
        now = daemon.clock.now_ms()
        window = await daemon.db.call(Storage.add_maintenance, region="us-east", start_ms=now - 20 * MIN,
                                      end_ms=now - 10 * MIN, kind="scheduled", announced_at_ms=now - 3 * 86_400_000,
                                      reason="database upgrade", by="test", now_ms=now - 3 * 86_400_000)
        base = f"http://127.0.0.1:{daemon.port}"

        async def fetch(path: str) -> tuple[int, str, dict]:
            async with daemon.http.get(path) as response:
                return response.status, await response.text(), dict(response.headers)

        async def state_shown(state: str) -> bool:
            return badge_parts((await fetch("/badge/eu-west/state.svg"))[1])[1] == state

        await until(lambda: state_shown("up"), timeout=20)
        status, svg, headers = await fetch("/badge/eu-west/state.svg")
        assert status == 200 and headers["Content-Type"].startswith("image/svg+xml")
        assert headers["Cache-Control"] == "public, max-age=1"  # the figures' refresh (200 ms), a second at least
        title, value, fill = badge_parts(svg)
        assert (value, fill) == ("up", GREEN) and title.startswith("eu-west: up as of ")
        url = f"{base}/badge/eu-west/state.svg"
        assert ">up</text>" in await asyncio.to_thread(chromium_dom, url)
        assert near(await asyncio.to_thread(drawn_colour, url, svg, tmp_path, "up"), GREEN)

        fleet.set_mode("eu-west", "down")
        await until(lambda: state_shown("down"), timeout=20)
        svg = (await fetch("/badge/eu-west/state.svg"))[1]
        assert badge_parts(svg)[2] == RED
        assert near(await asyncio.to_thread(drawn_colour, url, svg, tmp_path, "down"), RED)
        await asyncio.sleep(2.5)  # past the threshold: counted
        fleet.set_mode("eu-west", "up")
        await until(lambda: state_shown("up"), timeout=20)

        async def resolved_in_feed():
            parsed = feedparser.parse((await fetch("/feed.atom"))[1])
            return parsed if any(e.id.startswith("urn:sla-monitor:outage.resolved:") for e in parsed.entries) else None
        parsed = await until(resolved_in_feed, timeout=20)
        assert parsed.bozo == 0, parsed.bozo_exception
        assert parsed.feed.title == "daemon test status" and parsed.version == "atom10"
        text = {e.id: e.content[0].value for e in parsed.entries}
        outage = [e for e in parsed.entries if ":eu-west:" in e.id]
        assert [e.id.split(":")[2] for e in outage] == ["outage.resolved", "outage.counted", "outage.opened"]
        start = outage[-1].id.split(":eu-west:")[1]
        assert all(e.id.endswith(f":eu-west:{start}") for e in outage)  # one outage, one key
        assert outage[-1].title == "eu-west: outage" and "is down since " in text[outage[-1].id]
        assert "+00:00" in text[outage[-1].id]  # the page's local time (UTC here), with its offset
        assert "min counted as Downtime" in text[outage[0].id]
        upgrade = [e for e in parsed.entries if e.id.endswith(f"maintenance:{window}")]
        assert [e.title for e in upgrade] == ["us-east: maintenance ended", "us-east: maintenance started",
                                              "us-east: maintenance announced"]
        assert all("database upgrade" in text[e.id] for e in upgrade)
        updated = [e.updated_parsed for e in parsed.entries]
        assert updated == sorted(updated, reverse=True)  # newest first
        again = feedparser.parse((await fetch("/feed.atom"))[1])
        assert [e.id for e in again.entries] == [e.id for e in parsed.entries]  # stable: a reader shows each once

        region = feedparser.parse((await fetch("/feed/us-east.atom"))[1])
        assert region.bozo == 0 and region.feed.title == "daemon test status: us-east"
        # us-east's own entries only; a loop stalled under a shifted clock may add a short us-east flap
        assert {e.id for e in upgrade} <= {e.id for e in region.entries}
        assert all(e.title.startswith("us-east: ") for e in region.entries)

        for path, named in (("/feed/nowhere.atom", "nowhere"), ("/badge/nowhere/state.svg", "nowhere"),
                            ("/badge/eu-west/colour.svg", "colour")):
            status, body, _ = await fetch(path)
            assert status == 404 and named in body, (path, status, body)


def test_an_outage_reads_as_its_moments_across_the_months_end_and_an_exclusion():
    """The engine's months on a store: eu-west down from 31 October 23:50 to 1 November 00:30 (one
    outage, not a second one opening at midnight), and down again on 3 November 10:00–11:00 with an
    announced maintenance window over 10:20–10:40 (one exclusion, in words)."""
    from monitor.sla.model import MaintenanceWindow, Records
    from monitor.web.feed import entries

    cfg = parse_config((FIXTURES / "spec.yaml").read_text())
    fleet = to_fleet(cfg)
    store = MemoryStore()
    oct30, nov3 = NOV - 2 * 1440 * MIN, NOV + 2 * 1440 * MIN
    down = set(range(NOV - 10 * MIN, NOV + 30 * MIN, MIN)) | set(range(nov3 + 600 * MIN, nov3 + 660 * MIN, MIN))
    store.append_samples([Sample("w", "local", ts, ts not in down, None if ts in down else 5.0)
                          for ts in range(oct30, NOV + 4 * 1440 * MIN, MIN)], {"w": 3 * MIN})
    window = MaintenanceWindow(7, "eu-west", nov3 + 620 * MIN, nov3 + 640 * MIN, "scheduled", NOV - 20 * 1440 * MIN,
                               "database upgrade")
    records = Records(maintenance=(window,))
    now = NOV + 4 * 1440 * MIN
    figures = LiveFigures(None, fleet, FixedClock(now))  # its store is not read here
    figures.previous = month_report(store, fleet, 2026, 10, now, all_components=True, records=records)
    figures.current = month_report(store, fleet, 2026, 11, now, all_components=True, records=records)
    figures.maintenance, figures.computed_ms = (window,), now
    found = {e.id: e for e in entries(figures, cfg, "eu-west", now)}
    assert sorted(found) == sorted([
        "outage.opened:eu-west:2026-10-31T23:50:00Z", "outage.counted:eu-west:2026-10-31T23:50:00Z",
        "outage.resolved:eu-west:2026-10-31T23:50:00Z",
        "outage.opened:eu-west:2026-11-03T10:00:00Z", "outage.counted:eu-west:2026-11-03T10:00:00Z",
        "outage.excluded:eu-west:2026-11-03T10:00:00Z:maintenance:7", "outage.resolved:eu-west:2026-11-03T10:00:00Z",
        "maintenance.announced:maintenance:7", "maintenance.started:maintenance:7", "maintenance.ended:maintenance:7"])
    across = found["outage.resolved:eu-west:2026-10-31T23:50:00Z"]
    assert "after 40.0 min (40.0 min counted as Downtime)" in across.text  # both months' parts, one outage
    assert found["outage.counted:eu-west:2026-10-31T23:50:00Z"].at_ms == NOV + 5 * MIN  # 15 minutes in
    excluded = found["outage.excluded:eu-west:2026-11-03T10:00:00Z:maintenance:7"]
    assert excluded.at_ms == window.start_ms and "announced maintenance" in excluded.title
    assert "2026-11-03 10:20–10:40 +00:00" in excluded.text and "database upgrade" in excluded.text
    resolved = found["outage.resolved:eu-west:2026-11-03T10:00:00Z"]
    assert "after 60.0 min (40.0 min counted as Downtime)" in resolved.text


async def test_the_scripted_demo_months_feed_has_its_outages_exclusions_and_maintenance(tmp_path):
    """`make demo-month`'s October, served the day after it ends: the feed parses (bozo 0) and holds what
    the script made, in the config's time zone: eu-west's outage partly excused by Genesys Cloud,
    us-east's announced maintenance, and every outage resolved."""
    from prometheus_client import CollectorRegistry

    from monitor import demo
    from monitor.app import Daemon
    from monitor.clock import FixedClock as Fixed
    from monitor.config import load_config
    from monitor.errors import parse_instant

    db = str(tmp_path / "demo-month.db")
    config = FIXTURES.parent.parent / "config" / "demo-month.yaml"
    assert await asyncio.to_thread(demo.main, ["--config", str(config), "--db", db]) == 0
    daemon = Daemon(load_config(str(config)), db, registry=CollectorRegistry(),
                    clock=Fixed(parse_instant("2026-11-01T09:00:00Z", "now")))
    await daemon.start("127.0.0.1:0", probing=False)  # serves what the store holds
    try:
        import aiohttp
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{daemon.port}/feed.atom") as r:
            parsed = feedparser.parse(await r.read())
    finally:
        await daemon.stop()
    assert parsed.bozo == 0, parsed.bozo_exception
    kinds = [e.id.split(":")[2] for e in parsed.entries]
    assert kinds.count("outage.opened") == kinds.count("outage.resolved") >= 4  # all of October's are over
    titles = [e.title for e in parsed.entries]
    assert "eu-west: outage excluded (third-party outage)" in titles
    assert "us-east: outage excluded (announced maintenance)" in titles
    assert "us-east: maintenance announced" in titles and "us-east: maintenance ended" in titles
    text = " ".join(e.content[0].value for e in parsed.entries)
    assert "+02:00" in text  # Warsaw's local times (summer time in October), not UTC's
