"""The SQL stores' bulk import (``Storage.import_samples``): samples by name in large batches, each
touched timeline folded once at the end, inside the caller's transaction. Each batch is one batch of
the evidence chain."""
from __future__ import annotations

from typing import TYPE_CHECKING, Iterable, Mapping

from .interface import ImportRow

if TYPE_CHECKING:
    from .sqlstore import SqlStore

BATCH = 20_000  # rows a statement binds


def import_samples(store: SqlStore, rows: Iterable[ImportRow], stale_ms: Mapping[str, int]) -> tuple[int, int]:
    """Insert ``rows`` in order (the later of two at one instant wins) and refold each touched
    timeline's span; returns (samples, timelines)."""
    probe_ids: dict[str, int] = {}
    vantage_ids: dict[str, int] = {}
    # key → row, in the stored form the chain hashes (``chain.stored_form``), built here where the row is
    # built anyway and inserted as hashed; of two rows at one key, the later one.
    batch: dict[tuple[int, int, int], tuple] = {}
    number = store.next_batch()
    touched: dict[tuple[int, int], list[int]] = {}  # (probe id, vantage id) → [lo ts, hi ts, stale_ms]
    count = 0
    for probe, vantage, ts, ok, latency, error, cause in rows:
        probe_id = probe_ids.get(probe)
        if probe_id is None:
            probe_id = probe_ids[probe] = store.id_for("probes", probe)
        vantage_id = vantage_ids.get(vantage)
        if vantage_id is None:
            vantage_id = vantage_ids[vantage] = store.id_for("vantages", vantage)
        span = touched.get((probe_id, vantage_id))
        if span is None:
            touched[(probe_id, vantage_id)] = [ts, ts, stale_ms[probe]]
        elif ts < span[0]:
            span[0] = ts
        elif ts > span[1]:
            span[1] = ts
        batch[(probe_id, vantage_id, ts)] = (probe_id, vantage_id, ts, None if ok is None else int(ok),
                                             None if latency is None else float(latency), error, None, cause, number)
        if len(batch) >= BATCH:
            _write(store, number, list(batch.values()))
            batch.clear()
            number = store.next_batch()
        count += 1
    _write(store, number, list(batch.values()))
    for (probe_id, vantage_id), (lo, hi, stale) in touched.items():
        store.refold(probe_id, vantage_id, lo, hi, stale)
    return count, len(touched)


def _write(store: SqlStore, number: int, rows: list[tuple]) -> None:
    """One batch (one row a key), chained."""
    if rows:
        store.chain_batch(number, rows)
        store.insert_samples(rows)
