"""TCP probe: a connection is accepted."""
from __future__ import annotations

import asyncio

from ..config.probes import TcpProbe
from .base import Outcome, ProbeContext


async def check(cfg: TcpProbe, ctx: ProbeContext) -> Outcome:
    """Connect and close; refusals and timeouts surface as the runner's errors."""
    _, writer = await asyncio.open_connection(cfg.host, cfg.port)
    writer.close()
    await writer.wait_closed()
    return Outcome(ok=True)
