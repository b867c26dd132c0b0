"""TCP probe: a connection is accepted."""
from __future__ import annotations

import asyncio
from typing import Literal

from pydantic import Field

from .base import Outcome, ProbeSettings, Resources


async def attempt(cfg: TcpProbe, ctx: Resources) -> Outcome:
    """Connect and close; refusals and timeouts surface as the runner's errors."""
    _, writer = await asyncio.open_connection(cfg.host, cfg.port)
    writer.close()
    await writer.wait_closed()
    return Outcome(ok=True)


class TcpProbe(ProbeSettings):
    kind: Literal["tcp"]
    """A TCP connection."""
    host: str = Field(min_length=1)
    """Host name or address."""
    port: int = Field(ge=1, le=65535)
    """Port."""

    async def check(self, ctx: Resources) -> Outcome:
        return await attempt(self, ctx)

    def target_host(self) -> str | None:
        return self.host
