"""Hostile targets and texts (issue 11, first part): every answer becomes a sample with one readable,
bounded line, and no secret of a URL reaches a stored error. Real loopback servers."""
from __future__ import annotations

import json

import pytest
from aiohttp import web

from monitor.checks.http import HttpProbe
from monitor.checks.statuspage import StatuspageProbe
from monitor.probes import run_probe
from monitor.redact import MAX_ERROR_CHARS, redact, safe_error
from conftest import write_jsonl
from loopback import answers_garbage, raw_server, start_app


@pytest.fixture
async def hostile():
    async def deep(request):
        return web.Response(text="[" * 200_000 + "]" * 200_000, content_type="application/json")

    async def loop(request):
        raise web.HTTPFound(location=str(request.url))  # the same URL again, query and all

    async def garbage_summary(request):
        return web.json_response({"components": [{"id": ["not", "hashable"], "name": "x", "status": "major_outage"}],
                                  "incidents": [{"id": "i", "components": 5}]})

    app = web.Application()
    app.router.add_get("/deep", deep)
    app.router.add_get("/loop", loop)
    app.router.add_get("/api/v2/summary.json", garbage_summary)
    runner, port = await start_app(app)
    yield port
    await runner.cleanup()


def http(url: str, **extra) -> HttpProbe:
    return HttpProbe(id="p", kind="http", url=url, timeout=3000, **extra)


async def test_https_to_a_server_that_does_not_speak_tls_is_down_with_one_line(hostile, ctx):
    sample = await run_probe(http(f"https://127.0.0.1:{hostile}/"), ctx, "local")
    assert sample.ok is False and sample.error == "tls: WRONG_VERSION_NUMBER"


async def test_a_200000_deep_json_body_is_down_not_a_crash(hostile, ctx):
    sample = await run_probe(http(f"http://127.0.0.1:{hostile}/deep", json_path="status", json_equals="ok"), ctx, "l")
    assert sample.ok is False and sample.error == "json: body nested too deep to read"


async def test_a_body_over_max_body_bytes_says_so(hostile, ctx):
    sample = await run_probe(http(f"http://127.0.0.1:{hostile}/deep", body_contains="ok", max_body_bytes=1000), ctx, "l")
    assert sample.ok is False
    assert sample.error == "body: over max_body_bytes (1000 bytes): not checked (raise the limit or probe a smaller page)"


async def test_a_redirect_loop_says_so_without_the_urls_secret(hostile, ctx):
    sample = await run_probe(http(f"http://127.0.0.1:{hostile}/loop?apikey=s3cr3t-k3y"), ctx, "local")
    assert sample.ok is False and sample.error == "http: too many redirects (10)"


async def test_a_garbage_answer_is_one_readable_line(ctx):
    async with raw_server(answers_garbage) as port:
        sample = await run_probe(http(f"http://127.0.0.1:{port}/"), ctx, "local")
    assert sample.ok is False and "\n" not in sample.error and len(sample.error) <= MAX_ERROR_CHARS
    assert sample.error.startswith("http: ")


async def test_a_statuspage_document_of_the_wrong_shape_is_unknown(hostile, ctx):
    probe = StatuspageProbe(id="s", kind="statuspage", url=f"http://127.0.0.1:{hostile}", components=["x"],
                            timeout=3000)
    sample = await run_probe(probe, ctx, "local")
    assert sample.ok is None and sample.cause == "feed_unreadable"
    assert sample.error.startswith(f"feed: http://127.0.0.1:{hostile}: not a Statuspage document (TypeError")


async def test_a_bug_in_a_check_is_an_unknown_sample_of_the_monitors_fault(ctx, monkeypatch):
    async def broken(cfg, context):
        return 1 / 0

    monkeypatch.setattr(HttpProbe, "check", broken)
    sample = await run_probe(http("http://127.0.0.1:9/"), ctx, "local")
    assert sample.ok is None and sample.cause == "monitor_fault"
    assert sample.error == "internal error: ZeroDivisionError: division by zero"


