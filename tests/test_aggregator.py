"""Many vantages, one verdict (issue 15): three daemons as vantages a, b and c against the simulated
fleet, Debian's Prometheus scraping them every second, and an aggregator reading Prometheus. A region
cut off from vantage a alone is no downtime; down for everyone, it counts, as long as it lasted (within
a scrape interval and a probe interval, stated below). Prometheus gone: /readyz says so, the time is
unknown (never down), and the aggregator catches up when it is back."""
from __future__ import annotations

import asyncio
import subprocess
import time

import aiohttp
import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from conftest import need_our_clock
from daemon_helpers import config_text, until
from prometheus_client import CollectorRegistry
from test_deploy import free_port

from monitor.app import Daemon
from monitor.config import parse_config
from monitor.live.aggregating import verdict
from monitor.samples import Sample

VANTAGES = ["a", "b", "c"]
THRESHOLD = "0.05"  # minutes: 3 s


def vantage_config(fleet, db: str, vantage: str):
    text = config_text(fleet, db, threshold_minutes=THRESHOLD, token=None)
    return parse_config(text + f"vantage: {vantage}\nvantages: [{', '.join(VANTAGES)}]\n")


def aggregator_config(fleet, db: str, prometheus: str, hook_url: str | None = None):
    # Its probes' interval is the rate their results reach it: Prometheus scrapes every second.
    text = config_text(fleet, db, threshold_minutes=THRESHOLD, token=None, interval="1s", hook_url=hook_url)
    text = text.replace("daemon: {", "daemon: {mode: aggregate, ")
    return parse_config(text + f"vantage: aggregator\nvantages: [{', '.join(VANTAGES)}]\n"
                               f"source: {{prometheus: {{url: \"{prometheus}\", poll: 500ms, lookback: 30s, "
                               f"timeout: 2s, retries: 0}}}}\n")


async def started(cfg, db: str) -> Daemon:
    daemon = Daemon(cfg, db, registry=CollectorRegistry())
    await daemon.start("127.0.0.1:0")
    return daemon


@pytest.fixture
async def setup(fleet, tmp_path):
    binary = need_our_clock("prometheus")
    vantages = [await started(vantage_config(fleet, str(tmp_path / f"{v}.db"), v), str(tmp_path / f"{v}.db"))
                for v in VANTAGES]
    port = free_port()
    (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s"},
        "scrape_configs": [{"job_name": "vantages", "static_configs": [
            {"targets": [f"127.0.0.1:{d.port}" for d in vantages]}]}]}))
    args = [binary, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
            f"--web.listen-address=127.0.0.1:{port}"]
    proc = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    aggregator = await started(aggregator_config(fleet, str(tmp_path / "agg.db"), url), str(tmp_path / "agg.db"))
    prom = {"proc": proc, "args": args}  # a test may restart it: stop whichever runs last
    try:
        yield fleet, vantages, aggregator, prom
    finally:
        await aggregator.stop()
        for daemon in vantages:
            await daemon.stop()
        prom["proc"].terminate()
        prom["proc"].wait(30)


async def downtime_s(daemon: Daemon, name: str) -> float:
    """The region's counted Downtime this month so far, as the daemon's engine computes it from its store."""
    await asyncio.sleep(0.3)  # past the report cache's life (refresh_interval)
    return (await daemon.reports.month(None)).region(name).figures.downtime_ms / 1000


async def test_one_vantage_cut_off_is_no_downtime_everyone_cut_off_counts(setup):
    fleet, vantages, aggregator, _ = setup
    await until(lambda: aggregator.live.region_state.get("eu-west") == "up", timeout=60)
    await asyncio.sleep(3)

    # 1. eu-west refuses vantage a only: a sees an outage, the quorum does not.
    fleet.targets["eu-west"].refused_vantages.add("a")
    await until(lambda: vantages[0].live.region_state.get("eu-west") == "down", timeout=20)
    await asyncio.sleep(8)
    assert aggregator.live.region_state.get("eu-west") == "up"
    fleet.targets["eu-west"].refused_vantages.clear()
    await until(lambda: vantages[0].live.region_state.get("eu-west") == "up", timeout=20)
    assert await downtime_s(vantages[0], "eu-west") > 0  # a alone counted it
    await asyncio.sleep(4)  # the aggregator has read past it
    assert await downtime_s(aggregator, "eu-west") == 0

    # 2. eu-west down for everyone for about 10 s: counted at the aggregator, as long as it lasted.
    fleet.set_mode("eu-west", "down")
    began = time.monotonic()
    await until(lambda: aggregator.live.region_state.get("eu-west") == "down", timeout=20)
    await asyncio.sleep(10)
    fleet.set_mode("eu-west", "up")
    lasted = time.monotonic() - began
    await until(lambda: aggregator.live.region_state.get("eu-west") == "up", timeout=20)
    await asyncio.sleep(3)
    counted_s = await downtime_s(aggregator, "eu-west")
    # Within a scrape interval (1 s) and a probe interval (0.2 s) at each end.
    assert abs(counted_s - lasted) <= 2.5, (counted_s, lasted)
    assert await downtime_s(aggregator, "us-east") == 0


