"""Probe settings, one model per kind, chosen by ``kind``."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from .types import DurationMs, Name, Regex


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ProbeBase(_Strict):
    id: Name
    interval: DurationMs = 60_000
    timeout: DurationMs = 10_000
    retries: int = Field(0, ge=0, le=10)
    retry_delay: DurationMs = 1_000
    # How long a sample's state holds without a newer one; default policy.stale_after_factor × interval.
    stale_after: DurationMs | None = None


class HttpProbe(ProbeBase):
    kind: Literal["http"]
    url: str = Field(pattern=r"^https?://\S+$")
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    headers: dict[str, str] = {}
    body: str | None = None
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] = [200]
    body_contains: str | None = None
    body_regex: Regex | None = None  # RE2 syntax: linear time, whatever the body
    json_path: str | None = None
    json_equals: str | int | float | bool | None = None
    max_latency: DurationMs | None = None
    verify_tls: bool = True
    ca_file: str | None = None  # extra CA bundle (a private CA); the system store otherwise
    follow_redirects: bool = True
    # A fresh connection per probe by default: a user's first connection is what the SLA is about.
    keepalive: bool = False
    max_body_bytes: int = Field(1_048_576, ge=1)


class TcpProbe(ProbeBase):
    kind: Literal["tcp"]
    host: str = Field(min_length=1)
    port: int = Field(ge=1, le=65535)


class TlsProbe(ProbeBase):
    kind: Literal["tls"]
    host: str = Field(min_length=1)
    port: int = Field(443, ge=1, le=65535)
    server_name: str | None = None
    min_cert_days: int = Field(14, ge=0)
    verify: bool = True
    ca_file: str | None = None


class DnsProbe(ProbeBase):
    kind: Literal["dns"]
    name: str = Field(min_length=1)
    record_type: Literal["A", "AAAA", "CNAME", "TXT", "MX", "NS"] = "A"
    server: str | None = Field(None, pattern=r"^[^\s:]+(:\d{1,5})?$|^\[[0-9a-fA-F:]+\](:\d{1,5})?$")
    expect_addresses: list[str] = []


class WebSocketProbe(ProbeBase):
    kind: Literal["websocket"]
    url: str = Field(pattern=r"^wss?://\S+$")
    headers: dict[str, str] = {}
    send: str | None = None
    expect: str | None = None
    verify_tls: bool = True
    ca_file: str | None = None


StatuspageStatus = Literal["operational", "degraded_performance", "partial_outage", "major_outage",
                           "under_maintenance"]


class StatuspageProbe(ProbeBase):
    """An Atlassian Statuspage feed: the third party is down while one of ``components`` is down.

    A feed that cannot be read gives no sample: the third party is then unknown, never down."""

    kind: Literal["statuspage"]
    url: str = Field(pattern=r"^https?://\S+$")  # the page's base URL, e.g. https://status.mypurecloud.com
    api: Literal["summary", "components"] = "summary"  # summary.json, or components.json + incidents/unresolved.json
    components: list[str] = Field(min_length=1)  # names or ids of the components that stand for this third party
    # under_maintenance is the provider's maintenance: down for attribution.
    down_statuses: list[StatuspageStatus] = ["partial_outage", "major_outage", "under_maintenance"]
    verify_tls: bool = True
    ca_file: str | None = None
    max_body_bytes: int = Field(5_242_880, ge=1)


class RssProbe(ProbeBase):
    """An RSS 2.0 status feed (Azure's): down while an item matching ``match`` is listed and not resolved."""

    kind: Literal["rss"]
    url: str = Field(pattern=r"^https?://\S+$")
    match: list[Regex] = Field(min_length=1)  # RE2 regular expressions (case-insensitive) on title + description
    resolved_match: Regex = r"\b(resolved|mitigated|mitigation complete|final update)\b"
    verify_tls: bool = True
    ca_file: str | None = None
    max_body_bytes: int = Field(5_242_880, ge=1)


Probe = Annotated[Union[HttpProbe, TcpProbe, TlsProbe, DnsProbe, WebSocketProbe, StatuspageProbe, RssProbe],
                  Field(discriminator="kind")]
PROBE_MODELS = {"http": HttpProbe, "tcp": TcpProbe, "tls": TlsProbe, "dns": DnsProbe, "websocket": WebSocketProbe,
                "statuspage": StatuspageProbe, "rss": RssProbe}
PROBE_KINDS = tuple(PROBE_MODELS)
