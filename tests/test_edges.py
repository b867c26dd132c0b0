"""Edge tables: touching exclusions, the exact threshold, DST months, month ends, quorum, flags, credits."""
from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from monitor.sla.calendar import iso, local_midnight_ms, month_bounds
from monitor.sla.engine import evaluate
from monitor.sla.model import (ComponentSpec, Fleet, HandExclusion, Incident, MaintenanceWindow, Policy, ProbeSpec,
                               Records, RegionSpec, ThirdPartySpec)
from monitor.reports.serialize import report_json
from monitor.sla.report import build_month
from monitor.sla.timeline import StateSets, fold_segments, quorum
from spec_examples import MINUTE, ms

H = 60 * MINUTE


def t(hhmm: str, day: int = 3) -> int:
    return ms(f"2026-11-{day:02d}T{hhmm}Z")


def make_fleet(tz="UTC", env="production", plan="premium", vantages=("local",), policy=Policy(), fee=None):
    region = RegionSpec("eu-west", env, plan,
                        (ComponentSpec("widget", True, (ProbeSpec("w", 3 * MINUTE),)),
                         ComponentSpec("panel", False, (ProbeSpec("p", 3 * MINUTE),))),
                        ("genesys",), fee, "EUR" if fee else None)
    return Fleet(tz, vantages, (region,), (ThirdPartySpec("genesys", "Genesys Cloud", (ProbeSpec("g", 3 * MINUTE),)),),
                 policy)


def grid(down, lo, hi, step=MINUTE):
    """(ts, ok) a sample per ``step`` on [lo, hi); down inside any [a, b); an up sample at each b."""
    out = {ts: not any(a <= ts < b for a, b in down) for ts in range(lo, hi, step)}
    for _, b in down:
        out.setdefault(b, True)
    return sorted(out.items())


def report(fleet, probes: dict, records=Records(), month=(2026, 11), now=None, lo=None, hi=None):
    tz = ZoneInfo(fleet.timezone)
    start, end = month_bounds(*month, tz)
    lo, hi = lo or start - 2 * 86_400_000, hi or end + 2 * 86_400_000
    now = now or hi
    segments = {}
    for key, down in probes.items():
        probe, vantage = key if isinstance(key, tuple) else (key, "local")
        segments[(probe, vantage)] = list(fold_segments(grid(down, lo, min(hi, now)), 3 * MINUTE))
    timelines = evaluate(fleet, segments, records, lo, min(hi, now), now)
    return report_json(build_month(fleet, timelines, records, *month, now))


def region(rep):
    return rep["regions"][0]


EXCLUSION_TABLE = [
    ("touching", [(t("10:00"), t("10:20"), "customer"), (t("10:20"), t("10:40"), "force_majeure")], 20,
     {"customer": 20, "force_majeure": 20}),
    ("overlapping-first-reason-wins", [(t("10:00"), t("10:30"), "customer"), (t("10:15"), t("10:45"), "force_majeure")],
     15, {"customer": 30, "force_majeure": 15}),
    ("covers-everything", [(t("09:00"), t("12:00"), "beta")], 0, {"beta": 60}),
    ("leaves-14-min", [(t("10:00"), t("10:46"), "suspension")], 0, {"suspension": 46}),
]


@pytest.mark.parametrize("name,exclusions,downtime,excluded", EXCLUSION_TABLE, ids=[e[0] for e in EXCLUSION_TABLE])
def test_exclusion_table(name, exclusions, downtime, excluded):
    records = Records(exclusions=tuple(HandExclusion(i, "eu-west", a, b, c) for i, (a, b, c) in enumerate(exclusions)))
    r = region(report(make_fleet(), {"w": [(t("10:00"), t("11:00"))]}, records))
    assert r["downtime_minutes"] == downtime
    assert {k: v for k, v in r["excluded_minutes"].items() if v} == excluded


@pytest.mark.parametrize("length_ms,counted", [(15 * MINUTE, True), (15 * MINUTE - 1, False), (15 * MINUTE + 1, True)])
def test_exactly_fifteen_minutes_counts(length_ms, counted):
    fleet = make_fleet()
    r = region(report(fleet, {"w": [(t("10:00"), t("10:00") + length_ms)]}))
    assert r["periods"][0]["pieces"][0]["counted"] is counted
    assert r["downtime_ms"] == (length_ms if counted else 0)