@pytest.mark.parametrize("text, secret, expected", [
    ("GET https://x.example/v1?apikey=abc123&q=1 failed", None, "GET https://x.example/v1?apikey=***&q=1 failed"),
    ("to https://user:pa55@x.example/ refused", None, "to https://***@x.example/ refused"),
    ("post to https://hooks.slack.com/services/T0/B0/XyZ failed", None, "post to https://hooks.slack.com/services/*** failed"),
    ("InvalidURL https://h.example/hook/t0ps3cret", "https://h.example/hook/t0ps3cret", "InvalidURL https://h.example/***"),
    ("key R0UT1NGKEY was refused", "R0UT1NGKEY", "key *** was refused"),
])
def test_redaction(text, secret, expected):
    assert redact(text, [secret] if secret else []) == expected


def test_errors_are_bounded_on_one_line():
    assert safe_error("a\nb  c") == "a b c"
    long = safe_error("x" * 900_000)
    assert len(long) == MAX_ERROR_CHARS and long.endswith("…")


def test_imported_errors_are_bounded(run_cli, tmp_path):
    rows = [{"ts": "2026-11-03T10:00:00Z", "probe": "w", "ok": False, "error": "e" * 900_000}]
    assert run_cli("import", str(write_jsonl(tmp_path / "big.jsonl", rows))).code == 0
    import sqlite3
    (error,), = sqlite3.connect(tmp_path / "store.db").execute("SELECT error FROM samples").fetchall()
    assert len(error) == MAX_ERROR_CHARS
    json.dumps(error)


def test_a_catastrophic_regex_cannot_stall_the_probe_loop(tmp_path):
    """`(a+)+$` against 40 a's and a b: exponential for a backtracking engine (hours), linear for RE2.
    Run in a child process so that a regression shows as a failure (killed at the bound), not a hang."""
    import subprocess
    import sys

    script = """
import asyncio
from aiohttp import web
from monitor import clock
from monitor.checks.http import HttpProbe
from monitor.checks.rss import RssProbe
from monitor.probes import ProbeContext, run_probe

async def main():
    app = web.Application()
    app.router.add_get("/", lambda r: web.Response(text="a" * 40 + "b"))
    runner = web.AppRunner(app); await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0); await site.start()
    port = runner.addresses[0][1]
    ctx = ProbeContext(clock.SYSTEM)
    sample = await run_probe(HttpProbe(id="p", kind="http", url=f"http://127.0.0.1:{port}/", body_regex="(a+)+$"),
                             ctx, "local")
    print(sample.ok, sample.error)
    await ctx.close(); await runner.cleanup()
asyncio.run(main())
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip() == "False body: does not match /(a+)+$/"


async def test_idle_connections_to_the_web_port_are_closed(fleet, tmp_path):
    """An idle client, or one that trickles its headers, cannot hold a socket: after web.idle_timeout
    the daemon closes it."""
    import asyncio

    from daemon_helpers import running_daemon

    async with running_daemon(fleet, str(tmp_path / "d.db"), idle_timeout="500ms") as daemon:
        reader, writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        closed = await asyncio.wait_for(reader.read(), 30)  # the server's close, or a TimeoutError
        writer.close()
        # A client that trickles its headers (slowloris) is cut at the same timeout.
        slow_reader, slow_writer = await asyncio.open_connection("127.0.0.1", daemon.port)
        slow_writer.write(b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n")

        async def trickle():
            while not slow_writer.is_closing():
                slow_writer.write(b"X-Slow: 1\r\n")
                await asyncio.sleep(0.1)

        dripping = asyncio.create_task(trickle())
        cut = await asyncio.wait_for(slow_reader.read(), 30)
        dripping.cancel()
        slow_writer.close()
    assert closed == b"" and cut == b""
