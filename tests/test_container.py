"""The container image and the compose demo, without a container engine (none runs here: `docker` is
only a client on this machine). The Dockerfile's own steps run in a fresh virtual environment: the
files it copies, its `pip install .`, its ENTRYPOINT and CMD as compose's demo runs them (beside the
simulated fleet, sharing its loopback), and its HEALTHCHECK command verbatim. The installed size is
printed and written to tests/artifacts/image-size.txt."""
from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest
import yaml
from daemon_helpers import eventually, http_json

ROOT = Path(__file__).resolve().parent.parent
DOCKERFILE = (ROOT / "deploy" / "docker" / "Dockerfile").read_text()
COMPOSE = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())
ARTIFACTS = ROOT / "tests" / "artifacts"


def instruction(name: str) -> list[str]:
    """Every ``name`` instruction's argument, continuation lines joined."""
    text = re.sub(r"\\\n\s*", " ", DOCKERFILE)
    return [line.split(None, 1)[1] for line in text.splitlines() if line.startswith(f"{name} ")]


def exec_form(name: str) -> list[str]:
    return json.loads(instruction(name)[-1])


def test_compose_runs_the_demo_config_against_the_simulated_fleet():
    services = COMPOSE["services"]
    assert {"fleet", "sla-monitor", "prometheus", "alertmanager", "grafana"} <= set(services)
    assert services["fleet"]["entrypoint"][:3] == ["python", "-m", "monitor.simulate"]
    monitor = services["sla-monitor"]
    assert monitor["network_mode"] == "service:fleet"  # the demo config's 127.0.0.1 targets are the fleet's
    assert "../config/demo.yaml:/etc/sla-monitor/monitor.yaml:ro" in monitor["volumes"]
    demo = yaml.safe_load((ROOT / "config" / "demo.yaml").read_text())
    urls = re.findall(r"(?:url: \"|host: )(?:http://)?([\d.]+)(?::|\", port: )(\d+)", (ROOT / "config" / "demo.yaml").read_text())
    fleet_ports = {int(p) for p in re.findall(r"Target\(\"[\w-]+\", (\d+)", (ROOT / "monitor" / "simulate.py").read_text())}
    assert urls and all(host == "127.0.0.1" and int(port) in fleet_ports for host, port in urls), urls
    assert demo["web"]["public_url"].startswith("${SLA_MONITOR_PUBLIC_URL")
    scrape = yaml.safe_load((ROOT / "deploy" / "prometheus" / "prometheus.compose.yml").read_text())
    assert scrape["scrape_configs"][0]["static_configs"][0]["targets"] == ["fleet:9465"]
    assert "9465:9465" in services["fleet"]["ports"]


def _free(port: int) -> bool:
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.timeout(900)
def test_the_dockerfile_steps_in_a_fresh_venv_and_the_demo_goes_green_then_red(tmp_path):
    if not (_free(9465) and _free(18081) and _free(18099)):
        pytest.fail("ports 9465, 18081 or 18099 are taken: stop `make run` (the demo) first")
    # COPY: exactly the files the image gets, in WORKDIR.
    workdir = tmp_path / instruction("WORKDIR")[0].lstrip("/")
    workdir.mkdir(parents=True)
    for line in instruction("COPY"):
        *sources, target = line.split()
        if target.startswith("/"):  # the config: compose mounts its own instead
            continue
        for source in sources:
            src = ROOT / source
            dest = workdir / (source if target.endswith("/") or target == "./" else target)
            shutil.copytree(src, dest) if src.is_dir() else shutil.copy(src, dest)
    # RUN pip install . (the useradd/mkdir half is the base image's business).
    run = next(line for line in instruction("RUN") if "pip install" in line)
    assert run.startswith("pip install . ")
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    bin_dir = venv / "bin"
    env = {**os.environ, "PATH": f"{bin_dir}:{os.environ['PATH']}", "PYTHONDONTWRITEBYTECODE": "1",
           "PIP_NO_CACHE_DIR": "0", "SLA_MONITOR_CONFIG": str(ROOT / "config" / "demo.yaml")}
    env.pop("VIRTUAL_ENV", None)
    done = subprocess.run([str(bin_dir / "pip"), "install", "--quiet", "."], cwd=workdir, env=env,
                          capture_output=True, text=True, timeout=800)
    assert done.returncode == 0, done.stderr[-3000:]
    size_mb = sum(f.stat().st_size for f in venv.rglob("*") if f.is_file()) / 1e6
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "image-size.txt").write_text(f"installed environment (the image's layer over python:3.11-slim): "
                                              f"{size_mb:.0f} MB\n")
    print(f"image layer estimate: {size_mb:.0f} MB")
    # The fleet service's entrypoint and command, then the monitor's ENTRYPOINT and CMD as compose runs them
    # (0.0.0.0 becomes 127.0.0.1: tests listen on loopback only).
    fleet_args = COMPOSE["services"]["fleet"]["entrypoint"] + COMPOSE["services"]["fleet"]["command"]
    fleet = subprocess.Popen([str(bin_dir / fleet_args[0]), *fleet_args[1:]], cwd=tmp_path, env=env,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    entry = exec_form("ENTRYPOINT") + exec_form("CMD")
    entry = [str(tmp_path / "db.sqlite") if a == "/var/lib/sla-monitor/sla-monitor.db" else a for a in entry]
    entry = [a.replace("0.0.0.0:", "127.0.0.1:") for a in entry]
    monitor = subprocess.Popen([str(bin_dir / entry[0]), *entry[1:]], cwd=tmp_path, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        health = shlex.split(instruction("HEALTHCHECK")[0].split(" CMD ", 1)[1])
        assert health[0] == "python"

        def healthy() -> bool:
            return subprocess.run([str(bin_dir / "python"), *health[1:]], env=env, timeout=10).returncode == 0
        eventually(healthy, 60, "the HEALTHCHECK command passes")

        def regions() -> dict[str, str]:
            return {r["region"]: r["state"] for r in http_json("http://127.0.0.1:9465/api/v1/status")["regions"]}
        eventually(lambda: regions().get("eu-west") == "up" and regions().get("us-east") == "up", 60, "the demo is green")
        request = urllib.request.Request("http://127.0.0.1:18099/_sim/eu-west", data=b'{"mode": "down"}',
                                         headers={"Content-Type": "application/json"})
        urllib.request.urlopen(request, timeout=5).close()
        eventually(lambda: regions().get("eu-west") == "down", 60, "eu-west goes red")
        assert regions().get("us-east") == "up"
    finally:
        monitor.terminate()
        log, _ = monitor.communicate(timeout=60)
        fleet.terminate()
        fleet.wait(30)
    assert monitor.returncode == 0, log[-2000:]
    lines = [json.loads(line) for line in log.splitlines() if line.startswith("{")]
    assert lines and lines[-1]["msg"].startswith("event=stopped"), log[-2000:]  # JSON logs (CMD's), a clean stop
