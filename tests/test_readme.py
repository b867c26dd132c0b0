"""The README, followed as a new user would, from its own text: every `sh` block's commands run here
(in a scratch directory that links the repository's Makefile, config and .venv), except the two that
need what this machine lacks (`pipx`, a container engine: tests/test_container.py runs the image's
steps instead). `make run` serves the demo; `init` writes a config for two regions; `probe --once`
reaches the demo fleet; the daemon starts on it; the minimal config passes check-config; the month-end
walkthrough writes a report and a claim; the shipped Prometheus config, run as the README says, scrapes
the demo with the SLA rules, and every query of the Grafana dashboard runs on what it scraped (Grafana
itself is not packaged for this machine: tests/test_deploy.py checks the dashboard's portability). And
the README stays a front door: under 8 KB, links that resolve."""
from __future__ import annotations

import datetime as dt
import os
import re
import shlex
import signal
import json
import subprocess
import threading
import urllib.parse
import urllib.request
from pathlib import Path

import pytest
import yaml
from conftest import need
from daemon_helpers import eventually, http_json

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
NOT_HERE = ("pipx install", "docker ")  # no pipx, no container engine on this machine


def blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def commands(block: str) -> list[str]:
    """A block's command lines: continuations joined, comments dropped."""
    joined = re.sub(r"\\\n\s*", " ", block)
    found = []
    for line in joined.splitlines():
        words = shlex.split(line, comments=True)
        if words:
            found.append(line.split("  #")[0].strip())
    return found


@pytest.fixture
def scratch(tmp_path):
    for name in ("Makefile", "pyproject.toml", ".venv", "config", "monitor"):
        (tmp_path / name).symlink_to(ROOT / name)
    env = {**os.environ, "PATH": f"{ROOT / '.venv' / 'bin'}:{os.environ['PATH']}"}
    env.pop("SLA_MONITOR_CONFIG", None)
    return tmp_path, env


