"""One outage, one page, end to end: the daemon on a simulated fleet, a real Prometheus with the
shipped rules, two real Alertmanagers with the shipped routes (one with the shipped group_wait, one
with 10 s), and a webhook receiver in place of each receiver, counting what reaches the pager.

Four production regions go down at once, with a 15-second threshold (the SLA's 15 minutes, scaled):
- us-east stays down until paged: one page (the daemon's own SlaOutage), resolved at the recovery;
- solo, whose outage alerts the daemon does not post, the same: one page, from the rules' SlaOutage;
- eu-west, while its third party (Genesys Cloud) is down: wholly excluded, as long as the others,
  pages nobody; chat gets the notice;
- ap, down 12 seconds: brief, pages nobody.
After the recoveries the receivers are watched for longer than a new group's wait: no region-down
page, no burn-rate page, nothing. (group_interval is 5 s instead of the shipped 5 min, so a group
that changes after the recovery would notify within the watch.)"""
from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path

import aiohttp
import yaml
from aiohttp import web
from conftest import need_our_clock
from daemon_helpers import until
from loopback import start_app
from prometheus_client import CollectorRegistry
from test_deploy import free_port

from monitor.app import Daemon
from monitor.config import parse_config
from monitor.simulate import Fleet, Target

DEPLOY = Path(__file__).parent.parent / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "sla.rules.yml"
SHIPPED_ROUTES = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
REGIONS = ("us-east", "solo", "eu-west", "ap")
BRIEF_S = 12  # under the 15-second threshold
# The counted outages last this long at least: past the fast burn's thresholds (14.4 × 0.1 % of an
# hour is 52 s), so a burn-rate page that was not silent for a counted outage would page here.
COUNTED_S = 80


