"""deploy/: promtool, systemd-analyze, compose and Dockerfile checks, and a real Prometheus scraping
the daemon, firing the region-down rule and evaluating every dashboard expression."""
from __future__ import annotations

import json
import re
import shutil
import socket
import subprocess
from pathlib import Path

import aiohttp
import pytest
import yaml
from conftest import need
from daemon_helpers import config_for, small_fleet, until
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from monitor.app import Daemon

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "sla.rules.yml"
RUNBOOKS = (ROOT / "monitor" / "web" / "templates" / "runbooks.html").read_text()
DASHBOARD = json.loads((DEPLOY / "grafana" / "dashboards" / "sla.json").read_text())


def test_promtool_check_config_and_rules():
    promtool = need("promtool")
    for args in (["check", "config", "prometheus.yml"], ["check", "config", "prometheus.compose.yml"]):
        done = subprocess.run([promtool, *args], cwd=DEPLOY / "prometheus", capture_output=True, text=True)
        assert done.returncode == 0, done.stdout + done.stderr
    done = subprocess.run([promtool, "test", "rules", "sla.rules.test.yml"], cwd=RULES.parent, capture_output=True,
                          text=True)
    assert done.returncode == 0 and "SUCCESS" in done.stdout, done.stdout + done.stderr


def test_every_rule_is_tested_and_labelled():
    rules = [r for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    tests = (RULES.parent / "sla.rules.test.yml").read_text()
    for rule in rules:
        if "alert" in rule:
            assert f"alertname: {rule['alert']}" in tests, rule["alert"]
            assert rule["labels"]["severity"] in ("critical", "warning", "info")
            assert "region" in rule["labels"] or "region" in rule["expr"] or "$labels.region" in rule["annotations"]["summary"]
            # Absolute: the monitor's own /runbooks page (web.public_url), read from monitor_runbook_info.
            url = rule["annotations"]["runbook_url"]
            assert url.startswith("{{ with query ") and "monitor_runbook_info" in url and ".Labels.url" in url, url
            anchor = url.split("#")[1]
            assert f'id="{anchor}"' in RUNBOOKS, anchor
        else:
            assert rule["record"] in tests, rule["record"]


def test_systemd_unit_verifies_where_systemd_analyze_runs():
    unit = (DEPLOY / "systemd" / "sla-monitor.service").read_text()
    for key in ("Type=notify", "WatchdogSec=", "DynamicUser=yes", "StateDirectory=sla-monitor",
                "ConfigurationDirectory=sla-monitor", "EnvironmentFile=-", "ProtectSystem=strict", "ProtectHome=yes",
                "PrivateTmp=yes", "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n", "Restart=on-failure",
                "LimitNOFILE=65536"):
        assert key in unit, key
    analyze = shutil.which("systemd-analyze")
    if analyze is None:
        pytest.skip("systemd-analyze not installed here; the unit's keys were checked above")
    done = subprocess.run([analyze, "verify", str(DEPLOY / "systemd" / "sla-monitor.service")], capture_output=True,
                          text=True)
    problems = [line for line in (done.stdout + done.stderr).splitlines()
                if "sla-monitor.service" in line and "Command /opt/sla-monitor" not in line]
    assert not problems, problems


def test_compose_and_dockerfile_reference_files_that_exist():
    compose = yaml.safe_load((DEPLOY / "compose.yaml").read_text())
    assert {"sla-monitor", "prometheus", "alertmanager", "grafana"} <= set(compose["services"])
    for service in compose["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if source.startswith("."):
                assert (DEPLOY / source).exists(), source
        if "build" in service:
            context = DEPLOY / service["build"]["context"]
            assert (context / service["build"]["dockerfile"]).exists()
    dockerfile = (DEPLOY / "docker" / "Dockerfile").read_text()
    for source in re.findall(r"^COPY (\S+(?: \S+)*) \S+$", dockerfile, re.M):
        for item in source.split():
            assert (ROOT / item).exists(), item
    assert "RUN pip install ." in dockerfile  # the project's own install, as `make test` does it
    for key in ("USER sla-monitor", "VOLUME", "HEALTHCHECK", "/healthz", "STOPSIGNAL SIGTERM"):
        assert key in dockerfile, key
    assert yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())["route"]["receiver"]


def _datasources(node) -> list[dict]:
    if isinstance(node, dict):
        found = [node["datasource"]] if isinstance(node.get("datasource"), dict) else []
        return found + [d for key, value in node.items() if key != "datasource" for d in _datasources(value)]
    return [d for item in node for d in _datasources(item)] if isinstance(node, list) else []


def state_names() -> dict[str, str]:
    timeline = next(p for p in DASHBOARD["panels"] if p["type"] == "state-timeline")
    return {value: option["text"] for mapping in timeline["fieldConfig"]["defaults"]["mappings"]
            for value, option in mapping["options"].items()}


def test_the_dashboard_imports_into_any_grafana_with_ids_named_states_and_absolute_links():
    variables = {v["name"]: v for v in DASHBOARD["templating"]["list"]}
    # No fixed data source uid: a variable the importing Grafana fills with its own Prometheus.
    assert variables["datasource"]["type"] == "datasource" and variables["datasource"]["query"] == "prometheus"
    sources = _datasources(DASHBOARD)
    assert sources and all(d == {"type": "prometheus", "uid": "${datasource}"} for d in sources), sources
    ids = [p["id"] for p in DASHBOARD["panels"]]
    assert all(isinstance(i, int) for i in ids) and len(set(ids)) == len(ids)
    assert state_names() == {"0": "up", "1": "down", "2": "third party down", "3": "maintenance"}
    # Links are absolute: the monitor's own address, from monitor_runbook_info (web.public_url).
    assert "monitor_runbook_info" in variables["monitor"]["definition"]
    links = DASHBOARD["links"] + [link for p in DASHBOARD["panels"] for link in p.get("links", [])]
    assert links and all(link["url"].startswith("${monitor}/") for link in links)
    for link in links:
        if "#" in link["url"]:
            assert f'id="{link["url"].split("#")[1]}"' in RUNBOOKS, link


def referenced_metrics() -> set[str]:
    rules = [r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    texts = rules + [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]
    texts += [a["expr"] for a in DASHBOARD["annotations"]["list"]]
    texts += [v.get("definition", "") for v in DASHBOARD["templating"]["list"]]
    # Metric names, not the recording rules' own "sla:probe_error:…" names.
    return {m for text in texts for m in re.findall(r"(?<![:\w])((?:sla|probe|monitor)_[a-z_]*[a-z])\b", text)}


def dashboard_queries() -> list[str]:
    exprs = [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]
    exprs += [a["expr"] for a in DASHBOARD["annotations"]["list"]]
    return [e.replace("$region", ".*").replace("$__rate_interval", "1m") for e in exprs]


@pytest.fixture
async def live(tmp_path):
    fleet = await small_fleet()
    daemon = Daemon(config_for(fleet, str(tmp_path / "p.db")), str(tmp_path / "p.db"), registry=CollectorRegistry())
    await daemon.start()
    yield fleet, daemon
    await daemon.stop()
    await fleet.stop()


async def test_every_metric_the_rules_and_dashboard_use_is_exported(live):
    fleet, daemon = live
    await until(lambda: daemon.figures.computed_ms is not None and all(
        p.last is not None for p in daemon.live.probes.values() if p.kind != "http" or p.region))
    families = {f.name for f in text_string_to_metric_families(daemon.metrics_text().decode())}
    exported = families | {f"{name}_total" for name in families} | {f"{name}_bucket" for name in families}
    missing = sorted(referenced_metrics() - exported)
    assert not missing, f"used by rules or dashboard but not exported: {missing}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


async def test_real_prometheus_scrapes_fires_and_evaluates_the_dashboard(live, tmp_path):
    prometheus = need("prometheus")
    fleet, daemon = live
    port = free_port()
    config = tmp_path / "prometheus.yml"
    config.write_text(yaml.safe_dump({
        "global": {"scrape_interval": "1s", "evaluation_interval": "1s"},
        "rule_files": [str(RULES)],
        "scrape_configs": [{"job_name": "sla-monitor", "static_configs": [{"targets": [f"127.0.0.1:{daemon.port}"]}]}],
    }))
    proc = subprocess.Popen([prometheus, f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'tsdb'}",
                             f"--web.listen-address=127.0.0.1:{port}"], stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as http:
            async def get(path, **params):
                try:
                    async with http.get(base + path, params=params) as r:
                        return await r.json() if r.status == 200 else None
                except aiohttp.ClientError:
                    return None

            async def value(query):
                data = await get("/api/v1/query", query=query)
                result = (data or {}).get("data", {}).get("result", [])
                return float(result[0]["value"][1]) if result else None

            await until(lambda: daemon.live.region_state.get("eu-west") == "up")
            async def scraped_up():
                return await value('sla_region_up{region="eu-west"}') == 1.0
            await until(scraped_up, timeout=60)
            fleet.set_mode("eu-west", "down")

            async def region_down_seen():
                return await value('sla_region_up{region="eu-west"}') == 0.0
            await until(region_down_seen, timeout=60)

            async def alert_active():  # pending: SlaRegionDown waits 2 minutes before it fires
                data = await get("/api/v1/alerts")
                return next((a for a in (data or {}).get("data", {}).get("alerts", [])
                             if a["labels"]["alertname"] == "SlaRegionDown" and a["labels"].get("region") == "eu-west"
                             and a["state"] in ("pending", "firing")), None)
            alert = await until(alert_active, timeout=60)
            # The runbook link is absolute: the monitor's own /runbooks page, which has the anchor.
            runbook = alert["annotations"]["runbook_url"]
            assert runbook == f"http://127.0.0.1:{daemon.port}/runbooks#runbook-slaregiondown"
            async with http.get(runbook.split("#")[0]) as page:
                assert page.status == 200 and 'id="runbook-slaregiondown"' in await page.text()
            for query in dashboard_queries():
                data = await get("/api/v1/query", query=query)
                assert data is not None and data["status"] == "success", query
            # The state timeline names eu-west's state "down"; the monitor variable is its public URL.
            timeline = next(p for p in DASHBOARD["panels"] if p["type"] == "state-timeline")
            state = await value(timeline["targets"][0]["expr"].replace("$region", "eu-west"))
            assert state is not None and state_names()[str(int(state))] == "down"
            monitor = next(v for v in DASHBOARD["templating"]["list"] if v["name"] == "monitor")
            urls = (await get("/api/v1/label/url/values"))["data"]
            stripped = [m.group(1) for u in urls if (m := re.fullmatch(monitor["regex"].strip("/"), u))]
            assert stripped == [f"http://127.0.0.1:{daemon.port}"]
            series = await get("/api/v1/series", **{"match[]": "sla_region_up"})
            assert {s["region"] for s in series["data"]} >= {"eu-west", "us-east"}  # the $region variable's values
    finally:
        proc.terminate()
        proc.wait(30)


def test_the_local_alertmanager_config_routes_as_the_shipped_one():
    """alertmanager.local.yml (the README's try on one's own machine) is the shipped routing with local
    receivers: the same route tree, the same receiver names, no inhibitions in either."""
    shipped = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.yml").read_text())
    local = yaml.safe_load((DEPLOY / "alertmanager" / "alertmanager.local.yml").read_text())
    assert local["route"] == shipped["route"]
    assert [r["name"] for r in local["receivers"]] == [r["name"] for r in shipped["receivers"]]
    assert "inhibit_rules" not in local and "inhibit_rules" not in shipped
    assert all(r["webhook_configs"][0]["url"] == f"http://127.0.0.1:9099/{r['name']}" for r in local["receivers"])


def test_the_local_receiver_prints_any_body_without_failing():
    from monitor.commands.listen import lines

    assert lines("/chat", {"alerts": [{"status": "resolved", "labels": {"alertname": "SlaRegionDown"}}]}) == [
        "/chat resolved SlaRegionDown ? severity=?: ?"]
    assert lines("/hook", {"type": "outage.opened", "summary": "eu-west is down", "region": "eu-west",
                           "severity": "critical"}) == ["/hook event outage.opened eu-west severity=critical: eu-west is down"]
    for garbage in ([1, 2], "text", {"alerts": [None, 3, {"labels": "x"}]}, None):
        assert all(isinstance(line, str) for line in lines("/x", garbage))
