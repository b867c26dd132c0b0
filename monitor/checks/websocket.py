"""WebSocket probe: the handshake succeeds; optionally a message sent is answered as expected."""
from __future__ import annotations

from typing import Literal

from pydantic import Field

from . import http
from .base import Failed, Outcome, Resources


async def attempt(cfg: WebSocketProbe, ctx: Resources) -> Outcome:
    """Handshake, then send ``send`` and wait for a message containing ``expect``."""
    import aiohttp  # here: loading the config (which names this kind) needs none of it

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


class WebSocketProbe(http.SpeaksHttp):
    kind: Literal["websocket"]
    """A WebSocket handshake, optionally a message and its reply."""
    url: str = Field(pattern=r"^wss?://\S+$")
    """ws:// or wss:// URL."""
    headers: dict[str, str] = {}
    """Handshake headers; values may use ${VAR}."""
    send: str | None = None
    """A text message sent after the handshake."""
    expect: str | None = None
    """Text the first reply must contain."""
    verify_tls: bool = True
    """Check the server's certificate."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA)."""

    async def check(self, ctx: Resources) -> Outcome:
        return await attempt(self, ctx)

