"""POST a payload and classify the answer: delivered, transient (retry) or permanent (give up)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass

import aiohttp


@dataclass(frozen=True)
class Result:
    ok: bool
    permanent: bool = False
    error: str | None = None


async def post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict, timeout_ms: int) -> Result:
    """2xx delivered; timeouts, connection errors, 408, 429 and 5xx transient; other 4xx permanent."""
    try:
        async with asyncio.timeout(timeout_ms / 1000):
            async with session.post(url, data=body, headers={"Content-Type": "application/json", **headers}) as r:
                text = (await r.content.read(500)).decode("utf-8", "replace")
                status = r.status
    except TimeoutError:
        return Result(False, error=f"timeout after {timeout_ms / 1000:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return Result(False, error=f"{type(exc).__name__}: {exc}"[:300])
    if 200 <= status < 300:
        return Result(True)
    permanent = 400 <= status < 500 and status not in (408, 429)
    return Result(False, permanent=permanent, error=f"HTTP {status}: {text[:200]}")
