"""Prometheus metrics, built at scrape time from the live state and the cached SLA figures.

Probe series keep blackbox_exporter's meaning (``probe_success``, ``probe_duration_seconds``), so
existing dashboards work. A probe whose last sample went stale exports no probe series (absent, not
"still down"), and a region whose state is unknown exports no ``sla_region_up``.

The per-probe families are written by ``ProbeExposition`` with each probe's label set escaped once:
through prometheus_client's generic path they cost 7–8 µs a line, 115–170 ms a scrape at 5,000
probes (measured, bench/RESULTS.md), against a 100 ms goal. Everything else goes through the
registry; the tests parse the whole output with prometheus_client's own parser.
"""
from __future__ import annotations

import heapq
import platform
from fractions import Fraction
from typing import Callable, Iterable, Iterator, Mapping, Sequence

from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from .. import __version__
from ..clock import Clock
from ..live.figures import LiveFigures
from ..live.state import DOWN, UNKNOWN, LiveState
from ..samples import Sample
from ..sla.model import REASONS, minutes
from ..sla.result import RegionResult

WINDOWS = ("month_to_date", "previous_month")
PROBE_LABELS = ["probe", "region", "component", "vantage"]


def percent_ratio(percent: Fraction) -> float:
    """A percent as a 0–1 sample value: the percent's float divided by 100, as the series have always
    been computed (the exact ratio's float can differ in the last digit, and dashboards compare them)."""
    return float(percent) / 100


def _gauge(name: str, doc: str, labels: list[str]) -> GaugeMetricFamily:
    return GaugeMetricFamily(name, doc, labels=labels)


PROBE_FAMILIES = (
    ("probe_success", "1 if the probe's last sample succeeded"),
    ("probe_duration_seconds", "How long the probe's last sample took"),
    ("probe_http_status_code", "HTTP status of the last response"),
    ("probe_ssl_earliest_cert_expiry", "Earliest certificate expiry, unix seconds"),
)


def _label_value(text: str) -> str:
    return text.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def label_set(names: Sequence[str], values: Sequence[str]) -> str:
    """``{k="v",…}`` with values escaped as the text exposition format requires."""
    return "{" + ",".join(f'{k}="{_label_value(v)}"' for k, v in zip(names, values, strict=True)) + "}"


def header(name: str, doc: str, kind: str = "gauge") -> list[str]:
    return [f"# HELP {name} {doc}", f"# TYPE {name} {kind}"]


# A probe's values, each with its line's end: success, and duration, HTTP status and certificate expiry where
# the sample has them. Only the values are kept, not whole lines: a line repeats the probe's label set, and
# 20,000 probes' lines were 10 MB (bench/RESULTS.md); a scrape joins name, labels and value.
Values = tuple[str, "str | None", "str | None", "str | None"]
SUCCEEDED, FAILED = " 1.0\n", " 0.0\n"
_STATUS_VALUES: dict[int, str] = {}  # one " 200.0\n" for every probe answered 200
_INDEX_BITS = 32  # an expiry heap entry is a deadline and a probe's index in one int: deadline << 32 | index


def probe_values(last: Sample) -> Values:
    """A sample's values in the probe families, each with its line's end."""
    status = last.status_code
    if status is not None and status not in _STATUS_VALUES:
        _STATUS_VALUES[status] = f" {float(status)!r}\n"
    return (SUCCEEDED if last.ok else FAILED,
            None if last.latency_ms is None else f" {last.latency_ms / 1000!r}\n",
            None if status is None else _STATUS_VALUES[status],
            None if last.cert_expiry_ms is None else f" {last.cert_expiry_ms / 1000!r}\n")


