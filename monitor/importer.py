"""`sla-monitor import`: JSONL samples into the store in one transaction, validated line by line."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, NoReturn

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
    the line). Each line is parsed (``parse_line``), checked (``Checker``) and written (``Writer``)."""
    checker = Checker(store, stale_ms, vantages, default_vantage, now_ms)
    lineno = 0
    with store.atomic():
        writer = Writer(store)
        for lineno, line in enumerate(stream, 1):
            if line.strip():
                where = f"{name}:{lineno}"
                writer.add(checker.sample(parse_line(line, where), where))
        writer.finish()
    return ImportResult(lines=lineno, samples=writer.count, keys=len(writer.touched))


def parse_line(line: bytes, where: str) -> dict:
    """One line as a JSON object with only the sample's keys."""
    try:
        rec = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"{where}: not valid JSON ({exc}); each line must be one JSON object") from None
    if type(rec) is not dict:
        raise InputError(f"{where}: expected a JSON object like {{\"ts\": …, \"probe\": …, \"ok\": …}}")
    if not rec.keys() <= ALLOWED_KEYS:
        extra = sorted(rec.keys() - ALLOWED_KEYS)
        raise InputError(f"{where}: unknown key {extra[0]!r} (allowed: {', '.join(sorted(ALLOWED_KEYS))})")
    return rec


# A checked sample: probe id, vantage id, ts, ok, latency, error, cause, the probe's stale_ms.
Checked = tuple[int, int, int, Any, Any, Any, Any, int]


class Checker:
    """Checks a line's sample against the config (ids, instants and names cached: most lines repeat
    them) and gives it as the store's row."""

    def __init__(self, store: Store, stale_ms: dict[str, int], vantages: list[str], default_vantage: str,
                 now_ms: int | None):
        self.store, self.stale_ms, self.vantages = store, stale_ms, vantages
        self.default_vantage, self.now_ms = default_vantage, now_ms
        self.ts_cache: dict[str, int] = {}
        self.probe_ids: dict[str, int] = {}
        self.vantage_ids: dict[str, int] = {}

    def sample(self, rec: dict, where: str) -> Checked:
        """The line's sample as a row (InputError naming the line and the key for what is wrong, in the
        order ts, probe, vantage, ok, cause, latency_ms, error)."""
        ts_text: Any = rec.get("ts")
        ts = self.ts_cache.get(ts_text) if type(ts_text) is str else None
        if ts is None:  # a new instant (most lines repeat one: a probe round), or a bad one
            ts = self._ts(rec, where)
        probe: Any = rec.get("probe")  # checked in _probe
        probe_id = self.probe_ids.get(probe) if type(probe) is str else None
        if probe_id is None:
            probe_id = self._probe(probe, where)
        vantage = rec.get("vantage", self.default_vantage)
        vantage_id = self.vantage_ids.get(vantage) if type(vantage) is str else None
        if vantage_id is None:
            vantage_id = self._vantage(vantage, where)
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
        return probe_id, vantage_id, ts, ok, latency, error, cause, self.stale_ms[probe]

    def _ts(self, rec: dict, where: str) -> int:
        """A ts not seen before: parsed, checked, and cached."""
        ts_text: Any = rec.get("ts")
        ts = parse_instant(ts_text, f"{where}: ts") if "ts" in rec else _missing(where, "ts")
        if self.now_ms is not None and ts > self.now_ms + FUTURE_SLACK_MS:
            raise InputError(f"{where}: ts: {ts_text!r} is in the future (now is {iso(self.now_ms)}); "
                             "a sample records what was seen")
        if len(self.ts_cache) > 100_000:
            self.ts_cache.clear()
        self.ts_cache[ts_text] = ts
        return ts

    def _probe(self, probe: Any, where: str) -> int:
        if type(probe) is not str or probe not in self.stale_ms:
            raise InputError(f"{where}: probe {probe!r} is not in the config ({_known(self.stale_ms)})")
        self.probe_ids[probe] = self.store.id_for("probes", probe)
        return self.probe_ids[probe]

    def _vantage(self, vantage: Any, where: str) -> int:
        if type(vantage) is not str or vantage not in self.vantages:
            raise InputError(f"{where}: vantage {vantage!r} is not in the config's vantages ({_known(self.vantages)})")
        self.vantage_ids[vantage] = self.store.id_for("vantages", vantage)
        return self.vantage_ids[vantage]


class Writer:
    """Inserts checked samples in batches, in line order, and refolds each touched key's span once at
    the end (inside the caller's transaction)."""

    def __init__(self, store: Store):
        self.store = store
        self.rows: list = []
        self.touched: dict[tuple[int, int], list[int]] = {}  # key → [lo_ts, hi_ts, stale_ms]
        self.count = 0

    def add(self, sample: Checked) -> None:
        probe_id, vantage_id, ts, ok, latency, error, cause, stale = sample
        span = self.touched.get((probe_id, vantage_id))
        if span is None:
            self.touched[(probe_id, vantage_id)] = [ts, ts, stale]
        elif ts < span[0]:
            span[0] = ts
        elif ts > span[1]:
            span[1] = ts
        if cause is None:
            self.rows.append((probe_id, vantage_id, ts, ok, latency, error))
        else:  # rare: insert in line order, so that a later line of the same key still wins
            self._flush()
            self.store.insert_samples([(probe_id, vantage_id, ts, ok, latency, error, None, cause)])
        self.count += 1
        if len(self.rows) >= BATCH:
            self._flush()

    def _flush(self) -> None:
        self.store.insert_plain_samples(self.rows)
        self.rows.clear()

    def finish(self) -> None:
        self._flush()
        for (probe_id, vantage_id), (lo, hi, stale) in self.touched.items():
            self.store.refold(probe_id, vantage_id, lo, hi, stale)


def _missing(where: str, key: str) -> NoReturn:
    raise InputError(f"{where}: {key} is missing (each line needs ts, probe and ok)")


def _known(names: Iterable[str]) -> str:
    names = sorted(names)
    shown = ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "")
    return f"known: {shown}" if names else "none configured"
