"""`sla-monitor import --from-prometheus`: raw samples from a Prometheus into the store, in one
transaction like a JSONL import (it is one: the series become sample lines for the same importer).
The reading runs in a thread of its own (asyncio, bounded concurrency); the store is written here."""
from __future__ import annotations

import asyncio
import os
import queue
import re
import sys
import threading
from dataclasses import dataclass, field
from typing import Any, Iterator

import aiohttp

from ..config.models import Config
from ..errors import InputError
from ..importer import ImportResult, import_samples
from ..storage import Storage
from .prometheus import PrometheusClient
from .series import Health, SeriesMapper, jsonl, sample_records

METRIC = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*")
_DONE = object()


@dataclass
class BackfillResult:
    imported: ImportResult
    requests: int
    skipped: dict[str, int] = field(default_factory=dict)  # series of no configured probe → points
    warnings: list[str] = field(default_factory=list)


def selectors(match: str | None, success_metric: str, duration_metric: str) -> tuple[str, str]:
    """The success selector (``--match``: a metric with matchers, or matchers alone) and the duration
    selector with the same matchers."""
    match = (match or success_metric).strip()
    if match.startswith("{"):
        match = success_metric + match
    name = METRIC.match(match)
    rest = match[name.end():] if name is not None else ""
    if name is None or (rest and not (rest.startswith("{") and rest.endswith("}"))):
        raise InputError(f"--match {match!r}: expected a series selector like probe_success{{job=\"blackbox\"}}")
    return match, duration_metric + match[name.end():]


def backfill(store: Storage, cfg: Config, url: str, start_ms: int, end_ms: int, match: str | None,
             stale_ms: dict[str, int], now_ms: int) -> BackfillResult:
    """Read ``[start_ms, end_ms)`` from the Prometheus at ``url`` and import it; all or nothing."""
    source = cfg.source.prometheus
    success, duration = selectors(match or source.match, source.success_metric, source.duration_metric)
    mapper = SeriesMapper(cfg, source)
    handoff: queue.Queue = queue.Queue(maxsize=1)  # bounded: reading waits for the store, memory stays flat
    stop = threading.Event()
    result = BackfillResult(ImportResult(0, 0, 0), 0)

    async def read() -> None:
        async with aiohttp.ClientSession() as session:
            client = PrometheusClient(session, url, source)
            try:
                health = Health(await _chunked(client, source.health_metric, start_ms, end_ms, source.chunk), mapper)
                windows = [(lo, min(lo + source.chunk, end_ms)) for lo in range(start_ms, end_ms, source.chunk)]
                gate = asyncio.Semaphore(source.concurrency)
                bar = _progress(len(windows))

                async def window(lo: int, hi: int) -> None:
                    # The gate is held until the store has taken the window's lines: at most
                    # ``concurrency`` windows are in memory, however long the range.
                    async with gate:
                        found = await asyncio.gather(client.raw(success, lo, hi), client.raw(duration, lo, hi))
                        lines = [jsonl(r) for r in sample_records(found[0], found[1], mapper, health, (lo, hi),
                                                                  result.skipped)]
                        del found
                        await asyncio.to_thread(_put, handoff, lines, stop)
                    bar.update(1)

                await asyncio.gather(*(window(lo, hi) for lo, hi in windows))
                bar.close()
            finally:
                result.requests, result.warnings = client.requests, client.warnings

    def run() -> None:
        try:
            asyncio.run(read())
            _put(handoff, _DONE, stop)
        except BaseException as exc:  # noqa: B036 - handed to the importing thread, which raises it
            _put(handoff, exc, stop)

    def lines() -> Iterator[bytes]:
        while True:
            item = handoff.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield from item

    reader = threading.Thread(target=run, name="prometheus-reader", daemon=True)
    reader.start()
    try:
        result.imported = import_samples(store, lines(), f"prometheus {url}", stale_ms, list(cfg.vantages),
                                         cfg.vantage, now_ms)
    finally:
        stop.set()
        reader.join(timeout=5)
    return result


async def _chunked(client: PrometheusClient, selector: str, start_ms: int, end_ms: int, chunk: int) -> list:
    out = []
    for lo in range(start_ms, end_ms, chunk):
        out += await client.raw(selector, lo, min(lo + chunk, end_ms))
    return out


def _put(handoff: queue.Queue, item: object, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            handoff.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


def _progress(total: int) -> Any:
    """A progress bar on a terminal (standard error), nothing otherwise."""
    from tqdm import tqdm

    on_terminal = sys.stderr.isatty()
    try:  # a terminal that reports no size (0 × 0, as some pseudo-terminals do) would hide the bar
        size = os.get_terminal_size(sys.stderr.fileno())
    except OSError:
        size = os.terminal_size((0, 0))
    return tqdm(total=total, unit="chunk", desc="reading Prometheus", file=sys.stderr, disable=not on_terminal,
                leave=False, ncols=size.columns or 80, nrows=size.lines or 24)
