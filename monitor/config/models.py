"""The config file's shape. Unknown keys are errors; every default lives here."""
from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from .destinations import Destination
from .probes import Probe
from .types import Currency, DurationMs, ExactDecimal, Name


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CreditTier(_Strict):
    below_percent: ExactDecimal
    credit_percent: int = Field(ge=0, le=100)


class PolicyConfig(_Strict):
    """SLA-SPEC's ``policy.*`` knobs with the spec's defaults."""

    target_percent: ExactDecimal = Decimal("99.9")
    # Whole minutes in practice; fractions (to the millisecond) let tests and demos run in seconds.
    downtime_threshold_minutes: ExactDecimal = Field(Decimal(15), gt=0)
    threshold_before_exclusions: bool = False
    stale_after_factor: int = Field(3, ge=1)
    quorum: Literal["majority"] | int = "majority"
    flap_merge_seconds: int = Field(0, ge=0)
    unknown_counts_as: Literal["up", "down"] = "up"
    maintenance_notice_hours: int = Field(48, ge=0)
    maintenance_max_hours: int = Field(2, ge=1)
    credit_cap_percent: int = Field(25, ge=0, le=100)
    availability_credits: list[CreditTier] = [
        CreditTier(below_percent=Decimal("99.9"), credit_percent=10),
        CreditTier(below_percent=Decimal("99.0"), credit_percent=15),
        CreditTier(below_percent=Decimal("98.0"), credit_percent=25),
    ]
    claim_window_days: int = Field(30, ge=1)
    # The daemon announces an outage after this many failed samples in a row (issue 3);
    # accounting still starts at the first failed sample.
    confirm_failures: int = Field(2, ge=1)


class StorageConfig(_Strict):
    path: str = "data/sla-monitor.db"
    # Raw samples older than this are pruned; state segments are kept for ever. null: keep all.
    sample_retention_days: int | None = Field(400, ge=1)
    # A maintenance or exclusion window longer than this is refused unless asked for (--long, "long": true):
    # a typo in a date would otherwise exclude months of the SLA.
    max_window_days: int = Field(31, ge=1, le=3660)


class WebConfig(_Strict):
    listen: str = Field("127.0.0.1:9465", pattern=r"^[^\s]+:(6553[0-5]|655[0-2]\d|65[0-4]\d\d|6[0-4]\d{3}|[1-5]?\d{1,4})$")
    # Bearer token for POST/DELETE /api/v1/maintenance; unset: those are refused. Use ${VAR}.
    api_token: str | None = None
    title: str | None = None  # status page title (default: the service name)
    idle_timeout: DurationMs = 10_000  # a connection idle this long is closed (idle clients cannot hoard sockets)
    # Where people reach this monitor (the status page, /runbooks): alerts link to <public_url>/runbooks.
    # Default: http://<the address it listens on>; set it when that is not what people's browsers reach.
    public_url: str | None = Field(None, pattern=r"^https?://\S+$")


class DaemonConfig(_Strict):
    max_connections: int = Field(200, ge=1)  # per HTTP settings group (fresh / keep-alive)
    flush_interval: DurationMs = 1_000  # samples reach the store within this
    refresh_interval: DurationMs = 15_000  # month-to-date figures are recomputed this often
    shutdown_grace: DurationMs = 15_000  # in-flight probes get this long after SIGTERM
    probe_process: bool = True  # probe in a process of its own, out of the engine's way (false: one process)
    # probe: run the configured probes. aggregate: probe nothing; read every vantage's results from
    # source.prometheus and compute the quorum's figures, gauges, alerts and pages from them.
    mode: Literal["probe", "aggregate"] = "probe"


class RouteConfig(_Strict):
    destination: Name
    events: list[str] = ["*"]  # fnmatch patterns: "outage.*", "budget.consumed"
    regions: list[Name] = []  # empty: every region (and events without one)
    severities: list[Literal["critical", "warning", "info"]] = []  # empty: all


class HooksConfig(_Strict):
    destinations: list[Destination] = []
    routes: list[RouteConfig] = []
    budget_thresholds: list[int] = [50, 75, 90, 100]  # percent of the month's error budget consumed
    at_risk_minutes: int = Field(30, ge=1)  # budget.at_risk: an open outage lasting this much longer exhausts it


class ComponentConfig(_Strict):
    name: Name
    critical: bool = True
    probes: list[Probe] = Field(min_length=1)


class RegionConfig(_Strict):
    name: Name
    environment: Literal["production", "non-production"] = "production"
    support_plan: Literal["premium", "standard"] | None = None  # overrides the top-level plan
    monthly_fee: ExactDecimal | None = Field(None, ge=0)
    currency: Currency | None = None
    depends_on: list[Name] = []
    components: list[ComponentConfig] = Field(min_length=1)


