"""The context probes run in (``ProbeContext``: the ``checks.base.Resources`` a check is given) and when
a probe's request left. The kinds and their contract are ``monitor/checks/``; the outcome of an attempt
and the sample a probe produces are re-exported here."""
from __future__ import annotations

import contextvars
import ssl
from dataclasses import dataclass, field
from typing import Any

import aiohttp

from ..checks.base import Failed, Outcome, Unknown
from ..clock import Clock
from ..samples import Sample

__all__ = ["Failed", "Outcome", "ProbeContext", "REQUEST_SENT", "Sample", "Unknown", "mark_sent"]

# When the probe running in this task sent its first request (epoch ms), for the schedule drift: the
# scheduler sets an empty list, the first send appends to it. The HTTP connector marks the moment it
# hands over a connection (aiohttp writes the request to it at once); for other kinds the runner marks
# the first attempt's start.
REQUEST_SENT: contextvars.ContextVar[list[int] | None] = contextvars.ContextVar("request_sent", default=None)


def mark_sent(now_ms: int) -> None:
    """Record ``now_ms`` as this task's request send time, unless one is recorded already."""
    sent = REQUEST_SENT.get()
    if sent is not None and not sent:
        sent.append(now_ms)


class SendTimingConnector(aiohttp.TCPConnector):
    """aiohttp's connector, marking the request's send time (``mark_sent``) when it hands over the
    connection. A trace config would too, but costs every request a dozen signal calls."""

    def __init__(self, clock: Clock, **kwargs: Any):
        super().__init__(**kwargs)
        self._clock = clock

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:  # aiohttp's own, untyped
        connection = await super().connect(req, traces, timeout)
        mark_sent(self._clock.now_ms())
        return connection


@dataclass
class ProbeContext:
    """Shared, injected resources: the clock samples are stamped with, HTTP sessions by settings group
    and TLS contexts."""

    clock: Clock
    max_connections: int = 200
    # Targets' logs tell the monitor's vantages apart by it (and the simulated fleet can refuse one).
    user_agent: str = "sla-monitor"
    _sessions: dict[bool, aiohttp.ClientSession] = field(default_factory=dict)
    _ssl: dict[tuple[bool, str | None], ssl.SSLContext] = field(default_factory=dict)

    def session(self, keepalive: bool) -> aiohttp.ClientSession:
        """One session per settings group, each with a bounded connector; fresh connections unless keep-alive."""
        if keepalive not in self._sessions:
            connector = SendTimingConnector(self.clock, limit=self.max_connections, force_close=not keepalive,
                                            use_dns_cache=keepalive)
            # Timeouts are the runner's (asyncio.timeout per attempt); no session-level default to fight it.
            self._sessions[keepalive] = aiohttp.ClientSession(
                connector=connector, timeout=aiohttp.ClientTimeout(total=None), auto_decompress=True,
                headers={"User-Agent": self.user_agent})
        return self._sessions[keepalive]

    def ssl_context(self, verify: bool, ca_file: str | None = None) -> ssl.SSLContext:
        """A cached client TLS context: verifying (system store plus ``ca_file``) or not."""
        key = (verify, ca_file)
        if key not in self._ssl:
            context = ssl.create_default_context(cafile=ca_file) if verify else ssl.create_default_context()
            if not verify:
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            elif ca_file is not None:
                context.load_default_certs()
            self._ssl[key] = context
        return self._ssl[key]

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()
