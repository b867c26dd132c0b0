"""Maintenance windows as iCalendar: `maintenance export`, `/maintenance.ics` and `maintenance import`,
read back with the icalendar library; bad calendars refused with the event and property named, and
nothing stored."""
from __future__ import annotations

import datetime as dt
import json
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
    "bad-rule": (calendar(EVENT.format(extra="RRULE:FREQ=SOMETIMES\n")), "a recurring event's rule cannot be expanded"),
    "every-minute": (calendar(EVENT.format(extra="RRULE:FREQ=MINUTELY\n")),
                     "event 2 (UID w1@example.org), occurrence 2026-12-01T17:40:00+00:00: over 1,000 occurrences"),
    "override-alone": (calendar(EVENT.format(extra="RECURRENCE-ID:20261201T010000Z\n")),
                       "event 2 (UID w1@example.org): changes an occurrence of a series the file does not hold"),
    "floating-series": (calendar(EVENT.format(extra="RRULE:FREQ=WEEKLY;COUNT=2\n").replace(
        "DTSTART:20261201T010000Z", "DTSTART:20261201T010000").replace("DTEND:20261201T020000Z", "DTEND:20261201T020000")),
        "event 2 (UID w1@example.org)"),
    "same-uid": (calendar(EVENT.format(extra=""), EVENT.format(extra="")),
                 "event 3 (UID w1@example.org): UID w1@example.org is also event 2's"),
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


def ms(instant: str) -> int:
    return int(dt.datetime.fromisoformat(instant).timestamp() * 1000)


def vendor_event(uid: str, start: str, end: str, extra: str = "") -> str:
    return (f"BEGIN:VEVENT\nUID:{uid}\nDTSTAMP:20261110T080000Z\nCREATED:20261110T080000Z\nDTSTART:{start}\n"
            f"DTEND:{end}\nSUMMARY:patching {uid}\nCATEGORIES:eu-west\n{extra}END:VEVENT\n")


def test_a_changed_calendar_moves_and_cancels_its_windows_instead_of_doubling_them(run_cli, tmp_path):
    """The vendor moves one window, shortens another, cancels a third and adds a fourth: the import
    replaces, cancels and adds (the old windows kept, cancelled), and judges each new window's notice."""
    first = tmp_path / "v1.ics"
    first.write_text(calendar(vendor_event("a", "20261201T010000Z", "20261201T020000Z"),
                              vendor_event("b", "20261205T010000Z", "20261205T023000Z"),
                              vendor_event("c", "20261208T010000Z", "20261208T020000Z")))
    assert run_cli("maintenance", "import", str(first), now=NOW).out.endswith("3 windows recorded\n")

    changed = "LAST-MODIFIED:20261130T120000Z\n"
    second = tmp_path / "v2.ics"
    second.write_text(calendar(
        vendor_event("a", "20261202T010000Z", "20261202T020000Z", changed),  # moved, told 37 h ahead
        vendor_event("b", "20261205T013000Z", "20261205T023000Z", changed),  # shortened: inside what was told
        vendor_event("c", "20261208T010000Z", "20261208T020000Z", "STATUS:CANCELLED\n"),
        vendor_event("d", "20261210T010000Z", "20261210T020000Z")))
    bad = tmp_path / "v2-bad.ics"  # the same changes and one bad event: nothing changes
    bad.write_text(second.read_text().replace("END:VCALENDAR", vendor_event("e", "20261211T010000Z",
                                                                            "20261211T000000Z") + "END:VCALENDAR"))
    before = dump(run_cli.db)
    refused = run_cli("maintenance", "import", str(bad), now="2026-11-30T13:00:00Z")
    assert refused.code == 2 and "event 5 (UID e): DTEND is not after DTSTART" in refused.err
    assert dump(run_cli.db) == before

    result = run_cli("maintenance", "import", str(second), now="2026-11-30T13:00:00Z")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        "maintenance 3 cancelled: c is cancelled in the calendar",
        "maintenance 1 changed in the calendar (a): replaced by maintenance 4: NOT excluded (late_notice)",
        "maintenance 2 changed in the calendar (b): replaced by maintenance 5: excluded",
        "maintenance 6 recorded from d: excluded",
        "1 windows recorded, 2 changed, 1 cancelled",
    ]
    told, moved = ms("2026-11-10T08:00:00Z"), ms("2026-11-30T12:00:00Z")  # CREATED; the change's LAST-MODIFIED
    assert windows(run_cli.db) == [
        ("eu-west", ms("2026-12-02T01:00:00Z"), ms("2026-12-02T02:00:00Z"), "scheduled", moved, "patching a"),
        ("eu-west", ms("2026-12-05T01:30:00Z"), ms("2026-12-05T02:30:00Z"), "scheduled", told, "patching b"),
        ("eu-west", ms("2026-12-10T01:00:00Z"), ms("2026-12-10T02:00:00Z"), "scheduled", told, "patching d"),
    ]
    listed = json.loads(run_cli("maintenance", "list", "--format", "json", now="2026-11-30T13:00:00Z").out)
    assert [(w["id"], w["cancelled"], w["excluded"]) for w in listed] == [
        (1, True, False), (4, False, False), (2, True, False), (5, False, True), (3, True, False), (6, False, True)]

    before = dump(run_cli.db)  # the same calendar again: nothing to do
    again = run_cli("maintenance", "import", str(second), now="2026-11-30T14:00:00Z")
    assert again.out.splitlines() == ["0 windows recorded, 3 already recorded"]
    assert dump(run_cli.db) == before


