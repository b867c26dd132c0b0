"""What every probe kind is: its settings (a pydantic model, chosen by ``kind``) and, on the same class,
its check. A probe kind module subclasses ``ProbeSettings`` once:

- its own settings, validated with the rest of the config;
- ``check(ctx)``: one attempt against its target, under the runner's timeout. It returns an
  ``Outcome``, raises ``Failed`` when the target is wanting and ``Unknown`` when it cannot tell;
- ``target_errors()`` and ``describe(exc)``: the exceptions its library raises for a failing target,
  and their names in words (the runner names what the standard library raises: OS, TLS, DNS errors);
- ``is_feed``: a status feed reports on someone else, so one it cannot read is unknown, not down.

Registered in ``checks/__init__.py`` (its import, and its name in ``Kinds``); config, the runner and the
docs take it from there. A check's libraries are imported where it runs: the config, which names every
kind, loads none of them."""
from __future__ import annotations

import ipaddress
import os
import ssl
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..clock import Clock
from ..values import DurationMs, Name, shared_int

if TYPE_CHECKING:
    import aiohttp

LOCAL = "local"  # a failure that never left this host (``probes.faults``)
RESOLVER = "resolver"  # the monitor's resolver did not answer
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}  # _compact: one fields-set per set of names
_KEY_TABLES: dict[type, dict[str, object]] = {}  # a kind's field dict, shared keys (see _compact)


@dataclass(frozen=True)
class Outcome:
    """What one attempt of a check found; the runner adds timing, retries and identity."""

    ok: bool | None
    error: str | None = None
    status_code: int | None = None
    cert_expiry_ms: int | None = None
    detail: dict | None = None
    fault: str | None = None  # the failure may be the monitor's own: "local" (always) or "resolver" (unless verified)


class Failed(Exception):
    """A check found the target wanting: becomes ``Outcome(ok=False, error=str(exc))``. ``fault`` says
    when the failure may be the monitor's own (``probes.faults``)."""

    def __init__(self, message: str, fault: str | None = None):
        super().__init__(message)
        self.fault = fault


class Unknown(Exception):
    """A check could not tell (a status feed unreadable): ``Outcome(ok=None)``, no sample stored."""


class Resources(Protocol):
    """What a check is given (``probes.base.ProbeContext``): the clock, shared HTTP sessions, TLS contexts."""

    clock: Clock

    def session(self, keepalive: bool) -> aiohttp.ClientSession: ...

    def ssl_context(self, verify: bool, ca_file: str | None = None) -> ssl.SSLContext: ...


def tls_reason(exc: BaseException) -> str:
    """A TLS error's reason; aiohttp's connector errors wrap the ssl error: its own text, without the
    connection key."""
    inner = getattr(exc, "os_error", None) or getattr(exc, "__cause__", None)
    return getattr(exc, "reason", None) or getattr(inner, "reason", None) or str(inner or exc)


def os_reason(error: OSError) -> str:
    """"Connection refused" rather than asyncio's "Connect call failed ('127.0.0.1', 80)"."""
    return os.strerror(error.errno) if error.errno else str(error)


def _key_table(kind: type[BaseModel]) -> dict[str, object]:
    """An empty field dict for ``kind`` whose copies share one key table: the attributes of an instance of
    a class of its own, set in the fields' order, which CPython keeps as a split dict."""
    if kind not in _KEY_TABLES:
        holder = type(f"{kind.__name__}Fields", (), {})()
        for name in kind.model_fields:
            setattr(holder, name, None)
        _KEY_TABLES[kind] = vars(holder)
    return _KEY_TABLES[kind]


_EMPTY: dict[str, str] = {}


def _shared(value: object) -> object:
    """One object for equal small immutable values; an empty dict is the one empty dict (models are
    frozen, and the checks only read them)."""
    if type(value) is int:
        return shared_int(value)
    if type(value) is dict and not value:
        return _EMPTY
    return value


def _compact(probe: BaseModel) -> None:
    """Make a probe's model small. A fleet has thousands of probes and each process keeps their models
    (bench/RESULTS.md: 650 bytes less a probe, 13 MB a process at 20,000 probes). The model is frozen,
    so what is equal can be one object:
    - its fields in a dict that shares its key table with every probe of its kind (CPython's split dict:
      a copy of one shares the keys), 300 bytes instead of 830;
    - pydantic's fields-set (which fields the config wrote), one for all probes that wrote the same;
    - equal ints (an interval, a timeout) one object, and an empty mapping (no headers) one object."""
    compact = _key_table(type(probe)).copy()
    compact.update((name, _shared(value)) for name, value in probe.__dict__.items())
    object.__setattr__(probe, "__dict__", compact)
    fields_set = probe.__pydantic_fields_set__
    object.__setattr__(probe, "__pydantic_fields_set__", _FIELDS_SETS.setdefault(frozenset(fields_set), fields_set))


class ProbeSettings(BaseModel):
    # Attribute docstrings are the fields' descriptions: docs/config.md is generated from them.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    is_feed: ClassVar[bool] = False  # a status feed: unreadable is unknown, never down (SLA-SPEC §3)

    kind: str
    id: Name
    """Unique among all probes: samples, metrics and alerts name the probe by it."""
    interval: DurationMs = 60_000
    """How often it runs."""
    timeout: DurationMs = 10_000
    """A try that takes longer fails."""
    retries: int = Field(0, ge=0, le=10)
    """Tries after a failed one before the sample is a failure."""
    retry_delay: DurationMs = 1_000
    """Wait between tries."""
    stale_after: DurationMs | None = None
    """How long a sample's state holds without a newer one; default policy.stale_after_factor × interval."""

    @model_validator(mode="after")
    def _compacted(self) -> ProbeSettings:
        _compact(self)
        return self

    def __setstate__(self, state: dict[str, Any]) -> None:
        # The probe process gets its config pickled: its models are made as small as the daemon's.
        super().__setstate__(state)
        _compact(self)

    async def check(self, ctx: Resources) -> Outcome:
        """One attempt against the target (see the module's docstring)."""
        raise NotImplementedError(f"{type(self).__name__} has no check")

    def target_errors(self) -> tuple[type[BaseException], ...]:
        """The exceptions its library raises for a failing target (beyond OS, TLS and timeout errors)."""
        return ()

    def describe(self, exc: BaseException) -> str | None:
        """``exc`` (one of its library's) as a short readable error; None: the runner's naming."""
        return None

    def target_host(self) -> str | None:
        """The host it connects to, by name or address."""
        return None

    def uses_system_resolver(self) -> bool:
        """Whether it looks its host name up through this host's resolver (a control lookup can then
        vouch for that resolver: ``probes.faults``)."""
        try:
            ipaddress.ip_address(self.target_host() or "")
        except ValueError:
            return True
        return False
