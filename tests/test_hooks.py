"""Alert hooks: exact payloads, signatures, and an outbox that delivers every event exactly once."""
from __future__ import annotations

import asyncio
import base64
import email
import email.policy
import datetime as dt
import json
import random
import re
import string

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import TypeAdapter
from standardwebhooks.webhooks import Webhook, WebhookVerificationError
from svix.webhooks import Webhook as SvixWebhook

from monitor import clock
from monitor.cli import main as cli_main
from monitor.config import parse_config
from monitor.destinations.webhook import webhook_key
from monitor.config.models import RouteConfig
from monitor.hooks import detect, events
from monitor.hooks.events import routed
from monitor.hooks.delivery import Deliverer
from monitor.destinations import DESTINATIONS
from monitor.live.dbthread import DbThread
from monitor.live.alerts import AlertMaker
from monitor.live.state import LiveState
from monitor.probes import Sample
from monitor.sla.model import Policy
from monitor.storage import Store
from monitor.storage.interface import Storage
from conftest import FIXTURES
from hook_helpers import NOW, OPENED, RESOLVED, Receiver, destination, hooks_test_via_cli
from loopback import start_app
import results

SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
EXTRA = {"webhook": {"secret": SECRET}, "pagerduty": {"routing_key": "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12"}, "slack": {},
         "alertmanager": {}, "discord": {}, "telegram": {"bot_token": "123456:AAH-fixture-token", "chat_id": "-100123"},
         "ntfy": {"topic": "sla-alerts", "token": "tk_fixture"}, "teams": {},
         "google_chat": {}, "apprise": {"url": "json://127.0.0.1:9/hook"},
         "email": {"url": "smtp://mail.example.org", "sender": "sla-monitor <sla@monitor.example>",
                   "to": ["ops@example.org"]}}


def readable(kind: str, body: bytes) -> dict:
    """A payload as its fixture holds it: JSON as such; an email as its headers and its text and HTML
    parts (the MIME boundary is random)."""
    if kind != "email":
        return json.loads(body)
    msg = email.message_from_bytes(body, policy=email.policy.default)
    return {"headers": {k: v for k, v in msg.items() if k != "Content-Type"},
            "text": msg.get_body(("plain",)).get_content(), "html": msg.get_body(("html",)).get_content()}


@pytest.mark.parametrize("kind", sorted(DESTINATIONS))
def test_build_payload_matches_fixture(kind):
    fixture = json.loads((FIXTURES / "hooks" / f"{kind}.json").read_text())
    dest = destination(kind, **EXTRA[kind])
    for name, event in (("opened", OPENED), ("resolved", RESOLVED)):
        body, headers = dest.build_payload(event, NOW)
        assert {"headers": headers, "body": readable(kind, body)} == fixture[name], name


RAW_SECRET = base64.b64encode(b"a raw base64 key, no prefix ...").decode()


def official(secret: str, headers: dict, body: bytes) -> None:
    """Verify with the official Standard Webhooks package (raises WebhookVerificationError)."""
    Webhook(secret).verify(body, {k.lower(): v for k, v in headers.items()})


