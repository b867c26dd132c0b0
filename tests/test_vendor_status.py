"""The vendor's own status page confronted with what we observed: the rules (pure), the page read as
Statuspage writes it, the demo month (a post 40 minutes late, an outage never posted, a post we did not
observe) in the report and the claim, and the daemon reading the simulated fleet's page, which posts
late and misses every second outage, onto its status page and API; a page that lies or hangs never
stops it."""
from __future__ import annotations

import asyncio
import json
from fractions import Fraction
from pathlib import Path

import pytest
from aiohttp import web
from prometheus_client import CollectorRegistry

from monitor import demo
from monitor.app import Daemon
from monitor.cli import main
from monitor.clock import FixedClock
from monitor.config import parse_config
from monitor.errors import parse_instant
from monitor.simulate import Fleet, Target
from monitor.sla.model import VendorPost
from monitor.sla.result import PeriodResult, Piece
from monitor.sla.vendor_status import LATE_POST_MS, confront
from monitor.vendor_status import VendorStatusError, posts_of
from conftest import FIXTURES
from daemon_helpers import config_text, until
from loopback import start_app

MIN = 60_000
T0 = 1_793_700_000_000  # 2026-11-03T10:40:00Z
CONFIG = FIXTURES.parent.parent / "config" / "demo-month.yaml"


def _period(start: int, end: int, counted: bool = True) -> PeriodResult:
    return PeriodResult(start, end, False, (), (Piece(start, end, counted),))


def _post(ident: str, posted: int, started: int | None = None, resolved: int | None = None,
          regions=("eu-west",)) -> VendorPost:
    return VendorPost(ident, tuple(regions), ident, "minor", started, posted, resolved)


def test_confrontation_rules():
    """A post covers an outage by its stated span or, posted late, as the latest outage before it; a post
    about none of our outages is a blind spot; the share and the median lag are exact."""
    outages = [_period(T0, T0 + 20 * MIN), _period(T0 + 100 * MIN, T0 + 160 * MIN),
               _period(T0 + 300 * MIN, T0 + 330 * MIN), _period(T0 + 400 * MIN, T0 + 410 * MIN, counted=False)]
    posts = [
        _post("late", T0 + 45 * MIN, resolved=T0 + 50 * MIN),  # 25 minutes after the outage ended: still about it
        _post("stated", T0 + 130 * MIN, started=T0 + 90 * MIN, resolved=T0 + 170 * MIN),
        _post("other-region", T0 + 301 * MIN, regions=("us-east",)),
        _post("brief-one", T0 + 401 * MIN),  # about a period we saw but that did not count: not a blind spot
        _post("unseen", T0 + 40 * 60 * MIN, resolved=T0 + 41 * 60 * MIN),
    ]
    c = confront("eu-west", outages, posts, T0 - 60 * MIN, T0 + 60 * 60 * MIN)
    assert [(a.post.id if a.post else None, a.lag_ms) for a in c.outages] == [
        ("late", 45 * MIN), ("stated", 30 * MIN), (None, None)]
    assert [p.id for p in c.blind_spots] == ["unseen"]
    assert c.acknowledged == Fraction(20 + 60, 20 + 60 + 30)
    assert c.median_lag_ms == Fraction(45 * MIN + 30 * MIN, 2)  # two lags: their mean
    too_late = _post("next-day", T0 + 20 * MIN + LATE_POST_MS)
    assert confront("eu-west", outages[:1], [too_late], T0, T0 + 3 * LATE_POST_MS).outages[0].post is None
    early = _post("ahead", T0 - 5 * MIN, resolved=T0 + 10 * MIN)
    assert confront("eu-west", outages[:1], [early], T0 - 60 * MIN, T0 + 60 * MIN).outages[0].lag_ms == -5 * MIN


