"""`incident import`: the help desks' ticket exports as incidents. Each preset's recorded export gives
the §9.2 credit of the spec's example 10 (its P1 took 8 h against 4 h) for the same incident; a
re-import changes nothing, or exactly what the export changed; bad input is refused whole, naming
its line, column and value, and the store is left as it was."""
from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.sla.calendar import iso
from monitor.sla.incidents import UPDATE_INTERVAL_MS, communication
from monitor.sla.model import Incident
from monitor.storage.schema import V8_STATEMENTS
from conftest import FIXTURES, write_jsonl
from conftest import store_state as _store_state
from spec_examples import EXAMPLES, NOV, samples

TICKETS = FIXTURES / "tickets"
# Each export as its tool writes it, and the zone its account writes times in (none carries an offset).
PRESETS = {"zendesk": "Europe/Warsaw", "jsm": "UTC", "servicenow": "America/New_York", "freshdesk": "Europe/London"}
EXAMPLE_10 = next(e for e in EXAMPLES if e.id.startswith("10-"))
HOUR = 3_600_000


def _iso_rows(down):
    """A sample of probe w every minute of November, down inside ``down``."""
    return ({"ts": iso(t), "probe": "w", "ok": ok, "latency_ms": 12.5} for t, ok in samples(down, NOV))


def _import(run_cli, preset: str, path: Path | None = None, *extra: str):
    return run_cli("incident", "import", str(path or TICKETS / f"{preset}.csv"), "--preset", preset,
                   "--region", "eu-west", "--timezone", PRESETS[preset], *extra)


def _region(run_cli) -> dict:
    result = run_cli("report", "--month", "2026-11", "--format", "json")
    assert result.code == 0, result.err
    return result.json()["regions"][0]


@pytest.fixture(scope="module")
def example_10(tmp_path_factory) -> dict:
    """Example 10 computed by the monitor from its samples: the region's report for November."""
    tmp = tmp_path_factory.mktemp("example10")
    jsonl = write_jsonl(tmp / "samples.jsonl", _iso_rows(EXAMPLE_10.down))
    argv = ["--config", str(FIXTURES / "spec.yaml"), "--db", str(tmp / "store.db"), "--now", "2027-01-15T00:00:00Z"]
    assert main(argv + ["import", str(jsonl)]) == 0
    out = tmp / "report.json"
    assert main(argv + ["report", "--month", "2026-11", "--format", "json", "--output", str(out)]) == 0
    return json.loads(out.read_text())["regions"][0]


@pytest.mark.parametrize("preset", PRESETS)
def test_export_gives_the_spec_credit_for_the_same_incident(preset, run_cli, tmp_path, example_10):
    """No downtime at all in the samples: the credit comes from the tickets alone, and equals example 10's."""
    assert run_cli("import", str(write_jsonl(tmp_path / "up.jsonl", _iso_rows([])))).code == 0
    result = _import(run_cli, preset)
    assert result.code == 0, result.err
    region = _region(run_cli)
    auto_p1 = next(i for i in example_10["incidents"] if i["severity"] == "P1")
    ticket_p1 = next(i for i in region["incidents"] if i["severity"] == "P1")
    assert ticket_p1["ticket"].startswith(f"{preset}:")
    assert (ticket_p1["opened"], ticket_p1["resolved"]) == (auto_p1["opened"], auto_p1["resolved"])
    assert ticket_p1["resolution_minutes"] == auto_p1["resolution_minutes"] and ticket_p1["met"] is False
    assert region["downtime_minutes"] == 0 and region["credit"]["availability_percent"] == 0
    assert region["credit"]["resolution_percent"] == example_10["credit"]["resolution_percent"]
    assert region["credit"]["total_percent"] == EXAMPLE_10.expected["2026-11"][2]
    # The P2 ticket met its 12 h; P3 and P4 tickets are kept but count for nothing.
    assert region["credit"]["resolution_counted"] == 2 and region["credit"]["resolution_missed"] == 1


def test_ticket_and_outage_of_example_10_are_the_same_event(run_cli, tmp_path, example_10):
    """Example 10's samples and its ticket: both P1s missed, and the larger credit applies once (§9.3)."""
    assert run_cli("import", str(write_jsonl(tmp_path / "down.jsonl", _iso_rows(EXAMPLE_10.down)))).code == 0
    assert _import(run_cli, "servicenow").code == 0
    credit = _region(run_cli)["credit"]
    assert credit["same_event"] is True and credit["resolution_missed"] == 2
    assert credit["total_percent"] == example_10["credit"]["total_percent"] == EXAMPLE_10.expected["2026-11"][2]


