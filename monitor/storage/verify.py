"""Checking the evidence chain (``chain.py``): the links follow each other, each block of batches adds up
to the samples that carry its batches' numbers (and those a later batch replaced), each record is what
its newest link says, and no row sits outside the chain. Each check takes plain rows, so that a bundle
can be checked as a store is; ``verify_store`` feeds them from a store.

The state segments the figures are computed from are not chained (they change as samples arrive); they
are checked as what they are, a fold of the stored samples with each probe's ``stale_after``.

What cannot be checked is said, not hidden: a block whose samples were pruned (by a prune the chain
itself holds) is checked as a link only, and so is the part of a timeline before its oldest kept sample."""
from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Iterable, Iterator, Mapping, NamedTuple

from ..sla.calendar import iso
from ..sla.timeline import fold_segments
from .chain import EMPTY_DIGEST, RECORD_TABLES, Link, batch_digest, extended, recomputed, record_content

if TYPE_CHECKING:
    from .sqlstore import SqlStore

# Every sample a batch wrote that is still there or was replaced by a later one, in canonical order:
# batch (before the chain began: 0, the genesis), then key.
CHAINED_SAMPLES = (
    "SELECT coalesce(batch, 0), probe_id, vantage_id, ts, ok, latency_ms, error, detail, cause, batch FROM ("
    "SELECT batch, probe_id, vantage_id, ts, ok, latency_ms, error, detail, cause FROM samples UNION ALL "
    "SELECT batch, probe_id, vantage_id, ts, ok, latency_ms, error, detail, cause FROM samples_replaced) s"
    " ORDER BY 1, 2, 3, 4")


class Break(NamedTuple):
    """Where the chain does not hold: the link (its number, None for a row no link holds), the table, the
    row or link, when, and what is wrong."""

    seq: int | None
    table: str
    subject: str
    at_ms: int | None
    reason: str

    def describe(self) -> str:
        """One line for a person: where, when, what."""
        where = f"link {self.seq}" if self.seq is not None else "no link"
        when = f" at {iso(self.at_ms)}" if self.at_ms else ""
        return f"{self.table} {self.subject} ({where}{when}): {self.reason}"


@dataclass
class Verdict:
    """What a check found."""

    links: int = 0
    batches: int = 0
    samples: int = 0
    records: int = 0
    pruned_blocks: int = 0  # blocks checked as links only: their samples were pruned
    timelines: int = 0  # (probe, vantage) timelines whose segments were checked against their samples
    unknown_probes: list[str] = field(default_factory=list)  # probes the config no longer has: not folded
    unchained: bool = False  # no chain yet: nothing was written since the store was upgraded
    breaks: list[Break] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """Nothing broken."""
        return not self.breaks

    def ordered(self) -> list[Break]:
        """The breaks in the chain's order (a row no link holds comes last)."""
        return sorted(self.breaks, key=lambda b: (b.seq is None, b.seq or 0))

    def first(self) -> Break | None:
        """The earliest break."""
        return next(iter(self.ordered()), None)


def check_links(links: list[Link], verdict: Verdict) -> None:
    """Each link follows the one before, numbered from 1 without a gap."""
    prev = "0" * 64
    verdict.links = len(links)
    for expected, link in enumerate(links, start=1):
        if link.seq != expected:
            verdict.breaks.append(Break(expected, "evidence", f"link {expected}", None,
                                        f"missing: the chain jumps from link {expected - 1} to {link.seq}"))
            return
        if recomputed(prev, link) != link.link:
            verdict.breaks.append(Break(link.seq, "evidence", link.subject, link.at_ms,
                                        "this link does not follow from the one before: edited behind the monitor's back"))
            return
        prev = link.link


def batch_digests(rows: Iterable[tuple], probes: Mapping[int, str],
                  vantages: Mapping[int, str]) -> Iterator[tuple[int, str, int]]:
    """(batch, digest, samples) of rows of (batch, then a sample's stored form) in the chain's order,
    with the names of the probe and vantage ids."""
    for batch, group in itertools.groupby(rows, key=lambda row: row[0]):
        digest, count = batch_digest((row[1:] for row in group), probes, vantages)
        yield batch, digest, count


def check_samples(links: list[Link], digests: Iterable[tuple[int, str, int]], verdict: Verdict) -> None:
    """Each block's content from its batches' digests (a batch with no sample left: the empty digest); a
    batch no block holds is a break."""
    pruned_before = max((link.hi_ms or 0 for link in links if link.kind == "prune"), default=None)
    found = iter(digests)
    pending = next(found, None)
    for link in (link for link in links if link.kind in ("genesis", "samples")):
        first, last = (0, 0) if link.kind == "genesis" else (link.first_batch or 0, link.last_batch or 0)
        content, genesis = "", EMPTY_DIGEST
        for number in range(first, last + 1):
            while pending is not None and pending[0] < number:
                verdict.breaks.append(_orphan(pending))
                pending = next(found, None)
            digest = EMPTY_DIGEST
            if pending is not None and pending[0] == number:
                digest, verdict.samples = pending[1], verdict.samples + pending[2]
                pending = next(found, None)
            content, genesis = extended(content, digest), digest
        verdict.batches += last - first + 1 if link.kind == "samples" else 0
        if pruned_before is not None and (link.kind == "genesis" or (link.lo_ms or 0) < pruned_before):
            verdict.pruned_blocks += 1
        elif (genesis if link.kind == "genesis" else content) != link.content:
            verdict.breaks.append(Break(link.seq, "samples", _block(link), link.at_ms or None,
                                        "the samples of this block were edited, added or deleted behind the "
                                        "monitor's back"))
    while pending is not None:
        verdict.breaks.append(_orphan(pending))
        pending = next(found, None)


