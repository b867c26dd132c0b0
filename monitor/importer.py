"""`sla-monitor import`: JSONL samples into the store in one transaction, validated line by line."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Iterator, NoReturn

import orjson

from .errors import InputError, parse_instant
from .redact import safe_error
from .sla.calendar import iso
from .sla.model import STORED_UNKNOWN_CAUSES
from .storage import Storage
from .storage.interface import ImportRow

ALLOWED_KEYS = frozenset({"ts", "probe", "ok", "vantage", "latency_ms", "error", "cause"})


@dataclass
class ImportResult:
    lines: int
    samples: int
    keys: int


FUTURE_SLACK_MS = 300_000  # clocks differ a little; a sample further ahead of now is a wrong date


def import_samples(store: Storage, stream: Iterable[bytes], name: str, stale_ms: dict[str, int],
                   vantages: list[str], default_vantage: str, now_ms: int | None = None) -> ImportResult:
    """Read JSONL samples from ``stream`` (a file, or any lines); all or none are stored (InputError names
    the line). Each line is parsed (``parse_line``), checked (``Checker``) and written by the store's
    bulk import, in one transaction."""
    checker = Checker(stale_ms, vantages, default_vantage, now_ms)
    lines = 0

    def checked() -> Iterator[ImportRow]:
        nonlocal lines
        for lines, line in enumerate(stream, 1):
            if line.strip():
                where = f"{name}:{lines}"
                yield checker.sample(parse_line(line, where), where)

    with store.transaction():
        samples, keys = store.import_samples(checked(), stale_ms)
    return ImportResult(lines=lines, samples=samples, keys=keys)


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


class Checker:
    """Checks a line's sample against the config (instants cached: most lines repeat them) and gives it
    as the store's import row."""

    def __init__(self, stale_ms: dict[str, int], vantages: list[str], default_vantage: str, now_ms: int | None):
        self.stale_ms, self.vantages = stale_ms, frozenset(vantages)
        self.default_vantage, self.now_ms = default_vantage, now_ms
        self.ts_cache: dict[str, int] = {}

    def sample(self, rec: dict, where: str) -> ImportRow:
        """The line's sample as a row (InputError naming the line and the key for what is wrong, in the
        order ts, probe, vantage, ok, cause, latency_ms, error)."""
        ts_text: Any = rec.get("ts")
        ts = self.ts_cache.get(ts_text) if type(ts_text) is str else None
        if ts is None:  # a new instant (most lines repeat one: a probe round), or a bad one
            ts = self._ts(rec, where)
        probe: Any = rec.get("probe")
        if type(probe) is not str or probe not in self.stale_ms:
            raise InputError(f"{where}: probe {probe!r} is not in the config ({_known(self.stale_ms)})")
        vantage = rec.get("vantage", self.default_vantage)
        if type(vantage) is not str or vantage not in self.vantages:
            raise InputError(f"{where}: vantage {vantage!r} is not in the config's vantages ({_known(self.vantages)})")
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
        return probe, vantage, ts, ok, latency, error, cause

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


def _missing(where: str, key: str) -> NoReturn:
    raise InputError(f"{where}: {key} is missing (each line needs ts, probe and ok)")


def _known(names: Iterable[str]) -> str:
    names = sorted(names)
    shown = ", ".join(names[:8]) + (f", … ({len(names)} in all)" if len(names) > 8 else "")
    return f"known: {shown}" if names else "none configured"