def test_communication_from_the_timelines(run_cli):
    """JSM's comments and ServiceNow's journal give the first response and the updates; Zendesk's first
    reply is minutes after creation and Freshdesk's a time; updates are judged only where exported."""
    cadence = {}
    for preset in PRESETS:
        assert _import(run_cli, preset).code == 0
    for incident in _region(run_cli)["incidents"]:
        cadence[incident["ticket"]] = incident["communication"]
    assert cadence["jsm:SUP-101"] == {"response_minutes": 10.0, "response_met": True, "updates": 2,
                                      "longest_silence_minutes": 320.0, "updates_met": False}
    assert cadence["servicenow:INC0010001"]["response_minutes"] == 12.0
    assert cadence["servicenow:INC0010001"]["updates"] == 1  # the newest-first journal, oldest entry the response
    assert cadence["zendesk:4711"] == {"response_minutes": 12.0, "response_met": True, "updates": None,
                                       "longest_silence_minutes": None, "updates_met": None}
    assert cadence["freshdesk:1001"]["response_minutes"] == 20.0 and cadence["freshdesk:1001"]["response_met"] is False
    report = run_cli("report", "--month", "2026-11", "--format", "markdown").out
    assert "jsm:SUP-101 (incident" in report and "the longest silence 320.00 min (due every 60.00 min: missed)" in report


def test_communication_rules():
    """The silences run from the first response through each update to the resolution (now while open)."""
    opened = NOV[0]
    ticket = Incident("1", "eu-west", None, "P1", opened, opened + 4 * HOUR, ticket="x:1",
                      responded_ms=opened + 10 * 60_000, updates_ms=(opened + HOUR, opened + 2 * HOUR))
    c = communication(ticket, now_ms=opened + 100 * HOUR)
    assert (c.response_ms, c.response_met, c.updates) == (10 * 60_000, True, 2)
    assert c.longest_silence_ms == 2 * HOUR and c.updates_met is False  # the last update to the resolution
    still_open = ticket._replace(resolved_ms=None, updates_ms=(opened + HOUR, opened + 2 * HOUR, opened + 3 * HOUR))
    assert communication(still_open, now_ms=opened + 3 * HOUR + UPDATE_INTERVAL_MS["P1"]).updates_met is True
    assert communication(still_open, now_ms=opened + 3 * HOUR + UPDATE_INTERVAL_MS["P1"] + 1).updates_met is False
    late = ticket._replace(responded_ms=opened + 16 * 60_000, updates_ms=None)
    assert communication(late, now_ms=opened).response_met is False
    assert communication(late, now_ms=opened).updates_met is None  # the export says nothing of updates


def test_reimport_changes_nothing_then_exactly_what_changed(run_cli, tmp_path):
    assert _import(run_cli, "zendesk").code == 0
    state = _store_state(run_cli.db)
    again = _import(run_cli, "zendesk")
    assert again.code == 0 and "0 new, 0 changed, 4 as recorded" in again.out
    assert _store_state(run_cli.db) == state  # not even a link of the evidence chain
    edited = (TICKETS / "zendesk.csv").read_text().replace("2026-11-03 19:00", "2026-11-03 17:30").replace(
        "Solved,Normal", "Solved,High")
    path = tmp_path / "zendesk-later.csv"
    path.write_text(edited)
    dry = _import(run_cli, "zendesk", path, "--dry-run")
    assert dry.code == 0 and "nothing stored" in dry.out and _store_state(run_cli.db) == state
    changed = _import(run_cli, "zendesk", path)
    assert changed.code == 0, changed.err
    assert "(zendesk:4711) changed: resolved 2026-11-03T18:00:00Z → 2026-11-03T16:30:00Z" in changed.out
    assert "(zendesk:4713) changed: severity P3 → P2" in changed.out
    assert "0 new, 2 changed, 2 as recorded" in changed.out
    incidents = {i["ticket"]: i for i in _region(run_cli)["incidents"]}
    assert incidents["zendesk:4711"]["resolution_minutes"] == 390.0 and incidents["zendesk:4713"]["severity"] == "P2"
    assert run_cli("evidence", "verify").code == 0  # each change is a link of the chain


