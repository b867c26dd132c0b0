"""Property tests of the engine: conservation of down time and monotonicity."""
from __future__ import annotations

import random

from hypothesis import HealthCheck, given, settings, strategies as st

from monitor.sla.downtime import downtime_ms
from monitor.sla.engine import evaluate
from monitor.sla.exclusions import attribute
from monitor.sla.intervals import total
from monitor.sla.model import (ComponentSpec, Fleet, HandExclusion, Policy, ProbeSpec, Records, RegionSpec,
                               ThirdPartySpec)
from monitor.sla.timeline import dedupe_sorted, fold_segments
from spec_examples import MINUTE, ms
from conftest import write_jsonl

BASE = ms("2026-11-03T00:00:00Z")
LO, HI, NOW = BASE - 86_400_000, BASE + 86_400_000, BASE + 2 * 86_400_000


def fleet(policy: Policy = Policy()) -> Fleet:
    return Fleet("UTC", ("local",), (RegionSpec("r", "production", "premium",
                                                (ComponentSpec("c", True, (ProbeSpec("w", 3 * MINUTE),)),), ("tp",)),),
                 (ThirdPartySpec("tp", "Genesys Cloud", (ProbeSpec("g", 3 * MINUTE),)),), policy)


def run(oks: list[bool], exclusions=(), tp_oks: list[bool] = (), policy: Policy = Policy()):
    segments = {("w", "local"): list(fold_segments([(BASE + i * MINUTE, ok) for i, ok in enumerate(oks)], 3 * MINUTE))}
    if tp_oks:
        segments[("g", "local")] = list(fold_segments([(BASE + i * MINUTE, ok) for i, ok in enumerate(tp_oks)], 3 * MINUTE))
    records = Records(exclusions=tuple(HandExclusion(i, "r", BASE + a * MINUTE, BASE + b * MINUTE, cause)
                                       for i, (a, b, cause) in enumerate(exclusions)))
    return evaluate(fleet(policy), segments, records, LO, HI, NOW)["r"]


runs = st.lists(st.tuples(st.booleans(), st.integers(1, 40)), min_size=1, max_size=10).map(
    lambda parts: [ok for ok, n in parts for _ in range(n)])  # long runs, so 15-minute pieces happen
cause = st.sampled_from(["customer", "force_majeure", "third_party:tp", "counted"])
exclusion = st.tuples(st.integers(0, 200), st.integers(1, 60), cause).map(lambda t: (t[0], t[0] + t[1], t[2]))
policies = st.builds(Policy, threshold_before_exclusions=st.booleans(), flap_merge_ms=st.sampled_from([0, 2 * MINUTE]),
                     unknown_counts_as=st.sampled_from(["up", "down"]))


@settings(max_examples=200, deadline=None)
@given(runs, st.lists(exclusion, max_size=4), runs, policies)
def test_counted_plus_brief_plus_excluded_is_down_time(oks, exclusions, tp_oks, policy):
    t = run(oks, exclusions, tp_oks, policy)
    periods = [(p.start_ms, p.end_ms) for p in t.periods]
    counted = sum(x.end_ms - x.start_ms for p in t.periods for x in p.pieces if x.counted)
    brief = sum(x.end_ms - x.start_ms for p in t.periods for x in p.pieces if not x.counted)
    excluded = sum(attribute(periods, t.entries, LO, HI).values())
    assert counted + brief + excluded == total(periods)


@settings(max_examples=200, deadline=None)
@given(runs, st.lists(exclusion, max_size=3), exclusion.filter(lambda e: e[2] != "counted"), policies)
def test_more_exclusions_never_increase_downtime(oks, exclusions, extra, policy):
    before = downtime_ms(run(oks, exclusions, policy=policy).periods, LO, HI)
    after = downtime_ms(run(oks, exclusions + [extra], policy=policy).periods, LO, HI)
    assert after <= before


@settings(max_examples=200, deadline=None)
@given(runs, st.lists(exclusion, max_size=3), st.data())
def test_more_down_samples_never_decrease_downtime(oks, exclusions, data):
    flip = data.draw(st.sets(st.integers(0, len(oks) - 1), max_size=20))
    worse = [ok and i not in flip for i, ok in enumerate(oks)]
    assert downtime_ms(run(worse, exclusions).periods, LO, HI) >= downtime_ms(run(oks, exclusions).periods, LO, HI)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs, st.randoms(use_true_random=False))
def test_shuffled_import_and_reimport_give_the_same_report(run_cli, tmp_path, oks, rnd):
    from monitor.sla.calendar import iso
    rows = [{"ts": iso(BASE + i * MINUTE), "probe": "w", "ok": ok} for i, ok in enumerate(oks)]
    run_cli.db.unlink(missing_ok=True)
    assert run_cli("import", str(write_jsonl(tmp_path / "a.jsonl", rows))).code == 0
    ordered = run_cli("report", "--month", "2026-11", "--format", "json").json()
    shuffled = rows[:]
    rnd.shuffle(shuffled)
    run_cli.db.unlink()
    assert run_cli("import", str(write_jsonl(tmp_path / "b.jsonl", shuffled))).code == 0
    assert run_cli("report", "--month", "2026-11", "--format", "json").json() == ordered
    assert run_cli("import", str(write_jsonl(tmp_path / "b.jsonl", shuffled))).code == 0
    assert run_cli("report", "--month", "2026-11", "--format", "json").json() == ordered


def test_dedupe_later_wins():
    assert dedupe_sorted([(5, True), (1, False), (5, False)]) == [(1, False), (5, False)]
    rnd = random.Random(4)
    assert dedupe_sorted(rnd.sample([(i, True) for i in range(10)], 10)) == [(i, True) for i in range(10)]