class ProbeExposition:
    """The probe families in the text exposition format, kept up to date as samples arrive.

    Each probe has fixed places in one list per family (name, label set and value, in the config's
    order), filled when its sample arrives (``update``) and emptied when the sample goes stale, so a
    scrape is a join per family. A scrape that visited every probe's state and sample was most of its
    time at 20,000 probes: those objects lie scattered over the heap (bench/RESULTS.md). When samples go
    stale is kept in a heap of deadlines, one entry a probe, re-filed when it is reached early; the
    clock only moves forward."""

    def __init__(self, live: LiveState, vantage: str):
        probes = list(live.probes.values())
        self.index = {p.id: i for i, p in enumerate(probes)}
        self.stale_ms = [p.stale_ms for p in probes]
        self.labels = [label_set(PROBE_LABELS, (p.id, p.region or "", p.owner, vantage)) for p in probes]
        self.headers = ["\n".join(header(name, doc)) + "\n" for name, doc in PROBE_FAMILIES]
        self.names = [name for name, _ in PROBE_FAMILIES]
        self.parts: list[list[str]] = [[""] * (3 * len(probes)) for _ in PROBE_FAMILIES]
        self.deadline: list[int | None] = [None] * len(probes)  # when a shown probe's sample goes stale
        # The deadline of each probe's entry in the heap (None: none). An entry found there with another
        # deadline was superseded (a sample older than the last one came after it) and is dropped.
        self.filed: list[int | None] = [None] * len(probes)
        self.expiry: list[int] = []
        self.update(live.last_samples())

    def update(self, samples: Mapping[str, Sample | None]) -> None:
        """Probes' new last samples: shown until they go stale; an unknown sample is not shown."""
        for probe, last in samples.items():
            i = self.index.get(probe)
            if i is None:
                continue
            if last is None or last.ok is None:
                self._hide(i)
                continue
            deadline = self.deadline[i] = last.ts_ms + self.stale_ms[i]
            filed = self.filed[i]
            if filed is None or deadline < filed:
                heapq.heappush(self.expiry, deadline << _INDEX_BITS | i)
                self.filed[i] = deadline
            at, labels = 3 * i, self.labels[i]
            for name, parts, value in zip(self.names, self.parts, probe_values(last), strict=True):
                parts[at:at + 3] = (name, labels, value) if value is not None else ("", "", "")

    def _hide(self, i: int) -> None:
        if self.deadline[i] is None:  # not shown: its places are empty already
            return
        self.deadline[i] = None
        at = 3 * i
        for parts in self.parts:
            parts[at:at + 3] = ("", "", "")

    def text(self, now_ms: int) -> str:
        """The four families as they stand at ``now_ms``."""
        expiry, mask = self.expiry, (1 << _INDEX_BITS) - 1
        while expiry and expiry[0] >> _INDEX_BITS <= now_ms:
            entry = heapq.heappop(expiry)
            i = entry & mask
            if self.filed[i] != entry >> _INDEX_BITS:
                continue
            deadline = self.deadline[i]
            if deadline is not None and deadline > now_ms:  # a newer sample moved it on
                heapq.heappush(expiry, deadline << _INDEX_BITS | i)
                self.filed[i] = deadline
            else:
                self.filed[i] = None
                self._hide(i)
        return "".join(head + "".join(parts) for head, parts in zip(self.headers, self.parts, strict=True))


class GaugeText:
    """Text exposition of gauge families, each distinct label set escaped once and remembered.

    The SLA families repeat the same (region, window, reason) label sets scrape after scrape; the
    generic path re-validates and re-escapes them every time (about 9 µs a sample)."""

    def __init__(self, limit: int = 200_000):
        # label names → label values → the label set: one tuple of names per family kept, not one a series
        # (1.4 MB at 20,000 probes' 12,000 SLA series)
        self.cache: dict[tuple, dict[tuple, str]] = {}
        self.size = 0
        self.limit = limit

    def labels(self, names: tuple, values: tuple) -> str:
        by_values = self.cache.get(names)
        text = by_values.get(values) if by_values is not None else None
        if text is None:
            if self.size >= self.limit:
                self.cache.clear()
                self.size = 0
            text = self.cache.setdefault(names, {})[values] = label_set(names, values)
            self.size += 1
        return text

    def render(self, families: Iterable[Metric]) -> str:
        out = []
        for family in families:
            out += header(family.name, family.documentation, family.type)
            for sample in family.samples:
                labels = self.labels(tuple(sample.labels), tuple(sample.labels.values())) if sample.labels else ""
                out.append(f"{sample.name}{labels} {float(sample.value)!r}")
        return "\n".join(out) + "\n"