def test_custom_export_from_config(run_cli, tmp_path):
    """Any other help desk: its columns, priorities, time form and region column described in the config.
    A Critical ticket of a non-production region is recorded as P3, and the import says so."""
    config = tmp_path / "desk.yaml"
    staging = """  - name: staging
    environment: non-production
    components:
      - name: widget
        critical: true
        probes:
          - {id: s, kind: http, url: "http://127.0.0.1:9/health", interval: 60s}
"""
    config.write_text((FIXTURES / "spec.yaml").read_text().replace("contract:\n", staging + "contract:\n") + """
ticket_exports:
  - name: ourdesk
    columns: {ticket: Key, opened: Opened, priority: Sev, resolved: [Fixed], region: Where, updates: Notes}
    priorities: {Sev1: P1, Sev2: P2, Sev3: P3}
    time_formats: ["%d.%m.%Y %H:%M", "ISO 8601"]
    timezone: Europe/Berlin
""")
    export = tmp_path / "desk.csv"
    export.write_text("Key,Opened,Sev,Fixed,Where,Notes\n"
                      "D-1,03.11.2026 11:00,sev1,03.11.2026 19:00,eu-west,03.11.2026 11:05;2026-11-03T11:00:00Z\n"
                      "D-2,04.11.2026 11:00,SEV1,,staging,\n")
    result = run_cli("incident", "import", str(export), "--preset", "ourdesk", config=config)
    assert result.code == 0, result.err
    assert "ourdesk:D-2 (line 3): SEV1 in non-production region staging recorded as P3" in result.out
    assert "incident 1 recorded from ourdesk:D-1: P1, eu-west, opened 2026-11-03T10:00:00Z, resolved " \
           "2026-11-03T18:00:00Z" in result.out
    report = run_cli("report", "--month", "2026-11", "--format", "json", config=config).json()
    staging = next(r for r in report["regions"] if r["region"] == "staging")
    assert [i["severity"] for i in staging["incidents"] if i["ticket"]] == ["P3"]


BAD = [
    ("header", "Id,Subject,Priority\n1,x,Urgent\n", "zendesk", "line 1: the header lacks the zendesk export's column(s) "
     "'Created at'"),
    ("bad date", None, "zendesk", "line 3, column 'Created at': '2026-11-31 10:00' is not a time as zendesk writes it"),
    ("unknown priority", None, "jsm", "line 3, column 'Priority': 'Blocker' is not a jsm priority this import knows"),
    ("duplicate", None, "freshdesk", "line 5, column 'Ticket ID': '1001' is also the ticket on line 2"),
    ("resolved first", None, "zendesk", "column 'Solved at': '2026-11-03 10:00' is not after the ticket was opened"),
    ("future", None, "zendesk", "column 'Created at': '2027-02-01 10:00' is after now"),
    ("huge field", None, "servicenow", "line 2: not a CSV record the servicenow format can read (field larger than "
     "field limit"),
    ("not utf-8", b"\xff\xfeI\x00d\x00\n", "zendesk", "line 1: not UTF-8 text"),
    ("extra fields", None, "freshdesk", "line 3: 23 fields, but the header names 22 columns"),
]


def _bad_export(case: str, preset: str) -> bytes:
    good = (TICKETS / f"{preset}.csv").read_text()
    lines = good.splitlines(keepends=True)
    if case == "bad date":
        return good.replace("2026-11-10 10:00,2026-11-10 15:40", "2026-11-31 10:00,2026-11-10 15:40").encode()
    if case == "unknown priority":
        return good.replace(",High,Done,", ",Blocker,Done,").encode()
    if case == "duplicate":
        return (good + lines[1].replace("Video calls", "Calls")).encode()
    if case == "resolved first":
        return good.replace("2026-11-03 11:04,2026-11-03 19:00", "2026-11-03 11:04,2026-11-03 10:00").encode()
    if case == "future":
        return good.replace("2026-11-20 09:00,2026-11-20 12:00", "2027-02-01 10:00,2026-11-20 12:00").encode()
    if case == "huge field":
        return good.replace("Root cause: a media relay", "x" * 10_000_000).encode()
    if case == "extra fields":
        return good.replace("1002,Management Panel login slow,", "1002,Management Panel, login slow,").encode()
    raise AssertionError(case)


@pytest.mark.parametrize("case,text,preset,message", BAD, ids=[b[0] for b in BAD])
def test_bad_export_is_refused_whole(case, text, preset, message, run_cli, tmp_path):
    assert _import(run_cli, "zendesk" if preset != "zendesk" else "jsm").code == 0  # something stored before
    assert run_cli("incident", "add", "--region", "eu-west", "--severity", "P2", "--opened", "2026-11-05T10:00:00Z",
                   "--title", "by hand").code == 0
    state = _store_state(run_cli.db)
    path = tmp_path / "bad.csv"
    path.write_bytes(text.encode() if isinstance(text, str) else text if text else _bad_export(case, preset))
    result = _import(run_cli, preset, path)
    assert result.code == 2, result.out
    assert message in result.err, result.err
    assert _store_state(run_cli.db) == state


