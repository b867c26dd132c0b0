"""The recorder: the live state, its alert maker and the writer, as one. A feed of samples (the probe
side, the aggregator's Prometheus feed) stores samples and tracks them; each flush commits the samples
with the events their transitions caused, in one transaction, and only then hands the daemon the state
they left (``report``): the daemon shows what is committed, and never recomputes it."""
from __future__ import annotations

from typing import Iterable, Mapping

from ..config import Config
from ..event import Event
from ..hooks.context import with_context
from ..samples import Sample
from ..sla.calendar import parse_iso_ms
from ..storage.spool import Spool
from .alerts import AlertMaker
from .dbthread import DbThread
from .handoff import LiveUpdate, ProbeReport, ProbeStatus
from .state import Conditions, LiveState, Progress, Transition
from .writer import SampleWriter


def certificates_warned(open_conditions: Iterable[Event]) -> dict[str, tuple[int, int]]:
    """Probe → (expiry, since) of each certificate warning still open in the outbox."""
    return {e.data["probe"]: (parse_iso_ms(e.data["expires"]), parse_iso_ms(e.data["start"]))
            for e in open_conditions if e.type == "certificate.expiring"}


class Recorder:
    def __init__(self, cfg: Config, db: DbThread, stale_ms: Mapping[str, int], spool: Spool | None = None):
        self.state = LiveState(cfg, stale_ms)
        self.alerts = AlertMaker(cfg)
        self.alerting = cfg.daemon.alerting  # a vantage writes samples only: its aggregator alerts
        self.writer = SampleWriter(db, stale_ms, cfg.daemon.flush_interval, cfg.hooks.routes, spool=spool)
        self.public_url = ""  # for the links in the events it records
        self.month: dict[str, dict] = {}  # hooks.context.month_context of the engine's latest figures
        self._changed: dict[str, Progress] = {}  # committed since the last hand-off
        self._conditions: Conditions | None = None  # as of the last commit

    def restore(self, history: Mapping[str, list[tuple[int, bool | None]]], vantage: str,
                down_since: Mapping[str, int] | None, open_conditions: Iterable[Event], now_ms: int) -> None:
        """Pick up where the store left off (``LiveState.restore``); what still holds is announced again
        under the ids it had (the outbox takes each once)."""
        self.state.restore(history, vantage, down_since, certificates_warned(open_conditions))
        self.take(self.state.resume(now_ms))

    def store(self, sample: Sample) -> None:
        """A sample to commit with the next flush."""
        self.writer.add(sample)

    def track(self, sample: Sample, now_ms: int) -> None:
        """A sample into the live state; its transitions' events go with the next flush."""
        self.take(self.state.apply((sample,), now_ms))

    def take(self, transitions: Iterable[Transition], more: Iterable[Event] = ()) -> None:
        """The events of ``transitions`` (and ``more``, made elsewhere), with their context, into the next flush."""
        found = self.alerts.announce(transitions) + list(more)
        if found and self.alerting:
            failing = self.state.failing()
            self.writer.add_events(with_context(e, self.public_url, failing, self.month) for e in found)

    async def flush(self) -> bool:
        """Commit what is pending; the state it leaves is handed off once the store took it."""
        changed = self.state.take_progress()
        conditions = self.state.conditions()
        if await self.writer.flush():
            self._changed.update(changed)
            self._conditions = conditions
            return True
        self.state.changed.update(changed)  # handed off with the commit that takes them
        return False

    def report(self, drift_s: list[float], status: ProbeStatus) -> ProbeReport:
        """The hand-off to the daemon: the committed state since the last report (the probes that changed,
        the conditions), how many events were committed, and ``status``."""
        changed, self._changed = self._changed, {}
        conditions, self._conditions = self._conditions, None
        events, self.writer.events_committed = self.writer.events_committed, 0
        return ProbeReport(LiveUpdate(changed, conditions), drift_s, events, status)
