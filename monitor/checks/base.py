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
from typing import TYPE_CHECKING, ClassVar, Protocol

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..clock import Clock
from ..values import DurationMs, Name

if TYPE_CHECKING:
    import aiohttp

LOCAL = "local"  # a failure that never left this host (``probes.faults``)
RESOLVER = "resolver"  # the monitor's resolver did not answer
_FIELDS_SETS: dict[frozenset[str], set[str]] = {}  # ProbeSettings._share_fields_set


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
    def _share_fields_set(self) -> ProbeSettings:
        # Which fields the config wrote is pydantic's bookkeeping: a set of ~700 bytes a probe, the same
        # for most probes of a fleet. The model is frozen, so probes that wrote the same fields share one
        # (15 MB a process at 20,000 probes; bench/RESULTS.md).
        shared = _FIELDS_SETS.setdefault(frozenset(self.__pydantic_fields_set__), self.__pydantic_fields_set__)
        object.__setattr__(self, "__pydantic_fields_set__", shared)
        return self

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