@pytest.mark.parametrize("args,message", [
    (["--preset", "zendesk", "--region", "eu-west"], "has no UTC offset: zendesk writes times in its account's time "
                                                     "zone; say which with --timezone"),
    (["--preset", "zendesk", "--region", "eu-west", "--timezone", "Mars/Olympus"], "--timezone 'Mars/Olympus' is not"),
    (["--preset", "zendesk"], "say which region the tickets are about with --region"),
    (["--preset", "zendesk", "--region", "moon", "--timezone", "UTC"], "--region 'moon': not a region of the config"),
    (["--preset", "otrs", "--region", "eu-west"], "--preset 'otrs': not a preset (zendesk, jsm, servicenow, freshdesk)"),
])
def test_bad_arguments(args, message, run_cli):
    result = run_cli("incident", "import", str(TICKETS / "zendesk.csv"), *args)
    assert result.code == 2 and message in result.err, result.err
    assert not run_cli.db.exists() or not _region(run_cli)["incidents"]


def test_bad_ticket_exports_config(tmp_path):
    from monitor.config import ConfigError, load_config

    config = tmp_path / "bad.yaml"
    config.write_text((FIXTURES / "spec.yaml").read_text() + """
ticket_exports:
  - name: zendesk
    columns: {ticket: Key, opened: Opened, priority: Sev}
    priorities: {Sev1: P0}
    time_formats: ["dd.mm.yyyy"]
    timezone: Mars/Olympus
""")
    with pytest.raises(ConfigError) as caught:
        load_config(str(config))
    text = str(caught.value)
    for expected in ("ticket_exports[0].priorities.Sev1", "ticket_exports[0].time_formats", "'dd.mm.yyyy' is neither"):
        assert expected in text, text
    config.write_text(config.read_text().replace("P0", "P1").replace('["dd.mm.yyyy"]', '["%d.%m.%Y"]'))
    with pytest.raises(ConfigError) as caught:
        load_config(str(config))
    text = str(caught.value)
    for expected in ("ticket_exports[0].name", "'zendesk' is a built-in preset's name", "ticket_exports[0].timezone",
                     "'Mars/Olympus' is not an IANA time zone"):
        assert expected in text, text


def test_store_from_before_tickets_still_verifies(run_cli):
    """A store chained before schema v8 added columns to the record tables (tickets, managed records,
    withdrawals): after the upgrade its records' links still hold (columns added later are hashed only
    when set)."""
    assert run_cli("incident", "add", "--region", "eu-west", "--severity", "P1", "--opened", "2026-11-05T10:00:00Z",
                   "--resolved", "2026-11-05T12:00:00Z").code == 0
    assert run_cli("maintenance", "add", "--region", "eu-west", "--start", "2026-11-06T01:00:00Z", "--end",
                   "2026-11-06T02:00:00Z", "--kind", "emergency", "--announced-at", "2026-11-06T00:00:00Z",
                   "--reason", "patch").code == 0
    assert run_cli("exclusion", "add", "--all", "--start", "2026-11-07T01:00:00Z", "--end", "2026-11-07T02:00:00Z",
                   "--cause", "customer", "--note", "ours").code == 0
    with sqlite3.connect(run_cli.db) as conn:  # the version-7 store that was: each v8 statement undone
        for statement in reversed(V8_STATEMENTS):
            words = statement.split()
            if words[:2] == ["CREATE", "TABLE"]:
                conn.execute(f"DROP TABLE {words[2]}")
            elif words[:2] == ["CREATE", "UNIQUE"]:
                conn.execute(f"DROP INDEX {words[3]}")
            else:  # ALTER TABLE t ADD COLUMN c …
                conn.execute(f"ALTER TABLE {words[2]} DROP COLUMN {words[5]}")
        conn.execute("PRAGMA user_version = 7")
    assert run_cli("incident", "list", "--month", "2026-11").code == 0  # opened: migrated to the current version
    with sqlite3.connect(run_cli.db) as conn:
        assert "ticket" in [r[1] for r in conn.execute("PRAGMA table_info(incidents)")]
    verified = run_cli("evidence", "verify")
    assert verified.code == 0, verified.out + verified.err


def test_a_dry_run_creates_no_store(run_cli, tmp_path):
    """A dry run where there is no store yet plans against an empty one and leaves no file behind
    (`records apply --dry-run` too)."""
    dry = _import(run_cli, "zendesk", None, "--dry-run")
    assert dry.code == 0 and "4 new, 0 changed, 0 as recorded (dry run: nothing stored" in dry.out, dry.err
    records = tmp_path / "records.yaml"
    records.write_text("exclusions:\n  - {key: fw, region: eu-west, start: 2026-11-03T10:00:00Z, "
                       "end: 2026-11-03T11:00:00Z, cause: customer_network, note: our firewall}\n")
    planned = run_cli("records", "apply", str(records), "--dry-run")
    assert planned.code == 0 and "1 to add" in planned.out, planned.err
    assert not run_cli.db.exists()
    assert _import(run_cli, "zendesk").code == 0 and run_cli.db.exists()  # the real run creates it
