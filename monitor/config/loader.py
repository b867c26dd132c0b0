"""Load a YAML config: ``${VAR}`` interpolation, strict validation, errors with file, line, path and fix."""
from __future__ import annotations

import difflib
import email.utils
import fnmatch
import functools
import os
import pickle
import re
from pathlib import Path
from typing import Any, Iterator, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ValidationError

from ..checks import PROBE_KINDS, PROBE_MODELS, Probe
from ..destinations import DESTINATION_TYPES
from ..destinations import DESTINATIONS as DESTINATION_MODELS
from ..event import EVENT_TYPES
from ..values import is_postgres, is_secret
from .models import Config

# Models chosen by a tag (a probe's kind, a destination's type): pydantic puts the tag in error paths.
TAGGED_MODELS = {**PROBE_MODELS, **DESTINATION_MODELS}
# Values never echoed in an error message, wherever they come from.

_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # libyaml when the wheel has it
# Values the document may expand to through aliases: 200,000, or ten times what it writes out (a fleet of
# 20,000 probes writes out some 400,000). An alias bomb writes out little and expands to billions.
MAX_VALUES = 200_000
ALIAS_FACTOR = 10


class _Loader(_BaseLoader):  # type: ignore[valid-type,misc]  # chosen at import: the C loader when built
    """The safe loader, refusing a mapping with the same key twice (YAML would keep the last one
    silently: a whole region could vanish)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        first: dict = {}
        for key_node, _ in node.value:
            if isinstance(key_node, yaml.ScalarNode) and key_node.value != "<<":
                if key_node.value in first:
                    raise yaml.constructor.ConstructorError(
                        None, None, f"duplicate key {key_node.value!r} (first at line {first[key_node.value]}; "
                                    "each key once)", key_node.start_mark)
                first[key_node.value] = key_node.start_mark.line + 1
        return super().construct_mapping(node, deep)


def _children(node: yaml.Node) -> list:
    if isinstance(node, yaml.SequenceNode):
        return node.value
    return [part for pair in node.value for part in pair] if isinstance(node, yaml.MappingNode) else []


def _written_values(root: yaml.Node) -> int:
    """How many values the document writes out: each node once, aliases not expanded."""
    seen, todo = set(), [root]
    while todo:
        node = todo.pop()
        if id(node) not in seen:
            seen.add(id(node))
            todo += _children(node)
    return len(seen)


def _expanded_values(node: yaml.Node, seen: dict, budget: int) -> int:
    """How many values the node stands for once its aliases are expanded (stops past ``budget``;
    a node that contains itself counts as over it)."""
    key = id(node)
    if key in seen:
        if seen[key] is None:  # still being counted: the node contains itself
            return budget + 1
        return seen[key]
    seen[key] = None
    count = 1
    for child in _children(node):
        count += _expanded_values(child, seen, budget)
        if count > budget:
            break
    seen[key] = count
    return count


def _load_yaml(text: str) -> Any:
    """The document as Python values: duplicate keys refused, alias expansion within MAX_VALUES."""
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        budget = max(MAX_VALUES, ALIAS_FACTOR * _written_values(node)) if node is not None else 0
        if node is not None and _expanded_values(node, {}, budget) > budget:
            raise yaml.YAMLError(f"the document expands to more than {budget:,} values through aliases "
                                 "(an alias bomb?); write the values out or use fewer aliases")
        data = loader.construct_document(node) if node is not None else None
    finally:
        loader.dispose()
    # A compact copy, made once the node tree is gone: the parse's objects (about 5 KB a probe) sit
    # between the values it made, so the memory would stay the daemon's for good; the copy's objects
    # fill the freed space, and the parse's arenas go back to the system (-65 MB at 20,000 probes).
    return pickle.loads(pickle.dumps(data, pickle.HIGHEST_PROTOCOL))
_VAR = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
Loc = tuple[Any, ...]


class ConfigError(Exception):
    """Bad config: ``problems`` holds one readable line per problem."""

    def __init__(self, problems: list[str]):
        super().__init__("\n".join(problems))
        self.problems = problems


def dotted(loc: Loc) -> str:
    """``("regions", 1, "probes", 0, "interval")`` → ``regions[1].probes[0].interval``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


