"""The config file's shape. Unknown keys are errors; every default lives here."""
from __future__ import annotations

import datetime as dt
import ipaddress
from decimal import Decimal
from typing import Iterator, Literal

from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

from ..checks import Probe
from ..destinations import Destination
from ..values import SECRET, Currency, DurationMs, ExactDecimal, Name


class _Strict(BaseModel):
    # Attribute docstrings are the fields' descriptions: docs/config.md is generated from them.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class CreditTier(_Strict):
    below_percent: ExactDecimal
    """Availability below this percentage earns the tier."""
    credit_percent: int = Field(ge=0, le=100)
    """The credit, in percent of the region's monthly fee."""


class PolicyConfig(_Strict):
    """The accounting's knobs, with the SLA's defaults."""

    target_percent: ExactDecimal = Decimal("99.9")
    """The monthly availability promised per region (99.9 %)."""
    downtime_threshold_minutes: ExactDecimal = Field(Decimal(15), gt=0)
    """Whole minutes in practice; fractions (to the millisecond) let tests and demos run in seconds."""
    threshold_before_exclusions: bool = False
    """Apply the 15-minute rule to the unavailability before exclusions are taken out (the other reading
    of the rule); false: to what is left after them."""
    stale_after_factor: int = Field(3, ge=1)
    """A sample stands for this many probe intervals; after that, with no newer sample, the time is unknown."""
    quorum: Literal["majority"] | int = "majority"
    """How many vantages must see a probe down: `majority` of those reporting, or a number."""
    flap_merge_seconds: int = Field(0, ge=0)
    """Failed periods separated by at most this many seconds of success are one period."""
    unknown_counts_as: Literal["up", "down"] = "up"
    """How unknown time (no data) inside a failed period is counted."""
    maintenance_notice_hours: int = Field(48, ge=0)
    """Scheduled maintenance announced less than this long before it starts excludes nothing."""
    maintenance_max_hours: int = Field(2, ge=1)
    """Maintenance beyond this length is flagged `overrun`."""
    credit_cap_percent: int = Field(25, ge=0, le=100)
    """The most a region's credits can add up to in a month, in percent of its fee."""
    availability_credits: list[CreditTier] = [
        CreditTier(below_percent=Decimal("99.9"), credit_percent=10),
        CreditTier(below_percent=Decimal("99.0"), credit_percent=15),
        CreditTier(below_percent=Decimal("98.0"), credit_percent=25),
    ]
    """The credit tiers: the lowest `below_percent` the availability falls under gives its `credit_percent`."""
    claim_window_days: int = Field(30, ge=1)
    """A credit must be claimed within this many days after the month ends."""
    confirm_failures: int = Field(2, ge=1)
    """The daemon announces an outage after this many failed samples in a row; accounting still
    starts at the first failed sample."""


class StorageConfig(_Strict):
    path: str = "data/sla-monitor.db"
    """The SQLite file (`--db` overrides it)."""
    url: str | None = Field(None, pattern=r"^(sqlite:///.|postgres(ql)?://)", json_schema_extra=SECRET)
    """The store as a URL instead of `path`: `sqlite:///data/x.db` (relative), `sqlite:////var/lib/x.db`
    (absolute), or a PostgreSQL database that several instances share:
    `postgresql://sla:${SLA_DB_PASSWORD}@db.internal:5432/sla` (any libpq URL; without a password there,
    libpq's ~/.pgpass or `?service=NAME` supply it). Give `path` or `url`, not both (`--db` overrides either)."""

    @model_validator(mode="after")
    def _one_location(self) -> "StorageConfig":
        if self.url is not None and "path" in self.model_fields_set:
            raise ValueError(f"give path or url, not both (path {self.path!r} and a url)")
        return self

    @property
    def location(self) -> str:
        """Where the store is: the URL if given, else the path."""
        return self.url or self.path
    buffer: str = "data/sla-monitor-buffer.db"
    """With a PostgreSQL `url`: the local SQLite file that keeps the samples the database could not take
    (it was away) until it takes them again, in order; they survive a restart. Unused with SQLite."""
    buffer_max_samples: int = Field(5_000_000, ge=1)
    """The most samples the buffer keeps (about 100 bytes each); past it the oldest are dropped and counted."""
    sample_retention_days: int | None = Field(400, ge=1)
    """Raw samples older than this are pruned; state segments are kept for ever. null: keep all."""
    max_window_days: int = Field(31, ge=1, le=3660)
    """A maintenance or exclusion window longer than this is refused unless asked for (--long, "long": true): a
    typo in a date would otherwise exclude months of the SLA."""


