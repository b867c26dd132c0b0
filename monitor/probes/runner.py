"""Run one probe: each attempt under its timeout, retries inside the sample, latency recorded.

A failing target becomes ``Sample(ok=False, error=…)``. A bug in a check gives an unknown sample (cause
``monitor_fault``, logged): a made-up failure would count as downtime, and the monitor's bug is its own.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import ssl
import time

from ..checks import Probe
from ..checks.base import os_reason, tls_reason
from ..redact import safe_error
from .base import Failed, Outcome, ProbeContext, Sample, Unknown, mark_sent
from .faults import own_fault

log = logging.getLogger("sla_monitor.probes")
FEED_UNREADABLE = "feed_unreadable"
MONITOR_FAULT = "monitor_fault"
TARGET_ERRORS = (OSError, asyncio.TimeoutError, ssl.SSLError, ValueError, UnicodeError)  # and each kind's own


def describe(exc: BaseException, cfg: Probe | None = None) -> str:
    """A failing target's exception as a short readable error: the kind's naming of its library's
    errors first, then the standard library's. Never raises: an exception the table below does not
    foresee is named by its type and text."""
    try:
        return _describe(exc, cfg)
    except Exception:  # an exception object without the attributes its type promises
        return f"{type(exc).__name__}: {exc}"


def _describe(exc: BaseException, cfg: Probe | None) -> str:
    if isinstance(exc, Failed):
        return str(exc)
    if cfg is not None and (named := cfg.describe(exc)) is not None:
        return named
    if isinstance(exc, ssl.SSLCertVerificationError):
        return f"tls: {exc.verify_message or exc}"
    if isinstance(exc, ssl.SSLError):
        return f"tls: {tls_reason(exc)}"
    if isinstance(exc, socket.gaierror):
        return f"dns: {exc.strerror}"
    if isinstance(exc, OSError):
        return f"connect: {os_reason(exc)}"
    return f"{type(exc).__name__}: {exc}"[:300]


def _failed(cfg: Probe) -> bool | None:
    """What a transport failure means: down for a target, unknown for a status feed (SLA-SPEC §3:
    a third party that cannot be read is not down)."""
    return None if cfg.is_feed else False


async def attempt(cfg: Probe, ctx: ProbeContext) -> Outcome:
    """One attempt of the check under the probe's timeout."""
    target_errors = TARGET_ERRORS + cfg.target_errors()
    try:
        async with asyncio.timeout(cfg.timeout / 1000):
            return await cfg.check(ctx)
    except Unknown as exc:
        return Outcome(ok=None, error=str(exc))
    except TimeoutError:
        return Outcome(ok=_failed(cfg), error=f"timeout after {cfg.timeout / 1000:g} s")
    except Failed as exc:
        return Outcome(ok=_failed(cfg), error=str(exc), fault=exc.fault)
    except target_errors as exc:
        return Outcome(ok=_failed(cfg), error=describe(exc, cfg), fault=own_fault(exc))


async def run_probe(cfg: Probe, ctx: ProbeContext, vantage: str) -> Sample:
    """A sample of ``cfg``: down only after ``retries`` more attempts failed; unknown (the monitor's fault)
    on an internal error."""
    ts = ctx.clock.now_ms()
    try:
        for number in range(cfg.retries + 1):
            started = time.perf_counter()
            outcome = await attempt(cfg, ctx)
            latency_ms = (time.perf_counter() - started) * 1000
            mark_sent(ts)  # the first attempt's start, for kinds without a send of their own (HTTP marked it)
            if outcome.ok is not False or number == cfg.retries:
                break
            await asyncio.sleep(cfg.retry_delay / 1000)
    except asyncio.CancelledError:
        raise
    except Exception as exc:  # a bug, not the target's failure: unknown (the monitor's fault), logged
        log.exception("event=probe_internal_error probe=%s", cfg.id)
        return Sample(cfg.id, vantage, ts, None, None, safe_error(f"internal error: {type(exc).__name__}: {exc}"),
                      cause=MONITOR_FAULT)
    # Of a status feed, the only unknown is an unreadable feed; a target's unknowns are decided later
    # (VantageHealth), from its fault and the vantage's control targets.
    cause = FEED_UNREADABLE if outcome.ok is None else None
    return Sample(cfg.id, vantage, ts, outcome.ok, round(latency_ms, 3), safe_error(outcome.error), outcome.status_code,
                  outcome.cert_expiry_ms, outcome.detail, cause, outcome.fault if outcome.ok is False else None)
