"""`evidence keygen` (the key the months are signed with), `evidence verify` (the store's chain, named
at its first broken link; or a bundle), `evidence export` (a month's bundle) and `evidence public-key`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..config.fleet import stale_ms_by_probe
from ..errors import InputError
from ..evidence_bundle import export, verify_bundle
from ..sla.calendar import parse_month
from ..storage import opened
from ..storage.interface import Storage
from ..storage.sqlstore import SqlStore
from ..storage.verify import verify_store
from .common import Context
from .parsing import command, group


def add_parsers(sub: argparse._SubParsersAction) -> None:
    """Register ``evidence keygen``, ``verify`` and ``public-key``."""
    evidence = group(sub, "evidence", "the tamper-evident record: sign it, check it",
                     "sla-monitor evidence verify", "sla-monitor evidence keygen --output /etc/sla-monitor/evidence.pem")
    p = command(evidence, "keygen", "make the Ed25519 key each month's close is signed with",
                "sla-monitor evidence keygen --output /etc/sla-monitor/evidence.pem",
                details="Writes the private key (readable by its owner only; an existing file is never "
                        "overwritten) and prints the public key. Set evidence.signing_key to the file's path.")
    p.add_argument("--output", required=True, help="the private key's file (PEM)")
    p = command(evidence, "verify", "check the store's chain (every batch of samples, every record change), or a bundle",
                "sla-monitor evidence verify", "sla-monitor evidence verify bundle-2026-11.zip --public-key customer.pem",
                details="The store: also checks that the state segments are a fold of the samples (with the config's "
                        "stale_after). A bundle (no config needed): the chain, the month's signature, every bundled "
                        "sample and record, and the month computed again against its report. The store: exit 0 when "
                        "everything holds, 1 naming the first broken link (table, link, time) after an edit, insertion "
                        "or deletion behind the monitor's back. A bundle: exit 0 when it checks out, 2 when it does "
                        "not (altered, damaged, another key).")
    p.add_argument("bundle", nargs="?", help="a bundle from `evidence export` (default: check the store)")
    p.add_argument("--public-key", help="with a bundle: the PEM public key you trust (default: the bundle's own)")
    p = command(evidence, "export", "a closed month's evidence as one zip the vendor can check",
                "sla-monitor evidence export --month 2026-11 --output evidence-2026-11.zip")
    p.add_argument("--month", required=True, help="YYYY-MM: a month the daemon has closed")
    p.add_argument("--output", required=True, help="the zip to write (a new file)")
    command(evidence, "public-key", "print the public key of evidence.signing_key (PEM)",
            "sla-monitor evidence public-key > evidence-public.pem")


def evidence_keygen(args: argparse.Namespace) -> int:
    path = Path(args.output)
    if path.exists():
        raise InputError(f"--output {path}: the file exists; a key is never overwritten (choose another path, or "
                         "remove the old key once nothing needs it)")
    if not path.parent.is_dir():
        raise InputError(f"--output {path}: no folder {path.parent}; create it first")
    from ..signing import generate  # cryptography: loaded by the commands that need it only

    public = generate(path)
    print(f"wrote the private key to {path} (mode 600); set evidence.signing_key: {path}", file=sys.stderr)
    print(public, end="")
    return 0


def evidence_verify(ctx: Context, args: argparse.Namespace) -> int:
    with opened(ctx.db_path, create=False) as store:
        verdict = verify_store(_chained(store), stale_ms_by_probe(ctx.cfg))
    pruned = f", {verdict.pruned_blocks} blocks checked as links only (their samples were pruned)" \
        if verdict.pruned_blocks else ""
    print(f"{verdict.links} links, {verdict.batches} batches, {verdict.samples} samples, {verdict.records} records, "
          f"{verdict.timelines} timelines{pruned}")
    if verdict.unknown_probes:
        print(f"not folded (no longer in the config, so no stale_after): {', '.join(sorted(set(verdict.unknown_probes)))}")
    first = verdict.first()
    if first is None and verdict.unchained:
        print("no evidence chain yet: it begins with the store's next write (the daemon's first flush, an import "
              "or a record), which chains everything stored before it")
        return 0
    if first is None:
        print("the chain holds: nothing was edited, added or deleted behind the monitor's back")
        return 0
    print(f"BROKEN: {first.describe()}")
    for other in verdict.ordered()[1:]:
        print(f"  also: {other.describe()}")
    return 1


def evidence_export(ctx: Context, args: argparse.Namespace) -> int:
    output = Path(args.output)
    if output.exists():
        raise InputError(f"--output {output}: the file exists; choose a new name")
    year, month = parse_month(args.month)
    key = ctx.cfg.evidence.signing_key
    from ..signing import load, public_pem  # cryptography: loaded by the commands that need it only

    with opened(ctx.db_path, create=False) as store:
        manifest = export(_chained(store), ctx.fleet, ctx.cfg.service, year, month, ctx.now_ms, output,
                          public_pem(load(key)) if key else None)
    print(f"wrote {output}: {manifest['month']}, the chain to its close (link {manifest['close']}), "
          f"{len(manifest['blocks'])} blocks of samples" + ("" if key else "; unsigned (evidence.signing_key is not set)"))
    return 0


def _chained(store: Storage) -> SqlStore:
    """The store, as one that keeps the chain (the SQL stores do)."""
    if not isinstance(store, SqlStore):
        raise InputError("this store keeps no evidence chain")
    return store


def verify_bundle_command(args: argparse.Namespace) -> int:
    """``evidence verify BUNDLE``: the vendor's check, without a config."""
    public = None
    if args.public_key is not None:
        try:
            public = Path(args.public_key).read_text()
        except (OSError, UnicodeError) as exc:
            raise InputError(f"--public-key {args.public_key}: cannot read it ({exc})") from None
    verdict = verify_bundle(Path(args.bundle), public)
    chain = verdict.chain
    print(f"{verdict.month}: {chain.links} links, {chain.batches} batches, {chain.samples} samples, "
          f"{chain.records} records")
    first = chain.first()
    print(f"chain: {'holds' if first is None else 'BROKEN: ' + first.describe()}")
    print(f"signature of the month's close: {verdict.signature}")
    print(f"figures computed again from the bundle: {'equal to the report' if verdict.figures_equal else 'DIFFERENT'}")
    for difference in verdict.differences:
        print(f"  {difference}")
    if not verdict.holds:  # the bundle is not what it claims: bad input, as a damaged one is
        raise InputError(f"{args.bundle}: the bundle does not check out (above)")
    return 0


def evidence_public_key(ctx: Context, args: argparse.Namespace) -> int:
    if ctx.cfg.evidence.signing_key is None:
        raise InputError("evidence.signing_key is not set; make a key with `sla-monitor evidence keygen --output "
                         "FILE` and set it to the file's path")
    from ..signing import load, public_pem  # cryptography: loaded by the commands that need it only

    print(public_pem(load(ctx.cfg.evidence.signing_key)), end="")
    return 0


COMMANDS = {"evidence verify": evidence_verify, "evidence public-key": evidence_public_key,
            "evidence export": evidence_export}
WITHOUT_CONFIG = {"evidence keygen": evidence_keygen}
