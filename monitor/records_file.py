"""Records kept as code (`records apply FILE.yaml`, `records export`): maintenance windows, exclusions
and incident overrides written in a YAML file, which the store's records managed by that file are
made equal to. Each entry has a ``key`` of its own; a record the file manages is marked ``SOURCE:KEY``
(``managed_by``), so that a record entered by hand is never touched. The whole file is checked before
anything is planned: the first bad entry is an ``InputError`` naming the file, the entry and the key."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping, Sequence

import yaml

from .errors import FIELDS, InputError, automatic_incident, parse_instant, span
from .sla.calendar import iso
from .sla.exclusions import THIRD_PARTY_PREFIX
from .sla.model import COUNTED, HAND_CAUSES, SEVERITIES

if TYPE_CHECKING:
    from .config import Config

KINDS = ("maintenance", "exclusions", "overrides")
_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,62}$")
# Per kind: the entry's keys (besides ``key``), and the stored columns an entry sets.
ENTRY_KEYS = {
    "maintenance": ("region", "all", "start", "end", "kind", "announced_at", "reason", "long"),
    "exclusions": ("region", "all", "start", "end", "cause", "note", "long"),
    "overrides": ("incident", "resolved", "severity"),
}
COLUMNS = {
    "maintenance": ("region", "start_ms", "end_ms", "kind", "announced_at_ms", "reason"),
    "exclusions": ("region", "start_ms", "end_ms", "cause", "note"),
    "overrides": ("incident_id", "resolved_ms", "severity"),
}


@dataclass(frozen=True)
class Entry:
    kind: str
    key: str
    values: dict  # the stored columns it sets (COLUMNS[kind])


@dataclass(frozen=True)
class Step:
    action: str  # add, change, cancel
    entry: Entry | None  # None: cancel (the file no longer holds it)
    row: dict | None  # the stored record it changes or cancels


@dataclass(frozen=True)
class Rules:
    """What an entry is checked against: the config's regions and third parties, the longest window."""

    regions: Sequence[str]
    third_parties: Sequence[str]
    max_window_days: int

    @classmethod
    def of(cls, cfg: Config) -> Rules:
        """The rules of ``cfg``."""
        return cls([r.name for r in cfg.regions], [t.name for t in cfg.third_parties], cfg.storage.max_window_days)


def cause_problem(cause: str, third_parties: Sequence[str]) -> str | None:
    """Why ``cause`` is not an exclusion's cause, to follow it in a sentence (None: it is one)."""
    if cause in HAND_CAUSES or cause == COUNTED:
        return None
    if cause.startswith(THIRD_PARTY_PREFIX):
        name = cause[len(THIRD_PARTY_PREFIX):]
        return None if name in third_parties else \
            f": {name!r} is not a third party in the config (known: {', '.join(third_parties)})"
    return (f" is not a cause; use one of {', '.join(HAND_CAUSES)}, third_party:<name> or counted (to dispute an "
            "automatic third-party exclusion)")


def read_file(path: str, rules: Rules) -> tuple[str, list[Entry]]:
    """The file's source name (its ``source:``, else its name without the extension) and its entries."""
    try:
        loaded = yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(f"{path}: cannot read it ({exc.strerror})") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError(f"{path}: not YAML ({str(exc)[:120]})") from None
    if not isinstance(loaded, dict):
        raise InputError(f"{path}: expected a mapping with source, {', '.join(KINDS)}")
    unknown = sorted(map(str, set(loaded) - {"source", *KINDS}))
    if unknown:
        raise InputError(f"{path}: unknown key(s) {', '.join(unknown)} (use source, {', '.join(KINDS)})")
    source = str(loaded.get("source") or Path(path).stem)
    if not _NAME.match(source):
        raise InputError(f"{path}: source {source!r}: lower-case letters, digits, '.', '-' and '_' (a file name)")
    entries: list[Entry] = []
    for kind in KINDS:
        items = loaded.get(kind) or []
        if not isinstance(items, list):
            raise InputError(f"{path}: {kind} must be a list of entries")
        keys: set[str] = set()
        for number, item in enumerate(items):
            entry = _entry(kind, item, f"{path}: {kind}[{number}]", rules)
            if entry.key in keys:
                raise InputError(f"{path}: {kind}[{number}]: key {entry.key!r} is used twice; each entry needs its own")
            keys.add(entry.key)
            entries.append(entry)
    return source, entries