def test_page_read_as_statuspage_writes_it():
    page = {"page": {"id": "x"}, "incidents": [
        {"id": "a", "name": "Calls fail", "impact": "major", "created_at": "2026-11-03T10:40:11.123Z",
         "started_at": None, "resolved_at": "2026-11-03T11:00:00+00:00", "shortlink": "https://stspg.io/a",
         "components": [{"id": "c1", "name": "EU West"}, {"id": "c2", "name": "US East"}]},
        {"id": "b", "name": "Docs site slow", "created_at": "2026-11-04T10:00:00Z", "components": [{"name": "Docs"}]},
        {"id": "c", "name": "By id", "created_at": "2026-11-05T10:00:00Z", "components": [{"id": "c9", "name": "?"}]},
    ]}
    posts = posts_of(json.dumps(page).encode(), {"EU West": "eu-west", "US East": "us-east", "c9": "staging"}, "page")
    assert [(p.id, p.regions, p.impact, p.posted_ms, p.resolved_ms) for p in posts] == [
        ("a", ("eu-west", "us-east"), "major", parse_instant("2026-11-03T10:40:11.123Z", "t"),
         parse_instant("2026-11-03T11:00:00Z", "t")),
        ("c", ("staging",), "", parse_instant("2026-11-05T10:00:00Z", "t"), None)]


@pytest.mark.parametrize("body,message", [
    (b"<html>maintenance</html>", "page: not JSON"),
    (b'{"incidents": {}}', 'no "incidents" list'),
    (b'{"incidents": [7]}', "incidents[0]: not an object"),
    (b'{"incidents": [{"id": "a", "components": [{"name": "EU West"}]}]}', "incidents[0].created_at: missing"),
    (b'{"incidents": [{"id": "a", "created_at": "2026-11-03 10:00", "components": [{"name": "EU West"}]}]}',
     "incidents[0].created_at: '2026-11-03 10:00' has no UTC offset"),
    (b'{"incidents": [{"id": "a", "created_at": "yesterday", "components": [{"name": "EU West"}]}]}',
     "is not an ISO 8601 time"),
])
def test_a_page_that_is_not_one(body, message):
    with pytest.raises(VendorStatusError) as caught:
        posts_of(body, {"EU West": "eu-west"}, "page")
    assert message in str(caught.value)


@pytest.fixture(scope="module")
def demo_month(tmp_path_factory) -> Path:
    db = tmp_path_factory.mktemp("demo") / "demo-month.db"
    assert demo.main(["--config", str(CONFIG), "--db", str(db)]) == 0
    return db


def _cli(db: Path, *args: str, capsys) -> str:
    assert main(["--config", str(CONFIG), "--db", str(db), "--now", "2026-11-02T09:00:00Z", *args]) == 0
    return capsys.readouterr().out


def test_demo_month_report_and_claim_show_the_lag_and_the_unposted_outage(demo_month, capsys):
    report = json.loads(_cli(demo_month, "report", "--month", "2026-10", "--format", "json", capsys=capsys))
    by_region = {r["region"]: r["vendor_status"] for r in report["regions"]}
    eu, us = by_region["eu-west"], by_region["us-east"]
    assert eu["median_lag_minutes"] == 40.0 and eu["acknowledged_percent"] == 100.0 and eu["unposted"] == 0
    assert eu["outages"][0]["incident"]["impact"] == "minor"
    assert us["unposted"] == 1 and us["acknowledged_percent"] == 0.0 and us["median_lag_minutes"] is None
    assert [b["title"] for b in us["blind_spots"]] == ["Elevated error rates in US East"]
    claim = _cli(demo_month, "claim", "--month", "2026-10", "--format", "markdown", capsys=capsys)
    assert "Our outage 2026-10-20 08:00–09:10 +02:00 (70.00 min): never posted on the provider's status page." in claim
    # The whole service's figure: eu-west's 25 counted minutes posted 40 minutes late, us-east's 70 never.
    assert ("acknowledged 26.3 % of our counted Downtime, with a median posting lag of 40.00 min after our first "
            "failed sample; 1 of our 2 counted outages were never posted there.") in claim
    html = _cli(demo_month, "claim", "--month", "2026-10", "--format", "html", capsys=capsys)
    assert "median posting lag of 40.00 min" in html and "never posted on the provider" in html
    markdown = _cli(demo_month, "report", "--month", "2026-10", "--format", "markdown", capsys=capsys)
    assert "posted 40.00 min after our first failed sample as “Degraded video quality in EU West”" in markdown
    listed = json.loads(_cli(demo_month, "vendor-status", "list", "--format", "json", capsys=capsys))
    assert [p["id"] for p in listed] == ["te-1003", "te-1012", "te-1025"]


