"""POST a payload and classify the answer: delivered, transient (retry) or permanent (give up).

Redirects are never followed: a POST turned into a GET delivers nothing, so a 3xx is a failure.
Each destination may pass its own ``classify`` for what its service's answers mean."""
from __future__ import annotations

import asyncio
import dataclasses
import email.utils
import json
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
    retry_after_ms: int | None = None  # the service asked to wait this long (in its answer's body)
    retry_after: str | None = None  # a 429's or 503's Retry-After header, as sent (``retry_after_ms`` reads it)


MAX_RETRY_AFTER_MS = 3_600_000  # a longer wait asked for is taken as an hour: max_age still gives up


def retry_after_ms(value: str | None, now_s: float) -> int | None:
    """A Retry-After header's wait in ms: delta-seconds or an HTTP date (RFC 9110 §10.2.3); None when
    absent or unreadable."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(int(value) * 1000, MAX_RETRY_AFTER_MS)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is GMT by definition
        return None
    return min(max(0, int((when.timestamp() - now_s) * 1000)), MAX_RETRY_AFTER_MS)

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


def json_object(text: str) -> dict:
    """An answer's JSON object ({} when the body is not one)."""
    try:
        answer = json.loads(text)
    except ValueError:
        return {}
    return answer if isinstance(answer, dict) else {}


def named(result: Result, service: str, status: int, words: object, wait_s: object = None) -> Result:
    """A failed ``result`` in the service's own ``words`` (when it gave some), with the wait its 429's
    body asked for (``wait_s`` seconds)."""
    error = f"{service}: {words} (HTTP {status})" if isinstance(words, str) and words else result.error
    wait = int(float(wait_s) * 1000) if isinstance(wait_s, (int, float)) and status == 429 else None
    return Result(False, result.permanent, error, wait)

async def post(session: aiohttp.ClientSession, url: str, body: bytes, headers: dict, timeout_ms: int,
               judge: Classify = classify) -> Result:
    """One POST, no redirects followed; the answer judged by ``judge`` (the destination's rules)."""
    import aiohttp  # here: the config, which names the destinations, loads without it

    try:
        async with asyncio.timeout(timeout_ms / 1000):
            async with session.post(url, data=body, allow_redirects=False,
                                    headers={"Content-Type": "application/json", **headers}) as r:
                text = (await r.content.read(500)).decode("utf-8", "replace")
                status, location, wait = r.status, r.headers.get("Location"), r.headers.get("Retry-After")
    except TimeoutError:
        return Result(False, error=f"timeout after {timeout_ms / 1000:g} s")
    except (aiohttp.ClientError, OSError) as exc:
        return Result(False, error=f"{type(exc).__name__}: {exc}"[:300])
    result = judge(status, text, _host_of(location))
    if not result.ok and not result.permanent and status in (429, 503) and wait:
        result = dataclasses.replace(result, retry_after=wait)
    return result

def _host_of(location: str | None) -> str | None:
    """Only the host of a redirect target: a Slack or webhook path is often a secret."""
    if not location:
        return None
    return urlsplit(location).hostname or "a relative path"
