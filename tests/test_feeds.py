"""Status feeds in their real formats, from a loopback server whose answers change over time.

Statuspage (summary.json, components.json + incidents/unresolved.json) and an Azure RSS 2.0 feed.
A feed that cannot be read (500, HTML, truncated JSON, a 10 MB body, a hang) gives an unknown
sample with a clear error: never down, so it excludes nothing."""
from __future__ import annotations

import asyncio
import copy
import json

import pytest
from aiohttp import web
from pydantic import TypeAdapter

from monitor.checks import Probe
from monitor.probes import run_probe
from conftest import FIXTURES
from loopback import start_app

PROBE = TypeAdapter(Probe)
SUMMARY = json.loads((FIXTURES / "feeds" / "summary.json").read_text())
INCIDENT = json.loads((FIXTURES / "feeds" / "incident.json").read_text())
AZURE = (FIXTURES / "feeds" / "azure.rss").read_text()


class FeedServer:
    """Serves the Statuspage API and an RSS feed; tests change ``summary``, ``rss`` and ``mode``."""

    def __init__(self):
        self.summary = copy.deepcopy(SUMMARY)
        self.rss = AZURE
        self.mode = "ok"

    def set_status(self, name: str, status: str, incident: bool = False) -> None:
        for component in self.summary["components"]:
            if component["name"] == name:
                component["status"] = status
        self.summary["incidents"] = [INCIDENT] if incident else []

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.mode == "500":
            return web.Response(status=500, text="Internal Server Error")
        if self.mode == "html":
            return web.Response(text="<html><body>Status page is down for maintenance</body></html>",
                                content_type="text/html")
        if self.mode == "hang":
            await asyncio.sleep(3600)
        path = request.path
        if path.endswith("/rss"):
            return web.Response(text=self.rss, content_type="application/rss+xml")
        if path.endswith("summary.json"):
            document = self.summary
        elif path.endswith("components.json"):
            document = {"page": self.summary["page"], "components": self.summary["components"]}
        elif path.endswith("incidents/unresolved.json"):
            document = {"page": self.summary["page"], "incidents": self.summary["incidents"]}
        else:
            raise web.HTTPNotFound()
        body = json.dumps(document)
        if self.mode == "truncated":
            body = body[: len(body) // 2]
        if self.mode == "huge":
            body = json.dumps({**document, "padding": "x" * 10_000_000})
        return web.Response(text=body, content_type="application/json")


@pytest.fixture
async def feed():
    server = FeedServer()
    app = web.Application()
    app.router.add_get("/{tail:.*}", server.handle)
    runner, port = await start_app(app)
    server.base = f"http://127.0.0.1:{port}"
    yield server
    await runner.cleanup()


def statuspage(feed, **settings):
    return PROBE.validate_python({"id": "genesys-feed", "kind": "statuspage", "url": feed.base, "timeout": "1s",
                                  "components": ["EMEA (Ireland)"], **settings})


async def sample(cfg, ctx):
    return await asyncio.wait_for(run_probe(cfg, ctx, "local"), 15)


@pytest.mark.parametrize("api", ["summary", "components"])
async def test_statuspage_operational_outage_operational(api, feed, ctx):
    cfg = statuspage(feed, api=api)
    assert (await sample(cfg, ctx)).ok is True
    feed.set_status("EMEA (Ireland)", "major_outage", incident=True)
    down = await sample(cfg, ctx)
    assert down.ok is False
    assert "EMEA (Ireland): major_outage" in down.error and "Degraded call routing" in down.error
    assert down.detail["incidents"] == [{"id": "0b7y5s8kqf3m", "name": "Degraded call routing in EMEA (Ireland)",
                                         "status": "investigating", "link": "https://stspg.io/gc0b7y5s"}]
    assert down.detail["components"] == [{"id": "t7w2m1k4c9pz", "name": "EMEA (Ireland)", "status": "major_outage"}]
    feed.set_status("EMEA (Ireland)", "operational")
    assert (await sample(cfg, ctx)).ok is True


async def test_other_components_and_statuses(feed, ctx):
    feed.set_status("Americas (US East)", "major_outage")
    assert (await sample(statuspage(feed), ctx)).ok is True  # not ours
    assert (await sample(statuspage(feed, components=["lkz2xn8q3bk1"]), ctx)).ok is False  # by id
    feed.set_status("EMEA (Ireland)", "degraded_performance")
    assert (await sample(statuspage(feed), ctx)).ok is True  # degraded is optional
    assert (await sample(statuspage(feed, down_statuses=["degraded_performance", "major_outage"]), ctx)).ok is False
    feed.set_status("EMEA (Ireland)", "under_maintenance")
    assert (await sample(statuspage(feed), ctx)).ok is False  # the provider's maintenance: down for attribution


async def test_missing_component_is_unknown(feed, ctx):
    result = await sample(statuspage(feed, components=["APAC (Tokyo)"]), ctx)
    assert result.ok is None and "no component 'APAC (Tokyo)'" in result.error


@pytest.mark.parametrize("mode,error", [("500", "HTTP 500"), ("html", "not JSON"), ("truncated", "not JSON"),
                                        ("huge", "larger than max_body_bytes"), ("hang", "timeout after 1 s")])
async def test_unreadable_feed_is_unknown_never_down(mode, error, feed, ctx):
    feed.set_status("EMEA (Ireland)", "major_outage")
    feed.mode = mode
    result = await sample(statuspage(feed), ctx)
    assert result.ok is None and error in result.error


def rss(feed, **settings):
    return PROBE.validate_python({"id": "azure-westeurope", "kind": "rss", "url": f"{feed.base}/rss", "timeout": "1s",
                                  "match": [r"west\s*europe"], **settings})


async def test_rss_item_appears_resolves_and_disappears(feed, ctx):
    down = await sample(rss(feed), ctx)
    assert down.ok is False and "Networking issues impacting Azure services in West Europe" in down.error
    assert down.detail["incidents"][0]["link"].endswith("trackingId=YTQ2-LZ8")
    assert (await sample(rss(feed, match=["east us 2"]), ctx)).ok is True  # that one is mitigated
    feed.rss = AZURE.replace("Active - Networking issues", "Resolved - Networking issues")
    assert (await sample(rss(feed), ctx)).ok is True
    feed.rss = AZURE.split("<item>")[0] + "</channel></rss>"
    assert (await sample(rss(feed), ctx)).ok is True


@pytest.mark.parametrize("mode,error", [("500", "HTTP 500"), ("html", "not an RSS 2.0"), ("hang", "timeout")])
async def test_unreadable_rss_is_unknown(mode, error, feed, ctx):
    feed.mode = mode
    result = await sample(rss(feed), ctx)
    assert result.ok is None and error in result.error


async def test_rss_rejects_entity_expansion(feed, ctx):
    feed.rss = ('<?xml version="1.0"?><!DOCTYPE rss [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
                "<rss><channel><item><title>&b;</title></item></channel></rss>")
    result = await sample(rss(feed), ctx)
    assert result.ok is None and "not RSS" in result.error


def test_an_unreadable_feed_is_stored_as_unknown_and_ends_the_down_reading(tmp_path):
    """An unreadable feed's sample is stored as unknown (cause feed_unreadable): the third party's
    earlier "down" reading stops there instead of holding for stale_after, and nothing is down after it."""
    from monitor.config import parse_config
    from monitor.live.state import LiveState
    from monitor.probes import Sample
    from monitor.storage import Store

    cfg = parse_config((FIXTURES / "spec.yaml").read_text())
    tracker = LiveState(cfg, {p.id: 180_000 for p, _, _ in cfg.all_probes()})
    down = [Sample("g", "local", ts, False, 12.0, "statuspage: major_outage") for ts in (0, 60_000)]
    unreadable = Sample("g", "local", 120_000, None, 12.0, "feed: HTTP 500", cause="feed_unreadable")
    for sample in (*down, unreadable):
        tracker.apply([sample], sample.ts_ms)
    assert tracker.third_party_state("genesys-euw1", 120_000) == "unknown"
    store = Store.open(tmp_path / "s.db")
    store.append_samples([*down, unreadable], {"g": 180_000})
    rows = list(store.rows("SELECT start_ms, end_ms, ok, cause FROM segments ORDER BY start_ms"))
    assert [tuple(r.values()) for r in rows] == [(0, 120_000, 0, None), (120_000, 300_000, None, "feed_unreadable")]
    stored = list(store.rows("SELECT ts, ok, cause, error FROM samples WHERE ts = 120000"))
    assert stored == [{"ts": 120_000, "ok": None, "cause": "feed_unreadable", "error": "feed: HTTP 500"}]
    tracker.apply([Sample("g", "local", 180_000, False, 12.0, "statuspage: major_outage")], 180_000)
    tracker.apply([Sample("g", "local", 240_000, False, 12.0, "statuspage: major_outage")], 240_000)
    assert tracker.third_party_state("genesys-euw1", 240_000) == "down"
