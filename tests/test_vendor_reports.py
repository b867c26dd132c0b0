"""`vendor-report`: the vendor's own SLA report of a month beside ours. On the spec's example 2 (60
minutes of Downtime in two outages) a vendor who reports 99.95 % and an incident summary with only the
first outage: the report, the claim and `vendor-report list` give their Downtime, the difference in
minutes and the outage their summary lacks. Bad entries are refused whole, the store left as it was."""
from __future__ import annotations

import json
from fractions import Fraction

import pytest

from monitor.sla.calendar import iso
from monitor.storage import Store
from monitor.storage.memory import MemoryStore
from conftest import store_state, write_jsonl
from spec_examples import EXAMPLES, NOV, samples

EXAMPLE_2 = next(e for e in EXAMPLES if e.id.startswith("2-"))
FIRST, SECOND = EXAMPLE_2.down  # 2026-11-03 10:00–10:20 and 2026-11-20 08:00–08:40
MONTH_MINUTES = (NOV[1] - NOV[0]) // 60_000


@pytest.fixture
def example_2(run_cli, tmp_path):
    rows = ({"ts": iso(t), "probe": "w", "ok": ok, "latency_ms": 12.5} for t, ok in samples(EXAMPLE_2.down, NOV))
    assert run_cli("import", str(write_jsonl(tmp_path / "samples.jsonl", rows))).code == 0
    summary = tmp_path / "their-incidents.yaml"
    summary.write_text(f"- {{start: '{iso(FIRST[0])}', end: '{iso(FIRST[1] + 300_000)}', title: Video degraded}}\n")
    return summary


def _region(run_cli) -> dict:
    result = run_cli("report", "--month", "2026-11", "--format", "json")
    assert result.code == 0, result.err
    return result.json()["regions"][0]


def test_their_report_beside_ours(run_cli, example_2):
    added = run_cli("vendor-report", "add", "--month", "2026-11", "--region", "eu-west", "--availability", "99.95",
                    "--incidents", str(example_2), "--note", "from the account manager")
    assert added.code == 0 and "recorded" in added.out, added.err
    region = _region(run_cli)
    ours = EXAMPLE_2.expected["2026-11"][0]
    theirs = Fraction(MONTH_MINUTES) * (100 - Fraction("99.95")) / 100  # their availability's Downtime: 21.6 min
    vendor = region["vendor_report"]
    assert region["downtime_minutes"] == ours
    assert vendor["downtime_minutes"] == float(theirs) and vendor["downtime_stated"] is False
    assert vendor["difference_minutes"] == float(ours - theirs)
    assert vendor["availability_difference_percent"] == pytest.approx(99.95 - region["availability_percent"])
    assert vendor["unlisted_outages"] == [{"start": iso(SECOND[0]), "end": iso(SECOND[1]),
                                           "minutes": (SECOND[1] - SECOND[0]) / 60_000}]
    markdown = run_cli("report", "--month", "2026-11", "--format", "markdown").out
    assert "38.40 min more than the provider reports" in markdown
    assert "Not in the provider's incident summary: our counted outage 2026-11-20 08:00–08:40" in markdown
    claim = run_cli("claim", "--month", "2026-11", "--format", "markdown", now="2026-12-02T00:00:00Z")
    assert claim.code == 0, claim.err
    assert "Not in the provider's incident summary: our counted outage 2026-11-20 08:00–08:40" in claim.out
    html = run_cli("report", "--month", "2026-11", "--format", "html").out
    assert "38.40 min more than the provider reports" in html


def test_stated_downtime_a_later_report_replaces_and_list(run_cli, example_2):
    assert run_cli("vendor-report", "add", "--month", "2026-11", "--region", "eu-west", "--availability",
                   "99.97").code == 0
    later = run_cli("vendor-report", "add", "--month", "2026-11", "--region", "eu-west", "--availability", "99.9",
                    "--downtime-minutes", "43.2")
    assert later.code == 0 and "replaces the one recorded (99.97 %)" in later.out
    again = run_cli("vendor-report", "add", "--month", "2026-11", "--region", "eu-west", "--availability", "99.9",
                    "--downtime-minutes", "43.2")
    assert "as recorded" in again.out
    vendor = _region(run_cli)["vendor_report"]
    assert vendor["downtime_stated"] is True and vendor["downtime_minutes"] == 43.2
    assert vendor["difference_minutes"] == pytest.approx(60 - 43.2) and vendor["unlisted_outages"] is None
    listed = run_cli("vendor-report", "list", "--format", "json")
    assert [(r["month"], r["their_percent"], r["our_downtime_minutes"]) for r in listed.json()] == [("2026-11", 99.9, 60.0)]
    assert run_cli("evidence", "verify").code == 0  # each report, and its replacement, is a link


