"""The evidence chain: every committed batch of samples and every change to a record is hashed
(SHA-256) with the link before it, so that an edit, an insertion or a deletion behind the monitor's back
shows (``verify.py`` finds it).

- A sample row carries the number of the batch that wrote it (``samples.batch``; NULL: stored before
  the chain began, covered by the genesis link). A batch's digest (``batch_digest``) is the SHA-256 of
  its rows in their stored form and key order, then of the names of the probes and vantages they name.
- Batches are grouped into blocks of at most ``BATCHES_PER_BLOCK`` (a minute of the daemon's one-second
  commits): one ``evidence`` row per block, whose content is the batch digests folded in order
  (``extended``). The open block's row is rewritten as batches join it; a record change or a close
  ends it. A year of one-second commits is about half a million rows, not thirty million.
- A sample replaced by a later batch (the same probe, vantage and instant written again) is kept in
  ``samples_replaced`` under its own batch (a trigger does it), so the earlier batch still adds up.
- A record change is one link whose content is the digest of the record's row after the change.
- A prune is one link: batches older than its instant cannot be recomputed afterwards, the chain
  through them still can.
- Day and month closes are links too; a month's link is signed (``signing.py``).

Canonical forms are plain JSON (floats in their shortest form that reads back exactly), so the
vendor's verifier recomputes them from an exported bundle without this package's store.

A sample row's stored form: (probe id, vantage id, ts, ok as 1/0/None, latency as a float or None, error,
detail, cause, batch), as both engines read it back; the writers build their rows so, and insert the
very tuples they hashed."""
from __future__ import annotations

import hashlib
import itertools
import json
from typing import Any, Iterable, Mapping, NamedTuple, Sequence

import orjson

GENESIS_PREV = "0" * 64
BATCHES_PER_BLOCK = 60
CHUNK = 4096  # sample rows hashed a call
# The record tables a link covers, each with its key column: a record's subject is "table/key".
RECORD_TABLES = {"maintenance": "id", "exclusions": "id", "incidents": "id", "incident_overrides": "incident_id",
                 "vendor_reports": "id", "vendor_posts": "id"}


class Link(NamedTuple):
    """One row of the ``evidence`` table."""

    seq: int
    kind: str  # genesis, samples, record, prune, day, month
    subject: str  # what it covers, as messages name it: "maintenance/12", "2026-11", "1200 samples"
    at_ms: int  # samples: the newest sample's instant; a record: when it changed; a close: the close
    first_batch: int | None
    last_batch: int | None
    lo_ms: int | None  # samples: the oldest sample's instant; prune: none
    hi_ms: int | None  # samples: the newest; prune: the instant samples were pruned before
    content: str  # hex SHA-256 of what it covers
    link: str  # hex SHA-256 of the previous link and every field above
    signature: str | None = None  # a month's link, signed (hex Ed25519); not part of the link


def batch_digest(rows: Iterable[tuple], probes: Mapping[int, str], vantages: Mapping[int, str]) -> tuple[str, int]:
    """The digest of a batch's sample rows (stored form, key order) and how many there were: the rows as
    JSON arrays of ``CHUNK`` rows each (orjson: UTF-8, no spaces, floats in their shortest exact form;
    one call a chunk, never a batch of millions whole in memory), then the ``[id, name]`` pairs of the
    probes and the vantages the rows name."""
    digest, rows = hashlib.sha256(), iter(rows)
    probe_ids: set[int] = set()
    vantage_ids: set[int] = set()
    count = 0
    while chunk := list(itertools.islice(rows, CHUNK)):
        digest.update(orjson.dumps(chunk))
        probe_ids.update({row[0] for row in chunk})
        vantage_ids.update({row[1] for row in chunk})
        count += len(chunk)
    digest.update(orjson.dumps([[[i, probes[i]] for i in sorted(probe_ids)],
                                [[i, vantages[i]] for i in sorted(vantage_ids)]]))
    return digest.hexdigest(), count


EMPTY_DIGEST = batch_digest((), {}, {})[0]  # a batch with no sample left


def stored_form(row: Sequence[Any], batch: int | None) -> tuple:
    """A sample row (probe id, vantage id, ts, ok, latency, error, detail, cause) as the store reads it
    back, in ``batch``: ``ok`` 1/0/None, latency a float (SQLite's REAL turns an integer into a float)."""
    ok, latency = row[3], row[4]
    return (row[0], row[1], row[2], None if ok is None else int(ok), None if latency is None else float(latency),
            row[5], row[6], row[7], batch)


def extended(content: str, digest: str) -> str:
    """A block's content after one more batch: the batch digests folded in order (the first batch's
    block content is the hash of its digest alone)."""
    return hashlib.sha256((content + digest).encode()).hexdigest()


# Columns added to a record table after the chain began (schema v8: a ticket's id, response and updates; a
# record's managing file; an exclusion's withdrawal. No column older than the chain may be named here):
# hashed only when set, so that the rows chained before they existed keep their digests.
LATER_COLUMNS = frozenset({"ticket", "responded_ms", "updates", "managed_by", "withdrawn_at_ms"})


def record_content(row: dict | None) -> str:
    """The digest of a record's row (None: the record was deleted)."""
    if row is not None:
        row = {k: v for k, v in row.items() if v is not None or k not in LATER_COLUMNS}
    text = "deleted" if row is None else json.dumps(row, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(text.encode()).hexdigest()


def text_content(text: str) -> str:
    """The digest of a link's own statement (a prune's instant, a close's period)."""
    return hashlib.sha256(text.encode()).hexdigest()


def link_hash(prev: str, seq: int, kind: str, subject: str, at_ms: int, first_batch: int | None,
              last_batch: int | None, lo_ms: int | None, hi_ms: int | None, content: str) -> str:
    """A link: the previous link and every field of this one, hashed."""
    fields: Sequence[object] = (prev, seq, kind, subject, at_ms, first_batch, last_batch, lo_ms, hi_ms, content)
    return hashlib.sha256("\n".join("" if f is None else str(f) for f in fields).encode()).hexdigest()


def sealed(prev: str, seq: int, kind: str, subject: str, at_ms: int, content: str, *, first_batch: int | None = None,
           last_batch: int | None = None, lo_ms: int | None = None, hi_ms: int | None = None) -> Link:
    """A link with its hash computed."""
    return Link(seq, kind, subject, at_ms, first_batch, last_batch, lo_ms, hi_ms, content,
                link_hash(prev, seq, kind, subject, at_ms, first_batch, last_batch, lo_ms, hi_ms, content))


def statement(kind: str, period: str, seq: int, link: str) -> bytes:
    """What a close's signature is over: the period and the chain's link that closes it."""
    return f"sla-monitor evidence\n{kind} {period}\nlink {seq} {link}\n".encode()


def recomputed(prev: str, link: Link) -> str:
    """What ``link``'s hash should be after ``prev``."""
    return link_hash(prev, link.seq, link.kind, link.subject, link.at_ms, link.first_batch, link.last_batch,
                     link.lo_ms, link.hi_ms, link.content)
