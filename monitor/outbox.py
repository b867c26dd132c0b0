"""The alert outbox's operations (``OutboxStore``): what the delivery worker, the daemon and the
commands ask of it. Below hooks and storage: every store implements it (as part of
``storage.interface.Storage``), and the worker is written against it without knowing the store."""
from __future__ import annotations

from typing import Callable, Concatenate, ParamSpec, Protocol, Sequence, TypeVar

from .event import Event

# An event with the destinations its routes chose (hooks.events.routed).
Routed = tuple[Event, Sequence[str]]
# Per destination, its due deliveries in event order: (event seq, event, attempts so far).
DueDeliveries = dict[str, list[tuple[int, Event, int]]]


P = ParamSpec("P")
T = TypeVar("T")


class OutboxStore(Protocol):
    def record_events(self, routed: Sequence[Routed]) -> int:
        """Record new events with a pending delivery per destination; returns how many were new."""
        ...

    def due_deliveries(self, now_ms: int) -> DueDeliveries:
        """Per destination, its due deliveries in order, up to the first one not due yet."""
        ...

    def claim_delivery(self, seq: int, destination: str, now_ms: int, until_ms: int, by: str) -> bool:
        """Take a due delivery for one attempt, until ``until_ms``, for instance ``by``: whether it got
        it. Instances that share a store attempt each delivery one at a time; one that dies holding a
        claim leaves it to the others when the claim runs out."""
        ...

    def release_claims(self, by: str, now_ms: int) -> int:
        """Let go of the claims instance ``by`` holds (it restarted: it sends none of them now), so
        that they are due at once; returns how many."""
        ...

    def mark_delivery(self, seq: int, destination: str, status: str, attempts: int, next_attempt_ms: int,
                      error: str | None, now_ms: int) -> None:
        """Record an attempt's outcome: delivered, failed, or pending until ``next_attempt_ms``."""
        ...

    def expire_deliveries(self, destination: str, before_ms: int, now_ms: int) -> list[str]:
        """Give up the destination's deliveries of events older than ``before_ms``; returns their ids."""
        ...

    def open_conditions(self) -> list[Event]:
        """The outbox's conditions still open that a restart must pick up (a vantage degraded, a
        certificate near its end): the latest opening event of each, in recording order."""
        ...

    def pending_deliveries(self) -> int:
        """How many deliveries wait."""
        ...

    def event_log(self, limit: int = 200) -> list[dict]:
        """The newest events with each delivery's state, newest first."""
        ...

    def event_log_of(self, ids: Sequence[str]) -> list[dict]:
        """The events of ``ids`` that are recorded, with each delivery's state, as ``event_log`` rows."""
        ...

    def events_of_type(self, event_type: str, since_ms: int) -> list[Event]:
        """The recorded events of ``event_type`` that occurred at or after ``since_ms``, oldest first."""
        ...



class OutboxThread(Protocol):
    """An outbox reached on a thread of its own (the daemon's store thread, ``live.dbthread.DbThread``):
    ``await thread.call(OutboxStore.due_deliveries, now_ms)``."""

    async def call(self, op: Callable[Concatenate[OutboxStore, P], T], *args: P.args, **kwargs: P.kwargs) -> T: ...
