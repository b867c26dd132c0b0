"""What the daemon and its probe process tell each other (``live.probe_process``): plain, picklable
values, in a module of their own so that the daemon's side loads none of the probes."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

from .state import Conditions, Progress

if TYPE_CHECKING:
    from ..config import Config
    from ..config.models import VantageHealthConfig

NO_CONTROLS = "no control targets configured"


@dataclass(frozen=True)
class ProbeStart:
    """The first message to the probe process: what it probes, where it writes, what its events say."""

    cfg: Config
    db_path: str
    public_url: str
    month: Mapping[str, dict]


@dataclass(frozen=True)
class VantageStatus:
    """The vantage's health as the engine side sees it (the probe side reports it with each batch)."""

    vantage: str
    healthy: bool
    degraded_since_ms: int | None
    detail: str | None  # the latest round's verdict in words; None before a first round


def before_first_round(cfg: VantageHealthConfig, vantage: str) -> VantageStatus:
    """What is known of the vantage before the probe side reports: healthy, and whether it has controls."""
    return VantageStatus(vantage, True, None, None if cfg.probes else NO_CONTROLS)


@dataclass(frozen=True)
class ProbeStatus:
    """The probe side's health, as ``/readyz`` and the daemon's own gauges show it."""

    running: bool  # the scheduler runs (False in the last report, sent once everything probed is flushed)
    written: int  # samples committed since the probe side started
    pending: int  # samples probed, not yet committed
    last_error: str | None  # why the last write failed; None once the store takes writes
    skipped: Mapping[str, int]
    vantage: VantageStatus
    source_error: str | None = None  # an aggregator: why its Prometheus cannot be read now


@dataclass(frozen=True)
class LiveUpdate:
    """The live state the committed samples left: the probes whose progress changed since the previous
    update, and the conditions (None: unchanged, nothing was committed)."""

    progress: Mapping[str, Progress]
    conditions: Conditions | None


@dataclass(frozen=True)
class ProbeReport:
    """What the probe side hands the engine side after a flush: nothing in it is uncommitted."""

    live: LiveUpdate  # the state the samples committed since the previous report left
    drift_s: list[float]  # schedule drift of the probes run since the previous report
    events_committed: int  # events recorded in the outbox with them (the deliverer has work)
    status: ProbeStatus
