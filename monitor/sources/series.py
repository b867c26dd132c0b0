"""Prometheus series as this monitor's samples: which configured probe and vantage a series is (by its
labels), and its points as sample records (JSONL lines for the importer, samples for the live side). Pure."""
from __future__ import annotations

import bisect
from typing import Iterable, Iterator

import orjson

from ..checks import Probe
from ..checks.tcp import TcpProbe
from ..checks.tls import TlsProbe
from ..config.models import Config, PrometheusSource
from ..errors import InputError
from ..samples import Sample
from ..sla.calendar import iso
from .prometheus import Series


def probe_targets(probe: Probe) -> list[str]:
    """What a probe checks, as blackbox_exporter's `instance` label would name it."""
    targets = [getattr(probe, "url", None), getattr(probe, "name", None) if probe.kind == "dns" else None]
    if isinstance(probe, (TcpProbe, TlsProbe)):
        targets += [f"{probe.host}:{probe.port}", probe.host]
    return [t for t in targets if t]


def describe(labels: dict[str, str]) -> str:
    name = labels.get("__name__", "")
    return name + "{" + ", ".join(f'{k}="{v}"' for k, v in sorted(labels.items()) if k != "__name__") + "}"


class SeriesMapper:
    """Which configured probe and vantage a series is: the first of the configured label names that the
    series has decides; a probe label may hold the probe's id or its target."""

    def __init__(self, cfg: Config, source: PrometheusSource):
        self.ids = {p.id for p, _, _ in cfg.all_probes()}
        self.targets: dict[str, str] = {}
        for p, _, _ in cfg.all_probes():
            for target in probe_targets(p):
                self.targets.setdefault(target, p.id)
        self.vantages = list(cfg.vantages)
        self.probe_labels, self.vantage_labels = source.probe_labels, source.vantage_labels

    def probe(self, labels: dict[str, str]) -> str | None:
        value = next((labels[name] for name in self.probe_labels if name in labels), None)
        if value is None:
            return None
        return value if value in self.ids else self.targets.get(value)

    def vantage(self, labels: dict[str, str]) -> str:
        """The series' vantage; InputError when it has none or one the config does not list."""
        name = next((name for name in self.vantage_labels if name in labels), None)
        if name is None:
            raise InputError(f"series {describe(labels)} has none of the vantage labels "
                             f"{', '.join(self.vantage_labels)}; set source.prometheus.vantage_labels")
        if labels[name] not in self.vantages:
            raise InputError(f"series {describe(labels)}: vantage {labels[name]!r} (label {name}) is not in the "
                             f"config's vantages ({', '.join(self.vantages)}); add it to vantages, or set "
                             "source.prometheus.vantage_labels to the label that names your vantages")
        return labels[name]


class Health:
    """When each vantage said it was unhealthy (its health gauge at 0): its samples then are unknown."""

    def __init__(self, series: Iterable[Series], mapper: SeriesMapper):
        self.points: dict[str, list[tuple[int, float]]] = {}
        for s in series:
            vantage = next((s.labels[n] for n in mapper.vantage_labels if n in s.labels), None)
            if vantage is not None:
                self.points.setdefault(vantage, []).extend(s.points)
        for points in self.points.values():
            points.sort()
        self.times = {vantage: [ts for ts, _ in points] for vantage, points in self.points.items()}

    def spells(self, lo: int, hi: int) -> Iterator[tuple[str, int]]:
        """Each (vantage, instant) in ``[lo, hi)`` at which a vantage's gauge said it was unhealthy."""
        for vantage, points in self.points.items():
            yield from ((vantage, ts) for ts, value in points if value == 0 and lo <= ts < hi)

    def unhealthy(self, vantage: str, ts: int) -> bool:
        """The vantage's last health value at or before ``ts`` was 0."""
        times = self.times.get(vantage)
        if not times:
            return False
        i = bisect.bisect_right(times, ts) - 1
        return i >= 0 and self.points[vantage][i][1] == 0


def sample_records(success: list[Series], duration: list[Series], mapper: SeriesMapper, health: Health,
                   window: tuple[int, int], skipped: dict[str, int]) -> Iterator[dict]:
    """Sample records (``ts_ms``, ``probe``, ``vantage``, ``ok``, and ``latency_ms`` or ``cause``): one per
    success point of a configured probe (1 up, 0 down; unknown while its vantage was unhealthy), with the
    duration point of the same series and instant as its latency. A vantage that said it was unhealthy
    exported no results then (this monitor exports none for unknown samples): each of its health points
    at 0 in ``window`` becomes an unknown sample of every configured probe, as the vantage itself stored
    them. Series of no configured probe are counted in ``skipped``."""
    latency = {(frozenset((k, v) for k, v in s.labels.items() if k != "__name__"), ts): value
               for s in duration for ts, value in s.points}
    seen: set[tuple[str, str, int]] = set()
    for s in success:
        probe = mapper.probe(s.labels)
        if probe is None:
            skipped[describe(s.labels)] = skipped.get(describe(s.labels), 0) + len(s.points)
            continue
        vantage = mapper.vantage(s.labels)
        key = frozenset((k, v) for k, v in s.labels.items() if k != "__name__")
        for ts, value in s.points:
            seen.add((probe, vantage, ts))
            if health.unhealthy(vantage, ts):
                yield {"ts_ms": ts, "probe": probe, "vantage": vantage, "ok": None, "cause": "vantage_unhealthy"}
            else:
                seconds = latency.get((key, ts))
                yield {"ts_ms": ts, "probe": probe, "vantage": vantage, "ok": value == 1,
                       "latency_ms": None if seconds is None or value != 1 else seconds * 1000}
    for vantage, ts in health.spells(*window):
        if vantage in mapper.vantages:
            for probe in sorted(mapper.ids):
                if (probe, vantage, ts) not in seen:
                    yield {"ts_ms": ts, "probe": probe, "vantage": vantage, "ok": None, "cause": "vantage_unhealthy"}


def jsonl(record: dict) -> bytes:
    """A sample record as the JSONL importer's line."""
    line = {"ts": iso(record["ts_ms"]), **{k: v for k, v in record.items() if k != "ts_ms"}}
    # + newline: a new bytes of the exact size (orjson's own result keeps a 4 KB buffer, measured:
    # 300,000 of them held 1.2 GB).
    return orjson.dumps(line) + b"\n"


def as_sample(record: dict) -> Sample:
    """A sample record as the live side's sample."""
    return Sample(record["probe"], record["vantage"], record["ts_ms"], record["ok"], record.get("latency_ms"),
                  cause=record.get("cause"))
