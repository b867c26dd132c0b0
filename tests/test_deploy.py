"""deploy/: promtool, systemd-analyze, compose and Dockerfile checks, and a real Prometheus scraping
the daemon, firing the region-down rule and evaluating every dashboard expression."""
from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
from pathlib import Path

import aiohttp
import pytest
import yaml
from prometheus_client import CollectorRegistry
from prometheus_client.parser import text_string_to_metric_families

from monitor.app import Daemon
from daemon_helpers import config_for, small_fleet, until

ROOT = Path(__file__).parent.parent
DEPLOY = ROOT / "deploy"
RULES = DEPLOY / "prometheus" / "rules" / "sla.rules.yml"
DASHBOARD = json.loads((DEPLOY / "grafana" / "dashboards" / "sla.json").read_text())


def need(tool: str) -> str:
    """The tool's path; in CI (where .ci/run installs Debian's prometheus) its absence is a failure."""
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI"):
            pytest.fail(f"{tool} is missing: .ci/run installs Debian's prometheus package")
        pytest.skip(f"{tool} not installed (apt-get install prometheus)")
    return path


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
            assert rule["annotations"]["runbook_url"].startswith("README.md#runbook-")
            anchor = rule["annotations"]["runbook_url"].split("#")[1]
            assert f'<a id="{anchor}"></a>' in (ROOT / "README.md").read_text(), anchor
        else:
            assert rule["record"] in tests, rule["record"]


def test_systemd_unit_verifies_where_systemd_analyze_runs():
    unit = (DEPLOY / "systemd" / "sla-monitor.service").read_text()
    for key in ("Type=notify", "WatchdogSec=", "DynamicUser=yes", "StateDirectory=sla-monitor",
                "ConfigurationDirectory=sla-monitor", "EnvironmentFile=-", "ProtectSystem=strict", "ProtectHome=yes",
                "PrivateTmp=yes", "NoNewPrivileges=yes", "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
                "SystemCallFilter=@system-service", "CapabilityBoundingSet=\n", "Restart=on-failure"):
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


def referenced_metrics() -> set[str]:
    rules = [r["expr"] for g in yaml.safe_load(RULES.read_text())["groups"] for r in g["rules"]]
    texts = rules + [t["expr"] for p in DASHBOARD["panels"] for t in p["targets"]]
    texts += [a["expr"] for a in DASHBOARD["annotations"]["list"]]
    texts += [v["definition"] for v in DASHBOARD["templating"]["list"]]
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
        p.last is not None for p in daemon.tracker.probes.values() if p.kind != "http" or p.region))
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

            await until(lambda: daemon.tracker.region_state.get("eu-west") == "up")
            async def scraped_up():
                return await value('sla_region_up{region="eu-west"}') == 1.0
            await until(scraped_up, timeout=60)
            fleet.set_mode("eu-west", "down")

            async def region_down_seen():
                return await value('sla_region_up{region="eu-west"}') == 0.0
            await until(region_down_seen, timeout=60)

            async def alert_firing():
                data = await get("/api/v1/alerts")
                return any(a["labels"]["alertname"] == "SlaRegionDown" and a["labels"].get("region") == "eu-west"
                           and a["state"] == "firing" for a in (data or {}).get("data", {}).get("alerts", []))
            await until(alert_firing, timeout=60)
            for query in dashboard_queries():
                data = await get("/api/v1/query", query=query)
                assert data is not None and data["status"] == "success", query
            series = await get("/api/v1/series", **{"match[]": "sla_region_up"})
            assert {s["region"] for s in series["data"]} >= {"eu-west", "us-east"}  # the $region variable's values
    finally:
        proc.terminate()
        proc.wait(30)
