"""Fetching a status feed: any failure to read it is Unknown (the provider's state is then unknown)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from .base import Resources, Unknown
from .http import read_body

if TYPE_CHECKING:
    from .rss import RssProbe
    from .statuspage import StatuspageProbe


async def fetch(ctx: Resources, cfg: StatuspageProbe | RssProbe, url: str) -> bytes:
    """The body of ``url`` (at most ``cfg.max_body_bytes``); Unknown on a bad status or an oversized body."""
    import aiohttp  # here: loading the config (which names the feed kinds) needs none of it

    ssl = ctx.ssl_context(cfg.verify_tls, cfg.ca_file) if url.startswith("https:") else True
    try:
        async with ctx.session(keepalive=True).get(url, ssl=ssl) as response:
            body = await read_body(response, cfg.max_body_bytes + 1)
            status = response.status
    except aiohttp.ClientPayloadError as exc:
        raise Unknown(f"feed: {url}: body cut short ({exc})") from None
    if status != 200:
        raise Unknown(f"feed: {url}: HTTP {status}")
    if len(body) > cfg.max_body_bytes:
        raise Unknown(f"feed: {url}: body larger than max_body_bytes ({cfg.max_body_bytes})")
    return body
