"""`sla-monitor import`: JSONL samples into the store in one transaction, validated line by line."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable

import orjson

from .errors import InputError, parse_instant
from .redact import safe_error
from .sla.calendar import iso
from .sla.model import STORED_UNKNOWN_CAUSES
from .storage import Store

ALLOWED_KEYS = frozenset({"ts", "probe", "ok", "vantage", "latency_ms", "error", "cause"})
BATCH = 20_000


@dataclass
class ImportResult:
    lines: int
    samples: int
    keys: int


FUTURE_SLACK_MS = 300_000  # clocks differ a little; a sample further ahead of now is a wrong date


def import_samples(store: Store, stream: Iterable[bytes], name: str, stale_ms: dict[str, int],
                   vantages: list[str], default_vantage: str, now_ms: int | None = None) -> ImportResult:
    """Read JSONL samples from ``stream`` (a file, or any lines); all or none are stored (InputError names
    the line)."""
    ts_cache: dict[str, int] = {}
    probe_ids: dict[str, int] = {}
    vantage_ids: dict[str, int] = {}
    touched: dict[tuple[int, int], list[int]] = {}  # key → [lo_ts, hi_ts, stale_ms]
    rows: list = []  # known samples, inserted in batches
    count = lineno = 0
    with store.atomic():
        for lineno, line in enumerate(stream, 1):
            if not line.strip():
                continue
            where = f"{name}:{lineno}"
            try:
                rec = orjson.loads(line)
            except orjson.JSONDecodeError as exc:
                raise InputError(f"{where}: not valid JSON ({exc}); each line must be one JSON object") from None
            if type(rec) is not dict:
                raise InputError(f"{where}: expected a JSON object like {{\"ts\": …, \"probe\": …, \"ok\": …}}")
            if not rec.keys() <= ALLOWED_KEYS:
                extra = sorted(rec.keys() - ALLOWED_KEYS)
                raise InputError(f"{where}: unknown key {extra[0]!r} (allowed: {', '.join(sorted(ALLOWED_KEYS))})")
            ts_text: Any = rec.get("ts")  # checked below, line by line
            ts = ts_cache.get(ts_text) if type(ts_text) is str else None
            if ts is None:
                ts = parse_instant(ts_text, f"{where}: ts") if "ts" in rec else _missing(where, "ts")
                if now_ms is not None and ts > now_ms + FUTURE_SLACK_MS:
                    raise InputError(f"{where}: ts: {ts_text!r} is in the future (now is {iso(now_ms)}); "
                                     "a sample records what was seen")
                if len(ts_cache) > 100_000:
                    ts_cache.clear()
                ts_cache[ts_text] = ts
            probe: Any = rec.get("probe")  # checked below
            probe_id = probe_ids.get(probe) if type(probe) is str else None
            if probe_id is None:
                if type(probe) is not str or probe not in stale_ms:
                    raise InputError(f"{where}: probe {probe!r} is not in the config ({_known(stale_ms)})")
                probe_id = probe_ids[probe] = store.id_for("probes", probe)
            vantage = rec.get("vantage", default_vantage)
            vantage_id = vantage_ids.get(vantage) if type(vantage) is str else None
            if vantage_id is None:
                if type(vantage) is not str or vantage not in vantages:
                    raise InputError(f"{where}: vantage {vantage!r} is not in the config's vantages ({_known(vantages)})")
                vantage_id = vantage_ids[vantage] = store.id_for("vantages", vantage)
            ok = rec["ok"] if "ok" in rec else _missing(where, "ok")
            cause = rec.get("cause")
            if ok is None:  # an unknown sample: it must say why
                if cause not in STORED_UNKNOWN_CAUSES:
                    raise InputError(f"{where}: cause: {cause!r} must be one of {', '.join(STORED_UNKNOWN_CAUSES)}"
                                     " when ok is null (an unknown sample)")
            elif type(ok) is not bool:
                raise InputError(f"{where}: ok: {ok!r} must be true, false, or null (unknown, with a cause)")
            elif cause is not None:
                raise InputError(f"{where}: cause: only an unknown sample (ok null) has a cause; drop it or set ok to null")
            latency = rec.get("latency_ms")
            if latency is not None and (type(latency) not in (int, float) or latency < 0):
                raise InputError(f"{where}: latency_ms: {latency!r} must be a number ≥ 0 or null")
            error = rec.get("error")
            if error is not None:
                if type(error) is not str:
                    raise InputError(f"{where}: error: {str(error)[:80]!r} must be a string or null")
                error = safe_error(error)  # bounded like the daemon's own: a sample is not a log file
            span = touched.get((probe_id, vantage_id))
            if span is None:
                touched[(probe_id, vantage_id)] = [ts, ts, stale_ms[probe]]
            elif ts < span[0]:
                span[0] = ts
            elif ts > span[1]:
                span[1] = ts
            if cause is None:
                rows.append((probe_id, vantage_id, ts, ok, latency, error))
            else:  # rare: insert in line order, so that a later line of the same key still wins
                store.insert_plain_samples(rows)
                rows.clear()
                store.insert_samples([(probe_id, vantage_id, ts, ok, latency, error, None, cause)])
            count += 1
            if len(rows) >= BATCH:
                store.insert_plain_samples(rows)
                rows.clear()
        store.insert_plain_samples(rows)
        for (probe_id, vantage_id), (lo, hi, stale) in touched.items():
            store.refold(probe_id, vantage_id, lo, hi, stale)
    return ImportResult(lines=lineno, samples=count, keys=len(touched))


def _missing(where: str, key: str):
    raise InputError(f"{where}: {key} is missing (each line needs ts, probe and ok)")


def _known(names) -> str:
    names = sorted(names)
    shown = ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "")
    return f"known: {shown}" if names else "none configured"
