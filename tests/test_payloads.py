"""Every event type's payload, checked by each receiver's own rules (issue 10): PagerDuty's Events API
v2 field rules as a JSON Schema, and every trigger paired with a resolve."""
from __future__ import annotations

import json

import jsonschema

from monitor.event import EVENT_TYPES

from conftest import FIXTURES
from hook_helpers import catalogue, destination
import results
from results import ms
from monitor.sla.result import ExclusionSlice

PD = destination("pagerduty", url="https://events.pagerduty.com/v2/enqueue",
                 routing_key="R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12")
SCHEMA = json.loads((FIXTURES / "hooks" / "pagerduty-events-v2.schema.json").read_text())


def test_the_catalogue_has_every_event_type():
    types = {e.type for e in catalogue()}
    assert types >= {"outage.opened", "outage.counted", "outage.resolved", "budget.consumed", "budget.at_risk",
                     "sla.breached", "incident.update_due", "incident.updated", "maintenance.started", "maintenance.ended",
                     "third_party.down", "third_party.up", "monitor.degraded", "monitor.recovered",
                     "certificate.expiring", "certificate.renewed", "evidence.month_closed", "test", "test.resolved"}
    assert types == set(EVENT_TYPES)  # and nothing the daemon produces is left out


def test_every_pagerduty_payload_follows_the_events_api_rules():
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    for event in catalogue():
        body = json.loads(PD.build_payload(event, 0)[0])
        errors = sorted(e.message for e in validator.iter_errors(body))
        assert not errors, (event.type, errors)
        payload = body.get("payload", {})
        assert payload.get("component", "") is not None  # a string or absent, never null


def test_every_pagerduty_trigger_has_a_resolve_and_the_rest_never_page():
    bodies = [(e, json.loads(PD.build_payload(e, 0)[0])) for e in catalogue()]
    resolved = {b["dedup_key"] for _, b in bodies if b.get("event_action") == "resolve"}
    for event, body in bodies:
        if body.get("event_action") == "trigger":
            assert body["dedup_key"] in resolved, f"{event.type} triggers an incident nothing resolves"
        elif "event_action" not in body:  # a Change Event: never pages
            assert event.type in ("outage.opened", "budget.consumed", "sla.breached", "incident.update_due",
                                  "incident.updated", "evidence.month_closed"), event.type
        if event.type.startswith("outage."):  # one outage, one page: only its counting triggers
            assert body.get("event_action") == {"outage.counted": "trigger", "outage.resolved": "resolve"}.get(
                event.type), event.type


def test_pagerduty_limits_cut_with_an_ellipsis():
    from monitor.event import Event
    long = Event("x", "outage.counted", "k" * 300, "critical", 0, "eu-west", "s" * 2000)
    body = json.loads(PD.build_payload(long, 0)[0])
    assert len(body["payload"]["summary"]) == 1024 and body["payload"]["summary"].endswith("…")
    assert len(body["dedup_key"]) == 255


def test_every_slack_payload_is_valid_block_kit_even_with_a_hostile_4000_character_reason():
    from slack_sdk.models.blocks import Block

    hostile = "<!channel> & <x|y> " + "r" * 4000
    dest = destination("slack", url="https://hooks.slack.com/services/T000/B000/XXXX")
    for event in catalogue(reason=hostile):
        body = json.loads(dest.build_payload(event, 0)[0])
        for block in body["blocks"]:
            Block.parse(block).validate_json()  # raises SlackObjectFormationError past Slack's limits
        assert len(body["text"]) <= 3000
        text = json.dumps(body)
        assert "<!channel>" not in text and "<x|y>" not in text
        if hostile[:10] in event.summary:
            assert "&lt;!channel&gt; &amp; &lt;x|y&gt;" in body["text"] and body["text"].endswith("…")


