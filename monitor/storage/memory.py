"""``Storage`` in memory: the second implementation of the interface (tests run the engine and the
daemon's operations on it), and the model of what a new store has to do. Nothing persists.

Segments are folded from all samples on read (the SQLite store keeps them folded as samples arrive;
the result is the same, which ``tests/test_storage.py`` checks). Pruned samples are hidden, not
forgotten, so their segments stay, as they do in SQLite."""
from __future__ import annotations

import contextlib
import copy
import json
import math
import operator
from typing import Any, Iterable, Iterator, Mapping, Sequence, cast

from ..event import Event, still_open
from ..outbox import DueDeliveries, Routed
from ..samples import Sample
from ..sla.calendar import iso
from ..sla.model import Records, Segment, VendorPost
from ..sla.timeline import SegmentMap, fold_segments
from .errors import StoreError, already_cancelled, already_withdrawn, no_such, pruned, resolved_before_opened
from .interface import ExclusionRow, ImportRow, LatencyBucket, MaintenanceRow, StoredSample, TicketFields
from .outbox import EVENT_LOG_KEYS, GIVEN_UP
from .records import is_hand_id, records_of, ticket_columns, vendor_post_row

NO_DELIVERY: dict[str, Any] = dict.fromkeys(("status", "attempts", "last_error", "delivered_at_ms"))


