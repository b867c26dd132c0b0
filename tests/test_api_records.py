"""Records written through the API (issue 28): exclusions created, listed and withdrawn with the CLI's
rules and a `write:records` token (a `write:maintenance` token cannot); a POST retried with the same
Idempotency-Key creates one record, even after a restart, and the key with another body is a 422."""
from __future__ import annotations

import asyncio
import sqlite3

from daemon_helpers import MID_NOVEMBER_MS, running_daemon, until
from monitor.clock import TickingClock
from test_api_tokens import CALENDAR, OPS, READ, TOKENS, WINDOW

EXCLUSION = {"region": "eu-west", "start": "2026-11-05T01:00:00Z", "end": "2026-11-05T02:00:00Z",
             "cause": "customer_network", "note": "our firewall change", "by": "Jane"}


async def _call(daemon, method: str, path: str, token: str | None, body: dict | None = None, key: str | None = None):
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    if key:
        headers["Idempotency-Key"] = key
    async with daemon.http.request(method, path, json=body, headers=headers) as answer:
        return answer.status, dict(answer.headers), await answer.json(content_type=None)


async def test_exclusions_through_the_api(fleet, tmp_path):
    async with running_daemon(fleet, str(tmp_path / "d.db"), tokens=TOKENS) as daemon:
        status, _, refused = await _call(daemon, "POST", "/api/v1/exclusions", CALENDAR, EXCLUSION)
        assert (status, refused["missing_scope"]) == (403, "write:records")  # a maintenance token cannot
        assert (await _call(daemon, "POST", "/api/v1/exclusions", READ, EXCLUSION))[0] == 403
        status, _, created = await _call(daemon, "POST", "/api/v1/exclusions", OPS, EXCLUSION)
        assert status == 201, created
        assert created["created_by"] == "Jane (api:ops from 127.0.0.1)" and created["cause"] == "customer_network"
        assert created["withdrawn"] is None and created["region"] == "eu-west"
        status, _, listed = await _call(daemon, "GET", "/api/v1/exclusions", None)
        assert status == 200 and [e["id"] for e in listed] == [created["id"]]
        assert (await _call(daemon, "GET", f"/api/v1/exclusions/{created['id']}", None))[2] == created
        assert (await _call(daemon, "GET", "/api/v1/exclusions/999999", None))[0] == 404
        for body, needle in [({**EXCLUSION, "cause": "rain"}, "cause 'rain' is not a cause"),
                             ({**EXCLUSION, "region": "mars"}, "region 'mars'"),
                             ({**EXCLUSION, "note": " "}, "note: say why"),
                             ({**EXCLUSION, "colour": "red"}, "unknown field 'colour'"),
                             ({**EXCLUSION, "all": "yes"}, "all must be true or false")]:
            status, headers, problem = await _call(daemon, "POST", "/api/v1/exclusions", OPS, body)
            assert status == 400 and needle in problem["detail"], (body, problem)
            assert headers["Content-Type"].startswith("application/problem+json")
        path = f"/api/v1/exclusions/{created['id']}"
        assert (await _call(daemon, "DELETE", path, CALENDAR))[0] == 403
        status, _, withdrawn = await _call(daemon, "DELETE", path, OPS)
        assert (status, withdrawn) == (200, {"withdrawn": created["id"]})
        assert (await _call(daemon, "DELETE", path, OPS))[0] == 409
        assert (await _call(daemon, "DELETE", "/api/v1/exclusions/999999", OPS))[0] == 404
        listed = (await _call(daemon, "GET", "/api/v1/exclusions", None))[2]
        assert listed[0]["withdrawn"] is not None


async def test_a_retried_post_creates_one_record(fleet, tmp_path):
    db = str(tmp_path / "d.db")
    async with running_daemon(fleet, db, tokens=TOKENS) as daemon:
        first = await _call(daemon, "POST", "/api/v1/maintenance", CALENDAR, WINDOW, key="change-4711")
        again = await _call(daemon, "POST", "/api/v1/maintenance", CALENDAR, WINDOW, key="change-4711")
        assert first[0] == again[0] == 201 and first[2] == again[2]
        assert (await _call(daemon, "GET", f"/api/v1/maintenance/{first[2]['id']}", None))[2] == first[2]
        assert (await _call(daemon, "GET", "/api/v1/maintenance/999999", None))[0] == 404
        # A number past the stores' integers is no record, not a store error (Schemathesis found the 500).
        assert (await _call(daemon, "GET", "/api/v1/maintenance/16969773998022898305915158528", None))[0] == 404
        assert (await _call(daemon, "DELETE", "/api/v1/exclusions/16969773998022898305915158528", OPS))[0] == 404
        assert again[1].get("Idempotent-Replayed") == "true" and "Idempotent-Replayed" not in first[1]
        status, _, problem = await _call(daemon, "POST", "/api/v1/maintenance", CALENDAR,
                                         {**WINDOW, "reason": "another"}, key="change-4711")
        assert status == 422 and "was sent before with another request" in problem["detail"]
        # A refused request keeps nothing: corrected, it may be sent again with its key.
        assert (await _call(daemon, "POST", "/api/v1/exclusions", OPS, {**EXCLUSION, "cause": "rain"}, key="x-1"))[0] == 400
        assert (await _call(daemon, "POST", "/api/v1/exclusions", OPS, EXCLUSION, key="x-1"))[0] == 201
        assert (await _call(daemon, "POST", "/api/v1/maintenance", CALENDAR, WINDOW, key="k" * 300))[0] == 400
    async with running_daemon(fleet, db, tokens=TOKENS) as daemon:  # the answers are kept in the store
        replay = await _call(daemon, "POST", "/api/v1/maintenance", CALENDAR, WINDOW, key="change-4711")
        assert replay[0] == 201 and replay[1].get("Idempotent-Replayed") == "true" and replay[2] == first[2]
    with sqlite3.connect(db) as conn:
        assert conn.execute("SELECT count(*) FROM maintenance").fetchone()[0] == 1
        assert conn.execute("SELECT count(*) FROM exclusions").fetchone()[0] == 1