def test_exactly_at_target_is_met_with_zero_budget_left():
    r = region(report(make_fleet(), {"w": [(t("10:00"), t("10:43") + 12_000)]}))
    assert r["met"] is True and r["error_budget_remaining_minutes"] == 0.0 and r["availability_percent"] == 99.9
    r = region(report(make_fleet(), {"w": [(t("10:00"), t("10:43") + 12_001)]}))
    assert r["met"] is False and r["credit"]["availability_percent"] == 10


DST_TABLE = [
    ("Europe/Warsaw", (2026, 3), "2026-02-28T23:00:00Z", 31 * 1440 - 60),
    ("Europe/Warsaw", (2026, 10), "2026-09-30T22:00:00Z", 31 * 1440 + 60),
    ("Europe/Warsaw", (2026, 11), "2026-10-31T23:00:00Z", 30 * 1440),
    ("America/New_York", (2026, 3), "2026-03-01T05:00:00Z", 31 * 1440 - 60),
    ("America/New_York", (2026, 11), "2026-11-01T04:00:00Z", 30 * 1440 + 60),
    ("UTC", (2026, 2), "2026-02-01T00:00:00Z", 28 * 1440),
]


@pytest.mark.parametrize("tz,month,start,minutes", DST_TABLE, ids=[f"{d[0]}-{d[1][1]}" for d in DST_TABLE])
def test_dst_month_lengths(tz, month, start, minutes):
    lo, hi = month_bounds(*month, ZoneInfo(tz))
    assert iso(lo) == start and (hi - lo) // MINUTE == minutes
    fleet = make_fleet(tz=tz)
    r = region(report(fleet, {"w": []}, month=month))
    assert r["total_minutes"] == minutes
    assert r["error_budget_minutes"] == pytest.approx(minutes * 0.001)


def test_dst_month_availability_uses_the_longer_month():
    # 45 min down in Warsaw's October (44,700 min): budget 44.7 min, so 99.9 % is missed by 0.3 min.
    fleet = make_fleet(tz="Europe/Warsaw")
    r = region(report(fleet, {"w": [(ms("2026-10-10T10:00:00Z"), ms("2026-10-10T10:45:00Z"))]}, month=(2026, 10)))
    assert r["met"] is False and r["error_budget_remaining_minutes"] == pytest.approx(-0.3)
    r = region(report(fleet, {"w": [(ms("2026-10-10T10:00:00Z"), ms("2026-10-10T10:44:42Z"))]}, month=(2026, 10)))
    assert r["met"] is True and r["error_budget_remaining_minutes"] == 0.0


def test_outage_across_local_month_end_is_judged_whole():
    # Warsaw's November starts at 2026-10-31T23:00Z; a 20-minute outage straddles it: 10 + 10, both counted.
    fleet = make_fleet(tz="Europe/Warsaw")
    down = {"w": [(ms("2026-10-31T22:50:00Z"), ms("2026-10-31T23:10:00Z"))]}
    october, november = report(fleet, down, month=(2026, 10)), report(fleet, down, month=(2026, 11))
    assert region(october)["downtime_minutes"] == 10 and region(november)["downtime_minutes"] == 10
    assert region(november)["periods"][0]["start"] == "2026-10-31T23:00:00Z"  # clipped to the month
    assert region(november)["incidents"] == []  # the incident opened in October
    assert len(region(october)["incidents"]) == 1


def test_midnight_in_a_dst_gap_is_the_first_instant_after_it():
    # Chile skips 00:00–01:00 on 2026-09-06: the day starts at the transition, 04:00Z.
    tz = ZoneInfo("America/Santiago")
    start = local_midnight_ms(dt.date(2026, 9, 6), tz)
    assert iso(start) == "2026-09-06T04:00:00Z"
    assert iso(local_midnight_ms(dt.date(2026, 9, 5), tz)) == "2026-09-05T04:00:00Z"


def S(down=(), unknown=()):
    return StateSets(list(down), list(unknown))