class MemoryStore:
    def __init__(self) -> None:
        self._samples: dict[tuple[str, str], dict[int, Sample]] = {}  # (probe, vantage) → ts → sample
        self._stale_ms: dict[str, int] = {}
        self._pruned_before: int | None = None
        self._tables: dict[str, list[dict]] = {"maintenance": [], "exclusions": [], "incidents": [],
                                                "vendor_reports": []}
        self._overrides: dict[str, dict] = {}
        self._posts: dict[str, dict] = {}
        self._api_requests: dict[tuple[str, str], dict] = {}  # the vendor's status-page incidents by id
        self._events: list[tuple[int, Event]] = []  # (seq, event) in recording order
        self._deliveries: dict[tuple[int, str], dict[str, Any]] = {}  # (seq, destination) → its state

    # -- samples and state segments -------------------------------------------------------------

    def append_samples(self, samples: Sequence[Sample], stale_ms: Mapping[str, int],
                       routed: Sequence[Routed] = ()) -> None:
        """Store samples and the events they caused; nothing changes when a sample is refused."""
        stale = {s.probe: stale_ms[s.probe] for s in samples}  # a KeyError here changes nothing
        if self._pruned_before is not None:
            for s in samples:
                if s.ts_ms < self._pruned_before + stale[s.probe]:
                    raise pruned(iso(self._pruned_before), iso(self._pruned_before + stale[s.probe]))
        self.record_events(routed)
        self._stale_ms.update(stale)
        for s in samples:  # the later of two samples at one instant wins, as in SQLite
            self._samples.setdefault((s.probe, s.vantage), {})[s.ts_ms] = s

    def import_samples(self, rows: Iterable[ImportRow], stale_ms: Mapping[str, int]) -> tuple[int, int]:
        samples = [Sample(probe, vantage, ts, ok, latency, error, cause=cause)
                   for probe, vantage, ts, ok, latency, error, cause in rows]
        self.append_samples(samples, stale_ms)
        return len(samples), len({(s.probe, s.vantage) for s in samples})

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """A snapshot of everything, put back when the block raises."""
        saved = copy.deepcopy(self.__dict__)
        try:
            yield
        except BaseException:
            self.__dict__.update(saved)
            raise

    def segments_between(self, lo: int, hi: int) -> SegmentMap:
        found: dict[tuple[str, str], list[Segment]] = {}
        for key, by_ts in self._samples.items():
            timeline = [(ts, s.ok, s.cause) for ts, s in sorted(by_ts.items())]
            segments = [seg for seg in fold_segments(timeline, self._stale_ms[key[0]])
                        if seg.start_ms < hi and seg.end_ms > lo]
            if segments:
                found[key] = segments
        return found

    def down_samples(self, probes: Sequence[str], lo: int, hi: int) -> list[StoredSample]:
        floor = max(lo, self._pruned_before or lo)
        rows = [StoredSample(s.probe, ts, s.error, None if s.detail is None else json.dumps(s.detail), vantage)
                for (probe, vantage), by_ts in self._samples.items() if probe in probes
                for ts, s in by_ts.items() if s.ok is False and floor <= ts < hi]
        return sorted(rows, key=operator.attrgetter("ts_ms"))

    def samples_between(self, lo: int, hi: int) -> list[Sample]:
        floor = max(lo, self._pruned_before or lo)
        found = [Sample(s.probe, s.vantage, ts, s.ok, s.latency_ms, s.error)
                 for by_ts in self._samples.values() for ts, s in by_ts.items() if floor <= ts < hi]
        return sorted(found, key=lambda s: (s.ts_ms, s.vantage, s.probe))

    def latency_series(self, probes: Sequence[str], lo: int, hi: int, bucket_ms: int) -> list[LatencyBucket]:
        floor = max(lo, self._pruned_before or lo)
        buckets: dict[int, list[float]] = {}
        for (probe, _), by_ts in self._samples.items():
            if probe in probes:
                for ts, s in by_ts.items():
                    if s.ok and s.latency_ms is not None and floor <= ts < hi:
                        buckets.setdefault(ts // bucket_ms * bucket_ms, []).append(s.latency_ms)
        return [LatencyBucket(start, math.fsum(values) / len(values), max(values), len(values))
                for start, values in sorted(buckets.items())]

    def live_history(self, vantage: str,
                     per_probe: int) -> tuple[dict[str, list[tuple[int, bool | None]]], dict[str, int]]:
        history, since = {}, {}
        for (probe, at), by_ts in self._samples.items():
            if at != vantage or not by_ts:
                continue
            history[probe] = [(ts, by_ts[ts].ok) for ts in sorted(by_ts, reverse=True)[:per_probe]]
            last = list(fold_segments([(ts, s.ok, s.cause) for ts, s in sorted(by_ts.items())],
                                      self._stale_ms[probe]))[-1]
            if last.ok is False:
                since[probe] = last.start_ms
        return history, since

    def prune_samples(self, before_ms: int) -> int:
        hidden = sum(1 for by_ts in self._samples.values() for ts in by_ts
                     if ts < before_ms and (self._pruned_before is None or ts >= self._pruned_before))
        self._pruned_before = max(before_ms, self._pruned_before or before_ms)
        return hidden

    # -- hand-kept records ----------------------------------------------------------------------

    def load_records(self) -> Records:
        return records_of(self.maintenance_rows(), self.exclusion_rows(),
                          sorted(self._tables["incidents"], key=operator.itemgetter("opened_ms", "id")),
                          list(self._overrides.values()), self.vendor_report_rows(), self.vendor_post_rows())

    def maintenance_rows(self, window_id: int | None = None) -> list[MaintenanceRow]:
        rows = sorted(self._tables["maintenance"], key=operator.itemgetter("start_ms", "id"))
        return [cast(MaintenanceRow, dict(r)) for r in rows if window_id is None or r["id"] == window_id]

    def add_maintenance(self, *, region: str | None, start_ms: int, end_ms: int, kind: str,
                        announced_at_ms: int | None, reason: str, by: str, now_ms: int,
                        source_uid: str | None = None, managed_by: str | None = None) -> int:
        return self._insert("maintenance", {
            "region": region, "start_ms": start_ms, "end_ms": end_ms, "kind": kind, "announced_at_ms": announced_at_ms,
            "reason": reason, "created_by": by, "created_at_ms": now_ms, "cancelled": 0, "cancelled_by": None,
            "cancelled_at_ms": None, "source_uid": source_uid, "managed_by": managed_by})

    def cancel_maintenance(self, window_id: int, by: str, now_ms: int) -> None:
        row = self._get("maintenance", window_id, "maintenance window")
        if row["cancelled"]:
            raise already_cancelled(window_id)
        row.update(cancelled=1, cancelled_by=by, cancelled_at_ms=now_ms)

    def add_exclusion(self, *, region: str | None, start_ms: int, end_ms: int, cause: str, note: str,
                      by: str, now_ms: int, managed_by: str | None = None) -> int:
        return self._insert("exclusions", {"region": region, "start_ms": start_ms, "end_ms": end_ms, "cause": cause,
                                           "note": note, "created_by": by, "created_at_ms": now_ms,
                                           "managed_by": managed_by, "withdrawn_at_ms": None})

    def withdraw_exclusion(self, exclusion_id: int, now_ms: int) -> None:
        row = self._get("exclusions", exclusion_id, "exclusion")
        if row["withdrawn_at_ms"] is not None:
            raise already_withdrawn(exclusion_id)
        row["withdrawn_at_ms"] = now_ms

    def put_override(self, row: dict, now_ms: int) -> None:
        self._overrides[row["incident_id"]] = dict(row)

    def drop_override(self, incident_id: str, now_ms: int) -> None:
        self._overrides.pop(incident_id, None)

    def override_rows(self) -> list[dict]:
        return [dict(self._overrides[k]) for k in sorted(self._overrides)]

    def api_request(self, token: str, key: str) -> dict | None:
        found = self._api_requests.get((token, key))
        return None if found is None else dict(found)

    def remember_api_request(self, row: dict) -> None:
        self._api_requests[(row["token"], row["idem_key"])] = dict(row)

    def exclusion_rows(self) -> list[ExclusionRow]:
        return [cast(ExclusionRow, dict(r)) for r in sorted(self._tables["exclusions"],
                                                             key=operator.itemgetter("start_ms", "id"))]

    def add_incident(self, *, region: str, component: str | None, severity: str, opened_ms: int,
                     resolved_ms: int | None, title: str, by: str, now_ms: int,
                     ticket: TicketFields | None = None) -> int:
        if ticket is not None and any(r.get("ticket") == ticket.ticket for r in self._tables["incidents"]):
            raise StoreError(f"ticket {ticket.ticket} is already stored")  # the SQL stores' unique index
        return self._insert("incidents", {"region": region, "component": component, "severity": severity,
                                          "opened_ms": opened_ms, "resolved_ms": resolved_ms, "title": title,
                                          "created_by": by, "created_at_ms": now_ms,
                                          **(ticket_columns(ticket) if ticket is not None else {})})

    def change_incident(self, incident_id: int, changes: dict, now_ms: int) -> None:
        self._get("incidents", incident_id, "incident").update(changes)

    def ticket_rows(self) -> list[dict]:
        return [dict(r) for r in sorted((r for r in self._tables["incidents"] if r.get("ticket")),
                                        key=operator.itemgetter("ticket"))]

    def resolve_incident(self, incident_id: str, *, resolved_ms: int | None = None,
                         severity: str | None = None, by: str, now_ms: int) -> None:
        if is_hand_id(incident_id):
            row = self._get("incidents", int(incident_id), "incident")
            if resolved_ms is not None and resolved_ms <= row["opened_ms"]:
                raise resolved_before_opened(incident_id)
            row.update({k: v for k, v in (("resolved_ms", resolved_ms), ("severity", severity)) if v is not None})
            return
        current = self._overrides.get(incident_id, {})
        self._overrides[incident_id] = {
            "incident_id": incident_id,
            "resolved_ms": resolved_ms if resolved_ms is not None else current.get("resolved_ms"),
            "severity": severity or current.get("severity"), "updated_by": by, "updated_at_ms": now_ms}

    def set_vendor_report(self, row: dict, by: str, now_ms: int) -> tuple[int, dict | None]:
        rows = self._tables["vendor_reports"]
        before = next((r for r in rows if (r["month"], r["region"]) == (row["month"], row["region"])), None)
        values = {**row, "created_by": by, "created_at_ms": now_ms}
        if before is None:
            return self._insert("vendor_reports", values), None
        replaced = dict(before)
        before.update(values)
        return before["id"], replaced

    def record_vendor_posts(self, posts: Sequence[VendorPost], seen_ms: int | None, now_ms: int) -> tuple[int, int]:
        added = changed = 0
        for post in posts:
            row, before = vendor_post_row(post), self._posts.get(post.id)
            if before is None:
                self._posts[post.id] = {**row, "first_seen_ms": seen_ms}
                added += 1
            elif any(before[k] != v for k, v in row.items()):
                before.update(row)
                changed += 1
        return added, changed

    def vendor_post_rows(self) -> list[dict]:
        return [dict(r) for r in sorted(self._posts.values(), key=operator.itemgetter("posted_ms", "id"))]

    def vendor_report_rows(self) -> list[dict]:
        return [dict(r) for r in sorted(self._tables["vendor_reports"], key=operator.itemgetter("month", "region"))]

    def _insert(self, table: str, row: dict) -> int:
        rows = self._tables[table]
        new_id = max((r["id"] for r in rows), default=0) + 1
        rows.append({"id": new_id, **row})
        return new_id

    def _get(self, table: str, row_id: int, what: str) -> dict:
        row = next((r for r in self._tables[table] if r["id"] == row_id), None)
        if row is None:
            raise no_such(what, table, row_id)
        return row

    # -- the alert outbox -----------------------------------------------------------------------

    def record_events(self, routed: Sequence[Routed]) -> int:
        known = {event.id for _, event in self._events}
        new = 0
        for event, destinations in routed:
            if event.id in known:
                continue
            known.add(event.id)
            new += 1
            seq = len(self._events) + 1
            self._events.append((seq, event))
            for destination in destinations:
                self._deliveries[(seq, destination)] = {"status": "pending", "attempts": 0,
                                                        "next_attempt_ms": event.occurred_at_ms, "last_error": None,
                                                        "delivered_at_ms": None}
        return new

    def open_conditions(self) -> list[Event]:
        return still_open(event for _, event in self._events)

    def due_deliveries(self, now_ms: int) -> DueDeliveries:
        queue: DueDeliveries = {}
        blocked: set[str] = set()
        events = dict(self._events)
        for (seq, destination), state in sorted(self._deliveries.items(), key=lambda item: (item[0][1], item[0][0])):
            if state["status"] != "pending" or destination in blocked:
                continue
            if state["next_attempt_ms"] > now_ms:
                blocked.add(destination)
                continue
            queue.setdefault(destination, []).append((seq, events[seq], state["attempts"]))
        return queue

    def claim_delivery(self, seq: int, destination: str, now_ms: int, until_ms: int, by: str) -> bool:
        state = self._deliveries.get((seq, destination))
        if state is None or state["status"] != "pending" or state["next_attempt_ms"] > now_ms:
            return False
        state.update(next_attempt_ms=until_ms, claimed_by=by)
        return True

    def release_claims(self, by: str, now_ms: int) -> int:
        held = [state for state in self._deliveries.values() if state.get("claimed_by") == by
                and state["status"] == "pending" and state["next_attempt_ms"] > now_ms]
        for state in held:
            state.update(next_attempt_ms=now_ms, claimed_by=None)
        return len(held)

    def mark_delivery(self, seq: int, destination: str, status: str, attempts: int, next_attempt_ms: int,
                      error: str | None, now_ms: int) -> None:
        self._deliveries[(seq, destination)].update(
            status=status, attempts=attempts, next_attempt_ms=next_attempt_ms, last_error=error,
            delivered_at_ms=now_ms if status == "delivered" else None, claimed_by=None)

    def expire_deliveries(self, destination: str, before_ms: int, now_ms: int) -> list[str]:
        expired = []
        for seq, event in self._events:
            state = self._deliveries.get((seq, destination))
            if state is not None and state["status"] == "pending" and event.occurred_at_ms < before_ms:
                state.update(status="failed", last_error=GIVEN_UP, next_attempt_ms=now_ms)
                expired.append(event.id)
        return expired

    def pending_deliveries(self) -> int:
        return sum(1 for state in self._deliveries.values() if state["status"] == "pending")

    def event_log(self, limit: int = 200) -> list[dict]:
        rows = []
        for seq, event in reversed(self._events):
            head = (seq, event.id, event.type, event.region, event.severity, event.occurred_at_ms)
            mine: list[tuple[str | None, dict[str, Any]]] = sorted(
                (d, s) for (q, d), s in self._deliveries.items() if q == seq)
            for destination, s in mine or [(None, NO_DELIVERY)]:  # an event no route chose: one row, as a LEFT JOIN
                rows.append(dict(zip(EVENT_LOG_KEYS, (*head, destination, s["status"], s["attempts"], s["last_error"],
                                                      s["delivered_at_ms"]), strict=True)))
        return rows[:limit]

    def events_of_type(self, event_type: str, since_ms: int) -> list[Event]:
        found = [e for _, e in self._events if e.type == event_type and e.occurred_at_ms >= since_ms]
        return sorted(found, key=lambda e: e.occurred_at_ms)

    def event_log_of(self, ids: Sequence[str]) -> list[dict]:
        wanted = set(ids)
        rows = [row for row in self.event_log(len(self._deliveries) + len(self._events)) if row["id"] in wanted]
        return sorted(rows, key=lambda row: (row["seq"], row["destination"] or ""))

    def close(self) -> None:
        """Nothing to release."""