class Notifications:
    """What each Alertmanager sent each receiver: (alertmanager, receiver, status, [alertname/region])."""

    def __init__(self):
        self.seen: list[tuple[str, str, str, list[str]]] = []

    async def handle(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.seen.append((request.match_info["am"], request.match_info["receiver"], body["status"],
                          sorted(f"{a['labels']['alertname']}/{a['labels'].get('region', '')}" for a in body["alerts"])))
        return web.Response(text="ok")

    def to(self, am: str, receiver: str, status: str | None = None) -> list[list[str]]:
        return [alerts for a, r, s, alerts in self.seen if a == am and r == receiver and status in (None, s)]


def daemon_config(fleet: Fleet, db: Path, alertmanagers: dict[str, int]) -> str:
    # stale_after 3 s: a loaded machine can stall the test's own loop (probes, Prometheus, two
    # Alertmanagers on two cores) for longer than 3 intervals; the gap would be unknown, split the
    # outage's period in two, and the second period's count page again (a CI run saw it once).
    port = {name: t.port for name, t in fleet.targets.items()}
    destinations = "\n".join(f'    - {{name: {name}, type: alertmanager, url: "http://127.0.0.1:{p}", resend_interval: 1s, '
                             'timeout: 2s}' for name, p in alertmanagers.items())
    routes = "\n".join(f'    - {{destination: {name}, events: ["outage.*"], regions: [us-east, eu-west, ap]}}\n'
                       f'    - {{destination: {name}, events: ["third_party.*"]}}' for name in alertmanagers)
    regions = "\n".join(f"""  - name: {name}{'''
    depends_on: [genesys]''' if name == 'eu-west' else ''}
    components:
      - name: widget
        probes:
          - {{id: {name}-widget, kind: http, url: "http://127.0.0.1:{port[name]}/health", interval: 200ms, timeout: 150ms,
              stale_after: 3s}}"""
                        for name in REGIONS)
    return f"""
service: paging test
timezone: UTC
policy: {{downtime_threshold_minutes: 0.25, confirm_failures: 2}}
storage: {{path: {db}}}
web: {{listen: "127.0.0.1:0"}}
daemon: {{flush_interval: 200ms, refresh_interval: 200ms, shutdown_grace: 3s}}
hooks:
  destinations:
{destinations}
  routes:
{routes}
third_parties:
  - name: genesys
    provider: Genesys Cloud
    probes:
      - {{id: genesys-api, kind: statuspage, url: "http://127.0.0.1:{port['genesys']}", components: [genesys],
         interval: 200ms, timeout: 150ms, stale_after: 3s}}
regions:
{regions}
"""


def alertmanager_config(hook_port: int, name: str, group_wait: str) -> dict:
    """The shipped routes and inhibitions (none) as they are, but for the group wait and interval; each
    receiver a webhook to this test."""
    return {"route": {**SHIPPED_ROUTES["route"], "group_wait": group_wait, "group_interval": "5s"},
            "inhibit_rules": SHIPPED_ROUTES.get("inhibit_rules") or [],
            "receivers": [{"name": r["name"], "webhook_configs": [
                {"url": f"http://127.0.0.1:{hook_port}/{name}/{r['name']}", "send_resolved": True}]}
                for r in SHIPPED_ROUTES["receivers"]]}


async def test_one_outage_pages_once_and_excluded_or_brief_ones_page_nobody(tmp_path):
    prometheus, alertmanager = need_our_clock("prometheus"), need_our_clock("prometheus-alertmanager")
    shipped_wait = SHIPPED_ROUTES["route"]["group_wait"]
    waits = {"shipped": shipped_wait, "wait10s": "10s"}
    notes = Notifications()
    app = web.Application()
    app.router.add_post("/{am}/{receiver}", notes.handle)
    runner, hook_port = await start_app(app)
    fleet = Fleet()
    for name in REGIONS:
        fleet.add(Target(name, 0))
    fleet.add(Target("genesys", 0, kind="statuspage"))
    await fleet.start(0)
    processes: list[subprocess.Popen] = []
    daemon = None
    try:
        am_ports = {}
        for name, wait in waits.items():
            am_ports[name] = free_port()
            (tmp_path / f"{name}.yml").write_text(yaml.safe_dump(alertmanager_config(hook_port, name, wait)))
            processes.append(subprocess.Popen(
                [alertmanager, f"--config.file={tmp_path / f'{name}.yml'}", f"--storage.path={tmp_path / name}",
                 f"--web.listen-address=127.0.0.1:{am_ports[name]}", "--cluster.listen-address="],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        daemon = Daemon(parse_config(daemon_config(fleet, tmp_path / "d.db", am_ports)), str(tmp_path / "d.db"),
                        registry=CollectorRegistry())
        await daemon.start()
        prom_port = free_port()
        (tmp_path / "prometheus.yml").write_text(yaml.safe_dump({
            "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
            "rule_files": [str(RULES)],
            "alerting": {"alertmanagers": [{"static_configs": [{"targets": [f"127.0.0.1:{p}" for p in am_ports.values()]}]}]},
            "scrape_configs": [{"job_name": "sla-monitor", "static_configs": [{"targets": [f"127.0.0.1:{daemon.port}"]}]}],
        }))
        processes.append(subprocess.Popen(
            [prometheus, f"--config.file={tmp_path / 'prometheus.yml'}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
             f"--web.listen-address=127.0.0.1:{prom_port}"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

        async with aiohttp.ClientSession() as http:
            async def posted() -> dict[str, float]:
                try:
                    async with http.get(f"http://127.0.0.1:{prom_port}/api/v1/query",
                                        params={"query": "sla_outage_alerts_posted"}) as r:
                        result = (await r.json())["data"]["result"] if r.status == 200 else []
                except aiohttp.ClientError:
                    return {}
                return {s["metric"]["region"]: float(s["value"][1]) for s in result}
            # Prometheus scrapes the daemon: it posts the outage alerts of all regions but solo.
            assert await until(posted, timeout=60) == {"us-east": 1.0, "eu-west": 1.0, "ap": 1.0, "solo": 0.0}
            await until(lambda: all(daemon.live.region_state.get(r) == "up" for r in REGIONS), timeout=30)

            fleet.set_mode("genesys", "down")
            await until(lambda: daemon.live.third_state.get("genesys") == "down")
            loop = asyncio.get_running_loop()
            down_at = loop.time()
            for name in REGIONS:
                fleet.set_mode(name, "refuse")
            await asyncio.sleep(BRIEF_S)
            fleet.set_mode("ap", "up")

            def paged(region: str) -> bool:
                return all(any(f"SlaOutage/{region}" in alerts for alerts in notes.to(am, "pager", "firing"))
                           for am in waits)
            await until(lambda: paged("us-east") and paged("solo"), timeout=120)
            await asyncio.sleep(max(0.0, down_at + COUNTED_S - loop.time()))
            for name in ("us-east", "solo", "eu-west"):
                fleet.set_mode(name, "up")
            await until(lambda: all(daemon.live.region_state.get(r) == "up" for r in REGIONS))
            fleet.set_mode("genesys", "up")

            def resolved() -> bool:
                return all(sorted(a for alerts in notes.to(am, "pager", "resolved") for a in alerts)
                           == ["SlaOutage/solo", "SlaOutage/us-east"] for am in waits)
            try:
                await until(resolved, timeout=60)
            except AssertionError:
                raise AssertionError(f"not resolved at every pager: {notes.seen}") from None
            # Watch past a new group's wait and a group interval: nothing pages after the recoveries.
            await asyncio.sleep(int(shipped_wait.rstrip("s")) + 10)

        for am in waits:
            # Exactly one page per counted outage, then its resolve; nothing for eu-west or ap.
            assert sorted(notes.to(am, "pager", "firing")) == [["SlaOutage/solo"], ["SlaOutage/us-east"]], notes.seen
            assert sorted(notes.to(am, "pager")) == [["SlaOutage/solo"]] * 2 + [["SlaOutage/us-east"]] * 2, notes.seen
            # Chat got the excluded outage's notice and the third party's.
            chat = [a for alerts in notes.to(am, "chat", "firing") for a in alerts]
            assert "SlaRegionDown/eu-west" in chat and "SlaThirdPartyDown/" in chat, notes.seen
        # With 10 s to wait, the brief outage (12 s) reached chat as a notice too: it was seen, not paged.
        assert "SlaRegionDown/ap" in [a for alerts in notes.to("wait10s", "chat") for a in alerts], notes.seen
        outages = daemon.figures.current.regions
        counted = {r.region: r.figures.downtime_ms > 0 for r in outages}
        assert counted == {"us-east": True, "solo": True, "eu-west": False, "ap": False}
    finally:
        if daemon is not None:
            await daemon.stop()
        for proc in processes:
            proc.terminate()
        for proc in processes:
            proc.wait(30)
        await fleet.stop()
        await runner.cleanup()
