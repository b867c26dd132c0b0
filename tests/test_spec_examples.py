"""SLA-SPEC §11: every worked example, through the CLI on a real SQLite file and through the pure engine."""
from __future__ import annotations

import pytest

from monitor.config import load_config, to_fleet
from monitor.sla.calendar import iso, parse_month
from monitor.sla.engine import evaluate
from monitor.sla.model import MaintenanceWindow, Records
from monitor.reports.serialize import report_json
from monitor.sla.report import build_month
from monitor.sla.timeline import fold_segments
from spec_examples import EXAMPLES, NOW, Example, ms, samples
from conftest import FIXTURES, write_jsonl

PARAMS = [pytest.param(e, id=e.id) for e in EXAMPLES]


def _check(region: dict, expected: tuple) -> None:
    downtime, availability, credit = expected
    assert round(region["downtime_minutes"], 6) == downtime
    if availability is not None:
        assert round(region["availability_percent"], 6) == availability
    assert region["credit"]["total_percent"] == credit


def _sample_rows(example: Example):
    for ts, ok in samples(example.down, example.span):
        yield {"ts": iso(ts), "probe": "w", "ok": ok, "latency_ms": 12.5}
    if example.third_party_down:
        for ts, ok in samples(example.third_party_down, example.span):
            yield {"ts": iso(ts), "probe": "g", "ok": ok}


@pytest.mark.parametrize("example", PARAMS)
def test_example_through_cli(example: Example, run_cli, tmp_path):
    jsonl = write_jsonl(tmp_path / "samples.jsonl", _sample_rows(example))
    assert run_cli("import", str(jsonl)).code == 0
    for m in example.maintenance:
        result = run_cli("maintenance", "add", "--region", "eu-west", "--start", iso(m["start"]), "--end", iso(m["end"]),
                         "--kind", "scheduled", "--announced-at", iso(m["announced_at"]), "--reason", "upgrade")
        assert result.code == 0, result.err
    for month, expected in example.expected.items():
        result = run_cli("report", "--month", month, "--format", "json")
        assert result.code == 0, result.err
        _check(result.json()["regions"][0], expected)


@pytest.mark.parametrize("example", PARAMS)
def test_example_through_engine(example: Example):
    fleet = to_fleet(load_config(FIXTURES / "spec.yaml"))
    stale = 180_000
    segments = {("w", "local"): list(fold_segments(samples(example.down, example.span), stale))}
    if example.third_party_down:
        segments[("g", "local")] = list(fold_segments(samples(example.third_party_down, example.span), stale))
    records = Records(maintenance=tuple(
        MaintenanceWindow(i, "eu-west", m["start"], m["end"], "scheduled", m["announced_at"])
        for i, m in enumerate(example.maintenance, 1)
    ))
    now = ms(NOW)
    timelines = evaluate(fleet, segments, records, example.span[0] - 86_400_000, example.span[1], now)
    for month, expected in example.expected.items():
        report = report_json(build_month(fleet, timelines, records, *parse_month(month), now))
        _check(report["regions"][0], expected)


def test_example_details(run_cli, tmp_path):
    """Examples 4, 5, 8 and 10 in detail: pieces, flags, excluded minutes, credit parts."""
    by_id = {e.id.split("-")[0]: e for e in EXAMPLES}

    def report_for(example):
        run = run_cli
        run.db.unlink(missing_ok=True)
        jsonl = write_jsonl(tmp_path / f"{example.id}.jsonl", _sample_rows(example))
        assert run("import", str(jsonl)).code == 0
        for m in example.maintenance:
            run("maintenance", "add", "--region", "eu-west", "--start", iso(m["start"]), "--end", iso(m["end"]),
                "--kind", "scheduled", "--announced-at", iso(m["announced_at"]), "--reason", "upgrade")
        return run("report", "--month", "2026-11", "--format", "json").json()["regions"][0]

    r4 = report_for(by_id["4"])
    assert [(p["minutes"], p["counted"]) for p in r4["periods"][0]["pieces"]] == [(5.0, False), (5.0, False)]
    assert r4["excluded_minutes"]["maintenance"] == 20.0 and r4["maintenance"][0]["excluded"] is True

    r5 = report_for(by_id["5"])
    assert r5["flags"] == ["late_notice"] and r5["maintenance"][0]["excluded"] is False
    assert r5["excluded_minutes"]["maintenance"] == 0.0

    r8 = report_for(by_id["8"])
    assert r8["excluded_minutes"]["third_party"] == 30.0
    assert [(p["minutes"], p["counted"]) for p in r8["periods"][0]["pieces"]] == [(30.0, True), (60.0, True)]
    assert [e["detail"] for e in r8["periods"][0]["exclusions"]] == ["Genesys Cloud"]
    evidence = r8["periods"][0]["exclusions"][0]["evidence"]  # from the raw samples of the linked probe
    assert (evidence["probes"], evidence["first_sample"], evidence["last_sample"], evidence["samples"]) == \
        (["g"], "2026-11-03T10:30:00Z", "2026-11-03T10:59:00Z", 30)

    r10 = report_for(by_id["10"])
    credit = r10["credit"]
    assert (credit["availability_percent"], credit["resolution_percent"], credit["same_event"]) == (15, 25, True)
    assert credit["amount"] == "250.00" and credit["currency"] == "EUR"
    assert credit["claim_deadline"] == "2026-12-30"
    assert r10["incidents"][0]["severity"] == "P1" and r10["incidents"][0]["met"] is False
