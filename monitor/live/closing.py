"""The daemon's side of the evidence chain's closes (``storage/closes.py``): at start and every
``CHECK_EVERY_S`` after, whatever day or month ended is chained (a month's close signed)."""
from __future__ import annotations

import asyncio
import logging
from typing import Callable, Sequence
from zoneinfo import ZoneInfo

from ..clock import Clock
from ..config import Config
from ..hooks import events
from ..hooks.events import routed
from ..outbox import Routed
from ..sla.calendar import iso
from ..storage.chain import Link
from ..storage.closes import close_due
from ..storage.interface import Storage
from ..storage.sqlstore import SqlStore
from .dbthread import DbThread

log = logging.getLogger("sla_monitor.evidence")
CHECK_EVERY_S = 60


async def keep_closing(cfg: Config, db: DbThread, clock: Clock, public_url: Callable[[], str],
                       wake: Callable[[], None]) -> None:
    """Chain each close when it is due, a month's with an ``evidence.month_closed`` event for the routes
    that take it (``wake``: the deliverer); a failure is logged and tried again next time (nothing is
    lost: a close missed now is written, with its own instant, when it succeeds)."""
    zone, sign = ZoneInfo(cfg.timezone), signer(cfg.evidence.signing_key)

    def announce(link: Link) -> Sequence[Routed]:
        event = events.evidence_month_closed(link.subject, link.seq, link.link, link.signature is not None,
                                             public_url(), clock.now_ms())
        return routed([event], cfg.hooks.routes)

    while True:
        try:
            written = await db.run(_closes, clock.now_ms(), zone, sign, announce)
            if any(link.kind == "month" for link in written):
                wake()
            for link in written:
                log.info("event=evidence_closed kind=%s period=%s link=%d hash=%s at=%s signed=%s", link.kind,
                         link.subject, link.seq, link.link, iso(link.at_ms), link.kind == "month" and sign is not None)
        except Exception:
            log.exception("event=evidence_close_failed")
        await asyncio.sleep(CHECK_EVERY_S)


def signer(signing_key: str | None) -> Callable[[bytes], str] | None:
    """Text → hex signature with the configured key (None without one). Imported here, only when a key
    is set: cryptography is otherwise never loaded by the daemon's process."""
    if signing_key is None:
        return None
    from ..signing import load, sign

    key = load(signing_key)
    return lambda text: sign(key, text)


def _closes(store: Storage, now_ms: int, zone: ZoneInfo, sign: Callable[[bytes], str] | None,
            announce: Callable[[Link], Sequence[Routed]]) -> list[Link]:
    # Only the SQL stores keep a chain (the in-memory one of the tests keeps none).
    return close_due(store, now_ms, zone, sign, announce) if isinstance(store, SqlStore) else []