def _entry(kind: str, item: object, where: str, rules: Rules) -> Entry:
    if not isinstance(item, dict):
        raise InputError(f"{where}: not a mapping")
    key = str(item.get("key") or "")
    if not _NAME.match(key):
        raise InputError(f"{where}: key {key!r}: give each entry a key of lower-case letters, digits, '.', '-', '_'")
    where = f"{where} (key {key})"
    unknown = sorted(map(str, set(item) - {"key", *ENTRY_KEYS[kind]}))
    if unknown:
        raise InputError(f"{where}: unknown key(s) {', '.join(unknown)} (a {kind} entry has {', '.join(ENTRY_KEYS[kind])})")
    text = {k: (v.isoformat() if hasattr(v, "isoformat") else v) for k, v in item.items()}  # YAML reads times itself
    if kind == "overrides":
        return Entry(kind, key, _override(text, where, rules))
    return Entry(kind, key, record_values(kind, text, where, rules))


def record_values(kind: str, text: Mapping[str, Any], where: str, rules: Rules) -> dict:
    """A maintenance window's or an exclusion's stored columns from its fields (a file's entry, an API
    body), checked as the commands check their flags."""
    region = _region(text, where, rules)
    try:
        start, end = span(text.get("start"), text.get("end"), bool(text.get("long")), rules.max_window_days, FIELDS)
    except InputError as exc:
        raise InputError(f"{where}: {exc}") from None
    if kind == "maintenance":
        if text.get("kind") not in ("scheduled", "emergency"):
            raise InputError(f"{where}: kind {text.get('kind')!r}: scheduled or emergency")
        announced = parse_instant(text.get("announced_at"), f"{where}: announced_at")
        reason = str(text.get("reason") or "").strip()
        if not reason:
            raise InputError(f"{where}: reason: say what the maintenance is for (the report shows it)")
        return {"region": region, "start_ms": start, "end_ms": end, "kind": text["kind"],
                "announced_at_ms": announced, "reason": reason}
    cause, note = str(text.get("cause") or ""), str(text.get("note") or "").strip()
    problem = cause_problem(cause, rules.third_parties)
    if problem:
        raise InputError(f"{where}: cause {cause!r}{problem}")
    if not note:
        raise InputError(f"{where}: note: say why (it is shown in the report)")
    return {"region": region, "start_ms": start, "end_ms": end, "cause": cause, "note": note}


def _region(item: Mapping[str, Any], where: str, rules: Rules) -> str | None:
    region = item.get("region")
    if item.get("all") is True and region is None:
        return None
    if region not in rules.regions or item.get("all") is True:
        raise InputError(f"{where}: region {region!r}: one of {', '.join(rules.regions)}, or all: true (not both)")
    return str(region)


def _override(item: Mapping[str, Any], where: str, rules: Rules) -> dict:
    incident = str(item.get("incident") or "")
    region, _, start_ms = automatic_incident(incident, f"{where}: incident")
    if region not in rules.regions:
        raise InputError(f"{where}: incident {incident!r}: region {region!r} is not in the config "
                         f"({', '.join(rules.regions)})")
    resolved = item.get("resolved")
    severity = item.get("severity")
    if resolved is None and severity is None:
        raise InputError(f"{where}: give resolved, severity or both")
    if severity is not None and severity not in SEVERITIES:
        raise InputError(f"{where}: severity {severity!r}: one of {', '.join(SEVERITIES)}")
    resolved_ms = None if resolved is None else parse_instant(resolved, f"{where}: resolved")
    if resolved_ms is not None and resolved_ms <= start_ms:
        raise InputError(f"{where}: resolved {resolved} is not after the incident opened ({iso(start_ms)})")
    return {"incident_id": incident, "resolved_ms": resolved_ms, "severity": severity}