def test_exclusion_withdraw_from_the_command_line(run_cli):
    assert run_cli("exclusion", "add", "--region", "eu-west", "--start", "2026-11-03T10:00:00Z", "--end",
                   "2026-11-03T11:00:00Z", "--cause", "customer", "--note", "our side").code == 0
    result = run_cli("exclusion", "withdraw", "1")
    assert result.code == 0 and "exclusion 1 withdrawn" in result.out
    again = run_cli("exclusion", "withdraw", "1")
    assert again.code == 2 and "exclusion 1 is already withdrawn" in again.err
    assert run_cli("exclusion", "withdraw", "7").code == 2


INCIDENT = {"region": "eu-west", "severity": "P2", "opened": "2026-11-05T10:00:00Z", "title": "calls drop", "by": "Jane"}


async def test_incidents_through_the_api(fleet, tmp_path):
    """A ticket recorded, listed and resolved through the API as `incident add`, `list` and `resolve` do."""
    async with running_daemon(fleet, str(tmp_path / "d.db"), tokens=TOKENS) as daemon:
        assert (await _call(daemon, "POST", "/api/v1/incidents", CALENDAR, INCIDENT))[0] == 403
        status, _, created = await _call(daemon, "POST", "/api/v1/incidents", OPS, INCIDENT, key="ticket-1")
        assert status == 201 and isinstance(created["id"], int)
        assert (await _call(daemon, "POST", "/api/v1/incidents", OPS, INCIDENT, key="ticket-1"))[2] == created
        listed = (await _call(daemon, "GET", "/api/v1/incidents?month=2026-11", None))[2]
        assert [(i["id"], i["severity"], i["title"]) for i in listed] == [(str(created["id"]), "P2", "calls drop")]
        path = f"/api/v1/incidents/{created['id']}"
        status, _, problem = await _call(daemon, "PATCH", path, OPS, {"resolved": "2026-11-05T09:00:00Z"})
        assert status == 400 and "after it opened" in problem["detail"]
        status, _, patched = await _call(daemon, "PATCH", path, OPS, {"resolved": "2026-11-05T13:00:00Z", "severity": "P1"})
        assert status == 200 and patched["severity"] == "P1"
        listed = (await _call(daemon, "GET", "/api/v1/incidents?month=2026-11", None))[2]
        assert (listed[0]["severity"], listed[0]["resolved"], listed[0]["resolution_minutes"]) == \
            ("P1", "2026-11-05T13:00:00Z", 180.0)
        for path, body, expected in [("/api/v1/incidents/424242", {"severity": "P3"}, 404),
                                     ("/api/v1/incidents/eu-west/region/2026-11-05T10:00:00Z", {"severity": "P3"}, 404),
                                     (f"/api/v1/incidents/{created['id']}", {}, 400),
                                     (f"/api/v1/incidents/{created['id']}", {"severity": "P7"}, 400)]:
            assert (await _call(daemon, "PATCH", path, OPS, body))[0] == expected, path
        for body, needle in [({**INCIDENT, "severity": "P0"}, "severity must be one of 'P1', 'P2', 'P3' or 'P4', not 'P0'"), ({**INCIDENT, "region": "x"}, "region 'x'"),
                             ({**INCIDENT, "opened": "2030-01-05 10:00"}, "no UTC offset"),
                             ({**INCIDENT, "resolved": "2026-11-05T09:00:00Z"}, "must be after opened")]:
            status, _, problem = await _call(daemon, "POST", "/api/v1/incidents", OPS, body)
            assert status == 400 and needle in problem["detail"], problem


VENDOR = {"month": "2026-10", "region": "eu-west", "availability": "99.95", "stated_downtime_minutes": 21.5,
          "incidents": [{"start": "2026-10-07T10:00:00Z", "end": "2026-10-07T10:21:30Z", "title": "media"}],
          "note": "their monthly PDF"}


