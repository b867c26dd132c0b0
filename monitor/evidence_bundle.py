"""A month's evidence as one zip that the vendor checks with nothing but ``pip install sla-monitor``:
``evidence export`` writes it, ``evidence verify BUNDLE`` checks it.

What it holds: the chain up to the month's close (its signature on that link), every sample of the
chain's blocks that reach into the window the month's figures are computed over (with those a later
batch replaced), every record, the engine's inputs (``sla/fleet_document.py``, no URL or secret of the
config), the month's JSON report, the public key, and a README. The check: the chain's links, the
signature, each bundled block's samples and each record against its link, and then the month computed
again from the bundled samples and records with the same engine, compared with the report."""
from __future__ import annotations

import gzip
import io
import json
import tempfile
import zipfile
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from . import __version__
from .accounting import month_report, timelines_around
from .errors import InputError
from .reports.compare import report_differences
from .reports.render import as_json
from .reports.serialize import report_json
from .sla.calendar import iso, month_bounds
from .sla.fleet_document import fleet_document, fleet_of
from .sla.model import Fleet
from .storage.chain import Link, statement
from .storage.sqlstore import SqlStore
from .storage.store import Store
from .storage.verify import Verdict, batch_digests, check_links, check_records, check_samples

FORMAT = "sla-monitor evidence bundle 1"
# A bundled sample (``SqlStore.chained_rows``): its batch (0: before the chain began), ids (the canonical
# order), names, values, and the batch that replaced it (None: it is the stored one).
SAMPLE_COLUMNS = ("batch", "probe_id", "vantage_id", "probe", "vantage", "ts", "ok", "latency_ms", "error", "detail",
                  "cause", "replaced_by")
README = """This is the evidence of {service}'s availability in {month}, as sla-monitor {version} recorded it.

Check it with nothing but Python:

    pip install sla-monitor
    sla-monitor evidence verify {name} --public-key KEY.pem

KEY.pem is the public key the customer gave you beforehand (public-key.pem in this bundle is the same
key, if nobody changed it). The check says whether the chain of hashes holds, whether the month's close
is signed by that key, whether every bundled sample and record is what the chain recorded, and whether
the month computed again from them equals report.json.

chain.jsonl      every link of the chain up to the month's close (link {seq}, hash {link})
samples.jsonl.gz the samples of the blocks that reach into the month's window, in the chain's order
records.json     maintenance windows, exclusions, incidents and corrections
fleet.json       regions, components, probes and the SLA policy the figures are computed with
report.json      the month's figures as the customer's monitor computed them
manifest.json    the month, the time zone, the instant the report is as of
"""


def export(store: SqlStore, fleet: Fleet, service: str, year: int, month: int, now_ms: int, output: Path,
           public_key: str | None) -> dict[str, Any]:
    """Write the bundle of a closed month to ``output`` (a new file); returns its manifest."""
    label = f"{year:04d}-{month:02d}"
    close = store.close_of(label)
    if close is None:
        raise InputError(f"--month {label}: the month is not closed in the evidence chain (the daemon closes a "
                         "month at the first local midnight after it, and a month before the chain began is never "
                         "closed)")
    chain = [link for link in store.links() if link.seq <= close.seq]
    start, end = month_bounds(year, month, ZoneInfo(fleet.timezone))
    records = store.load_records()
    _, lo, hi = timelines_around(store, fleet, records, start, end, now_ms)
    lo -= max(stale_by_probe(fleet).values(), default=0)
    pruned = store.pruned_before()
    if pruned is not None and pruned > lo:
        raise InputError(f"--month {label}: samples before {iso(pruned)} were pruned; the bundle needs them from "
                         f"{iso(lo)} on")
    blocks = [link for link in chain if link.kind == "samples" and (link.hi_ms or 0) >= lo and (link.lo_ms or 0) < hi]
    if store.has_prechain_samples(lo, hi):
        blocks.insert(0, chain[0])  # the genesis: samples stored before the chain began reach into the window
    wanted = {n for b in blocks for n in ((0,) if b.kind == "genesis" else range(b.first_batch or 0, (b.last_batch or 0) + 1))}
    rows = store.chained_rows(wanted)
    result = month_report(store, fleet, year, month, now_ms, records=records)
    manifest = {"format": FORMAT, "month": label, "timezone": fleet.timezone, "now_ms": now_ms,
                "close": close.seq, "blocks": [b.seq for b in blocks], "window_ms": [lo, hi], "version": __version__}
    samples = "".join(json.dumps(dict(zip(SAMPLE_COLUMNS, row, strict=True))) + "\n" for row in rows)
    members = [
        ("README.txt", README.format(service=service, month=label, version=__version__, name=output.name,
                                     seq=close.seq, link=close.link).encode()),
        ("manifest.json", json.dumps(manifest, indent=1).encode()),
        ("chain.jsonl", "".join(json.dumps(link._asdict()) + "\n" for link in chain).encode()),
        ("samples.jsonl.gz", gzip.compress(samples.encode(), mtime=0)),
        ("records.json", json.dumps(store.record_rows(), indent=1).encode()),
        ("fleet.json", json.dumps(fleet_document(fleet), indent=1).encode()),
        ("report.json", as_json(report_json(result)).encode()),
    ] + ([("public-key.pem", public_key.encode())] if public_key is not None else [])
    with open(output, "xb") as handle:
        handle.write(packed(members))
    return manifest


