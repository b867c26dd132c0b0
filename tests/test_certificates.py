"""A certificate that is still valid is a warning, never downtime; an expired one is down (issue 9).
The daemon in-process, probing two loopback TLS servers of a private CA."""
from __future__ import annotations

import aiohttp
import pytest
from aiohttp import web
from conftest import need_our_clock
from daemon_helpers import metric, until
from loopback import Certificates, start_app
from prometheus_client import CollectorRegistry

from monitor import clock
from monitor.app import Daemon
from monitor.config import parse_config


@pytest.fixture
async def servers(tmp_path):
    certs = Certificates(tmp_path)
    soon, soon_port = await start_app(web.Application(), certs.server_context(certs.soon))
    expired, expired_port = await start_app(web.Application(), certs.server_context(certs.expired))
    yield certs, soon_port, expired_port
    await soon.cleanup()
    await expired.cleanup()


def region(name: str, port: int, ca_file: str) -> str:
    common = "interval: 300ms, timeout: 250ms"
    return f"""
  - name: {name}
    components:
      - name: api
        probes:
          - {{id: {name}-https, kind: http, url: "https://127.0.0.1:{port}/", expect_status: [404], ca_file: "{ca_file}", {common}}}
          - {{id: {name}-tls, kind: tls, host: 127.0.0.1, port: {port}, ca_file: "{ca_file}", {common}}}"""


async def test_five_days_left_is_up_with_a_warning_and_expired_is_down(servers, tmp_path):
    certs, soon_port, expired_port = servers
    db = str(tmp_path / "d.db")
    cfg = parse_config(f"""
service: certificate test
storage: {{path: {db}}}
web: {{listen: "127.0.0.1:0"}}
daemon: {{flush_interval: 200ms, refresh_interval: 200ms, shutdown_grace: 3s}}
policy: {{downtime_threshold_minutes: "0.02"}}
regions:{region("renewing", soon_port, certs.ca_file)}{region("lapsed", expired_port, certs.ca_file)}
""")
    daemon = Daemon(cfg, db, registry=CollectorRegistry())
    await daemon.start()
    try:
        await until(lambda: daemon.live.region_state.get("renewing") == "up"
                    and daemon.live.region_state.get("lapsed") == "down")
        await until(lambda: (w := daemon.probing.side.recorder.writer).written > 4 and not w.pending_events)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"http://127.0.0.1:{daemon.port}/metrics") as response:
                text = await response.text()
    finally:
        await daemon.stop()
    assert metric(text, "sla_region_up", region="renewing") == 1.0
    assert metric(text, "probe_success", probe="renewing-tls") == 1.0
    days_left = (metric(text, "probe_ssl_earliest_cert_expiry", probe="renewing-tls") * 1000 - clock.SYSTEM.now_ms()) / 86_400_000
    assert 4.9 < days_left <= 5
    assert metric(text, "sla_region_up", region="lapsed") == 0.0
    assert metric(text, "probe_success", probe="lapsed-tls") == 0.0
    from monitor.storage import Store
    store = Store.open(db, create=False)
    try:
        events = store.db.execute("SELECT type, region, severity, payload FROM events WHERE type LIKE 'certificate.%'").fetchall()
        errors = {row[0] for row in store.db.execute(
            "SELECT s.error FROM samples s JOIN probes p ON p.id = s.probe_id WHERE p.name = 'lapsed-tls'")}
    finally:
        store.close()
    assert [(e[0], e[1], e[2]) for e in events] == [("certificate.expiring", "renewing", "warning")]
    assert "certificate expires in 5.0 days (min_cert_days 14)" in events[0][3]
    assert errors == {"tls: certificate has expired"}


async def test_blackbox_exporter_gives_the_same_verdict_on_the_same_targets(servers, tmp_path):
    """The owner of probe_success and probe_ssl_earliest_cert_expiry, Debian's blackbox_exporter, on
    the same two servers: 5 days left is up (with the same expiry), expired is down."""
    import functools
    import socket
    import subprocess

    import yaml

    from monitor.checks.tls import TlsProbe
    from monitor.probes import ProbeContext, run_probe

    binary = need_our_clock("prometheus-blackbox-exporter")  # the certificates expire by our clock
    certs, soon_port, expired_port = servers
    (tmp_path / "blackbox.yml").write_text(yaml.safe_dump({"modules": {"tls": {
        "prober": "tcp", "timeout": "5s", "tcp": {"tls": True, "tls_config": {"ca_file": certs.ca_file}}}}}))
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    proc = subprocess.Popen([binary, f"--config.file={tmp_path / 'blackbox.yml'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    ctx = ProbeContext(clock.SYSTEM)
    try:
        async with aiohttp.ClientSession() as http:
            async def verdict(target_port: int):
                try:
                    async with http.get(f"http://127.0.0.1:{port}/probe",
                                        params={"module": "tls", "target": f"127.0.0.1:{target_port}"}) as r:
                        return await r.text() if r.status == 200 else None
                except aiohttp.ClientError:
                    return None
            theirs = {name: await until(functools.partial(verdict, p), timeout=30)
                      for name, p in (("soon", soon_port), ("expired", expired_port))}
        ours = {name: await run_probe(TlsProbe(id=name, kind="tls", host="127.0.0.1", port=p, ca_file=certs.ca_file),
                                      ctx, "local")
                for name, p in (("soon", soon_port), ("expired", expired_port))}
    finally:
        proc.terminate()
        proc.wait(30)
        await ctx.close()
    assert metric(theirs["soon"], "probe_success") == 1.0 and ours["soon"].ok is True
    assert metric(theirs["soon"], "probe_ssl_earliest_cert_expiry") == ours["soon"].cert_expiry_ms / 1000
    assert metric(theirs["expired"], "probe_success") == 0.0 and ours["expired"].ok is False


def test_every_certificate_warning_is_ended_also_when_a_near_one_replaces_it():
    """A certificate near its end replaced by another near its end: the first warning is ended
    (certificate.renewed, its own key) before the second opens; a valid one ends the second."""
    from daemon_helpers import config_text

    from monitor.config import parse_config
    from monitor.config.fleet import stale_ms_by_probe
    from monitor.live.alerts import AlertMaker
    from monitor.live.state import LiveState
    from monitor.probes import Sample

    cfg = parse_config(config_text(fleet_stub(), "unused.db"))
    state, transitions = LiveState(cfg, stale_ms_by_probe(cfg)), []
    day = 86_400_000

    def seen(ts: int, expiry: int, warning: str | None) -> None:
        transitions.extend(state.apply([Sample("eu-west-widget", "local", ts, True, 5.0, cert_expiry_ms=expiry,
                                               detail={"warning": warning} if warning else None)], ts))

    seen(1_000, 5 * day, "certificate expires in 5.0 days")
    seen(2_000, 6 * day, "certificate expires in 6.0 days")  # replaced, still near its end
    seen(3_000, 90 * day, None)  # a valid one
    got = [(e.type, e.dedup_key.rsplit("/", 1)[1]) for e in AlertMaker(cfg).events(transitions)]
    first, second = "1970-01-06T00:00:00Z", "1970-01-07T00:00:00Z"
    assert got == [("certificate.expiring", first), ("certificate.renewed", first),
                   ("certificate.expiring", second), ("certificate.renewed", second)]


def fleet_stub():
    """Ports for config_text: nothing is probed here."""
    from types import SimpleNamespace

    names = ("eu-west", "us-east", "panel", "genesys", "unlinked", "hang", "control", "vonage")
    return SimpleNamespace(targets={name: SimpleNamespace(port=9) for name in names})
