"""Maintenance windows as iCalendar: `maintenance export`, `/maintenance.ics` and `maintenance import`,
read back with the icalendar library; bad calendars refused with the event and property named, and
nothing stored."""
from __future__ import annotations

import sqlite3

import icalendar
import pytest

from monitor.cli import main
from test_bad_input import snapshot as dump

NOW = "2026-11-20T00:00:00Z"


def windows(db) -> list[tuple]:
    con = sqlite3.connect(db)
    try:
        return con.execute("SELECT region, start_ms, end_ms, kind, announced_at_ms, reason FROM maintenance"
                           " WHERE cancelled = 0 ORDER BY start_ms").fetchall()
    finally:
        con.close()


@pytest.fixture
def recorded(run_cli):
    """Three windows: eu-west's (48 h notice), every region's (short notice), and a cancelled one."""
    add = ["maintenance", "add", "--kind", "scheduled"]
    assert run_cli(*add, "--region", "eu-west", "--start", "2026-11-25T01:00:00Z", "--end", "2026-11-25T02:30:00Z",
                   "--announced-at", "2026-11-18T09:00:00Z", "--reason", "database upgrade", now=NOW).code == 0
    assert run_cli(*add, "--all", "--start", "2026-11-19T22:00:00Z", "--end", "2026-11-19T23:00:00Z",
                   "--announced-at", "2026-11-19T12:00:00Z", "--reason", "network; short notice", now=NOW).code == 0
    assert run_cli(*add, "--region", "eu-west", "--start", "2026-11-28T01:00:00Z", "--end", "2026-11-28T02:00:00Z",
                   "--announced-at", "2026-11-18T09:00:00Z", "--reason", "called off", now=NOW).code == 0
    assert run_cli("maintenance", "cancel", "3", now=NOW).code == 0
    return run_cli


def test_export_then_import_into_a_fresh_store_gives_the_same_windows(recorded, tmp_path, capsys):
    out = tmp_path / "m.ics"
    assert recorded("maintenance", "export", "--output", str(out), now=NOW).code == 0
    calendar = icalendar.Calendar.from_ical(out.read_bytes())  # the library's own reading
    events = {str(e["uid"]): e for e in calendar.walk("VEVENT")}
    assert set(events) == {f"maintenance-{n}@sla-monitor" for n in (1, 2, 3)}
    assert str(events["maintenance-3@sla-monitor"]["status"]) == "CANCELLED"
    assert str(events["maintenance-2@sla-monitor"]["x-sla-region"]) == "all"
    assert events["maintenance-1@sla-monitor"].decoded("dtstart").isoformat() == "2026-11-25T01:00:00+00:00"

    fresh = tmp_path / "fresh.db"
    cli = ["--config", str(recorded.db.parent / "spec.yaml"), "--db", str(fresh), "--now", NOW]
    assert main(cli + ["maintenance", "import", str(out)]) == 0
    assert "2 windows recorded" in capsys.readouterr().out
    assert windows(fresh) == windows(recorded.db)  # region, span, kind, announced-at, reason: all kept
    assert main(cli + ["maintenance", "import", str(out)]) == 0  # run twice: nothing twice
    assert "0 windows recorded, 2 already recorded" in capsys.readouterr().out
    assert len(windows(fresh)) == 2


def test_calendar_of_one_region_and_recent_only(recorded, tmp_path):
    """``--region`` keeps that region's windows and every region's; a window over 30 days past is left out."""
    out = tmp_path / "r.ics"
    assert recorded("maintenance", "export", "--region", "eu-west", "--output", str(out), now="2026-12-22T00:00:00Z").code == 0
    uids = {str(e["uid"]) for e in icalendar.Calendar.from_ical(out.read_bytes()).walk("VEVENT")}
    assert uids == {"maintenance-1@sla-monitor", "maintenance-3@sla-monitor"}  # 2 ended 33 days before


EVENT = """BEGIN:VEVENT
UID:w1@example.org
DTSTAMP:20261110T080000Z
CREATED:20261110T080000Z
DTSTART:20261201T010000Z
DTEND:20261201T020000Z
SUMMARY:kernel patching
CATEGORIES:eu-west
{extra}END:VEVENT
"""


def calendar(*events: str) -> str:
    return "BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//test//EN\r\n" + "".join(events) + "END:VCALENDAR\r\n"


def test_a_calendar_from_elsewhere_takes_the_region_from_its_category(run_cli, tmp_path):
    path = tmp_path / "vendor.ics"
    path.write_text(calendar(EVENT.format(extra="")).replace("\n", "\r\n"))
    result = run_cli("maintenance", "import", str(path), now=NOW)
    assert result.code == 0, result.err
    assert "recorded from w1@example.org: excluded" in result.out  # announced 21 days ahead
    assert windows(run_cli.db) == [("eu-west", 1796086800000, 1796090400000, "scheduled", 1794297600000,
                                    "kernel patching")]


BAD = {
    "not-a-calendar": ("hello, world\n", "not an iCalendar file"),
    "bad-date": (calendar(EVENT.format(extra="").replace("20261201T010000Z", "20261345T010000Z")),
                 "event 2 (UID w1@example.org): DTSTART is not a date-time (Wrong datetime format: 20261345T010000Z)"),
    "no-dtstart": (calendar(EVENT.format(extra="").replace("DTSTART:20261201T010000Z\n", "")),
                   "event 2 (UID w1@example.org): no DTSTART"),
    "date-only": (calendar(EVENT.format(extra="").replace("DTSTART:20261201T010000Z", "DTSTART;VALUE=DATE:20261201")),
                  "DTSTART is the date 2026-12-01 without a time"),
    "floating": (calendar(EVENT.format(extra="").replace("DTSTART:20261201T010000Z", "DTSTART:20261201T010000")),
                 "has no time zone (a floating time)"),
    "end-first": (calendar(EVENT.format(extra="").replace("DTEND:20261201T020000Z", "DTEND:20261201T000000Z")),
                  "DTEND is not after DTSTART"),
    "unknown-region": (calendar(EVENT.format(extra="X-SLA-REGION:mars\n")), "region 'mars' is not in the config"),
    "no-region": (calendar(EVENT.format(extra="").replace("CATEGORIES:eu-west", "CATEGORIES:database")),
                  "no region: set X-SLA-REGION or give exactly one category naming a region"),
    "bad-kind": (calendar(EVENT.format(extra="X-SLA-KIND:whenever\n")), "X-SLA-KIND 'whenever' is not one of"),
    "no-summary": (calendar(EVENT.format(extra="").replace("SUMMARY:kernel patching\n", "")), "no SUMMARY"),
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_calendar_is_refused_whole_and_stores_nothing(name, recorded, tmp_path):
    text, needle = BAD[name]
    good = EVENT.format(extra="").replace("w1@", "w0@")  # a valid event before the bad one: not stored either
    path = tmp_path / f"{name}.ics"
    path.write_text(text if not text.startswith("BEGIN:VCALENDAR") else text.replace("PRODID:-//test//EN\r\n",
                                                                                      "PRODID:-//test//EN\r\n" + good))
    before = dump(recorded.db)
    result = recorded("maintenance", "import", str(path), now=NOW)
    assert result.code == 2, (result.out, result.err)
    assert needle in result.err and str(path) in result.err, result.err
    assert dump(recorded.db) == before