def test_import_of_a_saved_page_is_idempotent_and_bad_ones_refused(demo_month, tmp_path, capsys):
    page = demo_month.with_name("demo-month-status.json")
    db = tmp_path / "copy.db"
    assert main(["--config", str(CONFIG), "--db", str(db), "vendor-status", "import", str(page)]) == 0
    assert "3 incidents about our regions" in capsys.readouterr().out
    assert main(["--config", str(CONFIG), "--db", str(db), "vendor-status", "import", str(page)]) == 0
    assert "0 new, 0 changed, 3 as recorded" in capsys.readouterr().out
    bad = tmp_path / "bad.json"
    bad.write_text('{"incidents": [{"id": "x", "created_at": "soon", "components": [{"name": "EU West"}]}]}')
    assert main(["--config", str(CONFIG), "--db", str(db), "vendor-status", "import", str(bad)]) == 2
    assert "incidents[0].created_at: 'soon' is not an ISO 8601 time" in capsys.readouterr().err
    spec = FIXTURES / "spec.yaml"
    assert main(["--config", str(spec), "--db", str(db), "vendor-status", "import", str(page)]) == 2
    assert "the config has no vendor_status section" in capsys.readouterr().err


def _daemon_config(fleet: Fleet, db: str, page_url: str) -> str:
    return config_text(fleet, db) + f"""
vendor_status:
  url: "{page_url}"
  components: {{"EU West": eu-west}}
  interval: 200ms
  timeout: 500ms
"""


async def test_daemon_reads_the_simulated_page_that_posts_late_and_misses_one(tmp_path):
    from daemon_helpers import small_fleet

    fleet = await small_fleet()
    page = Target("trueengage-status", 0, kind="vendor-status", follows="eu-west", component="EU West", lag_s=0.6)
    fleet.add(page)
    await fleet._http(page)
    fleet.runners.append(asyncio.create_task(fleet._post_late(page, fleet.targets["eu-west"])))
    db = str(tmp_path / "live.db")
    daemon = Daemon(parse_config(_daemon_config(fleet, db, f"http://127.0.0.1:{page.port}")), db,
                    registry=CollectorRegistry())
    await daemon.start("127.0.0.1:0")
    try:
        for _ in range(2):  # the first outage is posted late, the second never
            fleet.set_mode("eu-west", "down")
            await asyncio.sleep(1.5)
            fleet.set_mode("eu-west", "up")
            await asyncio.sleep(0.8)
        rows = await until(lambda: _resolved_posts(daemon), timeout=10)
        assert [r["id"] for r in rows] == ["sim-1"] and rows[0]["resolved_ms"] is not None
        assert rows[0]["first_seen_ms"] is not None
        import aiohttp

        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{daemon.port}/api/v1/status") as r:
                status = await r.json()
            async with http.get(f"http://127.0.0.1:{daemon.port}/") as r:
                html = await r.text()
        region = next(r for r in status["regions"] if r["region"] == "eu-west")
        assert region["vendor_status"] is not None and "words" in region["vendor_status"]
        assert "The provider's status page this month" in html or "The provider&#39;s status page this month" in html
    finally:
        await daemon.stop()
        await fleet.stop()


