"""Each probe kind against real servers on 127.0.0.1: healthy, failing, hanging, lying, garbage."""
from __future__ import annotations

import asyncio

import pytest
from aiohttp import web
from pydantic import TypeAdapter

from monitor import clock
from monitor.checks import Probe
from monitor.probes import run_probe
from loopback import (Certificates, answers_garbage, closes_mid_body, dns_stub, never_answers, raw_server,
                      start_app)

PROBE = TypeAdapter(Probe)


def probe(**settings):
    return PROBE.validate_python({"id": "p", "interval": "1s", "timeout": "1s", **settings})


async def sample_of(cfg, ctx):
    # A generous bound: the probe's own timeout must end it long before; the test fails rather than hangs.
    return await asyncio.wait_for(run_probe(cfg, ctx, "local"), 15)


@pytest.fixture
async def app_port():
    calls = {"flaky": 0}

    async def flaky(request):
        calls["flaky"] += 1
        return web.Response(status=503 if calls["flaky"] == 1 else 200, text="ok")

    async def slow(request):
        await asyncio.sleep(0.3)
        return web.Response(text="slow ok")

    async def ws(request):
        socket = web.WebSocketResponse()
        await socket.prepare(request)
        async for message in socket:
            await socket.send_str("pong" if message.data == "ping" else "what?")
        return socket

    async def ok(request):
        return web.json_response({"status": "ok", "data": {"items": [{"state": "up"}]}})

    async def fail(request):
        return web.Response(status=503, text="maintenance")

    async def redirect(request):
        raise web.HTTPFound("/ok")

    async def html(request):
        return web.Response(text="<html>oops</html>", content_type="text/html")

    app = web.Application()
    app.router.add_get("/ok", ok)
    app.router.add_get("/fail", fail)
    app.router.add_get("/redirect", redirect)
    app.router.add_get("/html", html)
    app.router.add_get("/flaky", flaky)
    app.router.add_get("/slow", slow)
    app.router.add_get("/ws", ws)
    runner, port = await start_app(app)
    yield port
    await runner.cleanup()


HTTP_CASES = [
    ("ok", {"path": "/ok"}, True, None),
    ("status", {"path": "/fail"}, False, "HTTP 503 (expected 200)"),
    ("expected-status", {"path": "/fail", "expect_status": [503]}, True, None),
    ("contains", {"path": "/ok", "body_contains": '"status": "ok"'}, True, None),
    ("contains-missing", {"path": "/ok", "body_contains": "healthy"}, False, "does not contain 'healthy'"),
    ("regex", {"path": "/ok", "body_regex": r'"state":\s*"up"'}, True, None),
    ("json-path", {"path": "/ok", "json_path": "data.items.0.state", "json_equals": "up"}, True, None),
    ("json-path-wrong", {"path": "/ok", "json_path": "status", "json_equals": "down"}, False, "is 'ok', expected 'down'"),
    ("json-path-missing", {"path": "/ok", "json_path": "data.nope"}, False, "no 'data.nope'"),
    ("not-json", {"path": "/html", "json_path": "status"}, False, "body is not JSON"),
    ("redirect-followed", {"path": "/redirect"}, True, None),
    ("redirect-not-followed", {"path": "/redirect", "follow_redirects": False}, False, "HTTP 302"),
    ("too-slow", {"path": "/slow", "max_latency": "100ms"}, False, "max_latency 100 ms"),
    ("hangs", {"path": "/slow", "timeout": "100ms"}, False, "timeout after 0.1 s"),
]


@pytest.mark.parametrize("name,settings,ok,error", HTTP_CASES, ids=[c[0] for c in HTTP_CASES])
async def test_http(name, settings, ok, error, app_port, ctx):
    path = settings.pop("path")
    sample = await sample_of(probe(kind="http", url=f"http://127.0.0.1:{app_port}{path}", **settings), ctx)
    assert sample.ok is ok, sample.error
    if error:
        assert error in sample.error
    assert sample.latency_ms is not None and sample.latency_ms >= 0


