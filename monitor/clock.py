"""Time as a dependency. The composition roots (``app.py``, ``cli.py``) choose a clock and pass it down;
nothing else reads the wall clock, so tests can hold time still or step it."""
from __future__ import annotations

import time
from typing import Protocol


class Clock(Protocol):
    """Where a component reads the current instant."""

    def now_ms(self) -> int:
        """Current time as integer UTC milliseconds."""
        ...


class SystemClock:
    """The wall clock."""

    def now_ms(self) -> int:
        """Current time as integer UTC milliseconds."""
        return time.time_ns() // 1_000_000


class FixedClock:
    """A clock that moves only when told (tests, ``--now``)."""

    def __init__(self, now_ms: int):
        self.now = now_ms

    def now_ms(self) -> int:
        """The instant it was set to."""
        return self.now

    def advance(self, ms: int) -> int:
        """Step time forward by ``ms`` and return the new instant."""
        self.now += ms
        return self.now


class TickingClock:
    """A clock that starts at a chosen instant and then runs at the wall clock's pace (tests of a live
    daemon that assert on its month, whatever today's date is)."""

    def __init__(self, start_ms: int):
        self.start_ms = start_ms
        self._started_ns = time.monotonic_ns()

    def now_ms(self) -> int:
        """The start instant plus the time that has passed since the clock was made."""
        return self.start_ms + (time.monotonic_ns() - self._started_ns) // 1_000_000


SYSTEM = SystemClock()