QUORUM_TABLE = [
    ("1-of-2-known-is-up", "majority", [S([(0, 10)]), S(), S(unknown=[(0, 10)])], []),
    ("2-of-2-known-is-down", "majority", [S([(0, 10)]), S([(0, 10)]), S(unknown=[(0, 10)])], [(0, 10)]),
    ("1-of-1-known-is-down", "majority", [S([(0, 10)]), S(unknown=[(0, 10)]), S(unknown=[(0, 10)])], [(0, 10)]),
    ("n2-with-1-known-never-down", 2, [S([(0, 10)]), S(unknown=[(0, 10)]), S(unknown=[(0, 10)])], []),
    ("n2-two-down", 2, [S([(0, 5)]), S([(3, 10)]), S()], [(3, 5)]),
    ("2-of-3-down", "majority", [S([(0, 6)]), S([(4, 10)]), S()], [(4, 6)]),
]


@pytest.mark.parametrize("name,rule,states,down", QUORUM_TABLE, ids=[q[0] for q in QUORUM_TABLE])
def test_quorum_with_stale_vantages(name, rule, states, down):
    assert quorum(states, rule, 0, 10).down == down


def test_quorum_unknown_when_no_vantage_known():
    assert quorum([S(unknown=[(0, 10)]), S(unknown=[(0, 4)])], "majority", 0, 10) == S([], [(0, 4)])


def test_stale_vantage_through_the_engine():
    fleet = make_fleet(vantages=("a", "b"))
    # a: down 10:00–10:30; b: silent after 09:00 (stale): only a votes, so down.
    lo = t("08:00")
    probes = {("w", "a"): [(t("10:00"), t("10:30"))]}
    rep = report(fleet, probes, lo=lo, hi=t("12:00"))
    # b never reported: a alone decides
    assert region(rep)["downtime_minutes"] == 30
    # with b up everywhere it is 1 down of 2 known: up
    probes[("w", "b")] = []
    assert region(report(fleet, probes, lo=lo, hi=t("12:00")))["downtime_minutes"] == 0


@pytest.mark.parametrize("gap_ms,unknown_ms", [(3 * MINUTE, 0), (3 * MINUTE + 1, 1), (5 * MINUTE, 2 * MINUTE)])
def test_gap_of_exactly_stale_after_leaves_no_unknown(gap_ms, unknown_ms):
    samples = [(t("10:00"), True), (t("10:00") + gap_ms, True)]
    segments = {("w", "local"): list(fold_segments(samples, 3 * MINUTE))}
    tl = evaluate(make_fleet(), segments, Records(), t("10:00"), t("10:00") + gap_ms, t("12:00"))["eu-west"]
    assert sum(b - a for a, b in tl.states.unknown) == unknown_ms


def test_unknown_gap_splits_a_period_and_counts_as_down_on_request():
    samples = [(t("10:00") + i * MINUTE, False) for i in range(10)] + \
              [(t("10:20") + i * MINUTE, False) for i in range(10)] + [(t("10:30"), True)]
    segments = {("w", "local"): list(fold_segments(samples, 3 * MINUTE))}
    args = (segments, Records(), t("09:00"), t("11:00"), t("12:00"))
    tl = evaluate(make_fleet(), *args)["eu-west"]
    assert [(p.start_ms, p.end_ms) for p in tl.periods] == [(t("10:00"), t("10:12")), (t("10:20"), t("10:30"))]
    assert not any(x.counted for p in tl.periods for x in p.pieces)
    tl = evaluate(make_fleet(policy=Policy(unknown_counts_as="down")), *args)["eu-west"]
    # Unknown before the first sample, inside the gap and after the last one's staleness is now down too.
    assert [(p.start_ms, p.end_ms) for p in tl.periods] == [(t("09:00"), t("10:30")), (t("10:33"), t("11:00"))]


def test_flap_merge_joins_short_up_gaps_only():
    fleet = make_fleet(policy=Policy(flap_merge_ms=2 * MINUTE))
    r = region(report(fleet, {"w": [(t("10:00"), t("10:08")), (t("10:10"), t("10:18"))]}))
    assert r["downtime_minutes"] == 18  # 8 + 2 (merged gap) + 8
    r = region(report(fleet, {"w": [(t("10:00"), t("10:08")), (t("10:11"), t("10:19"))]}))
    assert r["downtime_minutes"] == 0


