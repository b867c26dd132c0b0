"""The daemon's reader of the vendor's own status page (``vendor_status``): every interval it reads
the page's incidents and keeps what changed (``Storage.record_vendor_posts``). A page that hangs,
fails or returns garbage is logged and read again next time; it never stops the daemon."""
from __future__ import annotations

import asyncio
import logging
import ssl

import aiohttp

from ..checks.http import read_body
from ..clock import Clock
from ..config.models import VendorStatusConfig
from ..storage.interface import Storage
from ..vendor_status import VendorStatusError, page_url, read_page
from .dbthread import DbThread

log = logging.getLogger("sla_monitor.vendor_status")
MAX_BODY_BYTES = 5_242_880


async def keep_reading(cfg: VendorStatusConfig, db: DbThread, clock: Clock) -> None:
    """Read the page every ``cfg.interval`` until cancelled."""
    url = page_url(cfg.url, cfg.kind)
    context: ssl.SSLContext | bool = True
    if url.startswith("https:"):
        context = ssl.create_default_context(cafile=cfg.ca_file) if cfg.verify_tls else False
    timeout = aiohttp.ClientTimeout(total=cfg.timeout / 1000)
    async with aiohttp.ClientSession(timeout=timeout) as session:
        while True:
            try:
                await read_once(session, url, context, cfg, db, clock)
            except (aiohttp.ClientError, asyncio.TimeoutError, VendorStatusError) as exc:
                log.warning("event=vendor_status_unreadable url=%s error=%s", url, str(exc) or type(exc).__name__)
            except Exception:
                log.exception("event=vendor_status_failed url=%s", url)
            await asyncio.sleep(cfg.interval / 1000)


async def read_once(session: aiohttp.ClientSession, url: str, context: ssl.SSLContext | bool,
                    cfg: VendorStatusConfig, db: DbThread, clock: Clock) -> None:
    """One reading of the page: its posts kept, what changed logged."""
    async with session.get(url, ssl=context) as response:
        body = await read_body(response, MAX_BODY_BYTES + 1)
        if response.status != 200:
            raise VendorStatusError(f"{url}: HTTP {response.status}")
    if len(body) > MAX_BODY_BYTES:
        raise VendorStatusError(f"{url}: larger than {MAX_BODY_BYTES:,} bytes")
    posts = read_page(body, cfg.kind, cfg.components, url)
    now = clock.now_ms()
    added, changed = await db.call(Storage.record_vendor_posts, posts, now, now)
    if added or changed:
        log.info("event=vendor_status_read url=%s posts=%d new=%d changed=%d", url, len(posts), added, changed)
