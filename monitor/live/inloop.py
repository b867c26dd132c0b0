"""A daemon's source of samples in the daemon's own loop: the probe side (tests; ``daemon.probe_process:
false``) or the aggregator's Prometheus feed. No supervision: it runs while the daemon does."""
from __future__ import annotations

from typing import Mapping, Protocol

from .recorder import Recorder


class Side(Protocol):
    recorder: Recorder  # its events link to the status page and carry the month's figures

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


class InLoop:
    """``side`` started, fed the engine's month context and stopped by the daemon, in its loop."""

    running = True  # it shares the daemon's loop: it runs while the daemon does

    def __init__(self, side: Side):
        self.side = side

    async def start(self, public_url: str, month: Mapping[str, dict]) -> None:
        """Start it; the events it records link to ``public_url`` and carry ``month``'s figures."""
        self.side.recorder.public_url, self.side.recorder.month = public_url, dict(month)
        await self.side.start()

    def set_month(self, month: Mapping[str, dict]) -> None:
        """The engine's latest month-to-date context, for the events recorded from now on."""
        self.side.recorder.month = dict(month)

    def check(self) -> None:
        """Nothing to supervise: it shares the daemon's loop."""

    async def stop(self) -> None:
        """Stop it; everything it took is flushed."""
        await self.side.stop()