class SlaCollector(Collector):
    def __init__(self, live: LiveState, figures: LiveFigures, vantage: str, runbook_url: str, clock: Clock,
                 outage_alerts_posted: frozenset[str] = frozenset()):
        self.live = live
        # Regions whose outage alerts this daemon posts to Alertmanager itself (the rules stay silent).
        self.outage_alerts_posted = outage_alerts_posted
        self.clock = clock
        self.figures = figures
        self.vantage = vantage
        self.runbook_url = runbook_url
        self._sla_text: str | None = None
        self._sla_of: tuple = (None, None)  # the results it was rendered from
        self._info_text, self._build_text = "", ""  # the config's families, and the build's
        self._info_of: str | None = None  # the runbook URL they were rendered with

    def collect(self) -> Iterator[Metric]:
        now = self.clock.now_ms()
        yield from self._info()
        yield from self._regions(now)
        yield from self._sla()
        yield self._build()

    def prepare(self, render: Callable[[Iterable], str]) -> str:
        """The figures' families as text, rendered once per refresh (they change only when the figures
        do, and are most of the text); the daemon calls it after each refresh, so no scrape waits for it."""
        figures = (self.figures.current, self.figures.previous)
        if self._sla_text is None or self._sla_of[0] is not figures[0] or self._sla_of[1] is not figures[1]:
            self._sla_text, self._sla_of = render(self._sla()), figures
        return self._sla_text

    def text(self, render: Callable[[Iterable], str]) -> str:
        """``collect()`` as text through ``render``: the config's families made once (per runbook URL), the
        figures' once per refresh, the live ones now."""
        if self._info_of != self.runbook_url:
            self._info_text, self._info_of = render(self._info()), self.runbook_url
            self._build_text = render([self._build()])
        sla = self.prepare(render)
        return self._info_text + render(self._regions(self.clock.now_ms())) + sla + self._build_text

    @staticmethod
    def _build() -> GaugeMetricFamily:
        info = GaugeMetricFamily("monitor_build_info", "sla-monitor build", labels=["version", "python"])
        info.add_metric([__version__, platform.python_version()], 1)
        return info

    def _info(self) -> Iterator[Metric]:
        """What the rules join on: a region's environment and plan, a component's criticality, where
        the runbooks are. Non-production regions and non-critical components never page."""
        cfg = self.live.cfg
        region = _gauge("sla_region_info", "A region's environment and support plan (always 1)",
                        ["region", "environment", "support_plan"])
        component = _gauge("sla_component_info", "Whether a component decides its region's availability (always 1)",
                           ["region", "component", "critical"])
        target = _gauge("sla_target_ratio", "The availability target (0–1)", ["region"])
        posted = _gauge("sla_outage_alerts_posted", "1 where this daemon posts the region's outage alerts "
                        "(SlaRegionDown, SlaOutage) to Alertmanager itself: the rules' copies stay silent", ["region"])
        for r in cfg.regions:
            region.add_metric([r.name, r.environment, r.support_plan or cfg.support_plan], 1)
            target.add_metric([r.name], float(cfg.policy.target_percent) / 100)
            posted.add_metric([r.name], 1 if r.name in self.outage_alerts_posted else 0)
            for c in r.components:
                component.add_metric([r.name, c.name, "true" if c.critical else "false"], 1)
        runbooks = _gauge("monitor_runbook_info", "Base URL of the runbooks alerts link to (always 1)", ["url"])
        runbooks.add_metric([self.runbook_url], 1)
        yield from (region, component, target, posted, runbooks)

    def _regions(self, now: int) -> Iterator[Metric]:
        up = _gauge("sla_region_up", "1 if the region is up now, 0 if down (after confirm_failures)", ["region"])
        maintenance = _gauge("sla_maintenance_active", "1 while a maintenance window covers the region", ["region"])
        for region in self.live.cfg.regions:
            state = self.live.region_now(region, now)
            if state != UNKNOWN:
                up.add_metric([region.name], 0 if state == DOWN else 1)
            maintenance.add_metric([region.name], 1 if self.figures.active_maintenance(region.name, now) else 0)
        yield from (up, maintenance)

    def _sla(self) -> Iterator[Metric]:
        availability = _gauge("sla_availability_ratio", "The month's availability under the SLA's rules (0–1), over "
                              "the whole month also while it is in progress; absent where nothing was observed",
                              ["region", "window"])
        assessable = _gauge("sla_month_assessable", "1 where the window has an availability figure, 0 where "
                            "nothing of it was observed (no figure: never 100 %)", ["region", "window"])
        downtime = _gauge("sla_downtime_seconds", "Counted downtime", ["region", "window"])
        excluded = _gauge("sla_excluded_seconds", "Down time excluded, by reason", ["region", "window", "reason"])
        coverage = _gauge("sla_monitoring_coverage_ratio", "Share of the window with known state",
                          ["region", "window"])
        budget = _gauge("sla_error_budget_seconds", "The month's error budget", ["region"])
        remaining = _gauge("sla_error_budget_remaining_seconds", "Error budget left this month", ["region"])
        remaining_ratio = _gauge("sla_error_budget_remaining_ratio", "Error budget left this month (0–1)", ["region"])
        open_outage = _gauge("sla_outage_open_seconds", "Length of the open unavailability period, 0 if none",
                             ["region"])
        counting = _gauge("sla_outage_counting", "1 while the open outage counts as Downtime (after exclusions "
                          "and the threshold), else 0", ["region"])
        excluded_now = _gauge("sla_outage_excluded", "1 while the open outage is excluded now (maintenance, a third "
                              "party, a cause entered by hand), else 0", ["region"])
        credit = _gauge("sla_service_credit_ratio", "Service credit this month has certainly earned so far: "
                        "0 until the downtime exceeds the budget (0–1)", ["region"])
        component = _gauge("sla_component_availability_ratio", "Component availability (0–1)",
                           ["region", "component", "window"])
        for window, result in (("month_to_date", self.figures.current), ("previous_month", self.figures.previous)):
            if result is None:
                continue
            for r in result.regions:
                labels = [r.region, window]
                f = r.figures
                assessable.add_metric(labels, 1 if f.assessable else 0)
                if f.availability_percent is not None:
                    availability.add_metric(labels, percent_ratio(f.availability_percent))
                downtime.add_metric(labels, f.downtime_ms / 1000)
                for reason in REASONS:
                    excluded.add_metric(labels + [reason], r.excluded_ms[reason] / 1000)
                coverage.add_metric(labels, float(f.coverage_percent / 100) if f.coverage_percent is not None else 1.0)
                if window == "month_to_date":
                    self._month_to_date(r, budget, remaining, remaining_ratio, open_outage, credit, counting,
                                        excluded_now)
            for c in result.components:
                if c.figures.availability_percent is not None:
                    component.add_metric([c.region, c.component, window], percent_ratio(c.figures.availability_percent))
        yield from (availability, assessable, downtime, excluded, coverage, budget, remaining, remaining_ratio, open_outage,
                    counting, excluded_now, credit, component)

    @staticmethod
    def _month_to_date(r: RegionResult, budget: GaugeMetricFamily, remaining: GaugeMetricFamily,
                       remaining_ratio: GaugeMetricFamily, open_outage: GaugeMetricFamily, credit: GaugeMetricFamily,
                       counting: GaugeMetricFamily, excluded_now: GaugeMetricFamily) -> None:
        name = [r.region]
        f = r.figures
        budget.add_metric(name, float(f.budget_ms / 1000))
        remaining.add_metric(name, float(f.budget_remaining_ms / 1000))
        remaining_ratio.add_metric(name, minutes(f.budget_remaining_ms) / minutes(f.budget_ms) if f.budget_ms else 0.0)
        period = r.open_period()
        open_outage.add_metric(name, (period.end_ms - period.start_ms) / 1000 if period else 0.0)
        counting.add_metric(name, 1 if period and period.counting else 0)
        excluded_now.add_metric(name, 1 if period and period.exclusion_now() else 0)
        credit.add_metric(name, r.credit.total_percent / 100)