@pytest.mark.parametrize("secret", [SECRET, RAW_SECRET], ids=["whsec", "raw-base64"])
def test_webhook_signature_is_the_official_one(secret):
    dest = destination("webhook", secret=secret)
    body, headers = dest.build_payload(OPENED, NOW)
    signed_at = dt.datetime.fromtimestamp(int(headers["webhook-timestamp"]), dt.timezone.utc)
    assert headers["webhook-signature"] == Webhook(secret).sign(headers["webhook-id"], signed_at, body.decode())
    assert re.fullmatch(r"msg_[0-9a-f]{32}", headers["webhook-id"])
    # A retry keeps the id and is signed anew at its own time.
    again_body, again = dest.build_payload(OPENED, NOW + 90_000)
    assert again["webhook-id"] == headers["webhook-id"] and again["webhook-timestamp"] == str(NOW // 1000 + 90)
    assert again["webhook-signature"] != headers["webhook-signature"] and again_body == body


@pytest.mark.parametrize("secret", [SECRET, RAW_SECRET], ids=["whsec", "raw-base64"])
def test_a_fresh_signature_verifies_and_a_tampered_one_does_not(secret):
    body, headers = destination("webhook", secret=secret).build_payload(OPENED, clock.SYSTEM.now_ms())
    official(secret, headers, body)
    with pytest.raises(WebhookVerificationError):
        official(secret, headers, body.replace(b"eu-west", b"us-east"))
    with pytest.raises(WebhookVerificationError):
        official("whsec_" + base64.b64encode(b"another secret key").decode(), headers, body)


UNPADDED = "whsec_aW50ZXJvcC1zZWNyZXQtMDEyMzQ1Njc4OWFiY2RlZiE"  # no "=": the official verifiers pad it themselves


def test_an_unpadded_secret_passes_check_config_and_both_official_verifiers_verify_its_signatures(tmp_path, capsys):
    config = tmp_path / "unpadded.yaml"
    config.write_text((FIXTURES / "spec.yaml").read_text() + "hooks:\n  destinations:\n    - {name: ops, type: webhook, "
                      f"url: 'http://127.0.0.1:9/hook', secret: {UNPADDED}}}\n")
    assert cli_main(["--config", str(config), "check-config"]) == 0, capsys.readouterr().err
    body, headers = destination("webhook", secret=UNPADDED).build_payload(OPENED, clock.SYSTEM.now_ms())
    official(UNPADDED, headers, body)
    SvixWebhook(UNPADDED).verify(body, {k.lower(): v for k, v in headers.items()})


def verifiers_key(secret: str) -> bytes | None:
    """The key both official verifiers sign with, or None when either refuses the secret."""
    keys = set()
    for verifier in (Webhook, SvixWebhook):
        try:
            keys.add(verifier(secret)._whsecret if verifier is Webhook else verifier(secret)._inner._whsecret)
        except Exception:  # noqa: BLE001 — each refuses in its own way (binascii.Error, its own errors)
            return None
    assert len(keys) == 1
    return keys.pop()


@settings(max_examples=400, deadline=None)
@given(body=st.text(alphabet=string.ascii_letters + string.digits + "+/", min_size=0, max_size=60),
       padding=st.sampled_from(["", "=", "=="]), prefix=st.sampled_from(["whsec_", ""]))
def test_a_secret_is_accepted_as_the_official_verifiers_accept_it_with_their_key(body, padding, prefix):
    """Within the base64 alphabet, padded or not: the same key the verifiers use, or a refusal where they
    refuse (keys under 16 bytes are refused on top, as too weak)."""
    secret = prefix + body + padding
    theirs = verifiers_key(secret)
    try:
        ours = webhook_key(secret)
    except ValueError:
        ours = None
    if theirs is not None and len(theirs) >= 16:
        assert ours == theirs
    else:
        assert ours is None


@pytest.mark.parametrize("secret, says", [
    ("whsec_" + "A" * 33, "33 characters leave one over"),
    ("whsec_MfKQ9r8GKYqrTwjUPD8I-LPZIo2LaLaSw", "A-Z a-z 0-9 + /"),  # url-safe base64: another key
    ("whsec_" + "A" * 20, "fewer than 16 bytes"),
])
def test_a_secret_the_verifiers_would_misread_or_refuse_is_refused_with_the_reason(secret, says):
    with pytest.raises(ValueError, match=re.escape(says)):
        webhook_key(secret)


ROUTES = TypeAdapter(list[RouteConfig])


async def outbox_with(tmp_path, receiver: Receiver, kind: str = "webhook", **extra):
    runner, port = await start_app(receiver.app())
    db = DbThread(lambda: Store.open(tmp_path / "hooks.db"))
    await db.start()
    dest = destination(kind, url=f"http://127.0.0.1:{port}/hook", max_age="1h", **(extra or EXTRA[kind]))
    hooks = parse_config((FIXTURES / "spec.yaml").read_text()).hooks.model_copy(
        update={"destinations": [dest], "routes": ROUTES.validate_python([{"destination": dest.name}])})
    return runner, db, hooks


async def test_receiver_down_then_up_gets_each_event_once_in_order(tmp_path, monkeypatch):
    receiver = Receiver(fail_with=503, failures=3)
    runner, db, hooks = await outbox_with(tmp_path, receiver)
    monkeypatch.setattr("monitor.hooks.delivery.BASE_DELAY_MS", 20)  # retries in milliseconds, not seconds
    results = []
    deliverer = Deliverer(db, hooks, clock.SYSTEM, on_result=lambda d, r: results.append(r), rng=random.Random(1))
    now = clock.SYSTEM.now_ms()  # within the destination's max_age
    sequence = [events.outage_opened("eu-west", now - 600_000, now),
                events.outage_counted("eu-west", now - 600_000, now + 1, 15),
                events.outage_resolved("eu-west", now - 600_000, now + 2)]
    assert await db.call(Storage.record_events, routed(sequence, hooks.routes)) == 3
    assert await db.call(Storage.record_events, routed(sequence, hooks.routes)) == 0  # recorded once, whatever happens
    for _ in range(200):
        await deliverer.deliver_due()
        if len(receiver.received) == 3:
            break
        await asyncio.sleep(0.02)
    assert [r["body"]["type"] for r in receiver.received] == ["outage.opened", "outage.counted", "outage.resolved"]
    assert results.count("retry") == 3 and results.count("delivered") == 3
    for delivery in receiver.received:  # each as sent, checked by the official verifier
        official(SECRET, delivery["headers"], delivery["raw"])
    await deliverer.deliver_due()
    assert len(receiver.received) == 3 and await db.call(Storage.pending_deliveries) == 0  # never again
    await deliverer.close()
    await db.close()
    await runner.cleanup()


async def test_a_400_is_permanent_and_reported(tmp_path):
    receiver = Receiver(fail_with=400, failures=10**6)
    runner, db, hooks = await outbox_with(tmp_path, receiver, "slack")
    deliverer = Deliverer(db, hooks, clock.SYSTEM)
    now = clock.SYSTEM.now_ms()  # within max_age (older ones are given up unsent)
    await db.call(Storage.record_events, routed([events.outage_opened("eu-west", now - 60_000, now - 2),
                                   events.outage_resolved("eu-west", now - 60_000, now - 1)], hooks.routes))
    await deliverer.deliver_due()
    await deliverer.deliver_due()
    rows = await db.call(Storage.event_log)
    assert [r["status"] for r in rows] == ["failed", "failed"] and "HTTP 400" in rows[0]["last_error"]
    assert receiver.attempts == 2  # once each, not retried
    await deliverer.close()
    await db.close()
    await runner.cleanup()


def test_backoff_grows_with_jitter_and_a_cap():
    from monitor.hooks.delivery import backoff_ms
    rng = random.Random(7)
    delays = [backoff_ms(n, rng) for n in range(1, 15)]
    assert 1600 <= delays[0] <= 2400 and 3200 <= delays[1] <= 4800 and max(delays) <= 720_000


def test_budget_thresholds_fire_once_per_region_and_month_across_restarts(tmp_path):
    policy = Policy()
    report = results.month(results.region("eu-west", downtime_ms=35 * 60_000))
    found = detect.from_result(report, policy, [50, 75, 90, 100], 30, NOW)
    assert [e.data["threshold_percent"] for e in found] == [50, 75]  # 35 of 43.2 min = 81 %
    routes = ROUTES.validate_python([{"destination": "x"}])
    store = Store.open(tmp_path / "b.db")
    assert store.record_events(routed(found, routes)) == 2
    store.close()
    store = Store.open(tmp_path / "b.db")  # "restart"
    again = detect.from_result(report, policy, [50, 75, 90, 100], 30, NOW + 60_000)
    assert store.record_events(routed(again, routes)) == 0
    worse = results.month(results.region("eu-west", downtime_ms=44 * 60_000, credit_percent=10))
    later = detect.from_result(worse, policy, [50, 75, 90, 100], 30, NOW + 120_000)
    assert store.record_events(routed(later, routes)) == 3  # 90 %, 100 % and the breach, once
    assert {e.type for e in later} == {"budget.consumed", "sla.breached"}
    store.close()


def test_an_outage_shorter_than_confirm_failures_fires_nothing():
    cfg = parse_config((FIXTURES / "spec.yaml").read_text())  # confirm_failures: 2
    state, alerts = LiveState(cfg, {p.id: 180_000 for p, _, _ in cfg.all_probes()}), AlertMaker(cfg)

    def seen(*samples: tuple[int, bool]) -> list:
        return alerts.events(state.apply([Sample("w", "local", ts, ok, 1.0) for ts, ok in samples], samples[-1][0]))

    assert seen((0, True)) + seen((60_000, False)) + seen((120_000, True)) == []
    opened = seen((180_000, False)) + seen((240_000, False))
    assert [e.type for e in opened] == ["outage.opened"] and opened[0].data["start"] == "1970-01-01T00:03:00Z"
    resolved = seen((300_000, True))
    assert [e.type for e in resolved] == ["outage.resolved"] and resolved[0].dedup_key == opened[0].dedup_key


def test_maintenance_events_with_notice_warnings():
    from monitor.sla.model import MaintenanceWindow

    hour = 3_600_000
    late = MaintenanceWindow(1, "eu-west", NOW - hour, NOW + 2 * hour, "scheduled", NOW - 3 * hour, "db upgrade")
    fine = MaintenanceWindow(2, None, NOW - 5 * hour, NOW - 4 * hour, "scheduled", NOW - 100 * hour, "patching")
    cancelled = MaintenanceWindow(3, "eu-west", NOW - hour, NOW + hour, "emergency", None, "x", cancelled=True)
    found = detect.from_maintenance([late, fine, cancelled], Policy(), NOW)
    assert [(e.type, e.severity) for e in found] == [("maintenance.started", "warning"), ("maintenance.ended", "info")]
    assert "late_notice, overrun" in found[0].summary and found[1].region is None


def test_update_due_for_open_p1_every_hour():
    report = results.month(results.region("eu-west", incidents=(
        results.incident("eu-west/region/2026-11-03T08:05:00Z", "P1", "2026-11-03T08:05:00Z"),
        results.incident("7", "P2", "2026-11-03T09:00:00Z"),
        results.incident("8", "P1", "2026-11-03T06:00:00Z", "2026-11-03T07:00:00Z"))))
    found = detect.incident_updates(report, NOW)  # 10:10: the P1 is 2 h 5 min old, the P2 1 h 10 min
    assert [e.id for e in found] == ["incident.update_due:eu-west/region/2026-11-03T08:05:00Z:2"]


def test_third_party_transitions():
    cfg = parse_config((FIXTURES / "spec.yaml").read_text())
    state = LiveState(cfg, {p.id: 180_000 for p, _, _ in cfg.all_probes()})
    transitions = [t for ts, ok in ((0, True), (60_000, False), (120_000, False), (180_000, True))
                   for t in state.apply([Sample("g", "local", ts, ok, 1.0)], ts)]
    assert [(e.type, e.data["provider"]) for e in AlertMaker(cfg).events(transitions)] == \
        [("third_party.down", "Genesys Cloud"), ("third_party.up", "Genesys Cloud")]


def test_counted_and_at_risk_from_an_open_outage():
    region = results.region("eu-west", downtime_ms=22 * 60_000,
                            periods=(results.open_period("2026-11-03T10:00:00Z", "2026-11-03T10:10:00Z"),))
    found = detect.from_result(results.month(region), Policy(), [50, 75, 90, 100], 30, NOW)
    assert [e.type for e in found] == ["outage.counted", "budget.consumed", "budget.at_risk"]
    assert found[0].dedup_key == events.outage_key("eu-west", 1793700000000)  # pairs with opened/resolved
    assert found[1].data["threshold_percent"] == 50 and found[2].data["remaining_minutes"] == 21.2


def test_an_unknown_spell_inside_an_outage_does_not_page_its_counting_twice():
    """The monitor's loop stalls past stale_after while eu-west is down: the figures' open period restarts
    after the unknown spell, the live outage does not. Its counting keeps the outage's key and id."""
    cfg = parse_config((FIXTURES / "spec.yaml").read_text())
    state = LiveState(cfg, {p.id: 180_000 for p, _, _ in cfg.all_probes()})
    start, back = results.ms("2026-11-03T09:50:00Z"), results.ms("2026-11-03T09:58:00Z")
    transitions = [t for ts in (start, start + 60_000, start + 120_000)
                   for t in state.apply([Sample("w", "local", ts, False, 1.0)], ts)]
    transitions += state.sweep(start + 330_000)  # no sample for 3.5 min: eu-west is unknown
    assert state.region_state["eu-west"] == "unknown"
    transitions += state.apply([Sample("w", "local", back, False, 1.0)], back)  # down again, the same outage
    opened = [e for e in AlertMaker(cfg).events(transitions) if e.type == "outage.opened"]
    assert len(opened) == 1 and state.outage_start == {"eu-west": start}
    split = results.region("eu-west", downtime_ms=17 * 60_000,
                           periods=(results.open_period("2026-11-03T09:58:00Z", "2026-11-03T10:15:00Z"),))
    keyed = detect.from_result(results.month(split), Policy(), [], 30, NOW, state.outage_start)
    assert [(e.type, e.dedup_key) for e in keyed] == [("outage.counted", opened[0].dedup_key),
                                                      ("budget.at_risk", opened[0].dedup_key)]
    assert keyed[0].id == "outage.counted:eu-west:2026-11-03T09:50:00Z"
    # Keyed on the figures' period alone, it would be a second outage to the pager.
    alone = detect.counting_outages(results.month(split), Policy(), NOW)
    assert alone[0].dedup_key != opened[0].dedup_key


@pytest.mark.parametrize("secret", [SECRET, RAW_SECRET], ids=["whsec", "raw-base64"])
async def test_hooks_test_and_list_through_the_cli(tmp_path, run_cli, capsys, secret):
    result, receiver, config = await hooks_test_via_cli(
        tmp_path, f'{{name: ops, type: webhook, url: "{{url}}/hook", secret: "{secret}"}}', "ops",
        routes="{destination: ops}")
    assert result == 0 and receiver.received[0]["body"]["type"] == "test"
    official(secret, receiver.received[0]["headers"], receiver.received[0]["raw"])
    out = capsys.readouterr().out
    assert "delivered (webhook at 127.0.0.1)" in out and "/hook" not in out  # no URL path: it may be a secret
    store = Store.open(run_cli.db)
    store.record_events(routed([OPENED], ROUTES.validate_python([{"destination": "ops"}])))
    store.close()
    listed = run_cli("hooks", "list", "--format", "json", config=config)
    assert listed.code == 0
    assert [(r["type"], r["destination"], r["status"]) for r in json.loads(listed.out)] == \
        [("outage.opened", "ops", "pending")]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([None, True, False, "unknown"]), st.integers(0, 400_000),
                          st.integers(0, 4)), min_size=1, max_size=12),
       st.integers(0, 600_000), st.booleans())
