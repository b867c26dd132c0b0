"""docs/config.md, generated from the config models (their fields, defaults and attribute docstrings), so
the reference cannot drift from what the loader accepts (``python -m monitor.docs`` writes it)."""
from __future__ import annotations

import types
import typing
from decimal import Decimal
from typing import Any, Iterable, Iterator

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from ..checks import PROBE_MODELS
from ..checks import ProbeSettings as ProbeBase
from ..destinations import DESTINATIONS as DESTINATION_MODELS
from ..destinations import DestinationSettings
from ..values import NAME_PATTERN, parse_decimal, parse_duration_ms
from .models import Config

INTRO = """\
# Config reference

Generated from the config models by `python -m monitor.docs`; a test fails when this file is stale.
`sla-monitor init` writes a commented config to start from; `config/example.yaml` is a real-shaped
TrueEngage fleet (eight production regions on Azure, each tied to its Genesys Cloud region, its Azure
region and Vonage, a staging region, the Management Panel); `config/demo.yaml` is the fleet that
`make run` simulates. Check a file with `sla-monitor --config FILE check-config`.

- Unknown keys are errors, and so are duplicate names, references to names that do not exist, bad
  durations and unknown time zones. Each message names the file, line, key and value, and suggests
  a fix.
- **Durations** are written `250ms`, `30s`, `5m`, `2h`, `1d`, or a bare number of seconds.
- **Decimals** (money, percentages) are exact: write a fee as a string (`"1200.00"`).
- **Names** are lower case: letters, digits, `_`, `.`, `-`, at most 64 characters.
- **Secrets**: any string may use `${VAR}` or `${VAR:-default}`, filled from the environment when the
  file is loaded. A value that came from the environment is never echoed in a message. The
  `hooks` section's variables are needed only by the commands that send alerts (`run`, `hooks test`):
  the others leave that section out when one is unset, and `check-config` warns.

Errors look like this:

```
sla-monitor: config error: config/monitor.yaml:14: regions[0].components[0].probes[0].interval: '0s': must be > 0 (e.g. "30s")
sla-monitor: config error: config/monitor.yaml:4: regions[0].nmae: unknown key (did you mean 'name'?)
```
"""


def _scalar(validators: list[Any]) -> str | None:
    for meta in validators:
        func = getattr(meta, "func", None)
        if func is parse_duration_ms:
            return "duration"
        if func is parse_decimal:
            return "decimal"
    return None


def type_text(annotation: Any, metadata: list[Any] = ()) -> str:  # type: ignore[assignment]
    """A field's type in words: ``duration``, ``list of name``, ``"up" | "down"``, a section's name."""
    if (named := _scalar(list(metadata))) is not None:
        return named
    if any(getattr(m, "pattern", None) == NAME_PATTERN for m in _flat(metadata)):
        return "name"
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is typing.Annotated:
        inner = _scalar(list(args[1:]))
        if inner:
            return inner
        return type_text(args[0], list(args[1:]))
    if origin in (typing.Union, types.UnionType):
        kept = [a for a in args if a is not type(None)]
        if len(kept) > 1 and all(isinstance(a, type) and issubclass(a, BaseModel) for a in kept):
            return "one of the kinds below"
        return " or ".join(type_text(a) for a in kept)
    if origin is typing.Literal:
        return " or ".join(f'`{a}`' for a in args)
    if origin is list or (origin is tuple and len(args) == 2 and args[1] is Ellipsis):  # written as a YAML list
        return f"list of {type_text(args[0])}"
    if origin is dict:
        return f"map of {type_text(args[0])} to {type_text(args[1])}"
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return "section"
    return {str: "text", int: "integer", bool: "`true` or `false`", float: "number", Decimal: "decimal"}.get(
        annotation, getattr(annotation, "__name__", str(annotation)))


def _flat(metadata: Iterable[Any]) -> Iterator[Any]:
    for meta in metadata:
        yield meta
        yield from getattr(meta, "metadata", ())