def test_threshold_before_exclusions_policy():
    records = Records(exclusions=(HandExclusion(1, "eu-west", t("10:05"), t("10:15"), "customer"),))
    down = {"w": [(t("10:00"), t("10:20"))]}
    assert region(report(make_fleet(), down, records))["downtime_minutes"] == 0
    fleet = make_fleet(policy=Policy(threshold_before_exclusions=True))
    assert region(report(fleet, down, records))["downtime_minutes"] == 10


def test_counted_override_disputes_third_party_only():
    records = Records(exclusions=(HandExclusion(1, "eu-west", t("10:00"), t("11:00"), "counted", "we dispute"),
                                  HandExclusion(2, "eu-west", t("10:40"), t("10:50"), "customer")))
    r = region(report(make_fleet(), {"w": [(t("10:00"), t("11:00"))], "g": [(t("10:00"), t("10:30"))]}, records))
    assert r["excluded_minutes"]["third_party"] == 0 and r["excluded_minutes"]["customer"] == 10
    assert r["downtime_minutes"] == 40 and "disputed" in r["flags"]
    r = region(report(make_fleet(), {"w": [(t("10:00"), t("11:00"))], "g": [(t("10:00"), t("10:30"))]}))
    assert r["excluded_minutes"]["third_party"] == 30 and r["downtime_minutes"] == 30


def test_unknown_third_party_excludes_nothing():
    # "g" never reported: unknown, not down.
    r = region(report(make_fleet(), {"w": [(t("10:00"), t("11:00"))]}))
    assert r["excluded_minutes"]["third_party"] == 0 and r["downtime_minutes"] == 60


MAINT_TABLE = [
    ("emergency-any-notice", "emergency", t("10:00") - 60_000, False, 0, ["emergency"], "emergency_maintenance"),
    ("scheduled-exactly-48h", "scheduled", t("10:00") - 48 * H, False, 0, [], "maintenance"),
    ("scheduled-48h-minus-1ms", "scheduled", t("10:00") - 48 * H + 1, False, 60, ["late_notice"], None),
    ("cancelled", "scheduled", t("10:00") - 72 * H, True, 60, ["cancelled"], None),
]


@pytest.mark.parametrize("name,kind,announced,cancelled,downtime,flags,reason", MAINT_TABLE, ids=[m[0] for m in MAINT_TABLE])
def test_maintenance_table(name, kind, announced, cancelled, downtime, flags, reason):
    window = MaintenanceWindow(1, None, t("10:00"), t("11:00"), kind, announced, "x", cancelled)
    r = region(report(make_fleet(), {"w": [(t("10:00"), t("11:00"))]}, Records(maintenance=(window,))))
    assert r["downtime_minutes"] == downtime and r["flags"] == flags
    if reason:
        assert r["excluded_minutes"][reason] == 60


def test_overrun_window_is_still_excluded_whole():
    window = MaintenanceWindow(1, "eu-west", t("10:00"), t("13:00"), "scheduled", t("10:00") - 72 * H)
    r = region(report(make_fleet(), {"w": [(t("10:00"), t("12:30"))]}, Records(maintenance=(window,))))
    assert r["downtime_minutes"] == 0 and r["flags"] == ["overrun"]


def test_non_critical_component_makes_p2_not_region_down():
    rep = report(make_fleet(), {"w": [], "p": [(t("10:00"), t("13:00"))]})
    r = region(rep)
    assert r["downtime_minutes"] == 0 and [i["severity"] for i in r["incidents"]] == ["P2"]
    assert rep["components"][0]["component"] == "panel" and rep["components"][0]["downtime_minutes"] == 180
    assert r["incidents"][0]["met"] is True  # 3 h < 12 h