async def test_prometheus_gone_is_unknown_never_down_and_the_aggregator_catches_up(setup):
    fleet, vantages, aggregator, prom = setup
    await until(lambda: aggregator.live.region_state.get("eu-west") == "up", timeout=60)
    prom["proc"].terminate()
    prom["proc"].wait(30)
    fleet.set_mode("us-east", "down")  # the vantages see it; the aggregator cannot, for now

    async def not_ready() -> str | None:
        async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{aggregator.port}/readyz") as r:
            return await r.text() if r.status == 503 else None
    text = await until(not_ready, timeout=20)
    assert "source unreadable" in text
    await asyncio.sleep(6)
    assert aggregator.live.region_state.get("us-east") != "down"  # unknown (stale), never down
    assert await downtime_s(aggregator, "us-east") == 0
    gap = (await aggregator.reports.month(None)).region("us-east").figures.unknown_ms
    assert gap >= 4_000  # nothing read: unknown

    prom["proc"] = subprocess.Popen(prom["args"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    # Prometheus kept what it scraped before it stopped; the outage goes on and is read once it is back.
    await until(lambda: aggregator.live.region_state.get("us-east") == "down", timeout=60)
    assert not [p for p in aggregator.readiness() if "source" in p]
    await asyncio.sleep(4)
    assert await downtime_s(aggregator, "us-east") > 0  # read again: the outage counts from when it was seen
    fleet.set_mode("us-east", "up")


def test_the_quorum_verdict_is_the_engines_rule():
    def latest(*oks):
        return {v: Sample("p", v, 1_000, ok, None) for v, ok in zip(VANTAGES, oks, strict=False) if ok != "-"}

    assert verdict(latest(False, True, True), VANTAGES, "majority", 1_500, 3_000) is True
    assert verdict(latest(False, False, True), VANTAGES, "majority", 1_500, 3_000) is False
    assert verdict(latest(False, "-", True), VANTAGES, "majority", 1_500, 3_000) is True  # 1 of 2 voters: no majority
    assert verdict(latest(False, None, "-"), VANTAGES, "majority", 1_500, 3_000) is False  # unknown does not vote
    assert verdict(latest(False, True, True), VANTAGES, 1, 1_500, 3_000) is False  # quorum: 1 vantage is enough
    assert verdict(latest(False, False, False), VANTAGES, "majority", 5_000, 3_000) is None  # all stale


async def test_two_aggregators_send_each_event_with_the_same_id(setup, tmp_path):
    """High availability: a second aggregator on the same Prometheus, both posting to one receiver. The
    outage's events reach it twice with one webhook-id each (Standard Webhooks receivers drop the
    second), and the two compute the same Downtime."""
    from hook_helpers import Receiver
    from loopback import start_app

    fleet, _, first, _ = setup
    receiver = Receiver()
    runner, port = await start_app(receiver.app())
    url = first.cfg.source.prometheus.url
    pair = []
    for name in ("agg1", "agg2"):
        db = str(tmp_path / f"{name}.db")
        pair.append(await started(aggregator_config(fleet, db, url, f"http://127.0.0.1:{port}/hook"), db))
    try:
        await until(lambda: all(a.live.region_state.get("eu-west") == "up" for a in pair), timeout=60)
        await asyncio.sleep(2)
        fleet.set_mode("eu-west", "down")
        await until(lambda: all(a.live.region_state.get("eu-west") == "down" for a in pair), timeout=30)
        await asyncio.sleep(5)
        fleet.set_mode("eu-west", "up")
        await until(lambda: all(a.live.region_state.get("eu-west") == "up" for a in pair), timeout=30)

        def by_type():
            seen: dict[str, set[str]] = {}
            for r in receiver.received:
                seen.setdefault(r["body"]["type"], set()).add(r["headers"]["webhook-id"])
            return seen
        await until(lambda: {"outage.opened", "outage.counted", "outage.resolved"} <= by_type().keys()
                    and len(receiver.received) >= 6, timeout=30)
        for kind, ids in by_type().items():
            assert len(ids) == 1, (kind, ids)  # sent by both, one id: delivered once as far as it can tell
        assert sum(r["body"]["type"] == "outage.opened" for r in receiver.received) == 2
        assert await downtime_s(pair[0], "eu-west") == await downtime_s(pair[1], "eu-west") > 0
    finally:
        for aggregator in pair:
            await aggregator.stop()
        await runner.cleanup()


async def test_partial_data_and_errors_are_read_again_never_taken_as_down(fleet, tmp_path):
    """A Prometheus answering 503, then with a partial-data warning, then properly: /readyz says why,
    nothing is stored until the answer is whole, and then the window is read in full."""
    from aiohttp import web
    from loopback import start_app

    answers = {"mode": "error"}
    point = {"metric": {"__name__": "probe_success", "probe": "eu-west-widget", "vantage": "a"}}

    async def query(request):
        if answers["mode"] == "error":
            return web.Response(status=503, text="overloaded")
        series = []
        if request.query["query"].startswith("probe_success"):
            end = float(request.query["time"])
            series = [{**point, "values": [[end - 1, "1"]]}]
        body = {"status": "success", "data": {"resultType": "matrix", "result": series}}
        if answers["mode"] == "partial":
            body["warnings"] = ["store 10.0.0.7:10901 unavailable"]
        return web.json_response(body)

    app = web.Application()
    app.router.add_get("/api/v1/query", query)
    runner, port = await start_app(app)
    db = str(tmp_path / "agg.db")
    aggregator = await started(aggregator_config(fleet, db, f"http://127.0.0.1:{port}"), db)
    feed = aggregator.probes.side
    try:
        async def readyz() -> str:
            async with aiohttp.ClientSession() as http, http.get(f"http://127.0.0.1:{aggregator.port}/readyz") as r:
                return f"{r.status} {await r.text()}"
        assert "source unreadable" in await until(lambda: feed.source_error and readyz(), timeout=10)
        answers["mode"] = "partial"
        await until(lambda: feed.source_error and "partial data" in feed.source_error, timeout=10)
        assert feed.recorder.writer.written == 0 and feed.reads == 0
        first_unread = feed.read_until
        answers["mode"] = "whole"
        await until(lambda: feed.source_error is None and feed.recorder.writer.written > 0, timeout=10)
        assert feed.read_until > first_unread and (await readyz()).startswith("200")
    finally:
        await aggregator.stop()
        await runner.cleanup()


async def test_an_aggregator_restarted_mid_outage_keeps_the_outages_start(setup, tmp_path):
    """Stopped and started again on its store while a region is down for everyone: the restored
    quorum state puts the outage's start where it was, so its event id (which carries it) is unchanged."""
    fleet, _, aggregator, _ = setup
    await until(lambda: aggregator.live.region_state.get("eu-west") == "up", timeout=60)
    fleet.set_mode("eu-west", "down")
    feed = aggregator.probes.side
    await until(lambda: "eu-west" in feed.recorder.state.outage_start, timeout=30)
    started_at = feed.recorder.state.outage_start["eu-west"]
    await asyncio.sleep(2)
    await aggregator.stop()
    again = await started(aggregator.cfg, str(tmp_path / "agg.db"))
    try:
        restored = again.probes.side.recorder.state
        assert restored.outage_start.get("eu-west") == started_at
        await asyncio.sleep(3)  # reading on: still the same outage
        assert restored.outage_start.get("eu-west") == started_at
    finally:
        fleet.set_mode("eu-west", "up")
        await again.stop()


@given(states=st.lists(st.sampled_from([True, False, None, "-"]), min_size=1, max_size=5),
       rule=st.sampled_from(["majority", 1, 2, 3]))
def test_the_live_verdict_and_the_engines_quorum_agree_on_any_votes(states, rule):
    """One instant, any vantages up, down, unknown or silent: the aggregator's live verdict is the
    engine's quorum over the same votes (one rule, sla.timeline.voted_down)."""
    from monitor.sla.timeline import StateSets, quorum

    vantages = [f"v{i}" for i in range(len(states))]
    latest = {v: Sample("p", v, 1_000, ok, None) for v, ok in zip(vantages, states, strict=True) if ok != "-"}
    live = verdict(latest, vantages, rule, 1_500, 3_000)
    per_vantage = [StateSets([(0, 10)] if ok is False else [], [(0, 10)] if ok in (None, "-") else [])
                   for ok in states]
    engine = quorum(per_vantage, rule, 0, 10)
    expected = None if engine.unknown == [(0, 10)] else not engine.down
    assert live == expected