class EvidenceConfig(_Strict):
    signing_key: str | None = Field(None, json_schema_extra=SECRET)
    """The Ed25519 key each month's close of the evidence chain is signed with: the path of a PEM file
    (`sla-monitor evidence keygen --output FILE` makes one) or the PEM text itself from the environment
    (`${VAR}`). Without it the chain is kept and checked all the same, and the months are unsigned."""

    @field_validator("signing_key")
    @classmethod
    def _usable(cls, value: str | None) -> str | None:
        if value is not None:
            from ..signing import load  # only when a key is set: cryptography is a probe library

            load(value)  # a SigningKeyError (a ValueError) says what is wrong, never the key
        return value


class TokenConfig(_Strict):
    name: Name
    """Who holds it: the audit trail and the logs name the token by it, never by the token itself."""
    token: str | None = Field(None, min_length=16, json_schema_extra=SECRET)
    """The bearer token, from the environment (`${VAR}`); at least 16 characters."""
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    """Or the token's SHA-256 in hex, so that the config holds no secret: `printf %s "$TOKEN" | sha256sum`."""
    scopes: list[Literal["read", "write:maintenance", "write:records", "admin"]] = Field(min_length=1)
    """What it may do: `read`, `write:maintenance` (maintenance windows), `write:records` (incident
    updates), `admin` (everything)."""

    @model_validator(mode="after")
    def _one_secret(self) -> TokenConfig:
        if (self.token is None) == (self.sha256 is None):
            raise ValueError("give exactly one of token (from ${VAR}) or sha256")
        return self


class UserConfig(_Strict):
    name: Name
    """The user name a browser sends (HTTP basic auth)."""
    # Never echoed, like a secret: a hash can be attacked offline, and a password pasted here by mistake
    # must not land in an error message.
    password_bcrypt: str = Field(pattern=r"^\$2[aby]?\$\d\d\$[./A-Za-z0-9]{53}$", json_schema_extra=SECRET)
    """The password's bcrypt hash, never the password: `htpasswd -nbB NAME PASSWORD` (after the colon)."""


class TrustedProxyConfig(_Strict):
    header: str = Field(min_length=1, pattern=r"^[A-Za-z0-9-]+$")
    """The header an authenticating proxy (oauth2-proxy) sets to the signed-in user, e.g. `X-Forwarded-User`."""
    from_: list[ipaddress.IPv4Network | ipaddress.IPv6Network] = Field(alias="from", min_length=1)
    """The proxy's addresses (CIDRs); the header from anywhere else is ignored."""


class RateLimitConfig(_Strict):
    per_minute: int = Field(1200, ge=1, le=1_000_000)
    """Requests a minute one client address may make without credentials, on average."""
    burst: int = Field(300, ge=1, le=1_000_000)
    """Requests it may make at once before the limit applies."""


class WebConfig(_Strict):
    listen: str = Field("127.0.0.1:9465", pattern=r"^[^\s]+:(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]?\d{1,4})$")
    """HOST:PORT the daemon serves on (`run --listen` overrides it)."""
    api_token: str | None = Field(None, json_schema_extra=SECRET)
    """A bearer token with every scope (`admin`), named `api_token` in the audit trail; `tokens` for scoped
    ones. Without either, the API's writes are refused. Use ${VAR}."""
    tokens: list[TokenConfig] = []
    """Bearer tokens, each with a name and the scopes it may use (writes need a token)."""
    public: bool = True
    """`false`: every page, feed, badge, API answer and /metrics needs a `read` token, a `users` password
    or the `trusted_proxy`'s header (only /healthz and /readyz stay open)."""
    users: list[UserConfig] = []
    """People who may read a private page with a password (HTTP basic auth)."""
    trusted_proxy: TrustedProxyConfig | None = None
    """An authenticating proxy in front (single sign-on): its header names the user."""
    rate_limit: RateLimitConfig | None = RateLimitConfig()
    """Requests without a bearer token (or the trusted proxy's header) are limited per client address:
    beyond it a 429 with Retry-After. Behind a plain reverse proxy every client has the proxy's address:
    limit there instead, and set `rate_limit: null`."""

    @model_validator(mode="after")
    def _readers(self) -> WebConfig:
        if not self.public and not (self.users or self.trusted_proxy or any(
                {"read", "admin"} & set(t.scopes) for t in self.tokens) or self.api_token):
            raise ValueError("public: false with nobody who may read: add users, a trusted_proxy, or a token with "
                             "the scope read")
        return self

    @model_validator(mode="after")
    def _names_once(self) -> WebConfig:
        names = [t.name for t in self.tokens] + (["api_token"] if self.api_token else [])
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"token name {twice[0]!r} is used twice (the audit trail names a token by it; "
                             "`api_token` is web.api_token's)")
        return self
    title: str | None = None
    """Status page title (default: the service name)."""
    idle_timeout: DurationMs = 10_000
    """A connection idle this long is closed (idle clients cannot hoard sockets)."""
    public_url: str | None = Field(None, pattern=r"^https?://\S+$")
    """Where people reach this monitor (the status page, /runbooks); alerts link to its /runbooks page.
    Default: `http://` and the address it listens on; set it when that is not what people's browsers reach."""