def test_a_window_cancelled_by_hand_stays_cancelled_until_its_event_changes(run_cli, tmp_path):
    path = tmp_path / "v.ics"
    path.write_text(calendar(vendor_event("a", "20261201T010000Z", "20261201T020000Z")))
    assert run_cli("maintenance", "import", str(path), now=NOW).code == 0
    assert run_cli("maintenance", "cancel", "1", now=NOW).code == 0  # the customer disputes it
    assert run_cli("maintenance", "import", str(path), now=NOW).out.splitlines() == [
        "0 windows recorded, 1 already recorded"]
    assert windows(run_cli.db) == []
    path.write_text(calendar(vendor_event("a", "20261203T010000Z", "20261203T020000Z",
                                          "LAST-MODIFIED:20261121T000000Z\n")))
    assert run_cli("maintenance", "import", str(path), now="2026-11-21T01:00:00Z").out.splitlines() == [
        "maintenance 2 recorded from a: excluded", "1 windows recorded"]
    assert windows(run_cli.db) == [("eu-west", ms("2026-12-03T01:00:00Z"), ms("2026-12-03T02:00:00Z"), "scheduled",
                                    ms("2026-11-21T00:00:00Z"), "patching a")]  # announced when changed


# A vendor's weekly patching slot, Tuesdays 02:00–03:00 Warsaw time, announced on 1 November: one Tuesday
# taken out (EXDATE), one moved to 04:00 the day before (published then: short notice), one called off.
SERIES = """BEGIN:VEVENT
UID:patching@vendor.example
DTSTAMP:20261101T000000Z
CREATED:20261101T000000Z
DTSTART;TZID=Europe/Warsaw:20261103T020000
DTEND;TZID=Europe/Warsaw:20261103T030000
RRULE:FREQ=WEEKLY;BYDAY=TU;COUNT=8
EXDATE;TZID=Europe/Warsaw:20261110T020000{exdates}
SUMMARY:weekly patching
X-SLA-REGION:eu-west
END:VEVENT
BEGIN:VEVENT
UID:patching@vendor.example
RECURRENCE-ID;TZID=Europe/Warsaw:20261117T020000
DTSTAMP:20261116T120000Z
LAST-MODIFIED:20261116T120000Z
DTSTART;TZID=Europe/Warsaw:20261117T040000
DTEND;TZID=Europe/Warsaw:20261117T050000
SUMMARY:weekly patching (moved)
X-SLA-REGION:eu-west
END:VEVENT
BEGIN:VEVENT
UID:patching@vendor.example
RECURRENCE-ID;TZID=Europe/Warsaw:20261124T020000
DTSTAMP:20261118T090000Z
DTSTART;TZID=Europe/Warsaw:20261124T020000
DTEND;TZID=Europe/Warsaw:20261124T030000
STATUS:CANCELLED
SUMMARY:weekly patching
X-SLA-REGION:eu-west
END:VEVENT
"""