def test_import_yaml_and_csv(run_cli, example_2, tmp_path):
    reports = tmp_path / "reports.yaml"
    reports.write_text(f"""
- month: "2026-10"
  region: eu-west
  availability: 100
- month: "2026-11"
  region: eu-west
  availability: 99.95
  stated_downtime_minutes: 20
  incidents:
    - {{start: {iso(FIRST[0])}, end: {iso(FIRST[1])}}}
    - {{start: {iso(SECOND[0])}, end: {iso(SECOND[1])}, title: second}}
""")
    result = run_cli("vendor-report", "import", str(reports))
    assert result.code == 0, result.err
    vendor = _region(run_cli)["vendor_report"]
    assert vendor["incidents"] == 2 and vendor["unlisted_outages"] == [] and vendor["difference_minutes"] == 40.0
    csv_file = tmp_path / "reports.csv"
    csv_file.write_text("month,region,availability,stated_downtime_minutes,note\n2026-11,eu-west,99.8,,their PDF\n")
    assert run_cli("vendor-report", "import", str(csv_file)).code == 0
    listed = run_cli("vendor-report", "list", "--format", "json").json()
    assert [(r["month"], r["their_percent"]) for r in listed] == [("2026-10", 100.0), ("2026-11", 99.8)]


BAD = [
    ("month: 2026-13\n", "month '2026-13' is not YYYY-MM"),
    ("month: 2027-03\n", "month 2027-03 has not begun"),
    ("region: moon\n", "region 'moon' is not in the config (eu-west)"),
    ("availability: 100.5\n", "availability: 100.5 is outside 0–100"),
    ("availability: lots\n", "availability: 'lots' is not a number"),
    ("stated_downtime_minutes: -1\n", "stated_downtime_minutes: -1 is outside 0–43200"),
    ("stated_downtime_minutes: 0.0000001\n", "stated_downtime_minutes 1e-07 is finer than a millisecond"),
    ("uptime: 99\n", "unknown key(s) uptime"),
    ("incidents: [{start: 2026-11-03T10:00:00Z, end: 2026-11-03T09:00:00Z}]\n", "incident 1: end"),
    ("incidents: [{start: 2026-09-03T10:00:00Z, end: 2026-09-03T11:00:00Z}]\n", "lies outside the report's month"),
    ("incidents: [{start: '2026-11-03 10:00', end: 2026-11-03T11:00:00Z}]\n", "has no UTC offset"),
]


@pytest.mark.parametrize("change,message", BAD, ids=[b[1][:30] for b in BAD])
def test_bad_entry_refuses_the_whole_file(change, message, run_cli, example_2, tmp_path):
    assert run_cli("vendor-report", "add", "--month", "2026-10", "--region", "eu-west", "--availability", "99").code == 0
    before = store_state(run_cli.db)
    key = change.split(":")[0]
    bad = {"month": "2026-11", "region": "eu-west", "availability": "99.9"}
    lines = [f"  {k}: {json.dumps(v)}" for k, v in bad.items() if k != key]
    path = tmp_path / "reports.yaml"
    path.write_text("- month: '2026-10'\n  region: eu-west\n  availability: 98\n- " + "\n".join(lines).lstrip()
                    + "\n  " + change)
    result = run_cli("vendor-report", "import", str(path))
    assert result.code == 2, result.out
    assert message in result.err and "entry 2" in result.err, result.err
    assert store_state(run_cli.db) == before


def test_bad_files(run_cli, example_2, tmp_path):
    not_a_list = tmp_path / "one.yaml"
    not_a_list.write_text("month: 2026-11\n")
    result = run_cli("vendor-report", "import", str(not_a_list))
    assert result.code == 2 and "expected a list of entries" in result.err
    with_incidents = tmp_path / "r.csv"
    with_incidents.write_text("month,region,availability,incidents\n2026-11,eu-west,99.9,x\n")
    result = run_cli("vendor-report", "import", str(with_incidents))
    assert result.code == 2 and "their incidents: the YAML form" in result.err
    missing = run_cli("vendor-report", "add", "--month", "2026-11", "--region", "eu-west", "--availability", "99.9",
                      "--incidents", str(tmp_path / "nowhere.yaml"))
    assert missing.code == 2 and "cannot read it" in missing.err


@pytest.mark.parametrize("make", [lambda tmp: Store.open(tmp / "s.db"), lambda tmp: MemoryStore()], ids=["sqlite", "memory"])
def test_stores_keep_reports_alike(make, tmp_path):
    """The SQLite store and the memory store: one report per month and region, the later replacing it."""
    store = make(tmp_path)
    row = {"month": "2026-11", "region": "eu-west", "availability_percent": "99.95", "stated_downtime_ms": None,
           "incidents": json.dumps([[1, 2, "x"]]), "note": ""}
    first, replaced = store.set_vendor_report(row, "me", 10)
    assert replaced is None
    again, replaced = store.set_vendor_report({**row, "availability_percent": "99.9"}, "me", 20)
    assert again == first and replaced["availability_percent"] == "99.95"
    (report,) = store.load_records().vendor_reports
    assert (report.month, str(report.availability_percent), report.incidents[0].title) == ("2026-11", "99.9", "x")
