"""`import --from-prometheus` (issue 15): a real Prometheus (Debian's) holding blackbox-style series
written with `promtool tsdb create-blocks-from openmetrics`; the month's report from it equals the one
from the same samples imported as JSONL. And a Prometheus that fails, refuses or is not there: clear
errors, retries, and a store left as it was."""
from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import yaml
from aiohttp import web
from conftest import need, write_jsonl
from loopback import start_app
from test_bad_input import snapshot
from test_deploy import free_port

from monitor.cli import main
from monitor.sla.calendar import iso
from spec_examples import ms

URL = "http://127.0.0.1:9/health"  # the probe's target: blackbox_exporter's `instance`
START, END = ms("2026-11-03T00:00:00Z"), ms("2026-11-05T00:00:00Z")
NOW = "2026-12-05T00:00:00Z"
MIN = 60_000


def state(vantage: str, t: int) -> tuple[bool | None, str | None]:
    """What vantage ``vantage`` saw at ``t``: (ok, cause); None ok with vantage_unhealthy while a's own
    network was down. b has no samples at all 15:00–15:20 (a scrape gap)."""
    at = lambda hhmm: ms(f"2026-11-03T{hhmm}:00Z")  # noqa: E731
    if vantage == "a" and at("18:00") <= t < at("18:10"):
        return None, "vantage_unhealthy"
    if vantage == "a" and at("10:00") <= t < at("10:40"):  # a alone: no quorum, not downtime
        return False, None
    if at("12:00") <= t < at("12:30"):  # both: 30 minutes counted
        return False, None
    if vantage == "b" and ms("2026-11-04T07:00:00Z") <= t < ms("2026-11-04T07:20:00Z"):  # b alone again
        return False, None
    return True, None


def has_sample(vantage: str, t: int) -> bool:
    return not (vantage == "b" and ms("2026-11-03T15:00:00Z") <= t < ms("2026-11-03T15:20:00Z"))


def openmetrics() -> str:
    """The samples as blackbox_exporter would have left them in Prometheus: probe_success and
    probe_duration_seconds by instance and job (the vantage), the vantage's health gauge, and a probe
    that is not in the config."""
    success, duration, health, other = [], [], [], []
    for vantage in ("a", "b"):
        labels = f'{{instance="{URL}",job="{vantage}"}}'
        for t in range(START, END, MIN):
            if not has_sample(vantage, t):
                continue
            ok, cause = state(vantage, t)
            seconds = t // 1000
            if cause is None:
                success.append(f"probe_success{labels} {1 if ok else 0} {seconds}")
                if ok:
                    duration.append(f"probe_duration_seconds{labels} 0.0125 {seconds}")
    for t in range(START, END, MIN):
        health.append(f'monitor_vantage_healthy{{job="a"}} {0 if state("a", t)[1] else 1} {t // 1000}')
        other.append(f'probe_success{{instance="https://elsewhere.example/",job="a"}} 1 {t // 1000}')
    return "\n".join(["# TYPE probe_success gauge", *success, *other, "# TYPE probe_duration_seconds gauge",
                      *duration, "# TYPE monitor_vantage_healthy gauge", *health, "# EOF"]) + "\n"


def jsonl_rows():
    """The same samples as the JSONL importer takes them (unhealthy time: unknown samples)."""
    for vantage in ("a", "b"):
        for t in range(START, END, MIN):
            if not has_sample(vantage, t):
                continue
            ok, cause = state(vantage, t)
            if cause is not None:
                yield {"ts": iso(t), "probe": "w", "vantage": vantage, "ok": None, "cause": cause}
            else:
                yield {"ts": iso(t), "probe": "w", "vantage": vantage, "ok": ok, "latency_ms": 12.5 if ok else None}


