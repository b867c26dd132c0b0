"""`records apply` and `records export`: maintenance windows, exclusions and overrides kept as code. Applying
a file twice changes nothing the second time; an entry taken out is cancelled (withdrawn, removed); a
changed one replaces its record; records entered by hand are never touched; export and apply round-trip;
a bad file is refused whole, naming the entry, the store left as it was."""
from __future__ import annotations

import pytest

from conftest import store_state, write_jsonl
from monitor.sla.calendar import iso
from spec_examples import NOV, day3, samples

FILE = """source: change-calendar
maintenance:
  - key: db-upgrade
    region: eu-west
    start: 2026-11-03T10:00:00Z
    end: 2026-11-03T10:30:00Z
    kind: scheduled
    announced_at: 2026-10-30T09:00:00Z
    reason: database upgrade
exclusions:
  - key: customer-fw
    all: true
    start: 2026-11-20T08:00:00Z
    end: 2026-11-20T09:00:00Z
    cause: customer_network
    note: our firewall change
overrides:
  - key: reclassified
    incident: eu-west/region/2026-11-20T08:00:00Z
    severity: P2
"""


@pytest.fixture
def month(run_cli, tmp_path):
    """November with two outages of w: 10:00–10:30 on the 3rd (the file's maintenance covers it) and
    08:00–08:40 on the 20th (its exclusion covers it); and a maintenance window entered by hand."""
    down = [(day3("10:00"), day3("10:30")), (NOV[0] + 19 * 86_400_000 + 480 * 60_000,
                                             NOV[0] + 19 * 86_400_000 + 520 * 60_000)]
    rows = ({"ts": iso(t), "probe": "w", "ok": ok, "latency_ms": 10.0} for t, ok in samples(down, NOV))
    assert run_cli("import", str(write_jsonl(tmp_path / "s.jsonl", rows))).code == 0
    assert run_cli("maintenance", "add", "--region", "eu-west", "--start", "2026-11-25T01:00:00Z", "--end",
                   "2026-11-25T02:00:00Z", "--kind", "emergency", "--announced-at", "2026-11-25T00:30:00Z",
                   "--reason", "by hand").code == 0
    path = tmp_path / "calendar.yaml"
    path.write_text(FILE)
    return path


def _region(run_cli) -> dict:
    return run_cli("report", "--month", "2026-11", "--format", "json").json()["regions"][0]


def test_apply_twice_changes_nothing_the_second_time(run_cli, month):
    assert _region(run_cli)["downtime_minutes"] == 70
    dry = run_cli("records", "apply", str(month), "--dry-run")
    assert dry.code == 0 and "3 to add" in dry.out and "dry run: nothing changed" in dry.out
    applied = run_cli("records", "apply", str(month))
    assert applied.code == 0, applied.err
    assert "+ maintenance db-upgrade: eu-west 2026-11-03T10:00:00Z – 2026-11-03T10:30:00Z, database upgrade" in applied.out
    region = _region(run_cli)
    assert region["downtime_minutes"] == 0  # both outages excluded now
    assert next(i for i in region["incidents"] if i["id"] == "eu-west/region/2026-11-20T08:00:00Z")["severity"] == "P2"
    state = store_state(run_cli.db)
    again = run_cli("records", "apply", str(month))
    assert "0 to add, 0 to change, 0 to cancel, 3 as in the file; nothing to do" in again.out
    assert store_state(run_cli.db) == state
    assert run_cli("evidence", "verify").code == 0


def test_a_removed_entry_is_undone_a_changed_one_replaced_hand_records_untouched(run_cli, month):
    assert run_cli("records", "apply", str(month)).code == 0
    hand = [m for m in run_cli("maintenance", "list", "--format", "json").json() if m["reason"] == "by hand"]
    month.write_text(FILE.split("exclusions:")[0].replace("database upgrade", "database upgrade, phase 2"))
    result = run_cli("records", "apply", str(month))
    assert result.code == 0, result.err
    assert "~ maintenance db-upgrade: " in result.out and "(changed: reason; replaces maintenance 2)" in result.out
    assert "- exclusion customer-fw: no longer in the file, withdrawn (exclusion 1)" in result.out
    assert "- override reclassified: no longer in the file, removed (of eu-west/region/2026-11-20T08:00:00Z)" \
        in result.out
    region = _region(run_cli)
    assert region["downtime_minutes"] == 40  # the exclusion is withdrawn: the 20th counts again
    assert next(i for i in region["incidents"] if i["id"] == "eu-west/region/2026-11-20T08:00:00Z")["severity"] == "P1"
    windows = run_cli("maintenance", "list", "--format", "json").json()
    assert [m for m in windows if m["reason"] == "by hand"] == hand
    assert [m["cancelled"] for m in windows if m["reason"].startswith("database upgrade")] == [True, False]
    assert run_cli("exclusion", "list", "--format", "json").json()[0]["withdrawn"] is not None