def test_a_regions_state_for_metrics_is_the_one_computed_component_by_component(probes, now, second_critical):
    """``region_now`` (each scrape, every region) flattens the components: it must agree with
    ``compute_region`` whatever the probes' samples, failures, staleness and components' criticality."""
    lines = ["service: s", "timezone: UTC", "storage: {path: unused.db}", "regions:", "  - name: r", "    components:"]
    for c in range(3):
        lines += [f"      - name: c{c}", f"        critical: {str(c != 1 or second_critical).lower()}", "        probes:"]
        lines += [f"          - {{id: p{c}-{k}, kind: tcp, host: 127.0.0.1, port: 1}}" for k in range(4)]
    cfg = parse_config("\n".join(lines) + "\npolicy: {confirm_failures: 2}\n")
    ids = [p.id for p, _, _ in cfg.all_probes()]
    state = LiveState(cfg, {p: 180_000 for p in ids})
    for probe, (ok, ts, failures) in zip(ids, probes):
        last = None if ok is None else Sample(probe, "local", ts, None if ok == "unknown" else ok, 1.0)
        state.adopt({probe: (last, failures if ok is False else 0, ts if ok is False else None)}, None)
    region = cfg.regions[0]
    assert state.region_now(region, now) == state.compute_region(region, now)