async def test_vendor_reports_through_the_api(fleet, tmp_path):
    """`vendor-report add` through the API: recorded exactly as written, a second of the same month and
    region replaces the first, and the CLI's checks refuse a bad one (the daemon's clock in November 2026)."""
    async with running_daemon(fleet, str(tmp_path / "d.db"), TickingClock(MID_NOVEMBER_MS), tokens=TOKENS) as daemon:
        assert (await _call(daemon, "POST", "/api/v1/vendor-reports", CALENDAR, VENDOR))[0] == 403
        status, _, saved = await _call(daemon, "POST", "/api/v1/vendor-reports", OPS, {**VENDOR, "by": "Jane"})
        assert status == 201 and saved["replaced"] is False, saved
        assert (saved["availability_percent"], saved["stated_downtime_minutes"]) == ("99.95", 21.5)
        assert saved["incidents"] == [{"start": "2026-10-07T10:00:00Z", "end": "2026-10-07T10:21:30Z", "title": "media"}]
        assert saved["created_by"] == "Jane (api:ops from 127.0.0.1)"
        status, _, again = await _call(daemon, "POST", "/api/v1/vendor-reports", OPS, {**VENDOR, "availability": 99.9})
        assert status == 201 and again["replaced"] is True and again["availability_percent"] == "99.9"
        listed = (await _call(daemon, "GET", "/api/v1/vendor-reports", None))[2]
        assert [(r["month"], r["region"], r["availability_percent"]) for r in listed] == [("2026-10", "eu-west", "99.9")]
        for body, needle in [({**VENDOR, "availability": "101"}, "outside 0–100"),
                             ({**VENDOR, "region": "mars"}, "region 'mars'"),
                             ({**VENDOR, "month": "2026-12"}, "has not begun"),
                             ({**VENDOR, "incidents": [{"start": "2026-09-01T00:00:00Z", "end": "2026-09-02T00:00:00Z"}]},
                              "outside the report's month")]:
            status, _, problem = await _call(daemon, "POST", "/api/v1/vendor-reports", OPS, body)
            assert status == 400 and needle in problem["detail"], (body, problem)


async def test_an_automatic_incident_is_corrected_and_its_override_listed(fleet, tmp_path):
    async with running_daemon(fleet, str(tmp_path / "d.db"), tokens=TOKENS) as daemon:
        await until(lambda: daemon.live.region_state.get("eu-west") == "up")
        fleet.set_mode("eu-west", "down")
        await until(lambda: daemon.live.region_state.get("eu-west") == "down")
        await asyncio.sleep(2.0)  # past the test config's 1.2 s threshold
        fleet.set_mode("eu-west", "up")
        await until(lambda: daemon.live.region_state.get("eu-west") == "up")

        async def automatic():
            daemon.reports.forget()
            listed = (await _call(daemon, "GET", "/api/v1/incidents", None))[2]
            return next((i for i in listed if i["source"] == "auto" and i["region"] == "eu-west"), None)

        incident = await until(automatic)
        status, _, changed = await _call(daemon, "PATCH", f"/api/v1/incidents/{incident['id']}", OPS,
                                         {"severity": "P3", "by": "Jane"})
        assert (status, changed["severity"]) == (200, "P3"), changed
        encoded = incident["id"].replace("/", "%2F")  # the document's form for a client that encodes
        status, _, changed = await _call(daemon, "PATCH", f"/api/v1/incidents/{encoded}", OPS, {"severity": "P2"})
        assert status == 200 and (changed["id"], changed["severity"]) == (incident["id"], "P2"), (status, changed)
        overrides = (await _call(daemon, "GET", "/api/v1/overrides", None))[2]
        assert [(o["incident_id"], o["severity"], o["updated_by"]) for o in overrides] == \
            [(incident["id"], "P2", "api:ops from 127.0.0.1")]


async def test_requests_without_credentials_are_rate_limited(fleet, tmp_path):
    """web.rate_limit: an address without credentials gets its burst, then a 429 with Retry-After; a
    token's holder and the health checks are not limited."""
    async with running_daemon(fleet, str(tmp_path / "d.db"), tokens=TOKENS,
                              web_extra=", rate_limit: {per_minute: 1, burst: 3}") as daemon:
        answers = [await _call(daemon, "GET", "/api/v1/exclusions", None) for _ in range(4)]
        assert [a[0] for a in answers] == [200, 200, 200, 429]
        status, headers, problem = answers[3]
        assert int(headers["Retry-After"]) >= 1 and "web.rate_limit" in problem["detail"]
        assert (await _call(daemon, "GET", "/api/v1/exclusions", READ))[0] == 200
        assert (await _call(daemon, "GET", "/api/v1/exclusions", "not-a-known-token"))[0] == 429
        async with daemon.http.get("/healthz") as answer:
            assert answer.status == 200