def test_export_round_trips_and_a_hand_override_is_refused(run_cli, month, tmp_path):
    assert run_cli("records", "apply", str(month)).code == 0
    exported = tmp_path / "exported.yaml"
    assert run_cli("records", "export", "--source", "change-calendar", "--output", str(exported)).code == 0
    state = store_state(run_cli.db)
    again = run_cli("records", "apply", str(exported))
    assert again.code == 0 and "3 as in the file; nothing to do" in again.out and store_state(run_cli.db) == state
    assert run_cli("incident", "resolve", "eu-west/region/2026-11-03T10:00:00Z", "--at", "2026-11-03T10:05:00Z").code == 0
    other = tmp_path / "other.yaml"
    other.write_text("overrides:\n  - {key: x, incident: eu-west/region/2026-11-03T10:00:00Z, severity: P3}\n")
    state = store_state(run_cli.db)
    refused = run_cli("records", "apply", str(other))
    assert refused.code == 2 and "already has an override set by hand" in refused.err
    assert store_state(run_cli.db) == state


BAD = [
    ("maintenance:\n  - {key: a, region: eu-west, start: 2026-11-03T10:00:00Z}\n", "end"),
    ("maintenance:\n  - {key: a, region: moon, start: 2026-11-03T10:00:00Z, end: 2026-11-03T11:00:00Z, kind: scheduled,"
     " announced_at: 2026-11-01T00:00:00Z, reason: x}\n", "maintenance[0] (key a): region 'moon'"),
    ("maintenance:\n  - {key: a, region: eu-west, start: 2026-11-03T10:00:00Z, end: 2026-11-03T11:00:00Z, kind: planned,"
     " announced_at: 2026-11-01T00:00:00Z, reason: x}\n", "kind 'planned': scheduled or emergency"),
    ("maintenance:\n  - {key: a, region: eu-west, start: 2026-11-01T00:00:00Z, end: 2026-12-31T00:00:00Z, kind: scheduled,"
     " announced_at: 2026-10-01T00:00:00Z, reason: x}\n", "add long: true if it is meant"),
    ("exclusions:\n  - {key: a, all: true, start: 2026-11-03T10:00:00Z, end: 2026-11-03T11:00:00Z, cause: rain, note: x}\n",
     "cause 'rain' is not a cause"),
    ("exclusions:\n  - {key: a, all: true, start: 2026-11-03T10:00:00Z, end: 2026-11-03T11:00:00Z, cause: customer,"
     " note: x}\n  - {key: a, all: true, start: 2026-11-04T10:00:00Z, end: 2026-11-04T11:00:00Z, cause: customer,"
     " note: y}\n", "key 'a' is used twice"),
    ("overrides:\n  - {key: a, incident: '7', severity: P2}\n", "an automatic incident's id"),
    ("overrides:\n  - {key: a, incident: eu-west/region/2026-11-03T10:00:00Z, severity: P9}\n", "severity 'P9'"),
    ("overrides:\n  - {key: a, incident: eu-west/region/2026-11-03T10:00:00Z}\n", "give resolved, severity or both"),
    ("windows: []\n", "unknown key(s) windows"),
    ("maintenance:\n  - {key: 'Bad Key', region: eu-west}\n", "key 'Bad Key'"),
    ("maintenance: [\n", "not YAML"),
]


@pytest.mark.parametrize("text,message", BAD, ids=[b[1][:28] for b in BAD])
def test_a_bad_file_is_refused_whole(text, message, run_cli, month, tmp_path):
    assert run_cli("records", "apply", str(month)).code == 0
    state = store_state(run_cli.db)
    bad = tmp_path / "bad.yaml"
    bad.write_text("source: change-calendar\n" + text)
    result = run_cli("records", "apply", str(bad))
    assert result.code == 2, result.out
    assert message in result.err, result.err
    assert store_state(run_cli.db) == state
