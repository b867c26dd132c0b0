"""Alerts that stay true in a real Alertmanager (Debian's prometheus-alertmanager on 127.0.0.1) with a
short resolve_timeout: a region down for longer stays firing until it recovers, then resolves once;
a maintenance window starts and ends as one alert (issue 10)."""
from __future__ import annotations

import asyncio
import subprocess

import aiohttp
import yaml
from aiohttp import web
from conftest import need_our_clock
from daemon_helpers import running_daemon, until
from loopback import start_app
from test_deploy import free_port

from monitor import clock
from monitor.sla.calendar import iso

RESOLVE_TIMEOUT_S = 3


class Notifications:
    """Alertmanager's webhook notifications: (status, alertname, region, fingerprint) per alert."""

    def __init__(self):
        self.seen: list[tuple[str, str, str, str]] = []

    async def handle(self, request):
        for a in (await request.json())["alerts"]:
            self.seen.append((a["status"], a["labels"]["alertname"], a["labels"].get("region", ""), a["fingerprint"]))
        return web.Response(text="ok")

    def of(self, alertname: str, status: str) -> list:
        return [n for n in self.seen if n[1] == alertname and n[0] == status]


async def test_a_long_outage_stays_firing_and_a_window_is_one_alert(fleet, tmp_path):
    binary = need_our_clock("prometheus-alertmanager")
    notes = Notifications()
    app = web.Application()
    app.router.add_post("/", notes.handle)
    runner, hook_port = await start_app(app)
    (tmp_path / "am.yml").write_text(yaml.safe_dump({
        "global": {"resolve_timeout": f"{RESOLVE_TIMEOUT_S}s"},
        "route": {"receiver": "hook", "group_by": ["alertname", "region"], "group_wait": "0s",
                  "group_interval": "1s", "repeat_interval": "1h"},
        "receivers": [{"name": "hook", "webhook_configs": [{"url": f"http://127.0.0.1:{hook_port}/",
                                                            "send_resolved": True}]}]}))
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={tmp_path / 'am.yml'}", f"--storage.path={tmp_path / 'am'}",
                             f"--web.listen-address=127.0.0.1:{port}", "--cluster.listen-address="],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        async with aiohttp.ClientSession() as http:
            async def active(alertname: str):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/api/v2/alerts") as r:
                        alerts = await r.json() if r.status == 200 else []
                except aiohttp.ClientError:
                    return []
                return [a for a in alerts if a["labels"]["alertname"] == alertname and a["status"]["state"] == "active"]

            await until(lambda: _ready(http, port), timeout=30)
            async with running_daemon(fleet, str(tmp_path / "d.db"), threshold_minutes="0.05",
                                      alertmanager_url=f"http://127.0.0.1:{port}") as daemon:
                await until(lambda: daemon.live.region_state.get("eu-west") == "up")
                fleet.set_mode("eu-west", "refuse")
                firing = await until(lambda: active("SlaOutage"), timeout=30)
                starts_at = firing[0]["startsAt"]
                # Three resolve_timeouts down: never resolved by Alertmanager on its own, same start.
                for _ in range(3 * RESOLVE_TIMEOUT_S * 4):
                    await asyncio.sleep(0.25)
                    still = await active("SlaOutage")
                    assert len(still) == 1 and still[0]["startsAt"] == starts_at
                assert not notes.of("SlaOutage", "resolved") and daemon.resender.sent >= RESOLVE_TIMEOUT_S
                fleet.set_mode("eu-west", "up")
                await until(lambda: notes.of("SlaOutage", "resolved"), timeout=30)

                # An emergency window from 1 s to 5 s from now: one alert, started and ended.
                now = clock.SYSTEM.now_ms()
                async with daemon.http.post("/api/v1/maintenance", headers={"Authorization": "Bearer s3cret-token"},
                                            json={"region": "eu-west", "start": iso(now + 1000), "end": iso(now + 5000),
                                                  "kind": "emergency", "announced_at": iso(now),
                                                  "reason": "failover test"}) as r:
                    assert r.status == 201, await r.text()
                await until(lambda: notes.of("SlaMaintenance", "firing"), timeout=30)
                await until(lambda: notes.of("SlaMaintenance", "resolved"), timeout=30)
                await asyncio.sleep(3)  # a second alert or a second resolve would arrive within this
    finally:
        proc.terminate()
        proc.wait(30)
        await runner.cleanup()
    outage_prints = {n[3] for n in notes.seen if n[1] == "SlaOutage"}
    assert len(outage_prints) == 1 and len(notes.of("SlaOutage", "resolved")) == 1
    window_prints = {n[3] for n in notes.seen if n[1] == "SlaMaintenance"}
    assert len(window_prints) == 1 and len(notes.of("SlaMaintenance", "resolved")) == 1


async def _ready(http, port) -> bool:
    try:
        async with http.get(f"http://127.0.0.1:{port}/api/v2/status") as r:
            return r.status == 200
    except aiohttp.ClientError:
        return False
