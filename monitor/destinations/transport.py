"""POST a payload and classify the answer: delivered, transient (retry) or permanent (give up).

Redirects are never followed: a POST turned into a GET delivers nothing, so a 3xx is a failure.
Each destination may pass its own ``classify`` for what its service's answers mean."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable
from urllib.parse import urlsplit

if TYPE_CHECKING:  # aiohttp is imported where a post is made: loading the config needs none of it
    import aiohttp

@dataclass(frozen=True)
class Result:
    ok: bool
    permanent: bool = False
    error: str | None = None

def classify(status: int, text: str, location: str | None = None) -> Result:
    """2xx delivered; 3xx permanent (fix the URL); 408, 429 and 5xx transient; other 4xx permanent."""
    if 200 <= status < 300:
        return Result(True)
    if 300 <= status < 400:
        return Result(False, permanent=True,
                      error=f"HTTP {status}: redirect{' to ' + location if location else ''} not followed "
                            "(alerts are POSTs; point the destination's url at the final address)")
    permanent = 400 <= status < 500 and status not in (408, 429)
    return Result(False, permanent=permanent, error=f"HTTP {status}: {text[:200]}")

Classify = Callable[[int, str, "str | None"], Result]

async def post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict, timeout_ms: int,
               judge: Classify = classify) -> Result:
    """One POST, no redirects followed; the answer judged by ``judge`` (the destination's rules)."""
    import aiohttp  # here: the config, which names the destinations, loads without it

    try:
        async with asyncio.timeout(timeout_ms / 1000):
            async with session.post(url, data=body, allow_redirects=False,
                                    headers={"Content-Type": "application/json", **headers}) as r:
                text = (await r.content.read(500)).decode("utf-8", "replace")
                status, location = r.status, r.headers.get("Location")
    except TimeoutError:
        return Result(False, error=f"timeout after {timeout_ms / 1000:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return Result(False, error=f"{type(exc).__name__}: {exc}"[:300])
    return judge(status, text, _host_of(location))

def _host_of(location: str | None) -> str | None:
    """Only the host of a redirect target: a Slack or webhook path is often a secret."""
    if not location:
        return None
    return urlsplit(location).hostname or "a relative path"