CONFIG = {
    "service": "TrueEngage (backfill)", "timezone": "UTC", "vantage": "a", "vantages": ["a", "b"],
    "regions": [{"name": "eu-west", "monthly_fee": "1000.00", "currency": "EUR", "components": [
        {"name": "widget", "probes": [{"id": "w", "kind": "http", "url": URL, "interval": "60s"}]}]}],
}


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory):
    """Debian's Prometheus on a TSDB made by promtool from the OpenMetrics above."""
    promtool, binary = need("promtool"), need("prometheus")
    tmp = tmp_path_factory.mktemp("prom")
    (tmp / "in.om").write_text(openmetrics())
    subprocess.run([promtool, "tsdb", "create-blocks-from", "openmetrics", str(tmp / "in.om"), str(tmp / "tsdb")],
                   check=True, capture_output=True, timeout=300)
    (tmp / "prometheus.yml").write_text(yaml.safe_dump({"global": {"scrape_interval": "1h"}}))
    port = free_port()
    proc = subprocess.Popen([binary, f"--config.file={tmp / 'prometheus.yml'}", f"--storage.tsdb.path={tmp / 'tsdb'}",
                             "--storage.tsdb.retention.time=100y", f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(base + "/-/ready", timeout=2) as r:
                    if r.status == 200:
                        break
            except OSError:
                pass
            assert time.monotonic() < deadline, "prometheus did not become ready"
            time.sleep(0.2)
        yield base
    finally:
        proc.terminate()
        proc.wait(30)


def run(config: Path, db: Path, *args: str) -> int:
    return main(["--config", str(config), "--db", str(db), "--now", NOW, *args])


@pytest.fixture
def config(tmp_path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(CONFIG))
    return path


def report(config: Path, db: Path, capsys) -> dict:
    capsys.readouterr()
    assert run(config, db, "report", "--month", "2026-11", "--format", "json") == 0
    return json.loads(capsys.readouterr().out)


def test_the_report_from_prometheus_equals_the_one_from_the_same_samples_as_jsonl(prometheus, config, tmp_path,
                                                                                  capsys):
    from_prom, from_jsonl = tmp_path / "prom.db", tmp_path / "jsonl.db"
    assert run(config, from_prom, "import", "--from-prometheus", prometheus, "--start", iso(START),
               "--end", iso(END)) == 0
    out, err = capsys.readouterr()
    samples = sum(1 for _ in jsonl_rows())
    assert f"imported {samples} samples from {prometheus} (2 probe/vantage timelines" in out
    assert 'skipped 1 series that are no configured probe' in err and "https://elsewhere.example/" in err
    assert run(config, from_jsonl, "import", str(write_jsonl(tmp_path / "s.jsonl", jsonl_rows()))) == 0
    expected = report(config, from_jsonl, capsys)
    assert report(config, from_prom, capsys) == expected
    region = expected["regions"][0]
    assert region["downtime_minutes"] == 30.0  # only while both vantages saw it down
    assert region["unknown_by_cause"]["vantage_unhealthy"] == 0.0  # b stayed healthy: the quorum still knew
    # idempotent: reading the same window again changes nothing
    assert run(config, from_prom, "import", "--from-prometheus", prometheus, "--start", iso(START),
               "--end", iso(END)) == 0
    assert report(config, from_prom, capsys) == expected


def test_match_reads_one_vantage_only(prometheus, config, tmp_path, capsys):
    db = tmp_path / "a.db"
    assert run(config, db, "import", "--from-prometheus", prometheus, "--start", iso(START), "--end", iso(END),
               "--match", f'probe_success{{job="a",instance="{URL}"}}') == 0
    assert "(1 probe/vantage timelines" in capsys.readouterr().out


def test_an_unknown_vantage_is_refused_and_nothing_is_stored(prometheus, tmp_path, capsys):
    narrow = tmp_path / "narrow.yaml"
    narrow.write_text(yaml.safe_dump({**CONFIG, "vantages": ["a"]}))
    db = tmp_path / "x.db"
    assert run(narrow, db, "import", "--from-prometheus", prometheus, "--start", iso(START), "--end", iso(END)) == 2
    err = capsys.readouterr().err
    assert "vantage 'b' (label job) is not in the config's vantages (a)" in err
    assert not db.exists()


@pytest.mark.parametrize("args, words", [
    (["--start", iso(START)], "needs --start ISO and --end ISO"),
    (["--start", iso(END), "--end", iso(START)], "is not after --start"),
    (["--start", iso(START), "--end", "2027-01-01T00:00:00Z"], "is in the future"),
    (["--start", "2026-11-03T00:00:00", "--end", iso(END)], "--start"),
    (["--start", iso(START), "--end", iso(END), "--match", "probe_success{job="], "expected a series selector"),
])
def test_bad_backfill_arguments_are_refused(config, tmp_path, capsys, args, words):
    assert run(config, tmp_path / "x.db", "import", "--from-prometheus", "http://127.0.0.1:9", *args) == 2
    assert words in capsys.readouterr().err
    assert not (tmp_path / "x.db").exists()


async def test_errors_are_retried_a_refusal_is_not_and_an_absent_prometheus_leaves_the_store_alone(
        config, tmp_path, capsys):
    calls = {"n": 0}

    async def flaky(request):  # two 503s, then an empty answer
        calls["n"] += 1
        if calls["n"] <= 2:
            return web.Response(status=503, text="overloaded")
        return web.json_response({"status": "success", "data": {"resultType": "matrix", "result": []}})

    async def refuses(request):
        return web.json_response({"status": "error", "errorType": "bad_data", "error": "parse error at char 5"},
                                 status=400)

    async def served(handler) -> tuple[web.AppRunner, str]:
        app = web.Application()
        app.router.add_get("/api/v1/query", handler)
        runner, port = await start_app(app)
        return runner, f"http://127.0.0.1:{port}"

    db = tmp_path / "store.db"
    assert run(config, db, "import", str(write_jsonl(tmp_path / "s.jsonl", jsonl_rows()))) == 0
    before = snapshot(db)
    window = ["--start", iso(START), "--end", iso(START + 3_600_000)]
    runner, base = await served(flaky)
    try:
        assert await asyncio.to_thread(run, config, tmp_path / "flaky.db", "import", "--from-prometheus", base,
                                       *window) == 0
    finally:
        await runner.cleanup()
    # three queries answered (health, success, duration) after two 503s: five requests in all
    assert calls["n"] == 5 and "imported 0 samples" in capsys.readouterr().out
    runner, base = await served(refuses)
    try:
        assert await asyncio.to_thread(run, config, db, "import", "--from-prometheus", base, *window) == 1
    finally:
        await runner.cleanup()
    assert "refused: HTTP 400: parse error at char 5" in capsys.readouterr().err
    port = free_port()  # nothing listens there
    assert await asyncio.to_thread(run, config, db, "import", "--from-prometheus", f"http://127.0.0.1:{port}",
                                   *window) == 1
    assert "no answer after 5 attempts" in capsys.readouterr().err
    assert snapshot(db) == before


def test_sample_lines_hold_their_size_not_a_serializer_buffer():
    """A month of 5,000 series is millions of lines between the reader and the importer: each must
    cost its length (orjson's own result kept a 4 KB buffer: 300,000 lines held 1.2 GB)."""
    import tracemalloc

    from monitor.sources.series import jsonl

    from monitor.sources import series

    tracemalloc.start()
    try:
        lines = [jsonl({"ts_ms": START + i * MIN, "probe": "w", "vantage": "a", "ok": True, "latency_ms": 12.5})
                 for i in range(10_000)]
        # Only what this code allocated: a thread another test left behind allocates meanwhile.
        mine = tracemalloc.take_snapshot().filter_traces([tracemalloc.Filter(True, series.__file__),
                                                          tracemalloc.Filter(True, __file__)])
        held = sum(stat.size for stat in mine.statistics("filename"))
    finally:
        tracemalloc.stop()
    assert held < 10_000 * 300, held  # about 150 bytes a line
    assert lines[0].endswith(b"\n") and json.loads(lines[0])["probe"] == "w"


async def test_the_token_goes_to_prometheus_and_nowhere_else(tmp_path, capsys, monkeypatch):
    """bearer_token from the environment: sent as the Authorization header, never printed, also not
    when Prometheus refuses it; the config's match selects the series."""
    seen = []

    async def query(request):
        seen.append((request.headers.get("Authorization"), request.query["query"]))
        if request.headers.get("Authorization") != "Bearer s3cr3t-t0ken":
            return web.json_response({"status": "error", "errorType": "unauthorized", "error": "bad credentials"},
                                     status=401)
        return web.json_response({"status": "success", "data": {"resultType": "matrix", "result": []}})

    app = web.Application()
    app.router.add_get("/api/v1/query", query)
    runner, port = await start_app(app)
    config = tmp_path / "config.yaml"
    config.write_text(yaml.safe_dump({**CONFIG, "source": {"prometheus": {
        "url": f"http://127.0.0.1:{port}", "bearer_token": "${PROM_TOKEN}", "match": '{job="a"}'}}}))
    window = ["--start", iso(START), "--end", iso(START + 3_600_000)]
    try:
        monkeypatch.setenv("PROM_TOKEN", "s3cr3t-t0ken")
        assert await asyncio.to_thread(run, config, tmp_path / "x.db", "import", "--from-prometheus", *window) == 0
        assert {auth for auth, _ in seen} == {"Bearer s3cr3t-t0ken"}
        assert {q for _, q in seen} >= {'probe_success{job="a"}[3600000ms]', 'probe_duration_seconds{job="a"}[3600000ms]'}
        monkeypatch.setenv("PROM_TOKEN", "wr0ng-t0ken")
        assert await asyncio.to_thread(run, config, tmp_path / "y.db", "import", "--from-prometheus", *window) == 1
    finally:
        await runner.cleanup()
    out, err = capsys.readouterr()
    assert "HTTP 401: bad credentials" in err
    assert "t0ken" not in out + err


def test_a_progress_bar_shows_on_a_terminal_only(prometheus, config, tmp_path):
    """Under a pseudo-terminal (util-linux `script`) the import draws tqdm's bar on standard error;
    piped, it prints its summary only."""
    script = need("script")
    cmd = [sys.executable, "-m", "monitor", "--config", str(config), "--db", str(tmp_path / "t.db"), "--now", NOW,
           "import", "--from-prometheus", prometheus, "--start", iso(START), "--end", iso(END)]
    on_tty = subprocess.run([script, "-qfec", " ".join(cmd), "/dev/null"], capture_output=True, text=True, timeout=300)
    assert on_tty.returncode == 0, on_tty.stdout[-2000:]
    assert "reading Prometheus" in on_tty.stdout and "chunk" in on_tty.stdout
    piped = subprocess.run([*cmd[:6], str(tmp_path / "p.db"), *cmd[7:]], capture_output=True, text=True, timeout=300)
    assert piped.returncode == 0 and "reading Prometheus" not in piped.stdout + piped.stderr
    assert piped.stdout.startswith("imported ")