class DaemonConfig(_Strict):
    max_connections: int = Field(200, ge=1)
    """Most connections open at once, per HTTP settings group (fresh or keep-alive)."""
    flush_interval: DurationMs = 1_000
    """Probe samples reach the store within this."""
    refresh_interval: DurationMs = 15_000
    """Month-to-date figures are recomputed this often."""
    shutdown_grace: DurationMs = 15_000
    """In-flight probes get this long after SIGTERM."""
    probe_process: bool = True
    """Probe in a process of its own, out of the engine's way (false: one process)."""
    mode: Literal["probe", "aggregate", "vantage"] = "probe"
    """`probe`: run the configured probes and alert on what this vantage sees. `aggregate`: probe nothing;
    read every vantage's results (from `source.prometheus`, or with `source.store` from the shared
    database they write into) and compute the quorum's figures, gauges, alerts and pages from them.
    `vantage`: one of several vantages writing into one PostgreSQL database (`storage.url`): run the
    configured probes and store their samples there, and alert on nothing (the database's aggregator
    alerts on the quorum)."""

    @property
    def alerting(self) -> bool:
        """Whether this daemon records and delivers events: all but a vantage, whose database's
        aggregator alerts on the quorum."""
        return self.mode != "vantage"


class RouteConfig(_Strict):
    destination: Name
    """The `name` of a destination in `hooks.destinations`."""
    events: list[str] = ["*"]
    """Event types, with shell-style wildcards: `outage.*`, `budget.consumed`."""
    regions: list[Name] = []
    """Only these regions' events (empty: every region, and events without one)."""
    severities: list[Literal["critical", "warning", "info"]] = []
    """Only these severities (empty: all)."""


class HooksConfig(_Strict):
    destinations: list[Destination] = []
    """Where alerts go: one entry per receiver, its settings chosen by `type` (webhook, slack, pagerduty, alertmanager)."""
    routes: list[RouteConfig] = []
    """Which events go to which destination; an event matching no route goes nowhere."""
    budget_thresholds: list[int] = [50, 75, 90, 100]
    """`budget.consumed` fires as the month's error budget used passes each of these percentages."""
    at_risk_minutes: int = Field(30, ge=1)
    """`budget.at_risk` fires when an open outage lasting this much longer would exhaust the budget."""