def packed(members: list[tuple[str, bytes]]) -> bytes:
    """The bundle's zip, canonical: members stored (not compressed: no zlib version can make it differ;
    the samples are gzipped inside) in the given order, with fixed times and attributes. The check packs
    what it read again and compares bytes, so that no byte of the file, header or data, can change
    unnoticed."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as bundle:
        for name, data in members:
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
            info.create_system, info.external_attr = 3, 0o644 << 16  # as written on Unix, wherever it is checked
            bundle.writestr(info, data)
    return buffer.getvalue()


@dataclass
class BundleVerdict:
    """What the check of a bundle found: the chain's verdict, the signature's, the figures'."""

    month: str
    chain: Verdict
    signature: str  # "valid", "INVALID", "unsigned", or "not checked (no public key)"
    figures_equal: bool
    differences: list[str] = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """Everything checked out, the signature included."""
        return self.chain.holds and self.signature == "valid" and self.figures_equal


def verify_bundle(path: Path, public_key: str | None) -> BundleVerdict:
    """Check a bundle (``public_key``: PEM text the vendor trusts; None: the bundle's own, if any)."""
    try:
        data = path.read_bytes()
        with zipfile.ZipFile(io.BytesIO(data)) as bundle:
            members = [(name, bundle.read(name)) for name in bundle.namelist()]
        files = {name: (gzip.decompress(content) if name.endswith(".gz") else content).decode()
                 for name, content in members}
    # A damaged zip fails in many ways: its CRC, its structure, a flag bit flipped into "encrypted".
    except (OSError, EOFError, zipfile.BadZipFile, zlib.error, ValueError, RuntimeError, NotImplementedError) as exc:
        raise InputError(f"{path}: not an evidence bundle, or a damaged one ({exc}); `sla-monitor evidence export` "
                         "writes one") from None
    if packed(members) != data:
        raise InputError(f"{path}: the zip was altered: its bytes are not those its own contents pack into "
                         "(a header or the layout was changed)")
    try:
        manifest = json.loads(files["manifest.json"])
        if manifest.get("format") != FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}, not {FORMAT!r}")
        chain = [Link(**json.loads(line)) for line in io.StringIO(files["chain.jsonl"])]
        samples = [json.loads(line) for line in io.StringIO(files["samples.jsonl.gz"])]
        records = json.loads(files["records.json"])
        fleet = fleet_of(json.loads(files["fleet.json"]))
        report = files["report.json"]
    except (KeyError, TypeError, ValueError) as exc:
        raise InputError(f"{path}: not a whole evidence bundle ({type(exc).__name__}: {exc})") from None
    verdict = Verdict()
    check_links(chain, verdict)
    bundled = set(manifest["blocks"])
    probes = {s["probe_id"]: s["probe"] for s in samples}
    vantages = {s["vantage_id"]: s["vantage"] for s in samples}
    check_samples([link for link in chain if link.kind not in ("genesis", "samples") or link.seq in bundled],
                  batch_digests([(s["batch"], s["probe_id"], s["vantage_id"], s["ts"], s["ok"], s["latency_ms"],
                                  s["error"], s["detail"], s["cause"], s["batch"] or None)  # 0: the genesis, NULL
                                 for s in samples], probes, vantages), verdict)
    check_records(chain, records, verdict)
    close = chain[-1] if chain else None
    signature = _signature(close, manifest["month"], public_key if public_key is not None else files.get("public-key.pem"))
    recomputed = _recompute(fleet, manifest, samples, records)
    return BundleVerdict(manifest["month"], verdict, signature, recomputed == report,
                         [] if recomputed == report else report_differences(report, recomputed))


def _signature(close: Link | None, month: str, public_key: str | None) -> str:
    if close is None or close.kind != "month" or close.subject != month:
        return "INVALID (the chain does not end with the month's close)"
    if close.signature is None:
        return "unsigned"
    if public_key is None:
        return "not checked (no public key: pass --public-key)"
    from .signing import verifies  # cryptography, only when a signature is checked

    return "valid" if verifies(public_key, statement("month", month, close.seq, close.link), close.signature) \
        else "INVALID"


def stale_by_probe(fleet: Fleet) -> dict[str, int]:
    """Each probe's ``stale_after`` in ms, the regions' and the third parties' (as ``config.fleet``'s
    ``stale_ms_by_probe`` gives them from a config: a bundle has the fleet only)."""
    specs = [p for r in fleet.regions for c in r.components for p in c.probes]
    return {p.id: p.stale_ms for p in specs + [p for t in fleet.third_parties for p in t.probes]}


def _recompute(fleet: Fleet, manifest: dict, samples: list[dict], records: dict[str, list[dict]]) -> str:
    """The month's JSON report computed again from the bundle alone, in a scratch store."""
    stale = stale_by_probe(fleet)
    year, month = (int(part) for part in manifest["month"].split("-"))
    with tempfile.TemporaryDirectory() as scratch:
        store = Store.open(Path(scratch) / "bundle.db")
        try:
            with store.transaction():
                store.import_samples([(s["probe"], s["vantage"], s["ts"], None if s["ok"] is None else bool(s["ok"]),
                                       s["latency_ms"], s["error"], s["cause"]) for s in samples
                                      if s["replaced_by"] is None and s["probe"] in stale], stale)
                store.restore_records(records)
            result = month_report(store, fleet, year, month, int(manifest["now_ms"]))
            return as_json(report_json(result))
        finally:
            store.close()