class _Source:
    """The file's text and YAML node tree, to point an error at its line."""

    def __init__(self, path: str, text: str):
        self.path, self.text = path, text

    @functools.cached_property
    def root(self) -> yaml.Node | None:
        # Composed only when an error needs its line: a valid config never pays for the node tree.
        try:
            return yaml.compose(self.text, Loader=_Loader)
        except yaml.YAMLError:
            return None

    def line(self, loc: Loc) -> int | None:
        node, line = self.root, None
        for part in loc:
            if isinstance(node, yaml.MappingNode):
                match = next((v for k, v in node.value if k.value == part), None)
                key = next((k for k, _ in node.value if k.value == part), None)
                if key is None:
                    break
                line, node = key.start_mark.line + 1, match
            elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and part < len(node.value):
                node = node.value[part]
                line = node.start_mark.line + 1
            else:
                break
        if line is None and node is not None:
            line = node.start_mark.line + 1
        return line

    def where(self, loc: Loc) -> str:
        line = self.line(loc)
        return f"{self.path}:{line}" if line else self.path


def _interpolate(value: Any, loc: Loc, env: dict[str, str], problems: list, secrets: set) -> Any:
    if isinstance(value, dict):
        return {k: _interpolate(v, loc + (k,), env, problems, secrets) for k, v in value.items()}
    if isinstance(value, list):
        return [_interpolate(v, loc + (i,), env, problems, secrets) for i, v in enumerate(value)]
    if not isinstance(value, str) or "${" not in value:
        return value

    def replace(match: re.Match) -> str:
        name, default = match.group(1), match.group(2)
        if name in env:
            return env[name]
        if default is not None:
            return default
        problems.append((loc, f"${{{name}}} is not set in the environment (export {name}=… or write ${{{name}:-default}})"))
        return ""

    secrets.add(loc)  # never echo an interpolated value back: it may be a secret
    return _VAR.sub(replace, value)


def _secret_at(loc: Loc) -> bool:
    """Whether the location is a setting marked secret (``values.SECRET``), or inside one."""
    for end, part in enumerate(loc, 1):
        model = _model_at(loc[:end]) if isinstance(part, str) else None
        field = model.model_fields.get(part) if model is not None else None
        if field is not None and is_secret(field):
            return True
    return False


def _holds_secret(value: Any, loc: Loc) -> bool:
    """Whether a section's value (an error about a whole section echoes it) has a secret setting inside."""
    if isinstance(value, dict):
        return any(_secret_at(loc + (key,)) or _holds_secret(inner, loc + (key,)) for key, inner in value.items())
    if isinstance(value, list):
        return any(_holds_secret(inner, loc + (index,)) for index, inner in enumerate(value))
    return False


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class a validation error's location points into (for 'did you mean')."""
    model: Any = Config
    for part in loc[:-1]:
        if isinstance(part, int) or model is None:
            continue
        if part in TAGGED_MODELS:
            model = TAGGED_MODELS[part]
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        model = _inner_model(field.annotation)
    return model


def _inner_model(annotation: Any) -> Any:
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(arg)
        if found is not None:
            return found
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _strip_kind(loc: Loc) -> Loc:
    """Drop the discriminator tag pydantic puts after a probe's or a destination's index."""
    return tuple(p for i, p in enumerate(loc) if not (p in TAGGED_MODELS and i and isinstance(loc[i - 1], int)))