class ScheduleConfig(_Strict):
    """A document mailed by itself each month (``schedules``)."""

    name: Name
    """The schedule's name, as `schedules list` shows it."""
    send: Literal["report", "claim"]
    """`report`: the previous month's report (PDF attached, key figures in the body). `claim`: when the
    previous month closed with a service credit, the drafted claim (PDF) to your own contact, to check
    and send on to the vendor yourself; then reminders before the claim deadline until
    `claim mark-sent --month M` records that it was sent."""
    day: int = Field(1, ge=1, le=28)
    """The day of the month it is sent, in the config's `timezone` (1–28: every month has it)."""
    at: str = Field("08:00", pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
    """The local time of day it is sent (HH:MM)."""
    to: Name
    """The `email` destination (hooks.destinations[].name) it is mailed to."""
    remind_days_before_deadline: list[int] = [7, 2]
    """With `send: claim`: a reminder this many days before the claim deadline, each, until it is marked sent."""

    @property
    def minute_of_day(self) -> int:
        """``at`` as minutes after local midnight."""
        hours, minutes = self.at.split(":")
        return int(hours) * 60 + int(minutes)


class ComponentConfig(_Strict):
    name: Name
    """The component's name, unique in its region."""
    critical: bool = True
    """A critical component down makes its region unavailable; a non-critical one is reported only."""
    probes: list[Probe] = Field(min_length=1)
    """The probes that tell whether this component works (settings per `kind`)."""


class RegionConfig(_Strict):
    name: Name
    """The region's name, as reports and metrics label it."""
    environment: Literal["production", "non-production"] = "production"
    """Only production regions have an SLA figure that pages and earns credits."""
    support_plan: Literal["premium", "standard"] | None = None
    """This region's plan, if not the top-level `support_plan`."""
    monthly_fee: ExactDecimal | None = Field(None, ge=0)
    """The region's monthly fee, for the credit's amount (write it as a string: "4100.00")."""
    currency: Currency | None = None
    """ISO 4217 code of the fee (EUR, USD)."""
    depends_on: list[Name] = []
    """Names of the third parties (`third_parties[].name`) whose outages are excluded for this region."""
    components: list[ComponentConfig] = Field(min_length=1)
    """The parts of the Service in this region, each with its probes."""


class ThirdPartyConfig(_Strict):
    name: Name
    """The name regions' `depends_on` and exclusions use."""
    provider: str = Field(min_length=1)
    """Its name as reports show it (Genesys Cloud, Microsoft Azure, Vonage)."""
    status_page: str | None = None
    """Its status page, for people reading the report (feeds to read are probes)."""
    probes: list[Probe] = []
    """Probes or status feeds (statuspage, rss) that tell when it is down."""


class VantageHealthConfig(_Strict):
    """Control targets that tell the monitor's own network outage from the Service's.

    Pick targets that share nothing with the Service but this host's network: a public resolver's
    TCP port, a well-known site, the default gateway. At least one should use a host name through
    the system resolver, so that a failing resolver is noticed too."""

    probes: list[Probe] = []
    """Control targets, any probe kind. None: only the monitor's own errors (a local socket or resolver
    fault) are unknown."""
    min_ok: int = Field(1, ge=1)
    """The vantage is healthy while at least this many control probes succeed."""
    interval: DurationMs = 30_000
    """A round every interval, and one after any failed target sample."""


class BasicAuth(_Strict):
    username: str = Field(min_length=1)
    """The user name."""
    password: str
    """The password; use ${VAR}."""


class PrometheusSource(_Strict):
    """Where `import --from-prometheus` (and an aggregator) reads probe results: any Prometheus HTTP API
    (Prometheus, Thanos, Mimir, VictoriaMetrics). Secrets through ${VAR}."""

    url: str | None = Field(None, pattern=r"^https?://\S+$")
    """The HTTP API's base URL (`http://prometheus:9090`); `import --from-prometheus URL` overrides it."""
    bearer_token: str | None = None
    """Sent as `Authorization: Bearer …`; use ${VAR}."""
    basic_auth: BasicAuth | None = None
    """HTTP basic authentication (`username`, `password`)."""
    headers: dict[str, str] = {}
    """Extra request headers (a tenant id for Mimir, say); values may use ${VAR}."""
    timeout: DurationMs = 60_000
    """A request that takes longer fails (and is retried)."""
    chunk: DurationMs = 3_600_000
    """Each query reads this much time (1 h): 5,000 series at 60 s are 300 k points."""
    concurrency: int = Field(4, ge=1, le=64)
    """Most queries in flight at once."""
    poll: DurationMs = 15_000
    """An aggregator reads what is new this often."""
    lookback: DurationMs = 300_000
    """An aggregator starting reads this far back (later: from where it left off)."""
    retries: int = Field(4, ge=0, le=20)
    """Per query, with exponential backoff, on errors worth retrying."""
    match: str | None = Field(None, pattern=r"^([a-zA-Z_:][a-zA-Z0-9_:]*)?(\{.*\})?$")
    """Which series to read, as a selector: {job="blackbox"}, or probe_success{env="prod"} (default: all of
    success_metric). `import --match` overrides it."""
    probe_labels: list[str] = Field(["probe", "instance"], min_length=1)
    """The labels that name the probe, the first a series has wins. The defaults fit this monitor's own
    series (probe) and blackbox_exporter's (instance): an `instance` that is a probe's target (its URL,
    host:port or DNS name) maps to that probe."""
    vantage_labels: list[str] = Field(["vantage", "job"], min_length=1)
    """The labels that name the vantage, the first a series has wins (this monitor's `vantage`, or
    blackbox_exporter's `job`)."""
    success_metric: str = Field("probe_success", pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    """1 when a probe passed, 0 when it failed."""
    duration_metric: str = Field("probe_duration_seconds", pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    """A probe's latency in seconds."""
    health_metric: str = Field("monitor_vantage_healthy", pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    """0 while a vantage says its own network is down: its samples are then unknown."""

    @model_validator(mode="after")
    def _one_auth(self) -> "PrometheusSource":
        if self.bearer_token is not None and self.basic_auth is not None:
            raise ValueError("give bearer_token or basic_auth, not both")
        return self


class StoreSource(_Strict):
    """An aggregator reading the samples that `daemon.mode: vantage` daemons write into the shared
    PostgreSQL database (`storage.url`)."""

    poll: DurationMs = 2_000
    """How often it reads what is new."""
    settle: DurationMs = 15_000
    """A sample is read once it is this old: time for its vantage to take it and commit it (the probe's
    timeout plus `daemon.flush_interval`, with room). A sample that arrives later (from a vantage's
    buffer, after the database was away) counts in the figures and reports, not in the live alerts."""


class SourceConfig(_Strict):
    prometheus: PrometheusSource = PrometheusSource()
    """A Prometheus-compatible HTTP API holding probe results."""
    store: StoreSource | None = None
    """With `daemon.mode: aggregate`: read the vantages' samples from the shared database instead of
    Prometheus (`source: {store: {}}` for the defaults)."""


class Party(_Strict):
    """One side of the contract as a claim letter names it."""

    name: str = Field(min_length=1)
    """The party's legal name."""
    address: str | None = None
    """Postal address; several lines allowed (a YAML block)."""
    contact: str | None = None
    """The person who handles the claim."""
    email: str | None = None
    """E-mail address for the claim."""
    phone: str | None = None
    """Telephone number for the claim."""


class ContractConfig(_Strict):
    """The agreement a service credit claim (``sla-monitor claim``) cites, and its parties."""

    reference: str = Field(min_length=1)
    """The contract or order number."""
    agreement: str = "Service Level Agreement"
    """The SLA document's name as the contract cites it."""
    customer: Party
    """You: the party claiming the credit."""
    provider: Party
    """The vendor who owes the credit."""


class TicketColumns(_Strict):
    """Where a CSV ticket export keeps each thing (the names in its header row)."""

    ticket: str = Field(min_length=1)
    """The ticket's id; a re-import updates the incident of a ticket seen before."""
    opened: str = Field(min_length=1)
    """When the ticket was received and classified: response and resolution run from it."""
    priority: str = Field(min_length=1)
    """The priority, mapped to a severity by `priorities`."""
    resolved: list[str] = []
    """When it was resolved: the first of these columns with a value (empty: still open)."""
    title: str | None = None
    """A title for reports."""
    responded: str | None = None
    """The time of the vendor's first response."""
    responded_after_minutes: str | None = None
    """Or the first response's delay after `opened`, in whole minutes."""
    updates: str | None = None
    """The vendor's status updates: times separated by `;` or new lines (see `updates_style`)."""
    region: str | None = None
    """The region's name (as in `regions`); without it, `incident import --region` names one for the file."""


class TicketExportConfig(_Strict):
    """A ticket export other than the built-in presets (zendesk, jsm, servicenow, freshdesk):
    `incident import FILE --preset NAME` reads it by this description."""

    name: Name
    """The name `--preset` takes; ticket ids are stored as NAME:ID."""
    columns: TicketColumns
    """Its columns."""
    priorities: dict[str, Literal["P1", "P2", "P3", "P4"]] = Field(min_length=1)
    """Each priority as the export writes it (any case) → the contract's severity; P1 and P2 count for
    the resolution credit."""
    time_formats: list[str] = Field(["ISO 8601"], min_length=1)
    """How its times are written: `ISO 8601`, or `strptime` forms such as `%d.%m.%Y %H:%M`, tried in order."""
    timezone: str | None = None
    """The zone of times written without an offset (`incident import --timezone` overrides it)."""
    updates_style: Literal["times", "jira", "servicenow"] = "times"
    """`times` (a list of times), `jira` (one column per comment, `DATE;AUTHOR;TEXT`) or `servicenow` (a
    journal); with the last two the first entry is the first response."""

    @field_validator("time_formats")
    @classmethod
    def _forms(cls, value: list[str]) -> list[str]:
        for form in value:
            if form != "ISO 8601" and "%" not in form:
                raise ValueError(f"{form!r} is neither 'ISO 8601' nor a strptime form (such as '%Y-%m-%d %H:%M')")
        return value


class VendorStatusConfig(_Strict):
    """The vendor's own status page (an Atlassian Statuspage, or an RSS/Atom feed), read to confront what it posts with what
    we observe: never an exclusion."""

    kind: Literal["statuspage", "feed"] = "statuspage"
    """`statuspage` (an Atlassian Statuspage: incidents with their impact and span) or `feed` (an RSS 2.0
    or Atom feed: each item a post at its publication)."""
    url: str = Field(pattern=r"^https?://\S+$")
    """A Statuspage's base URL (its `/api/v2/incidents.json` is read), e.g. https://status.trueengage.example;
    or the feed's URL."""
    components: dict[str, str] = Field(min_length=1)
    """Each of the page's components (name or id; in a feed, a name its items mention, any case) that
    stands for one of our regions → that region."""
    interval: DurationMs = 60_000
    """How often the page is read."""
    timeout: DurationMs = 10_000
    """A read slower than this fails (and is tried again at the next interval)."""
    verify_tls: bool = True
    """Check the server's certificate."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA)."""


class Config(_Strict):
    # What a command that sends nothing left unchecked of the hooks section (its unset ${VAR}s).
    _unchecked_hooks: tuple[str, ...] = PrivateAttr(default=())

    service: str = Field(min_length=1)
    """The Service's name, shown in reports and on the status page."""
    timezone: str = "UTC"
    """IANA time zone; calendar months (and business days) are local to it."""
    support_plan: Literal["premium", "standard"] = "premium"
    """`premium` earns credits; a region may override it."""
    vantage: Name = "local"
    """This instance's name: the `vantage` label of its samples and metrics."""
    vantages: list[Name] = ["local"]
    """Every vantage that may report samples; the quorum is taken among them."""
    holidays: list[dt.date] = []
    """Local dates that are not business days (P3 incident targets)."""
    policy: PolicyConfig = PolicyConfig()
    """The accounting's knobs; the defaults are the SLA's."""
    storage: StorageConfig = StorageConfig()
    """The store."""
    web: WebConfig = WebConfig()
    """The daemon's HTTP side: metrics, API, status page."""
    hooks: HooksConfig = HooksConfig()
    """Alert destinations and routes."""
    daemon: DaemonConfig = DaemonConfig()
    """The daemon's knobs."""
    vantage_health: VantageHealthConfig = VantageHealthConfig()
    """This vantage's control targets: when they fail too, failures are the monitor's own (unknown), not the Service's."""
    third_parties: list[ThirdPartyConfig] = []
    """Services the SLA excludes (Genesys Cloud, Azure, Vonage), each with the probes or status feeds that
    tell when it is down."""
    regions: list[RegionConfig] = Field(min_length=1)
    """The regional deployments the SLA covers, each accounted on its own."""
    contract: ContractConfig | None = None
    """Needed by `claim` only."""
    schedules: list[ScheduleConfig] = []
    """Documents the daemon mails by itself each month: the report, the claim and its reminders."""
    source: SourceConfig = SourceConfig()
    """Where samples come from besides this monitor's own probes."""
    evidence: EvidenceConfig = EvidenceConfig()
    """The tamper-evident record: how its monthly closes are signed."""
    ticket_exports: list[TicketExportConfig] = []
    """Ticket exports `incident import` reads besides the built-in presets."""
    vendor_status: VendorStatusConfig | None = None
    """The vendor's own status page: its posted incidents beside our outages in the report, the claim,
    the status page and the API (posting lag, outages never posted)."""

    @property
    def unchecked_hooks(self) -> tuple[str, ...]:
        """The unset ``${VAR}``s for which a command that sends nothing left the hooks section out."""
        return self._unchecked_hooks

    def all_probes(self) -> Iterator[tuple[Probe, str | None, str]]:
        """Every probe with the region/component or third party it belongs to."""
        for region in self.regions:
            for component in region.components:
                for probe in component.probes:
                    yield probe, region.name, component.name
        for third in self.third_parties:
            for probe in third.probes:
                yield probe, None, third.name
