"""DNS probe: the name resolves (through the system's resolvers or one ``server``), optionally to
the expected addresses."""
from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from .base import LOCAL, RESOLVER, Failed, Outcome, ProbeSettings, Resources

if TYPE_CHECKING:  # dnspython is imported where a lookup is made: loading the config needs none of it
    import dns.asyncresolver


def _resolver(server: str | None) -> dns.asyncresolver.Resolver:
    import dns.asyncresolver

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


async def attempt(cfg: DnsProbe, ctx: Resources) -> Outcome:
    """Resolve ``name``; every expected address must be among the answers."""
    import dns.exception
    import dns.resolver

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


class DnsProbe(ProbeSettings):
    kind: Literal["dns"]
    """A DNS lookup."""
    name: str = Field(min_length=1)
    """The name to resolve."""
    record_type: Literal["A", "AAAA", "CNAME", "TXT", "MX", "NS"] = "A"
    """The record type."""
    server: str | None = Field(None, pattern=r"^[^\s:]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$")
    """Resolver to ask, HOST[:PORT] (default: the system's)."""
    expect_addresses: list[str] = []
    """Answers that must be among the records (empty: any answer)."""

    async def check(self, ctx: Resources) -> Outcome:
        return await attempt(self, ctx)

    def uses_system_resolver(self) -> bool:
        return self.server is None

    def target_errors(self) -> tuple[type[BaseException], ...]:
        import dns.exception

        return (dns.exception.DNSException,)