def _block(link: Link) -> str:
    if link.kind == "genesis":
        return link.subject
    return f"batches {link.first_batch}-{link.last_batch} ({link.subject}, {iso(link.lo_ms or 0)} to {iso(link.hi_ms or 0)})"


def _orphan(pending: tuple[int, str, int]) -> Break:
    return Break(None, "samples", f"batch {pending[0]} ({pending[2]} samples)", None,
                 "no link holds this batch: added behind the monitor's back")


def check_records(links: list[Link], rows: Mapping[str, Iterable[dict]], verdict: Verdict) -> None:
    """Each record row is what its newest link says; each linked record that is gone was deleted so."""
    newest = {link.subject: link for link in links if link.kind == "record"}
    seen = set()
    for table, table_rows in rows.items():
        for row in table_rows:
            subject = f"{table}/{row[RECORD_TABLES[table]]}"
            seen.add(subject)
            verdict.records += 1
            link = newest.get(subject)
            if link is None:
                verdict.breaks.append(Break(None, table, subject, None, "no link holds this record: added behind "
                                                                        "the monitor's back"))
            elif record_content(row) != link.content:
                verdict.breaks.append(Break(link.seq, table, subject, link.at_ms or None,
                                            "this record differs from what was recorded: edited behind the "
                                            "monitor's back"))
    for subject, link in newest.items():
        if subject not in seen and link.content != record_content(None):
            verdict.breaks.append(Break(link.seq, subject.split("/")[0], subject, link.at_ms or None,
                                        "this record is gone: deleted behind the monitor's back"))


def check_segments(timelines: Iterable[tuple[str, str, list[tuple], list[tuple]]], stale_ms: Mapping[str, int],
                   pruned: bool, verdict: Verdict) -> None:
    """Each timeline's stored segments, (start, end, ok, cause), are the fold of its samples, (ts, ok,
    cause), both in order; with samples pruned, from the oldest kept sample on."""
    for probe, vantage, samples, stored in timelines:
        if probe not in stale_ms:
            verdict.unknown_probes.append(probe)
            continue
        if not samples:
            continue
        after = samples[0][0] if pruned else None  # a pruned timeline's first kept run began before it
        folded = [(s.start_ms, s.end_ms, s.ok, s.cause) for s in fold_segments(samples, stale_ms[probe])]
        kept = [(start, end, None if ok is None else bool(ok), cause) for start, end, ok, cause in stored]
        if after is not None:
            folded, kept = [s for s in folded if s[0] > after], [s for s in kept if s[0] > after]
        verdict.timelines += 1
        if folded != kept:
            verdict.breaks.append(Break(None, "segments", f"{probe} at {vantage}", _first_difference(folded, kept),
                                        "the state segments differ from a fold of the samples: edited behind the "
                                        "monitor's back (or folded with another stale_after than the config's)"))


def _first_difference(folded: list[tuple], kept: list[tuple]) -> int:
    """Where two segment lists first differ: the earlier start of the first pair that differs."""
    for one, other in itertools.zip_longest(folded, kept):
        if one != other:
            return min(s[0] for s in (one, other) if s is not None)
    raise ValueError("the lists are equal")


def _timelines(store: SqlStore) -> Iterator[tuple[str, str, list[tuple], list[tuple]]]:
    probes, vantages = store.names("probes"), store.names("vantages")
    # Timelines of either table: segments deleted whole, or samples no segment holds, show too.
    keys = store.sql.all("SELECT probe_id, vantage_id FROM segments UNION SELECT probe_id, vantage_id FROM samples"
                         " ORDER BY 1, 2")
    for probe_id, vantage_id in keys:
        samples = store.sql.all("SELECT ts, ok, cause FROM samples WHERE probe_id = ? AND vantage_id = ? ORDER BY ts",
                                [probe_id, vantage_id])
        stored = store.sql.all("SELECT start_ms, end_ms, ok, cause FROM segments WHERE probe_id = ? AND vantage_id = ?"
                               " ORDER BY start_ms", [probe_id, vantage_id])
        yield probes[probe_id], vantages[vantage_id], samples, stored


def verify_store(store: SqlStore, stale_ms: Mapping[str, int]) -> Verdict:
    """Check a store's chain, its samples, its records, and its segments against its samples (folded
    with ``stale_ms`` by probe, the config's)."""
    verdict = Verdict()
    links = store.links()
    if not links:  # a store from before the chain, not written since; unless its samples say otherwise
        verdict.unchained = True
        numbered = store.sql.one("SELECT count(*) FROM samples WHERE batch IS NOT NULL")
        if numbered and numbered[0]:
            verdict.breaks.append(Break(None, "evidence", "the chain", None,
                                        f"no link at all, yet {numbered[0]} samples carry batch numbers: the chain "
                                        "was deleted behind the monitor's back"))
        return verdict
    check_links(links, verdict)
    check_samples(links, batch_digests(store.sql.stream(CHAINED_SAMPLES), store.names("probes"),
                                       store.names("vantages")), verdict)
    check_records(links, store.record_rows(), verdict)
    check_segments(_timelines(store), stale_ms, any(link.kind == "prune" for link in links), verdict)
    return verdict