async def test_retries_happen_inside_one_sample(app_port, ctx):
    sample = await sample_of(probe(kind="http", url=f"http://127.0.0.1:{app_port}/flaky", retries=1,
                                   retry_delay="10ms"), ctx)
    assert sample.ok and sample.status_code == 200


MISBEHAVING = [("never-answers", never_answers, "timeout after 0.3 s"),
               ("garbage", answers_garbage, "http:"),
               ("closes-mid-body", closes_mid_body, "body cut short")]


@pytest.mark.parametrize("name,handler,error", MISBEHAVING, ids=[m[0] for m in MISBEHAVING])
async def test_misbehaving_targets_give_failed_samples(name, handler, error, ctx):
    async with raw_server(handler) as port:
        sample = await sample_of(probe(kind="http", url=f"http://127.0.0.1:{port}/", timeout="300ms"), ctx)
    assert sample.ok is False and error in sample.error


async def test_refused_connection(ctx):
    async with raw_server(never_answers) as port:
        pass  # closed: nothing listens there any more
    for kind in ({"kind": "http", "url": f"http://127.0.0.1:{port}/"}, {"kind": "tcp", "host": "127.0.0.1", "port": port}):
        sample = await sample_of(probe(**kind), ctx)
        assert sample.ok is False and "connect" in sample.error and "refused" in sample.error.lower()


async def test_tcp_ok(app_port, ctx):
    assert (await sample_of(probe(kind="tcp", host="127.0.0.1", port=app_port), ctx)).ok


@pytest.fixture
def certs(tmp_path):
    return Certificates(tmp_path)


async def test_tls_valid_and_expired(certs, ctx):
    runner, port = await start_app(web.Application(), certs.server_context(certs.valid))
    try:
        good = await sample_of(probe(kind="tls", host="127.0.0.1", port=port, ca_file=certs.ca_file), ctx)
        assert good.ok and good.cert_expiry_ms is not None
        strict = await sample_of(probe(kind="tls", host="127.0.0.1", port=port, ca_file=certs.ca_file,
                                       min_cert_days=120), ctx)
        assert strict.ok and "expires in" in strict.detail["warning"]  # valid: a warning, not down
        untrusted = await sample_of(probe(kind="tls", host="127.0.0.1", port=port), ctx)
        assert not untrusted.ok and "tls:" in untrusted.error
    finally:
        await runner.cleanup()
    runner, port = await start_app(web.Application(), certs.server_context(certs.expired))
    try:
        expired = await sample_of(probe(kind="tls", host="127.0.0.1", port=port, ca_file=certs.ca_file), ctx)
        assert not expired.ok and "expired" in expired.error
        unverified = await sample_of(probe(kind="tls", host="127.0.0.1", port=port, verify=False), ctx)
        assert not unverified.ok and "expired 3.0 days ago" in unverified.error
        https = await sample_of(probe(kind="http", url=f"https://127.0.0.1:{port}/", ca_file=certs.ca_file,
                                      expect_status=[404]), ctx)
        assert not https.ok and "expired" in https.error
    finally:
        await runner.cleanup()


async def test_a_certificate_with_5_days_left_is_up_with_a_warning(certs, ctx):
    runner, port = await start_app(web.Application(), certs.server_context(certs.soon))
    try:
        soon = await sample_of(probe(kind="tls", host="127.0.0.1", port=port, ca_file=certs.ca_file), ctx)
        https = await sample_of(probe(kind="http", url=f"https://127.0.0.1:{port}/", ca_file=certs.ca_file,
                                      expect_status=[404]), ctx)
    finally:
        await runner.cleanup()
    assert soon.ok is True and soon.error is None
    assert soon.detail == {"warning": "tls: certificate expires in 5.0 days (min_cert_days 14)"}
    assert 4.9 < (soon.cert_expiry_ms - clock.SYSTEM.now_ms()) / 86_400_000 <= 5
    assert https.ok is True  # the endpoint it is paired with is up too


