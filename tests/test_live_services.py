"""The daemon's services on a fixed clock and an in-memory store: no wall clock, no file, no sleeps."""
from __future__ import annotations

from pathlib import Path

from monitor.clock import FixedClock
from monitor.config import load_config, to_fleet
from monitor.live.dbthread import DbThread
from monitor.live.figures import LiveFigures
from monitor.live.maintenance import MaintenanceService
from monitor.live.reports import ReportService
from monitor.probes import Sample
from monitor.storage.memory import MemoryStore
from monitor.storage.interface import Storage

FIXTURES = Path(__file__).parent / "fixtures"
MIN = 60_000
NOV = 1_793_491_200_000  # 2026-11-01T00:00:00Z


async def services(now_ms: int):
    fleet = to_fleet(load_config(FIXTURES / "spec.yaml"))
    db = DbThread(MemoryStore)
    await db.start()
    samples = [Sample("w", "local", t, not (NOV - 5 * 1440 * MIN <= t < NOV - 5 * 1440 * MIN + 30 * MIN), 5.0, None)
               for t in range(NOV - 10 * 1440 * MIN, now_ms, MIN)]
    await db.call(Storage.append_samples, samples, {"w": 3 * MIN, "g": 3 * MIN})
    clock = FixedClock(now_ms)
    figures = LiveFigures(db, fleet, clock)
    reports = ReportService(db, figures, fleet, 60_000, clock)
    return db, clock, figures, reports, MaintenanceService(db, fleet.policy, figures, clock, reports.forget)


async def test_a_past_month_is_reused_for_the_refresh_interval_then_recomputed():
    db, clock, figures, reports, _ = await services(NOV + 2 * 1440 * MIN)
    october = await reports.month("2026-10")
    assert october.region("eu-west").figures.downtime_ms == 30 * MIN and reports.computed == 1
    clock.advance(59_999)
    assert await reports.month("2026-10") is october and reports.computed == 1  # within refresh_interval
    clock.advance(1)
    again = await reports.month("2026-10")  # recomputed as of now, with the same figures
    assert reports.computed == 2 and again.generated_ms == clock.now_ms() and again.regions == october.regions
    await db.close()


async def test_a_maintenance_window_written_is_in_the_next_report_of_its_month():
    """The months' reports are not reused after a window is added or cancelled: a past month's shows it
    at once, not after refresh_interval."""
    db, clock, figures, reports, maintenance = await services(NOV + 2 * 1440 * MIN)
    assert (await reports.month("2026-10")).region("eu-west").maintenance == ()
    window = await maintenance.add(region="eu-west", start_ms=NOV - 5 * 1440 * MIN, end_ms=NOV - 5 * 1440 * MIN + 30 * MIN,
                                   kind="emergency", announced_at_ms=None, reason="fire", by="api")
    october = await reports.month("2026-10")
    assert reports.computed == 2 and [m.window.id for m in october.region("eu-west").maintenance] == [window["id"]]
    await maintenance.cancel(window["id"], "api")
    assert reports.computed == 2 and (await reports.month("2026-10")) is not october and reports.computed == 3
    await db.close()


async def test_the_current_month_is_the_figures_snapshot_and_maintenance_refreshes_it():
    db, clock, figures, reports, maintenance = await services(NOV + 2 * 1440 * MIN)
    await figures.refresh()
    assert figures.computed_ms == clock.now_ms() and await reports.month(None) is figures.current
    assert reports.computed == 0  # no engine run of its own
    clock.advance(MIN)
    window = await maintenance.add(region="eu-west", start_ms=clock.now_ms(), end_ms=clock.now_ms() + 30 * MIN,
                                   kind="emergency", announced_at_ms=None, reason="fire", by="api")
    assert window["excluded"] is True and figures.computed_ms == clock.now_ms()  # refreshed at once
    assert [w.id for w in figures.active_maintenance("eu-west", clock.now_ms())] == [window["id"]]
    await maintenance.cancel(window["id"], "api")
    assert figures.active_maintenance("eu-west", clock.now_ms()) == []
    await db.close()