def _describe(err: Mapping[str, Any], secrets: set) -> tuple[Loc, str]:
    raw_loc = tuple(err["loc"])
    loc = _strip_kind(raw_loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        model = _model_at(raw_loc)
        allowed = sorted(model.model_fields) if model else []
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        hint = f"did you mean {close[0]!r}?" if close else f"allowed keys: {', '.join(allowed)}"
        return loc, f"unknown key ({hint})"
    if kind == "missing":
        return loc, "required key is missing (add it)"
    message = err["msg"].removeprefix("Value error, ")
    shown = ("(from environment)" if loc in secrets
             else "(hidden: holds values from the environment)" if any(s[:len(loc)] == loc for s in secrets)
             else "(hidden)" if _secret_at(raw_loc) or _holds_secret(err.get("input"), raw_loc)
             else repr(err.get("input")))
    if kind == "union_tag_invalid":
        tag = err.get("ctx", {}).get("tag")
        if "destinations" in loc:
            return loc + ("type",), f"{tag!r}: unknown destination type (use one of {', '.join(DESTINATION_TYPES)})"
        return loc + ("kind",), f"{tag!r}: unknown probe kind (use one of {', '.join(PROBE_KINDS)})"
    return loc, f"{shown}: {message}"


def _source_checks(cfg: Config) -> Iterator[tuple[Loc, str]]:
    """Where an aggregator reads, and that the modes sharing a database have one."""
    mode, store, url = cfg.daemon.mode, cfg.source.store, cfg.source.prometheus.url
    if mode == "aggregate" and store is None and url is None:
        yield ("source", "prometheus", "url"), ("is required with daemon.mode: aggregate (the Prometheus HTTP API "
                                                "the vantages' results are read from, e.g. http://prometheus:9090), "
                                                "unless source.store reads them from a shared database")
    if store is not None and url is not None and mode == "aggregate":
        yield ("source", "store"), "read from source.store or source.prometheus.url, not both (remove one)"
    if store is not None and mode != "aggregate":
        yield ("source", "store"), f"is read by daemon.mode: aggregate only (this daemon's mode is {mode})"
    shared = mode == "vantage" or (mode == "aggregate" and store is not None)
    if shared and not is_postgres(cfg.storage.location):
        what = "daemon.mode: vantage writes" if mode == "vantage" else "source.store reads"
        yield ("storage", "url"), (f"{what} the samples of a database several daemons share: set storage.url to "
                                   "postgresql://… (a SQLite file is one daemon's)")


def _ticket_export_checks(cfg: Config) -> Iterator[tuple[Loc, str]]:
    """A described ticket export's name is not a preset's, its zone exists, its regions' column maps to regions."""
    from ..tickets import PRESETS

    for i, export in enumerate(cfg.ticket_exports):
        if export.name in PRESETS:
            yield ("ticket_exports", i, "name"), f"{export.name!r} is a built-in preset's name (choose another)"
        if export.timezone is not None:
            try:
                ZoneInfo(export.timezone)
            except (ZoneInfoNotFoundError, ValueError):
                yield ("ticket_exports", i, "timezone"), f"{export.timezone!r} is not an IANA time zone"
    yield from _unique([(("ticket_exports", i, "name"), e.name) for i, e in enumerate(cfg.ticket_exports)],
                       "ticket export")
    regions = [r.name for r in cfg.regions]
    for component, region in (cfg.vendor_status.components.items() if cfg.vendor_status else ()):
        if region not in regions:
            yield ("vendor_status", "components", component), f"{region!r} is not a region ({', '.join(regions)})"


def _cross_checks(cfg: Config) -> Iterator[tuple[Loc, str]]:
    """References and uniqueness pydantic cannot see field by field."""
    try:
        ZoneInfo(cfg.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        yield ("timezone",), f"{cfg.timezone!r} is not an IANA time zone (e.g. \"Europe/Warsaw\" or \"UTC\")"
    if (cfg.policy.downtime_threshold_minutes * 60_000) % 1:
        yield ("policy", "downtime_threshold_minutes"), "must be a whole number of milliseconds (e.g. 15 or 0.5)"
    aggregate = cfg.daemon.mode == "aggregate"
    if cfg.vantage not in cfg.vantages and not aggregate:  # an aggregator's own name is no vantage: it probes nothing
        yield ("vantage",), f"{cfg.vantage!r} is not in vantages {cfg.vantages} (add it there)"
    yield from _source_checks(cfg)
    if isinstance(cfg.policy.quorum, int) and not 1 <= cfg.policy.quorum <= len(cfg.vantages):
        yield ("policy", "quorum"), f"{cfg.policy.quorum} must be 'majority' or 1..{len(cfg.vantages)} (vantages listed)"
    yield from _unique([(("vantages", i), v) for i, v in enumerate(cfg.vantages)], "vantage")
    yield from _unique([(("regions", i, "name"), r.name) for i, r in enumerate(cfg.regions)], "region")
    yield from _unique([(("third_parties", i, "name"), t.name) for i, t in enumerate(cfg.third_parties)], "third party")
    yield from _ticket_export_checks(cfg)
    third_names = {t.name for t in cfg.third_parties}
    probes = list(_probes_with_locs(cfg))
    for loc, probe in probes:
        yield from _probe_checks(loc, probe)
    for i, region in enumerate(cfg.regions):
        yield from _unique(
            [(("regions", i, "components", j, "name"), c.name) for j, c in enumerate(region.components)],
            f"component of region {region.name!r}",
        )
        for j, dep in enumerate(region.depends_on):
            if dep not in third_names:
                known = ", ".join(sorted(third_names)) or "none defined"
                yield ("regions", i, "depends_on", j), f"{dep!r} is not a third party (known: {known})"
        if region.monthly_fee is not None and region.currency is None:
            yield ("regions", i, "currency"), "is required with monthly_fee (e.g. \"EUR\")"
    health = cfg.vantage_health
    for k, probe in enumerate(health.probes):
        if probe.is_feed:
            *others, last = [kind for kind, model in PROBE_MODELS.items() if not model.is_feed]
            yield ("vantage_health", "probes", k, "kind"), (f"{probe.kind!r}: a status feed says nothing of this "
                                                            f"host's network (use {', '.join(others)} or {last})")
    if health.probes and health.min_ok > len(health.probes):
        yield ("vantage_health", "min_ok"), f"{health.min_ok} is more than the {len(health.probes)} control probes"
    yield from _unique([(loc + ("id",), probe.id) for loc, probe in probes], "probe id")
    destinations = {d.name: d for d in cfg.hooks.destinations}
    yield from _unique([(("hooks", "destinations", i, "name"), d.name) for i, d in enumerate(cfg.hooks.destinations)],
                       "destination")
    region_names = {r.name for r in cfg.regions}
    for i, route in enumerate(cfg.hooks.routes):
        for j, pattern in enumerate(route.events):
            if not any(fnmatch.fnmatchcase(t, pattern) for t in EVENT_TYPES):
                close = difflib.get_close_matches(pattern, EVENT_TYPES, n=1)
                hint = f"did you mean {close[0]!r}?" if close else f"event types: {', '.join(EVENT_TYPES)}"
                yield ("hooks", "routes", i, "events", j), f"{pattern!r} matches no event ({hint})"
        if route.destination not in destinations:
            yield ("hooks", "routes", i, "destination"), (f"{route.destination!r} is not a destination "
                                                          f"(known: {', '.join(sorted(destinations)) or 'none defined'})")
        for j, name in enumerate(route.regions):
            if name not in region_names:
                yield ("hooks", "routes", i, "regions", j), f"{name!r} is not a region"
    yield from _schedule_checks(cfg, destinations)


def _schedule_checks(cfg: Config, destinations: dict[str, Any]) -> Iterator[tuple[Loc, str]]:
    """Each schedule mails through an email destination; a claim needs the contract, and goes to your own
    contact, never to the vendor by itself."""
    yield from _unique([(("schedules", i, "name"), s.name) for i, s in enumerate(cfg.schedules)], "schedule")
    mailers = sorted(name for name, d in destinations.items() if d.type == "email")
    for i, schedule in enumerate(cfg.schedules):
        dest = destinations.get(schedule.to)
        if dest is None and not cfg.unchecked_hooks:
            yield ("schedules", i, "to"), (f"{schedule.to!r} is not a destination (email destinations: "
                                           f"{', '.join(mailers) or 'none defined'})")
        elif dest is not None and dest.type != "email":
            yield ("schedules", i, "to"), (f"{schedule.to!r} is a {dest.type} destination: documents go by email "
                                           f"(known email destinations: {', '.join(mailers) or 'none'})")
        if schedule.send != "claim":
            continue
        if cfg.contract is None:
            yield ("schedules", i, "send"), ("claim needs the contract section the claim names (contract: "
                                             "{reference: …, customer: {…}, provider: {…}})")
        elif dest is not None and dest.type == "email" and cfg.contract.provider.email:
            vendor = email.utils.parseaddr(cfg.contract.provider.email)[1].lower()
            if vendor in {email.utils.parseaddr(a)[1].lower() for a in dest.to}:
                yield ("schedules", i, "to"), (f"{schedule.to!r} mails the vendor ({vendor}): a drafted claim goes to "
                                               "your own contact, who checks it and sends it on")
        for j, days in enumerate(schedule.remind_days_before_deadline):
            if not 1 <= days <= cfg.policy.claim_window_days:
                yield ("schedules", i, "remind_days_before_deadline", j), (
                    f"{days} must be 1..{cfg.policy.claim_window_days} (the claim window's days)")


def _probes_with_locs(cfg: Config) -> Iterator[tuple[Loc, Any]]:
    """Every probe with where it stands: the regions' components, the third parties, the controls."""
    for i, region in enumerate(cfg.regions):
        for j, component in enumerate(region.components):
            for k, probe in enumerate(component.probes):
                yield ("regions", i, "components", j, "probes", k), probe
    for i, third in enumerate(cfg.third_parties):
        for k, probe in enumerate(third.probes):
            yield ("third_parties", i, "probes", k), probe
    for k, probe in enumerate(cfg.vantage_health.probes):
        yield ("vantage_health", "probes", k), probe


def _probe_checks(loc: Loc, probe: Probe) -> Iterator[tuple[Loc, str]]:
    """Settings that would silently do nothing."""
    if probe.timeout > probe.interval:
        yield loc + ("timeout",), (f"{probe.timeout} ms is longer than interval {probe.interval} ms: runs would "
                                   "overlap and be skipped (make it shorter than the interval)")
    if getattr(probe, "json_equals", None) is not None and getattr(probe, "json_path", None) is None:
        yield loc + ("json_equals",), "needs json_path (which value to compare, e.g. status or data.0.state)"
    max_latency = getattr(probe, "max_latency", None)
    if max_latency is not None and max_latency >= probe.timeout:
        yield loc + ("max_latency",), (f"{max_latency} ms can never trip: the timeout ({probe.timeout} ms) ends the "
                                       "attempt first (make it shorter than timeout)")


def _unique(items: list[tuple[Loc, str]], what: str) -> Iterator[tuple[Loc, str]]:
    first: dict[str, Loc] = {}
    for loc, value in items:
        if value in first:
            yield loc, f"{value!r}: duplicate {what} (first at {dotted(first[value])}; names must be unique)"
        else:
            first[value] = loc


def parse_config(text: str, path: str = "<config>", env: dict[str, str] | None = None, sends: bool = True) -> Config:
    """Validate config text; raise ConfigError listing every problem with file:line and path.

    ``sends`` False (a command that sends no alert: reports, probes, records): a ``${VAR}`` of the
    ``hooks`` section that is not set is no error; that section is then left out (no destinations,
    no routes) and the config's ``unchecked_hooks`` says why, for check-config to warn."""
    source = _Source(path, text)
    try:
        data = _load_yaml(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else path
        raise ConfigError([f"{where}: not valid YAML: {getattr(exc, 'problem', exc)}"]) from None
    if not isinstance(data, dict):
        raise ConfigError([f"{path}: the config must be a mapping with at least 'service' and 'regions'"])
    problems: list[tuple[Loc, str]] = []
    secrets: set = set()
    data = _interpolate(data, (), dict(os.environ) if env is None else env, problems, secrets)
    unset_in_hooks = [(loc, msg) for loc, msg in problems if loc[:1] == ("hooks",)]
    if not sends and unset_in_hooks:
        problems = [p for p in problems if p not in unset_in_hooks]
        data.pop("hooks")
    cfg = None
    try:
        cfg = Config.model_validate(data)
    except ValidationError as exc:
        unset = {loc for loc, _ in problems}  # their value is "" now: a second complaint about it would mislead
        problems += [found for found in (_describe(err, secrets) for err in exc.errors()) if found[0] not in unset]
    if cfg is not None:
        problems += list(_cross_checks(cfg))
    if problems or cfg is None:
        raise ConfigError([f"{source.where(loc)}: {dotted(loc)}: {msg}" for loc, msg in problems])
    if not sends:
        cfg._unchecked_hooks = tuple(f"{source.where(loc)}: {dotted(loc)}: {msg}" for loc, msg in unset_in_hooks)
    return cfg


def load_config(path: str | os.PathLike, env: dict[str, str] | None = None, sends: bool = True) -> Config:
    """Read and validate a config file (``sends``: as ``parse_config``)."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError([f"{p}: not UTF-8 text (byte {exc.start}); save the file as UTF-8"]) from None
    except OSError as exc:
        raise ConfigError([f"{p}: cannot read config: {exc.strerror} (pass --config PATH or set SLA_MONITOR_CONFIG)"]) from None
    return parse_config(text, str(p), env, sends)