def sh(line: str, cwd: Path, env: dict, timeout: float = 300) -> subprocess.CompletedProcess:
    done = subprocess.run(line, shell=True, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, f"{line}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def background(line: str, cwd: Path, env: dict) -> subprocess.Popen:
    return subprocess.Popen(line, shell=True, cwd=cwd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def stop(proc: subprocess.Popen) -> None:
    os.killpg(proc.pid, signal.SIGTERM)
    proc.wait(60)


def test_the_readme_is_a_front_door():
    assert len(README.encode()) <= 8 * 1024
    first = blocks("sh")[0]
    assert [c.split()[:2] for c in commands(first)] == [["make", "run"], ["make", "test"]]  # it starts with them
    assert not re.search(r"[Ii]ssue \d|\.\./shared|SLA-SPEC|DESIGN\.md", README)
    assert "docs/img/status-page.png" in README and (ROOT / "docs" / "img" / "status-page.png").exists()


def test_every_link_in_the_readme_and_docs_resolves_and_none_leaves_the_repository():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
    for page in pages:
        text = page.read_text()
        for target in re.findall(r"\]\(([^)\s]+)\)", text):
            assert not target.startswith(("http://", "https://")), f"{page.name}: {target} leaves the repository"
            path, _, anchor = target.partition("#")
            linked = (page.parent / path).resolve() if path else page
            assert linked.exists(), f"{page.name}: {target}"
            if anchor and linked.suffix == ".md":
                headings = re.findall(r"^#+ (.+)$", linked.read_text(), flags=re.M)
                slugs = {re.sub(r"[^\w\s-]", "", h.lower()).replace(" ", "-") for h in headings}
                assert anchor in slugs, f"{page.name}: {target}: no such heading"


def test_the_demo_first_config_probe_and_daemon_as_the_readme_says(scratch):
    cwd, env = scratch
    make_run, _ = commands(blocks("sh")[0])
    install, first_config = blocks("sh")[1:3]
    for line in commands(install):
        if not line.startswith(NOT_HERE):
            sh(line.replace("~/.local/share/bash-completion/completions/sla-monitor", "completion.bash"), cwd, env)
    assert "sla-monitor" in (cwd / "completion.bash").read_text()
    demo = background(make_run, cwd, env)
    try:
        status = eventually(lambda: http_json("http://127.0.0.1:9465/api/v1/status"), 120, "make run serves the demo")
        assert {r["region"] for r in status["regions"]} >= {"eu-west", "us-east"}
        # First, while the demo's script keeps every region up (its first outage starts a minute in).
        *steps, run = commands(first_config)
        for line in steps:
            done = sh(line, cwd, env)
        assert " ok " in done.stdout and "eu-west-health" in done.stdout and "us-east-health" in done.stdout
        scrape_with_the_shipped_files(commands(blocks("sh")[3])[0], cwd, env)
        alert_with_the_shipped_routes(commands(blocks("sh")[4]), cwd, env)
        daemon = background(run, cwd, env)
        try:
            port = re.search(r"--listen \S+:(\d+)", run)
            url = f"http://127.0.0.1:{port.group(1) if port else 9465}/api/v1/status"
            mine = eventually(lambda: http_json(url), 120, "the new config's daemon serves its status")
            assert mine["service"] == "TrueEngage" and {r["region"] for r in mine["regions"]} == {"eu-west", "us-east"}
        finally:
            stop(daemon)
    finally:
        stop(demo)
    minimal = blocks("yaml")[0]
    assert len(minimal.strip().splitlines()) <= 20
    (cwd / "minimal.yaml").write_text(minimal)
    assert "config OK" in sh("sla-monitor --config minimal.yaml check-config", cwd, env).stdout
    assert yaml.safe_load(minimal)["regions"][0]["name"] == "eu-west"


def scrape_with_the_shipped_files(line: str, cwd: Path, env: dict) -> None:
    """The README's Prometheus line, verbatim but for where it keeps its data and listens (a test's own):
    it scrapes the demo, loads the rules, and every dashboard query runs on what it scraped."""
    from test_deploy import dashboard_queries, free_port

    assert line.startswith("prometheus --config.file=deploy/prometheus/prometheus.yml")
    # As a user runs it: its own data directory (not Debian's) and loopback only, the port a free one here.
    assert " --storage.tsdb.path=data/prometheus " in line and line.endswith(" --web.listen-address=127.0.0.1:9090")
    (cwd / "deploy").symlink_to(ROOT / "deploy")
    port = free_port()
    binary = need("prometheus")
    prom = background(f"{binary} {line.removeprefix('prometheus ').replace(':9090', f':{port}')}", cwd, env)
    base = f"http://127.0.0.1:{port}/api/v1"
    try:
        def regions() -> set[str]:
            data = http_json(f"{base}/query?query=sla_region_up")["data"]["result"]
            return {r["metric"]["region"] for r in data}
        assert eventually(lambda: {"eu-west", "us-east"} <= regions(), 90, "Prometheus scrapes the demo")
        rules = http_json(f"{base}/rules")["data"]["groups"]
        assert sum(len(g["rules"]) for g in rules) > 10  # the SLA rules, loaded from the shipped file
        for query in dashboard_queries():
            answer = http_json(f"{base}/query?{urllib.parse.urlencode({'query': query})}")
            assert answer["status"] == "success", query
    finally:
        stop(prom)


def alert_with_the_shipped_routes(lines: list[str], cwd: Path, env: dict) -> None:
    """The README's local receiver and Alertmanager lines, verbatim but for their ports (a test's own):
    a critical alert posted to that Alertmanager reaches the receiver's /pager after the shipped
    group_wait, and the receiver prints it."""
    from test_deploy import free_port

    listen, alertmanager = lines
    assert listen == "sla-monitor hooks listen --listen 127.0.0.1:9099"
    assert alertmanager.startswith("prometheus-alertmanager --config.file=deploy/alertmanager/alertmanager.local.yml")
    assert " --storage.path=data/alertmanager " in alertmanager and "--web.listen-address=127.0.0.1:9093" in alertmanager
    hook_port, am_port = free_port(), free_port()
    local = (ROOT / "deploy" / "alertmanager" / "alertmanager.local.yml").read_text()
    (cwd / "alertmanager.local.yml").write_text(local.replace(":9099/", f":{hook_port}/"))
    receiver = subprocess.Popen(listen.replace(":9099", f":{hook_port}"), shell=True, cwd=cwd, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True)
    binary = need("prometheus-alertmanager")
    am = background(alertmanager.replace("prometheus-alertmanager ", f"{binary} ", 1).replace(
        "deploy/alertmanager/alertmanager.local.yml", "alertmanager.local.yml").replace(":9093", f":{am_port}"), cwd, env)
    printed: list[str] = []
    threading.Thread(target=lambda: printed.extend(receiver.stdout), daemon=True).start()
    try:
        alert = [{"labels": {"alertname": "SlaOutage", "region": "eu-west", "severity": "critical"},
                  "annotations": {"summary": "eu-west: the open outage now counts against the SLA"}}]

        def posted() -> bool:
            request = urllib.request.Request(f"http://127.0.0.1:{am_port}/api/v2/alerts", json.dumps(alert).encode(),
                                             {"Content-Type": "application/json"})
            with urllib.request.urlopen(request, timeout=5) as answer:
                return answer.status == 200
        eventually(posted, 60, "the README's Alertmanager takes an alert")
        eventually(lambda: len(printed) >= 2, 90, "the receiver prints the page (after the shipped group_wait)")
        assert printed[0].startswith(f"listening on http://127.0.0.1:{hook_port}/"), printed
        assert printed[1].strip() == ("/pager firing SlaOutage eu-west severity=critical: eu-west: the open outage now "
                                      "counts against the SLA"), printed
    finally:
        stop(am)
        stop(receiver)


def readme_report() -> tuple[str, list[list[str]]]:
    """The month the README's report excerpt names, and that excerpt's rows as words."""
    month, table = re.search(r"month-end report \(`report --month (\d{4}-\d{2})`.*?```\n(.*?)```", README, flags=re.S).groups()
    return month, [line.split() for line in table.strip().splitlines()]


def test_the_month_end_walkthrough_prints_what_the_readme_shows(scratch):
    """The month-end block, run literally: `make demo-month` prints the very table the README shows (on
    any day: the demo month is the README's), and the claim asks for the credit that table gives."""
    cwd, env = scratch
    month, rows = readme_report()
    walkthrough = next(b for b in blocks("sh") if "report --month" in b)
    assert f"report --month {month}" in walkthrough and "# " + dt.date.fromisoformat(f"{month}-01").strftime("%B %Y") \
        in walkthrough  # the block names the excerpt's month in words and in its commands
    printed = []
    for line in commands(walkthrough):
        if line.startswith("export "):
            name, _, value = line.removeprefix("export ").partition("=")
            env[name] = value
            continue
        printed += [out.split() for out in sh(line, cwd, env, timeout=600).stdout.splitlines()]
    for row in rows:
        assert row in printed, f"the README shows {' '.join(row)!r}; the walkthrough printed no such line"
    report_pdf = re.search(r"report --month \S+ --format pdf --output (\S+)", walkthrough).group(1)
    report, claim = (cwd / report_pdf).read_bytes(), (cwd / "claim.pdf").read_bytes()
    assert report.startswith(b"%PDF") and claim.startswith(b"%PDF")
    text = subprocess.run([need("pdftotext"), str(cwd / "claim.pdf"), "-"], capture_output=True, text=True).stdout
    credited = [row for row in rows if re.fullmatch(r"[1-9]\d*%", row[-4]) and row[-3] == "="]  # "10% = 410.00 USD"
    assert credited and f"Service credit claim for {month}" in text
    for row in credited:
        assert row[0] in text and row[-2] in text  # the region and its amount