async def _resolved_posts(daemon: Daemon) -> list[dict] | None:
    """The posts the daemon kept, once the first of them is resolved (None until then)."""
    rows = await daemon.db.run(lambda store: store.vendor_post_rows())
    return rows if rows and rows[0]["resolved_ms"] is not None else None


@pytest.mark.parametrize("behaviour", ["garbage", "hang", "error"])
async def test_a_page_that_lies_or_hangs_never_stops_the_daemon(behaviour, tmp_path, caplog):
    from daemon_helpers import small_fleet

    async def answer(request: web.Request) -> web.StreamResponse:
        if behaviour == "hang":
            await asyncio.sleep(30)
        if behaviour == "error":
            return web.Response(status=500, text="oops")
        return web.Response(body=b"\x00\xffnot json at all", content_type="application/json")

    app = web.Application()
    app.router.add_get("/api/v2/incidents.json", answer)
    fleet = await small_fleet()
    runner, port = await start_app(app)
    try:
        db = str(tmp_path / "live.db")
        daemon = Daemon(parse_config(_daemon_config(fleet, db, f"http://127.0.0.1:{port}")), db, registry=CollectorRegistry(),
                        clock=FixedClock(parse_instant("2026-11-03T10:00:00Z", "now")))
        await daemon.start("127.0.0.1:0")
        try:
            await until(lambda: "event=vendor_status_unreadable" in caplog.text, timeout=10)
            await asyncio.sleep(0.5)  # read again, and again: still running, still probing
            assert await daemon.db.run(lambda store: store.vendor_post_rows()) == []
            assert daemon.probes is not None
        finally:
            await daemon.stop()
    finally:
        await runner.cleanup()
        await fleet.stop()


RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>TrueEngage status</title>
<item><title>Video calls failing in EU West</title><description>Investigating</description>
<link>https://status.example/i/1</link><guid>i-1</guid><pubDate>Tue, 03 Nov 2026 10:40:00 +0000</pubDate></item>
<item><title>Docs site slow</title><guid>i-2</guid><pubDate>Tue, 03 Nov 2026 11:00:00 +0000</pubDate></item>
</channel></rss>"""
ATOM_FEED = """<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom"><title>status</title>
<entry><id>tag:status.example,2026:1</id><title>Degraded: us east</title><summary>calls drop</summary>
<link href="https://status.example/e/1"/><published>2026-11-04T09:30:00+01:00</published></entry></feed>"""


@pytest.mark.parametrize("body,expected", [
    (RSS, [("i-1", ("eu-west",), "2026-11-03T10:40:00Z")]),
    (ATOM_FEED, [("tag:status.example,2026:1", ("us-east",), "2026-11-04T08:30:00Z")]),
])
def test_a_feed_read_as_posts(body, expected):
    from monitor.sla.calendar import iso
    from monitor.vendor_status import read_page

    posts = read_page(body.encode(), "feed", {"EU West": "eu-west", "US East": "us-east"}, "feed")
    assert [(p.id, p.regions, iso(p.posted_ms)) for p in posts] == expected
    assert all(p.resolved_ms == p.posted_ms for p in posts)  # a feed item is a moment, not a span


@pytest.mark.parametrize("body,message", [
    ("<html><body>down for maintenance</body></html>", "neither RSS 2.0 nor Atom"),
    ("<rss><channel><item><title>EU West down</title><guid>x</guid><pubDate>soon</pubDate></item></channel></rss>",
     "item 1: 'soon' is not a publication time"),
    ('<!DOCTYPE x [<!ENTITY a "aaaa">]><rss><channel/></rss>', "not an RSS or Atom feed"),
])
def test_a_feed_that_is_not_one(body, message):
    from monitor.vendor_status import read_page

    with pytest.raises(VendorStatusError) as caught:
        read_page(body.encode(), "feed", {"EU West": "eu-west"}, "feed")
    assert message in str(caught.value)
