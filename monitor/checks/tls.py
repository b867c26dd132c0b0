"""TLS probe: the handshake succeeds with a valid certificate. Fewer than ``min_cert_days`` left is a
warning on an ``ok`` sample (blackbox_exporter's reading too), not unavailability."""
from __future__ import annotations

import asyncio
import contextlib
import ssl
from typing import Literal

from pydantic import Field

from .base import Outcome, ProbeSettings, Resources

DAY_MS = 86_400_000


def expiry_from_transport(transport: asyncio.BaseTransport | None) -> int | None:
    """The peer certificate's notAfter in UTC ms, read from an open TLS transport (None if not TLS)."""
    ssl_object = transport.get_extra_info("ssl_object") if transport is not None else None
    der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    if not der:
        return None
    # Imported on first use: cryptography costs every process that loads the probes 8 MB of RSS, and
    # only a fleet with tls probes needs it.
    from cryptography import x509

    not_after = x509.load_der_x509_certificate(der).not_valid_after_utc
    return int(not_after.timestamp()) * 1000


async def attempt(cfg: TlsProbe, ctx: Resources) -> Outcome:
    """Handshake (verified unless ``verify: false``), then judge the certificate's remaining days."""
    _, writer = await asyncio.open_connection(
        cfg.host, cfg.port, ssl=ctx.ssl_context(cfg.verify, cfg.ca_file), server_hostname=cfg.server_name or cfg.host)
    try:
        expiry = expiry_from_transport(writer.transport)
    finally:
        writer.close()
        with contextlib.suppress(OSError, ssl.SSLError, asyncio.TimeoutError):
            await asyncio.wait_for(writer.wait_closed(), 1)  # a peer that ignores close_notify must not hang us
    days_left = (expiry - ctx.clock.now_ms()) / DAY_MS if expiry is not None else None
    if days_left is None:
        return Outcome(ok=False, error="tls: no peer certificate")
    if days_left < 0:  # reached only with verify: false (a verifying handshake refuses it first)
        return Outcome(ok=False, error=f"tls: certificate expired {-days_left:.1f} days ago", cert_expiry_ms=expiry)
    if days_left < cfg.min_cert_days:
        # Still valid: users get through, so the target is up. A warning, an alert, never downtime.
        return Outcome(ok=True, cert_expiry_ms=expiry, detail={
            "warning": f"tls: certificate expires in {days_left:.1f} days (min_cert_days {cfg.min_cert_days})"})
    return Outcome(ok=True, cert_expiry_ms=expiry)


class TlsProbe(ProbeSettings):
    kind: Literal["tls"]
    """A TLS handshake and the certificate's validity."""
    host: str = Field(min_length=1)
    """Host name or address."""
    port: int = Field(443, ge=1, le=65535)
    """Port."""
    server_name: str | None = None
    """SNI and the name checked (default: `host`)."""
    min_cert_days: int = Field(14, ge=0)
    """A valid certificate expiring sooner is a warning (never downtime)."""
    verify: bool = True
    """Check the certificate chain and name."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA)."""

    async def check(self, ctx: Resources) -> Outcome:
        return await attempt(self, ctx)

    def target_host(self) -> str | None:
        return self.host