def test_context_names_failing_probes_the_month_and_links():
    from monitor.hooks import events
    from monitor.hooks.context import region_context, with_context

    opened = events.outage_opened("eu-west", 0, 60_000)
    genesys = ExclusionSlice(ms("2026-11-03T10:05:00Z"), ms("2026-11-03T10:10:00Z"), "third_party", (),
                             "third_party:genesys-euw1", "Genesys Cloud")
    month = {"eu-west": region_context(results.region("eu-west", downtime_ms=21 * 60_000, periods=(
        results.open_period("2026-11-03T10:00:00Z", "2026-11-03T10:10:00Z", exclusions=(genesys,)),)))}
    failing = {"eu-west": [{"component": "api", "probe": "eu-west-api", "error": "HTTP 503 (expected 200)"}]}
    rich = with_context(opened, "https://sla.example.org", failing, month)
    assert rich.id == opened.id and rich.dedup_key == opened.dedup_key  # still recorded once
    assert rich.data["failing"] == failing["eu-west"] and rich.data["exclusion"] == "third party: Genesys Cloud"
    assert rich.data["links"] == {"Status page": "https://sla.example.org/#region-eu-west",
                                  "Runbook": "https://sla.example.org/runbooks#runbook-slaregiondown"}
    slack = json.loads(destination("slack").build_payload(rich, 0)[0])
    assert "`eu-west-api`: HTTP 503 (expected 200)" in slack["blocks"][1]["text"]["text"]
    assert "<https://sla.example.org/runbooks#runbook-slaregiondown|Runbook>" in slack["blocks"][2]["elements"][0]["text"]
    am = json.loads(destination("alertmanager").build_payload(rich, 0)[0])[0]
    assert am["annotations"]["runbook_url"] == "https://sla.example.org/runbooks#runbook-slaregiondown"
    assert "api/eu-west-api: HTTP 503 (expected 200)" in am["annotations"]["description"]
    pd = json.loads(PD.build_payload(rich, 0)[0])
    assert pd["links"][1] == {"href": "https://sla.example.org/runbooks#runbook-slaregiondown", "text": "Runbook"}
    assert pd["payload"]["custom_details"]["failing"] == failing["eu-west"]


async def test_hooks_test_opens_and_resolves_its_pagerduty_incident(tmp_path):
    from hook_helpers import hooks_test_via_cli

    code, receiver, _ = await hooks_test_via_cli(
        tmp_path, '{name: oncall, type: pagerduty, url: "{url}/v2/enqueue", routing_key: R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12}',
        "oncall")
    validator = jsonschema.Draft202012Validator(SCHEMA, format_checker=jsonschema.FormatChecker())
    bodies = [r["body"] for r in receiver.received]
    assert code == 0 and [b["event_action"] for b in bodies] == ["trigger", "resolve"]
    assert bodies[0]["dedup_key"] == bodies[1]["dedup_key"] and "component" not in bodies[0]["payload"]
    assert all(not list(validator.iter_errors(b)) for b in bodies)


def test_a_window_that_excludes_nothing_does_not_cover_an_open_outage():
    """A late-notice maintenance window is listed with reason "none": the status page, the
    sla_outage_excluded gauge and the alert texts all read "excluded now" through one function."""
    from monitor.sla.result import ExclusionSlice, PeriodResult, Piece

    late = ExclusionSlice(10, 30, None, ("late_notice",), "maintenance:1", "patching")
    genesys = ExclusionSlice(20, 30, "third_party", (), "third_party:genesys", "Genesys Cloud")
    closed = PeriodResult(0, 5, False, (), (Piece(0, 5, False),))
    open_now = PeriodResult(10, 30, True, (late,), (Piece(10, 30, True),))
    assert open_now.exclusion_now() is None
    assert open_now._replace(exclusions=(late, genesys)).exclusion_now() is genesys
    assert closed.exclusion_now() is None and not closed.counting and open_now.counting


def test_alert_texts_give_times_in_the_configs_zone_as_the_status_page_does():
    from zoneinfo import ZoneInfo

    from monitor.hooks import detect, events
    from monitor.sla.model import MaintenanceWindow, Policy

    warsaw = ZoneInfo("Europe/Warsaw")
    winter, summer = 1_794_000_000_000, 1_785_000_000_000  # 2026-11-06T21:20Z, 2026-07-25T17:20Z
    assert events.outage_opened("eu-west", winter, winter, warsaw).summary == "eu-west is down (since 2026-11-06 22:20 +01:00)"
    assert events.outage_opened("eu-west", summer, summer, warsaw).summary == "eu-west is down (since 2026-07-25 19:20 +02:00)"
    window = MaintenanceWindow(7, "eu-west", winter - 60_000, winter + 3_600_000 + 30_000, "emergency", None, "db")
    (started,) = detect.from_maintenance([window], Policy(), winter, warsaw)
    assert "until 2026-11-06 23:20:30 +01:00: db" in started.summary