async def test_https_with_private_ca(certs, ctx):
    async def secure(request):
        return web.Response(text="secure")

    app = web.Application()
    app.router.add_get("/", secure)
    runner, port = await start_app(app, certs.server_context(certs.valid))
    try:
        sample = await sample_of(probe(kind="http", url=f"https://127.0.0.1:{port}/", ca_file=certs.ca_file,
                                       body_contains="secure"), ctx)
        assert sample.ok and sample.status_code == 200
    finally:
        await runner.cleanup()


async def test_dns(ctx):
    async with dns_stub({"widget.test.": ["127.0.0.1", "127.0.0.2"]}) as port:
        server = f"127.0.0.1:{port}"
        ok = await sample_of(probe(kind="dns", name="widget.test", server=server, expect_addresses=["127.0.0.2"]), ctx)
        assert ok.ok, ok.error
        wrong = await sample_of(probe(kind="dns", name="widget.test", server=server, expect_addresses=["10.9.9.9"]), ctx)
        assert not wrong.ok and "missing 10.9.9.9" in wrong.error
        missing = await sample_of(probe(kind="dns", name="nope.test", server=server), ctx)
        assert not missing.ok and "NXDOMAIN" in missing.error


async def test_dns_server_that_never_answers(ctx):
    async with raw_server(never_answers) as port:  # TCP only: UDP queries to it go nowhere
        sample = await sample_of(probe(kind="dns", name="widget.test", server=f"127.0.0.1:{port}",
                                       timeout="300ms"), ctx)
    assert not sample.ok and ("dns:" in sample.error or "timeout" in sample.error)


async def test_websocket(app_port, ctx):
    url = f"ws://127.0.0.1:{app_port}/ws"
    assert (await sample_of(probe(kind="websocket", url=url, send="ping", expect="pong"), ctx)).ok
    wrong = await sample_of(probe(kind="websocket", url=url, send="hello", expect="pong"), ctx)
    assert not wrong.ok and "expected 'pong'" in wrong.error
    refused = await sample_of(probe(kind="websocket", url=f"ws://127.0.0.1:{app_port}/ok"), ctx)
    assert not refused.ok and "websocket" in refused.error


async def test_a_hung_probe_does_not_hold_up_others(app_port, ctx):
    async with raw_server(never_answers) as port:
        hung = asyncio.create_task(run_probe(probe(kind="http", url=f"http://127.0.0.1:{port}/", timeout="5s"),
                                             ctx, "local"))
        quick = [await sample_of(probe(kind="http", url=f"http://127.0.0.1:{app_port}/ok"), ctx) for _ in range(5)]
        assert all(s.ok for s in quick) and not hung.done()
        hung.cancel()


@pytest.mark.parametrize("kind", ["http", "tcp"])
async def test_the_send_time_is_when_the_request_leaves(kind, app_port, ctx):
    """The schedule drift is measured at the send: an HTTP probe marks it when aiohttp has a connection
    to write its request to, so a stall of the loop while it connects shows in it; other kinds mark
    their attempt's start."""
    import time

    from monitor.probes.base import REQUEST_SENT

    cfg = probe(kind="http", url=f"http://127.0.0.1:{app_port}/ok") if kind == "http" else \
        probe(kind="tcp", host="127.0.0.1", port=app_port)
    sent: list[int] = []

    async def probing():
        REQUEST_SENT.set(sent)  # as the scheduler does, in the probe's own task
        return await run_probe(cfg, ctx, "local")

    started = clock.SYSTEM.now_ms()
    task = asyncio.ensure_future(probing())
    await asyncio.sleep(0)  # the probe starts and waits for its connection
    time.sleep(0.08)  # the loop stalls (the engine's work, once)
    assert (await task).ok
    assert len(sent) == 1
    if kind == "http":
        assert sent[0] - started >= 80  # after the stall: the request left late, and the drift says so
    else:
        assert sent[0] - started < 80  # the attempt began before it