def test_resolution_credit_adds_when_not_the_same_event_and_is_capped():
    # One 8 h outage (availability 15 %); one missed hand P1 elsewhere in the month: 2 missed of 2.
    manual = Incident("7", "eu-west", None, "P1", t("10:00", day=20), t("16:00", day=20), "ticket", "manual")
    rep = report(make_fleet(fee=__import__("decimal").Decimal("999.99")), {"w": [(t("10:00"), t("10:30"))]},
                 Records(incidents=(manual,)))
    c = region(rep)["credit"]
    # availability 100 - 30/43200: ≥ 99.9 → 0; resolution: 1 missed of 2 (50 % > 10 %), delay 50 % → 15
    assert (c["availability_percent"], c["resolution_percent"], c["same_event"], c["total_percent"]) == (0, 15, False, 15)
    assert c["amount"] == "150.00"
    rep = report(make_fleet(), {"w": [(t("10:00"), t("10:10")), (t("11:00"), t("11:50"))]}, Records(incidents=(manual,)))
    c = region(rep)["credit"]
    assert (c["availability_percent"], c["resolution_percent"], c["same_event"], c["total_percent"]) == (10, 15, False, 25)
    big = Incident("8", "eu-west", None, "P1", t("00:00", day=21), t("23:00", day=21), "ticket", "manual")
    rep = report(make_fleet(), {"w": [(t("10:00"), t("12:00"))]}, Records(incidents=(manual, big)))
    c = region(rep)["credit"]
    assert c["availability_percent"] == 10 and c["resolution_percent"] == 25 and c["total_percent"] == 25  # capped


def test_ten_percent_missed_is_not_enough():
    # 10 incidents, 1 missed: exactly 10 % is not "more than 10 %".
    incidents = [Incident(str(i), "eu-west", None, "P2", t("08:00", day=5 + i), t("09:00", day=5 + i)) for i in range(9)]
    incidents.append(Incident("99", "eu-west", None, "P2", t("00:00", day=20), t("13:00", day=20)))
    c = region(report(make_fleet(), {"w": []}, Records(incidents=tuple(incidents))))["credit"]
    assert c["resolution_percent"] == 0 and c["resolution_missed"] == 1 and c["resolution_counted"] == 10


def test_wholly_excluded_incident_does_not_count():
    manual = Incident("7", "eu-west", None, "P1", t("10:00"), t("16:00"))
    records = Records(incidents=(manual,), exclusions=(HandExclusion(1, "eu-west", t("09:00"), t("17:00"), "customer"),))
    r = region(report(make_fleet(), {"w": []}, records))
    assert r["incidents"][0]["counts"] is False and r["credit"]["resolution_percent"] == 0


@pytest.mark.parametrize("env,plan,needle", [("non-production", "premium", "production only"),
                                             ("production", "standard", "Premium Support only")])
def test_ineligible_regions_say_why(env, plan, needle):
    c = region(report(make_fleet(env=env, plan=plan), {"w": [(t("10:00"), t("20:00"))]}))["credit"]
    assert c["eligible"] is False and needle in c["reason"] and c["total_percent"] == 0 and c["claim_deadline"] is None


def test_non_production_incidents_are_p3_in_business_days():
    # Opened Friday 2026-11-06 16:00 UTC, resolved Tuesday 10:00: 8 h + 24 h + 10 h = 42 h of business time.
    fleet = make_fleet(env="non-production")
    r = region(report(fleet, {"w": [(ms("2026-11-06T16:00:00Z"), ms("2026-11-10T10:00:00Z"))]}))
    incident = r["incidents"][0]
    assert incident["severity"] == "P3" and incident["resolution_minutes"] == 42 * 60 and incident["met"] is True


def test_open_outage_counts_from_the_threshold_with_its_whole_length():
    now = t("10:20")
    fleet = make_fleet()
    r = region(report(fleet, {"w": [(t("10:00"), t("12:00"))]}, now=now, lo=t("09:00"), hi=t("12:00")))
    assert r["downtime_minutes"] == 20 and r["periods"][0]["open"] is True
    r = region(report(fleet, {"w": [(t("10:00"), t("12:00"))]}, now=t("10:14"), lo=t("09:00"), hi=t("12:00")))
    assert r["downtime_minutes"] == 0 and r["periods"][0]["open"] is True
    assert r["incidents"][0]["resolved"] is None