class ThirdPartyConfig(_Strict):
    name: Name
    provider: str = Field(min_length=1)
    status_page: str | None = None  # for people reading the report; feeds are probes (issue 4)
    probes: list[Probe] = []


class VantageHealthConfig(_Strict):
    """Control targets that tell the monitor's own network outage from the Service's (issue 9).

    Pick targets that share nothing with the Service but this host's network: a public resolver's
    TCP port, a well-known site, the default gateway. At least one should use a host name through
    the system resolver, so that a failing resolver is noticed too."""

    probes: list[Probe] = []  # no control targets: only the monitor's own errors (probes.faults) are unknown
    min_ok: int = Field(1, ge=1)  # the vantage is healthy while at least this many control probes succeed
    interval: DurationMs = 30_000  # a round every interval, and one after any failed target sample


class BasicAuth(_Strict):
    username: str = Field(min_length=1)
    password: str  # use ${VAR}


class PrometheusSource(_Strict):
    """Where `import --from-prometheus` (and an aggregator) reads probe results: any Prometheus HTTP API
    (Prometheus, Thanos, Mimir, VictoriaMetrics). Secrets through ${VAR}."""

    url: str | None = Field(None, pattern=r"^https?://\S+$")  # `import --from-prometheus URL` overrides it
    bearer_token: str | None = None
    basic_auth: BasicAuth | None = None
    headers: dict[str, str] = {}
    timeout: DurationMs = 60_000  # per request
    chunk: DurationMs = 3_600_000  # each query reads this much time (1 h): 5,000 series at 60 s are 300 k points
    concurrency: int = Field(4, ge=1, le=64)  # queries in flight
    poll: DurationMs = 15_000  # an aggregator reads what is new this often
    lookback: DurationMs = 300_000  # an aggregator starting reads this far back (later: from where it left off)
    retries: int = Field(4, ge=0, le=20)  # per query, with exponential backoff, on errors worth retrying
    # Which label names the probe and which the vantage: the first label a series has wins. The defaults
    # fit this monitor's own series (probe, vantage) and blackbox_exporter's (instance, job); an
    # `instance` that is a probe's target (its URL, host:port or DNS name) maps to that probe.
    # Which series to read, as a selector: {job="blackbox"}, or probe_success{env="prod"} (default: all
    # of success_metric). `import --match` overrides it.
    match: str | None = Field(None, pattern=r"^([a-zA-Z_:][a-zA-Z0-9_:]*)?(\{.*\})?$")
    probe_labels: list[str] = Field(["probe", "instance"], min_length=1)
    vantage_labels: list[str] = Field(["vantage", "job"], min_length=1)
    success_metric: str = Field("probe_success", pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    duration_metric: str = Field("probe_duration_seconds", pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")
    health_metric: str = Field("monitor_vantage_healthy", pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")

    @model_validator(mode="after")
    def _one_auth(self) -> "PrometheusSource":
        if self.bearer_token is not None and self.basic_auth is not None:
            raise ValueError("give bearer_token or basic_auth, not both")
        return self


class SourceConfig(_Strict):
    prometheus: PrometheusSource = PrometheusSource()


class Party(_Strict):
    """One side of the contract as a claim letter names it."""

    name: str = Field(min_length=1)
    address: str | None = None  # several lines allowed (a YAML block)
    contact: str | None = None  # the person who handles the claim
    email: str | None = None
    phone: str | None = None


class ContractConfig(_Strict):
    """The agreement a service credit claim (``sla-monitor claim``) cites, and its parties."""

    reference: str = Field(min_length=1)  # the contract or order number
    agreement: str = "Service Level Agreement"  # the SLA document's name as the contract cites it
    customer: Party
    provider: Party


class Config(_Strict):
    service: str = Field(min_length=1)
    timezone: str = "UTC"
    support_plan: Literal["premium", "standard"] = "premium"
    vantage: Name = "local"
    vantages: list[Name] = ["local"]
    holidays: list[dt.date] = []
    policy: PolicyConfig = PolicyConfig()
    storage: StorageConfig = StorageConfig()
    web: WebConfig = WebConfig()
    hooks: HooksConfig = HooksConfig()
    daemon: DaemonConfig = DaemonConfig()
    vantage_health: VantageHealthConfig = VantageHealthConfig()
    third_parties: list[ThirdPartyConfig] = []
    regions: list[RegionConfig] = Field(min_length=1)
    contract: ContractConfig | None = None  # needed by `claim` only
    source: SourceConfig = SourceConfig()  # where samples come from besides this monitor's own probes

    def all_probes(self):
        """Every probe with the region/component or third party it belongs to."""
        for region in self.regions:
            for component in region.components:
                for probe in component.probes:
                    yield probe, region.name, component.name
        for third in self.third_parties:
            for probe in third.probes:
                yield probe, None, third.name
