"""Probe settings, one model per kind, chosen by ``kind``."""
from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field

from .types import DurationMs, Name, Regex


class _Strict(BaseModel):
    # Attribute docstrings are the fields' descriptions: docs/config.md is generated from them.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class ProbeBase(_Strict):
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


class HttpProbe(ProbeBase):
    kind: Literal["http"]
    """An HTTP(S) request and checks on its answer."""
    url: str = Field(pattern=r"^https?://\S+$")
    """What to request."""
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    """The request method."""
    headers: dict[str, str] = {}
    """Request headers; values may use ${VAR} (tokens)."""
    body: str | None = None
    """Request body."""
    expect_status: list[Annotated[int, Field(ge=100, le=599)]] = [200]
    """Status codes that pass."""
    body_contains: str | None = None
    """Text the body must contain."""
    body_regex: Regex | None = None
    """A regular expression the body must match (RE2 syntax: linear time, whatever the body)."""
    json_path: str | None = None
    """A dotted path into a JSON body (`status.ok`, `items.0.state`)."""
    json_equals: str | int | float | bool | None = None
    """The value the `json_path` must hold."""
    max_latency: DurationMs | None = None
    """A slower answer fails."""
    verify_tls: bool = True
    """Check the server's certificate."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA); the system store otherwise."""
    follow_redirects: bool = True
    """Follow redirects (to the same scheme or to https)."""
    keepalive: bool = False
    """Reuse connections; by default each probe opens a fresh one, as a user's first visit does."""
    max_body_bytes: int = Field(1_048_576, ge=1)
    """Read at most this much of the body; more fails."""


class TcpProbe(ProbeBase):
    kind: Literal["tcp"]
    """A TCP connection."""
    host: str = Field(min_length=1)
    """Host name or address."""
    port: int = Field(ge=1, le=65535)
    """Port."""


class TlsProbe(ProbeBase):
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


class DnsProbe(ProbeBase):
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


class WebSocketProbe(ProbeBase):
    kind: Literal["websocket"]
    """A WebSocket handshake, optionally a message and its reply."""
    url: str = Field(pattern=r"^wss?://\S+$")
    """ws:// or wss:// URL."""
    headers: dict[str, str] = {}
    """Handshake headers; values may use ${VAR}."""
    send: str | None = None
    """A text message sent after the handshake."""
    expect: str | None = None
    """Text the first reply must contain."""
    verify_tls: bool = True
    """Check the server's certificate."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA)."""


StatuspageStatus = Literal["operational", "degraded_performance", "partial_outage", "major_outage",
                           "under_maintenance"]


class StatuspageProbe(ProbeBase):
    """An Atlassian Statuspage feed: the third party is down while one of ``components`` is down.

    A feed that cannot be read gives no sample: the third party is then unknown, never down."""

    kind: Literal["statuspage"]
    """An Atlassian Statuspage feed."""
    url: str = Field(pattern=r"^https?://\S+$")
    """The page's base URL, e.g. https://status.mypurecloud.com."""
    api: Literal["summary", "components"] = "summary"
    """Read `summary.json`, or `components.json` and `incidents/unresolved.json`."""
    components: list[str] = Field(min_length=1)
    """Names or ids of the components that stand for this third party."""
    down_statuses: list[StatuspageStatus] = ["partial_outage", "major_outage", "under_maintenance"]
    """Component statuses that make the third party down (`under_maintenance` is the provider's maintenance:
    down for attribution)."""
    verify_tls: bool = True
    """Check the server's certificate."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA)."""
    max_body_bytes: int = Field(5_242_880, ge=1)
    """A larger feed fails."""


class RssProbe(ProbeBase):
    """An RSS 2.0 status feed (Azure's): down while an item matching ``match`` is listed and not resolved."""

    kind: Literal["rss"]
    """An RSS 2.0 status feed."""
    url: str = Field(pattern=r"^https?://\S+$")
    """The feed's URL."""
    match: list[Regex] = Field(min_length=1)
    """RE2 regular expressions (case-insensitive) on title + description."""
    resolved_match: Regex = r"\b(resolved|mitigated|mitigation complete|final update)\b"
    """An item matching this (RE2, case-insensitive) is resolved."""
    verify_tls: bool = True
    """Check the server's certificate."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA)."""
    max_body_bytes: int = Field(5_242_880, ge=1)
    """A larger feed fails."""


Probe = Annotated[Union[HttpProbe, TcpProbe, TlsProbe, DnsProbe, WebSocketProbe, StatuspageProbe, RssProbe],
                  Field(discriminator="kind")]
PROBE_MODELS: dict[str, type[ProbeBase]] = {
    "http": HttpProbe, "tcp": TcpProbe, "tls": TlsProbe, "dns": DnsProbe, "websocket": WebSocketProbe,
    "statuspage": StatuspageProbe, "rss": RssProbe}
PROBE_KINDS = tuple(PROBE_MODELS)
