"""The daemon's side of the evidence chain's closes (``evidence/closes.py``): at start and every
``CHECK_EVERY_S`` after, whatever day or month ended is chained (a month's close signed)."""
from __future__ import annotations

import asyncio
import logging
from zoneinfo import ZoneInfo

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ..clock import Clock
from ..config import Config
from ..evidence.closes import close_due
from ..evidence.signing import load
from ..sla.calendar import iso
from ..storage.chain import Link
from ..storage.interface import Storage
from ..storage.sqlstore import SqlStore
from .dbthread import DbThread

log = logging.getLogger("sla_monitor.evidence")
CHECK_EVERY_S = 60


async def keep_closing(cfg: Config, db: DbThread, clock: Clock) -> None:
    """Chain each close when it is due; a failure is logged and tried again next time (nothing is lost:
    a close missed now is written, with its own instant, when it succeeds)."""
    zone, key = ZoneInfo(cfg.timezone), load(cfg.evidence.signing_key) if cfg.evidence.signing_key else None
    while True:
        try:
            written = await db.run(_closes, clock.now_ms(), zone, key)
            for link in written:
                log.info("event=evidence_closed kind=%s period=%s link=%d hash=%s at=%s signed=%s", link.kind,
                         link.subject, link.seq, link.link, iso(link.at_ms), link.kind == "month" and key is not None)
        except Exception:
            log.exception("event=evidence_close_failed")
        await asyncio.sleep(CHECK_EVERY_S)


def _closes(store: Storage, now_ms: int, zone: ZoneInfo, key: Ed25519PrivateKey | None) -> list[Link]:
    # Only the SQL stores keep a chain (the in-memory one of the tests keeps none).
    return close_due(store, now_ms, zone, key) if isinstance(store, SqlStore) else []
