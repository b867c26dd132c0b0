"""WebSocket probe: the handshake succeeds; optionally a message sent is answered as expected."""
from __future__ import annotations

import aiohttp

from ..config.probes import WebSocketProbe
from .base import Failed, Outcome, ProbeContext


async def check(cfg: WebSocketProbe, ctx: ProbeContext) -> Outcome:
    """Handshake, then send ``send`` and wait for a message containing ``expect``."""
    ssl = ctx.ssl_context(cfg.verify_tls, cfg.ca_file) if cfg.url.startswith("wss:") else True
    async with ctx.session(keepalive=False).ws_connect(cfg.url, headers=cfg.headers, ssl=ssl,
                                                       autoping=True) as ws:
        if cfg.send is not None:
            await ws.send_str(cfg.send)
        if cfg.expect is not None:
            message = await ws.receive()
            if message.type not in (aiohttp.WSMsgType.TEXT, aiohttp.WSMsgType.BINARY):
                raise Failed(f"websocket: connection ended ({message.type.name.lower()}) before {cfg.expect!r}")
            data = message.data if isinstance(message.data, str) else message.data.decode("utf-8", "replace")
            if cfg.expect not in data:
                return Outcome(ok=False, error=f"websocket: got {data[:80]!r}, expected {cfg.expect!r}")
    return Outcome(ok=True)