def default_text(field: FieldInfo, kind: str) -> str:
    """The default as it would be written in the file; ``required`` when there is none."""
    if field.is_required():
        return "required"
    value = field.get_default(call_default_factory=True)
    if value is None:
        return "unset"
    if kind == "duration" and isinstance(value, int):
        return f"`{duration_text(value)}`"
    if isinstance(value, BaseModel):
        return "see below"
    if isinstance(value, tuple):  # an immutable default (shared by every probe), written as a list
        value = list(value)
    if isinstance(value, list):
        if value and isinstance(value[0], BaseModel):
            return ", ".join("{" + ", ".join(f"{k}: {v}" for k, v in item.model_dump().items()) + "}" for item in value)
        return f"`{[str(v) for v in value]}`".replace("'", "") if value else "`[]`"
    if isinstance(value, dict):
        return "`{}`" if not value else f"`{value}`"
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    return f"`{value}`"


def duration_text(ms: int) -> str:
    """Milliseconds in the config's own duration syntax, the largest unit that divides them."""
    for unit, size in (("d", 86_400_000), ("h", 3_600_000), ("m", 60_000), ("s", 1000)):
        if ms % size == 0:
            return f"{ms // size}{unit}"
    return f"{ms}ms"


def _words(text: str | None) -> str:
    return " ".join((text or "").split()).replace("|", "\\|")


def table(model: type[BaseModel], skip: tuple[str, ...] = ()) -> list[str]:
    """A markdown table of ``model``'s fields: key, type, default, meaning."""
    rows = ["| key | type | default | meaning |", "| --- | --- | --- | --- |"]
    for name, field in model.model_fields.items():
        if name in skip:
            continue
        kind = type_text(field.annotation, field.metadata)
        default = default_text(field, kind).replace("|", "\\|")
        rows.append(f"| `{field.alias or name}` | {kind} | {default} | {_words(field.description)} |")
    return rows


def sections() -> Iterator[tuple[str, type[BaseModel]]]:
    """Every section of the file with its key path, walking the models from ``Config``."""
    seen: set[type[BaseModel]] = set()

    def walk(path: str, model: type[BaseModel]) -> Iterator[tuple[str, type[BaseModel]]]:
        if model in seen:
            return
        seen.add(model)
        yield path, model
        for name, field in model.model_fields.items():
            for inner in _models(field.annotation):
                if inner in (*PROBE_MODELS.values(), *DESTINATION_MODELS.values()):
                    continue
                suffix = "[]" if typing.get_origin(field.annotation) is list else ""
                yield from walk(f"{path}.{name}{suffix}" if path else f"{name}{suffix}", inner)

    yield from walk("", Config)


def _models(annotation: Any) -> Iterator[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        yield annotation
        return
    for arg in typing.get_args(annotation):
        yield from _models(arg)


def render() -> str:
    """The whole reference, as docs/config.md holds it."""
    out = [INTRO]
    for path, model in sections():
        out += [f"## `{path}`" if path else "## Top level", ""]
        if model.__doc__:  # a class's own docstring (never inherited): its first paragraph
            out += [_words(model.__doc__.split("\n\n")[0]), ""]
        out += table(model) + [""]
    base = set(ProbeBase.model_fields)
    out += ["## Probes", "", "Every probe (`regions[].components[].probes[]`, `third_parties[].probes[]`, "
            "`vantage_health.probes[]`) has these keys, and those of its `kind`:", ""]
    out += table(ProbeBase, skip=("kind",)) + [""]
    for kind, probe_model in PROBE_MODELS.items():
        out += [f"### `kind: {kind}`", ""] + table(probe_model, skip=(*base, "kind")) + [""]
    common = set(DestinationSettings.model_fields) - {"type"}
    out += ["## Alert destinations", "", "Every `hooks.destinations[]` entry has these keys, and those of its "
            "`type`:", ""]
    out += table(DestinationSettings, skip=("type",)) + [""]
    for kind, destination in DESTINATION_MODELS.items():
        extra = [name for name in destination.model_fields if name not in common and name != "type"]
        lines = table(destination, skip=tuple(n for n in destination.model_fields if n not in extra))
        out += [f"### `type: {kind}`", "", _words(destination.model_fields["type"].description), ""]
        out += (lines + [""]) if extra else []
    return "\n".join(out).rstrip() + "\n"