def managed(rows: Sequence[dict], source: str) -> dict[str, dict]:
    """The current rows managed by ``source``, by their entry's key."""
    prefix = f"{source}:"
    return {row["managed_by"][len(prefix):]: row for row in rows if (row.get("managed_by") or "").startswith(prefix)}


def plan(entries: Sequence[Entry], stored: Mapping[str, Mapping[str, dict]]) -> tuple[list[Step], int]:
    """The steps that make the managed records equal to the file (``stored``: per kind, the current managed
    rows by key), and how many already are."""
    steps, unchanged = [], 0
    for kind in KINDS:
        wanted = {e.key: e for e in entries if e.kind == kind}
        for key, entry in wanted.items():
            row = stored[kind].get(key)
            if row is None:
                steps.append(Step("add", entry, None))
            elif any(row.get(column) != entry.values[column] for column in COLUMNS[kind]):
                steps.append(Step("change", entry, row))
            else:
                unchanged += 1
        steps += [Step("cancel", None, row) for key, row in stored[kind].items() if key not in wanted]
    return steps, unchanged


NOUNS = {"maintenance": "maintenance", "exclusions": "exclusion", "overrides": "override"}


def step_text(step: Step, kind: str) -> str:
    """A step of the plan in words."""
    if step.entry is None:
        assert step.row is not None
        key = step.row["managed_by"].partition(":")[2]
        undone = "removed" if kind == "overrides" else "withdrawn" if kind == "exclusions" else "cancelled"
        return f"- {NOUNS[kind]} {key}: no longer in the file, {undone} ({_label(kind, step.row)})"
    sign = "+" if step.action == "add" else "~"
    what = f"{sign} {NOUNS[kind]} {step.entry.key}: {_describe(kind, step.entry.values)}"
    if step.row is not None:
        changed = [c for c in COLUMNS[kind] if step.row.get(c) != step.entry.values[c]]
        what += f" (changed: {', '.join(c.removesuffix('_ms') for c in changed)}; replaces {_label(kind, step.row)})"
    return what


def _label(kind: str, row: dict) -> str:
    return f"of {row['incident_id']}" if kind == "overrides" else f"{NOUNS[kind]} {row['id']}"


def _describe(kind: str, values: dict) -> str:
    if kind == "overrides":
        return ", ".join(f"{k.removesuffix('_ms')} {iso(v) if k.endswith('_ms') else v}"
                         for k, v in values.items() if k != "incident_id" and v is not None) + f" of {values['incident_id']}"
    where = values["region"] or "all regions"
    what = values.get("reason") or f"{values['cause']}: {values['note']}"
    return f"{where} {iso(values['start_ms'])} – {iso(values['end_ms'])}, {what}"


def export_yaml(source: str, stored: Mapping[str, Mapping[str, dict]], max_window_days: int) -> str:
    """The managed records of ``source`` in the file's form: ``apply`` of it changes nothing."""
    document: dict[str, Any] = {"source": source}
    for kind in KINDS:
        items = []
        for key, row in sorted(stored[kind].items()):
            item: dict[str, Any] = {"key": key}
            if kind == "overrides":
                item["incident"] = row["incident_id"]
                item.update({k: v for k, v in (("resolved", iso(row["resolved_ms"])), ("severity", row["severity"]))
                             if v is not None})
            else:
                item.update({"region": row["region"]} if row["region"] else {"all": True})
                item.update(start=iso(row["start_ms"]), end=iso(row["end_ms"]))
                if row["end_ms"] - row["start_ms"] > max_window_days * 86_400_000:
                    item["long"] = True
                if kind == "maintenance":
                    item.update(kind=row["kind"], announced_at=iso(row["announced_at_ms"]), reason=row["reason"])
                else:
                    item.update(cause=row["cause"], note=row["note"])
            items.append(item)
        document[kind] = items
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)