def test_a_recurring_window_is_recorded_once_an_occurrence_and_kept_in_step(run_cli, tmp_path):
    path = tmp_path / "vendor.ics"
    path.write_text(calendar(SERIES.format(exdates="")))
    result = run_cli("maintenance", "import", str(path), now=NOW)
    assert result.code == 0, result.err
    announced, moved_at = ms("2026-11-01T00:00:00+00:00"), ms("2026-11-16T12:00:00+00:00")
    weekly = [("eu-west", ms(f"{day}T01:00:00+00:00"), ms(f"{day}T02:00:00+00:00"), "scheduled", announced,
               "weekly patching") for day in ("2026-12-01", "2026-12-08", "2026-12-15", "2026-12-22")]
    assert windows(run_cli.db) == [
        ("eu-west", ms("2026-11-03T01:00:00+00:00"), ms("2026-11-03T02:00:00+00:00"), "scheduled", announced,
         "weekly patching"),  # 10 November: EXDATE; 24 November: called off
        ("eu-west", ms("2026-11-17T03:00:00+00:00"), ms("2026-11-17T04:00:00+00:00"), "scheduled", moved_at,
         "weekly patching (moved)"),
        *weekly]
    assert "patching@vendor.example on 2026-11-17 01:00 UTC: NOT excluded" in result.out  # moved 15 h ahead
    assert "patching@vendor.example on 2026-11-03 01:00 UTC: excluded" in result.out  # the series' 49 h notice
    assert result.out.strip().endswith("6 windows recorded")

    again = run_cli("maintenance", "import", str(path), now=NOW)
    assert again.code == 0 and again.out.strip() == "0 windows recorded, 6 already recorded"

    # The vendor takes 8 December out: that occurrence is cancelled, the rest stay as they were.
    path.write_text(calendar(SERIES.format(exdates=",20261208T020000")))
    changed = run_cli("maintenance", "import", str(path), now=NOW)
    assert changed.code == 0, changed.err
    assert "cancelled: patching@vendor.example/20261208T010000Z is no longer an occurrence of its series" in changed.out
    assert windows(run_cli.db) == [w for w in windows(run_cli.db) if w[1] != ms("2026-12-08T01:00:00+00:00")]
    assert [w[1] for w in windows(run_cli.db)][2:] == [weekly[0][1], weekly[2][1], weekly[3][1]]
    assert changed.out.strip().endswith("0 windows recorded, 1 cancelled, 5 already recorded")


def test_a_series_is_expanded_over_a_bounded_horizon_only(run_cli, tmp_path):
    """An endless weekly rule that began long ago: occurrences from the previous month's first day to
    ``--horizon-days`` ahead, never before, never beyond."""
    path = tmp_path / "endless.ics"
    path.write_text(calendar(SERIES.format(exdates="").replace(";COUNT=8", "").replace("20261103T0", "20250107T0")))
    result = run_cli("maintenance", "import", str(path), "--horizon-days", "14", now=NOW)
    assert result.code == 0, result.err
    starts = [w[1] for w in windows(run_cli.db)]
    assert min(starts) >= ms("2026-10-01T00:00:00+00:00") and max(starts) < ms(NOW.replace("Z", "+00:00")) + 14 * 86_400_000
    assert len(starts) == 7  # the 9 Tuesdays 6 Oct … 1 Dec; 10 Nov taken out, 24 Nov called off
    too_far = run_cli("maintenance", "import", str(path), "--horizon-days", "5000", now=NOW)
    assert too_far.code != 0 and "--horizon-days 5000: at most 3,660" in too_far.err


def test_an_occurrence_a_changed_rule_adds_was_announced_with_the_change(run_cli, tmp_path):
    """The vendor moves its weekly slot from Tuesday to Saturday a day ahead: the new Saturday occurrence
    counts as announced when the series changed (LAST-MODIFIED), not when it was first published, so
    its short notice shows; the Tuesdays it dropped are cancelled."""
    path = tmp_path / "vendor.ics"
    path.write_text(calendar(SERIES.format(exdates="")))
    assert run_cli("maintenance", "import", str(path), now=NOW).code == 0
    moved = SERIES.format(exdates="").replace("BYDAY=TU", "BYDAY=SA").replace(
        "CREATED:20261101T000000Z\n", "CREATED:20261101T000000Z\nLAST-MODIFIED:20261119T230000Z\n")
    path.write_text(calendar(moved))
    result = run_cli("maintenance", "import", str(path), now=NOW)
    assert result.code == 0, result.err
    assert "patching@vendor.example on 2026-11-21 01:00 UTC: NOT excluded (late_notice)" in result.out  # 26 h
    assert "cancelled: patching@vendor.example/20261201T010000Z is no longer an occurrence of its series" in result.out
    saturday = [w for w in windows(run_cli.db) if w[1] == ms("2026-11-21T01:00:00+00:00")]
    assert [w[4] for w in saturday] == [ms("2026-11-19T23:00:00+00:00")]
