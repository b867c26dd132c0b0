"""DNS probe: the name resolves (through the system's resolvers or one ``server``), optionally to
the expected addresses."""
from __future__ import annotations

import dns.asyncresolver
import dns.exception
import dns.resolver

from ..config.probes import DnsProbe
from .base import Failed, Outcome, ProbeContext
from .faults import LOCAL, RESOLVER


def _resolver(server: str | None) -> dns.asyncresolver.Resolver:
    if server is None:
        return dns.asyncresolver.Resolver()
    if server.startswith("["):  # [::1] or [::1]:5353
        host, _, rest = server[1:].partition("]")
        port = rest.removeprefix(":")
    else:  # 192.0.2.1 or 192.0.2.1:5353 (the config's pattern allows no other colon)
        host, _, port = server.partition(":")
    resolver = dns.asyncresolver.Resolver(configure=False)
    resolver.nameservers = [host]
    resolver.port = int(port) if port else 53
    return resolver


async def check(cfg: DnsProbe, ctx: ProbeContext) -> Outcome:
    """Resolve ``name``; every expected address must be among the answers."""
    try:
        answer = await _resolver(cfg.server).resolve(cfg.name, cfg.record_type, lifetime=cfg.timeout / 1000,
                                                     search=False)
    except dns.resolver.NXDOMAIN:
        raise Failed(f"dns: {cfg.name} does not exist (NXDOMAIN)") from None
    except dns.resolver.NoAnswer:
        raise Failed(f"dns: {cfg.name} has no {cfg.record_type} records") from None
    except dns.resolver.NoResolverConfiguration:
        raise Failed("dns: this host has no resolver configured", fault=LOCAL) from None
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        # Through the system resolvers, silence is the monitor's resolver until a control lookup says otherwise.
        what = "no answer in time" if isinstance(exc, dns.exception.Timeout) else "every nameserver failed"
        raise Failed(f"dns: {what} from {cfg.server or 'the system resolvers'}",
                     fault=None if cfg.server else RESOLVER) from None
    except dns.exception.DNSException as exc:
        raise Failed(f"dns: {exc}") from None
    found = {record.to_text().rstrip(".") for record in answer}
    missing = [a for a in cfg.expect_addresses if a.rstrip(".") not in found]
    if missing:
        return Outcome(ok=False, error=f"dns: {cfg.name} resolved to {', '.join(sorted(found))}, "
                                       f"missing {', '.join(missing)}")
    return Outcome(ok=True)
