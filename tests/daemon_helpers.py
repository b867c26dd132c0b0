"""A small fleet for daemon tests: simulated targets on free ports and a config probing them fast."""
from __future__ import annotations

import asyncio
import contextlib
import inspect
import json
import time
import urllib.request

import aiohttp
from prometheus_client import CollectorRegistry

from monitor.app import Daemon
from monitor.clock import SYSTEM, Clock
from monitor.config import parse_config
from monitor.simulate import Fleet, Target


async def small_fleet() -> Fleet:
    fleet = Fleet()
    for target in (Target("eu-west", 0), Target("us-east", 0), Target("panel", 0),
                   Target("genesys", 0, kind="statuspage"), Target("unlinked", 0, kind="statuspage"),
                   Target("hang", 0), Target("control", 0), Target("vonage", 0, kind="tcp")):
        fleet.add(target)
    fleet.targets["hang"].mode = "hang"
    await fleet.start(0)
    return fleet


def config_text(fleet: Fleet, db: str, interval: str = "200ms", stale_after: str | None = None,
                threshold_minutes: str = "0.02", token: str | None = "s3cret-token", hang: bool = False,
                hook_url: str | None = None, control: bool = False, alertmanager_url: str | None = None,
                idle_timeout: str = "10s", buffer: str | None = None, timeout: str = "150ms",
                hook_events: str = '["outage.*"]', tokens: str | None = None, web_extra: str = "") -> str:
    port = {name: t.port for name, t in fleet.targets.items()}
    stale = f", stale_after: {stale_after}" if stale_after else ""
    common = f"interval: {interval}, timeout: {timeout}{stale}"
    hang_probe = (f"""
      - name: slow-edge
        critical: false
        probes:
          - {{id: hang-probe, kind: http, url: "http://127.0.0.1:{port['hang']}/", interval: 3s, timeout: 2s{stale}}}"""
                  if hang else "")
    hooks = (f"""
hooks:
  destinations:
    - {{name: receiver, type: webhook, url: "{hook_url}", secret: "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", timeout: 2s}}
  routes:
    - {{destination: receiver, events: {hook_events}}}""" if hook_url else "")
    if alertmanager_url:
        hooks = f"""
hooks:
  destinations:
    - {{name: am, type: alertmanager, url: "{alertmanager_url}", resend_interval: 1s, timeout: 2s}}
  routes:
    - {{destination: am, events: ["outage.*", "maintenance.*"]}}"""
    # The monitor's control target, and a third party watched by a plain TCP probe (no feed): both
    # fail when the monitor loses its network.
    vantage = (f"""
vantage_health:
  interval: 30s
  probes:
    - {{id: control, kind: http, url: "http://127.0.0.1:{port['control']}/", timeout: 500ms}}""" if control else "")
    vonage = (f"""
  - name: vonage
    provider: Vonage
    probes:
      - {{id: vonage-tcp, kind: tcp, host: 127.0.0.1, port: {port['vonage']}, {common}}}""" if control else "")
    return f"""{hooks}{vantage}
service: daemon test
timezone: UTC
policy: {{downtime_threshold_minutes: {threshold_minutes}, confirm_failures: 2}}
storage: {{path: '{db}'{f", buffer: '{buffer}'" if buffer else ""}}}
web: {{listen: "127.0.0.1:0", idle_timeout: {idle_timeout}{f', api_token: "{token}"' if token else ''}{f', tokens: {tokens}' if tokens else ''}{web_extra}}}
daemon: {{flush_interval: 200ms, refresh_interval: 200ms, shutdown_grace: 3s}}
third_parties:
  - name: genesys
    provider: Genesys Cloud
    probes:
      - {{id: genesys-api, kind: statuspage, url: "http://127.0.0.1:{port['genesys']}", components: [genesys], {common}}}
  - name: unlinked
    provider: Someone Else
    probes:
      - {{id: unlinked-feed, kind: statuspage, url: "http://127.0.0.1:{port['unlinked']}", components: [unlinked], {common}}}{vonage}
regions:
  - name: eu-west
    monthly_fee: "1000.00"
    currency: EUR
    depends_on: [genesys{', vonage' if control else ''}]
    components:
      - name: widget
        probes:
          - {{id: eu-west-widget, kind: http, url: "http://127.0.0.1:{port['eu-west']}/health", {common}}}
      - name: panel
        critical: false
        probes:
          - {{id: eu-west-panel, kind: http, url: "http://127.0.0.1:{port['panel']}/", {common}}}{hang_probe}
  - name: us-east
    components:
      - name: widget
        probes:
          - {{id: us-east-widget, kind: http, url: "http://127.0.0.1:{port['us-east']}/health", {common}}}
"""


def config_for(fleet: Fleet, db: str, **kw):
    return parse_config(config_text(fleet, db, **kw))


async def until(predicate, timeout: float = 15.0, step: float = 0.05):
    """Wait until ``predicate()`` is truthy (a bound, not a performance claim: fails rather than hangs)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = predicate()
        if inspect.isawaitable(value):  # an async function, or a lambda calling one
            value = await value
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout} s")
        await asyncio.sleep(step)


def metric(text: str, name: str, **labels) -> float | None:
    """The value of one series in a Prometheus text exposition."""
    for line in text.splitlines():
        if line.startswith(name + "{") or line.startswith(name + " "):
            series, _, value = line.rpartition(" ")
            if all(f'{k}="{v}"' in series for k, v in labels.items()):
                return float(value)
    return None


def get(url: str, headers: dict | None = None, method: str = "GET", body: dict | None = None):
    """A blocking HTTP call (run it in a thread from async tests): (status, text)."""
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json",
                                                                              **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


# Where a daemon on a ``TickingClock`` starts: mid-month, so a test's few minutes stay inside one month.
MID_NOVEMBER_MS = 1_795_000_000_000  # 2026-11-18T11:06:40Z


@contextlib.asynccontextmanager
async def running_daemon(fleet: Fleet, db: str, clock: Clock = SYSTEM, **config):
    """A started daemon on the fleet (``config_for`` options), with ``daemon.http`` a session on its
    web port; stopped on the way out (a test may stop it earlier: stopping twice does nothing). A test
    that asserts on the month passes ``clock=TickingClock(MID_NOVEMBER_MS)`` and reads ``daemon.clock``."""
    daemon = Daemon(config_for(fleet, db, **config), db, registry=CollectorRegistry(), clock=clock)
    await daemon.start()
    try:
        async with aiohttp.ClientSession(f"http://127.0.0.1:{daemon.port}") as http:
            daemon.http = http
            yield daemon
    finally:
        await daemon.stop()


def http_json(url: str):
    """GET ``url`` and parse its JSON (from a test's own thread, outside any event loop)."""
    with urllib.request.urlopen(url, timeout=5) as answer:
        return json.load(answer)


def eventually(check, timeout: float, what: str):
    """``check()``'s first truthy answer within ``timeout`` s (connection errors are "not yet"), or an
    AssertionError saying ``what`` did not happen. For tests that drive processes, not an event loop."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if found := check():
                return found
        except OSError:
            pass
        time.sleep(0.5)
    raise AssertionError(f"not within {timeout} s: {what}")
