"""Fetching a status feed: any failure to read it is Unknown (the provider's state is then unknown)."""
from __future__ import annotations

import aiohttp

from ..config.probes import RssProbe, StatuspageProbe
from .base import ProbeContext, Unknown
from .http import read_body


async def fetch(ctx: ProbeContext, cfg: StatuspageProbe | RssProbe, url: str) -> bytes:
    """The body of ``url`` (at most ``cfg.max_body_bytes``); Unknown on a bad status or an oversized body."""
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
