"""Run one probe: each attempt under its timeout, retries inside the sample, latency recorded.

A failing target becomes ``Sample(ok=False, error=…)``. A bug in a check gives an unknown sample (cause
``monitor_fault``, logged): a made-up failure would count as downtime, and the monitor's bug is its own.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import ssl
import time

import aiohttp
import dns.exception

from ..config.probes import Probe
from ..redact import safe_error
from .base import Failed, Outcome, ProbeContext, Sample, Unknown, mark_sent
from .faults import own_fault
from .registry import CHECKS, FEED_KINDS

log = logging.getLogger("sla_monitor.probes")
FEED_UNREADABLE = "feed_unreadable"
MONITOR_FAULT = "monitor_fault"
TARGET_ERRORS = (aiohttp.ClientError, OSError, asyncio.TimeoutError, ssl.SSLError, ValueError, UnicodeError,
                 dns.exception.DNSException)


def describe(exc: BaseException) -> str:
    """A failing target's exception as a short readable error (never raises: an exception the table
    below does not foresee is named by its type and text)."""
    try:
        return _describe(exc)
    except Exception:  # an exception object without the attributes its type promises
        return f"{type(exc).__name__}: {exc}"


def _describe(exc: BaseException) -> str:
    if isinstance(exc, Failed):
        return str(exc)
    if isinstance(exc, aiohttp.ClientConnectorCertificateError) or isinstance(exc, ssl.SSLCertVerificationError):
        cert_error = getattr(exc, "certificate_error", exc)
        return f"tls: {getattr(cert_error, 'verify_message', None) or cert_error}"
    if isinstance(exc, ssl.SSLError):
        return f"tls: {getattr(exc, 'reason', None) or _ssl_text(exc)}"
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, socket.gaierror):
        return f"dns: cannot resolve {exc.host}: {exc.os_error.strerror}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"connect: {_os_reason(exc.os_error)}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "http: server closed the connection before answering"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"http: response body cut short ({exc})"
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"http: too many redirects ({len(exc.history)})"
    if isinstance(exc, aiohttp.ClientResponseError) and not isinstance(exc, aiohttp.WSServerHandshakeError) \
            and exc.status == 0:  # aiohttp could not parse the answer: not HTTP
        return f"http: not an HTTP answer ({(exc.message or '').splitlines()[0] if exc.message else 'unreadable'})"
    if isinstance(exc, aiohttp.WSServerHandshakeError):  # a ClientResponseError too: test it first
        return f"websocket: handshake refused (HTTP {exc.status}: {exc.message})"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"http: {exc.message or exc}"
    if isinstance(exc, socket.gaierror):
        return f"dns: {exc.strerror}"
    if isinstance(exc, OSError):
        return f"connect: {_os_reason(exc)}"
    return f"{type(exc).__name__}: {exc}"[:300]


def _ssl_text(exc: BaseException) -> str:
    """aiohttp's TLS connector errors wrap the ssl error: its own text, without the connection key."""
    inner = getattr(exc, "os_error", None) or getattr(exc, "__cause__", None)
    return getattr(inner, "reason", None) or str(inner or exc)


def _failed(cfg: Probe) -> bool | None:
    """What a transport failure means: down for a target, unknown for a status feed (SLA-SPEC §3:
    a third party that cannot be read is not down)."""
    return None if cfg.kind in FEED_KINDS else False


def _os_reason(error: OSError) -> str:
    """"Connection refused" rather than asyncio's "Connect call failed ('127.0.0.1', 80)"."""
    return os.strerror(error.errno) if error.errno else str(error)


async def attempt(cfg: Probe, ctx: ProbeContext) -> Outcome:
    """One attempt of the check under the probe's timeout."""
    try:
        async with asyncio.timeout(cfg.timeout / 1000):
            return await CHECKS[cfg.kind](cfg, ctx)
    except Unknown as exc:
        return Outcome(ok=None, error=str(exc))
    except TimeoutError:
        return Outcome(ok=_failed(cfg), error=f"timeout after {cfg.timeout / 1000:g} s")
    except Failed as exc:
        return Outcome(ok=_failed(cfg), error=str(exc), fault=exc.fault)
    except TARGET_ERRORS as exc:
        return Outcome(ok=_failed(cfg), error=describe(exc), fault=own_fault(exc))


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
