"""HTTP(S) probe: status, body contains/regex, JSON path equals, max latency, TLS, redirects."""
from __future__ import annotations

import functools
import json
import time

import aiohttp

from ..config.probes import HttpProbe
from ..config.types import linear_regex
from .base import Failed, Outcome, ProbeContext

_regex = functools.lru_cache(maxsize=1024)(linear_regex)  # compiled once per pattern


def json_path_value(document: object, path: str) -> object:
    """Follow a dotted path (``data.items.0.state``): keys into objects, integers into arrays."""
    current = document
    for part in path.split("."):
        if isinstance(current, dict) and part in current:
            current = current[part]
        elif isinstance(current, list) and part.lstrip("-").isdigit() and -len(current) <= int(part) < len(current):
            current = current[int(part)]
        else:
            raise Failed(f"json: no {path!r} in the body (stopped at {part!r})")
    return current


async def read_body(response: aiohttp.ClientResponse, limit: int) -> bytes:
    """The body up to ``limit`` bytes; a connection lost before the declared length raises (cut short)."""
    body = bytearray()
    while len(body) < limit:
        chunk = await response.content.read(limit - len(body))
        if not chunk:
            break
        body += chunk
    return bytes(body)


async def check(cfg: HttpProbe, ctx: ProbeContext) -> Outcome:
    """One request; every expectation in the config must hold."""
    started = time.perf_counter()
    ssl = ctx.ssl_context(cfg.verify_tls, cfg.ca_file) if cfg.url.startswith("https:") else None
    async with ctx.session(cfg.keepalive).request(
        cfg.method, cfg.url, headers=cfg.headers, data=cfg.body, allow_redirects=cfg.follow_redirects,
        ssl=ssl if ssl is not None else True,
    ) as response:
        body = await read_body(response, cfg.max_body_bytes + 1)  # one byte more tells "over the limit"
        status = response.status
    elapsed_ms = (time.perf_counter() - started) * 1000
    needs_body = cfg.body_contains is not None or cfg.body_regex is not None or cfg.json_path is not None
    if needs_body and len(body) > cfg.max_body_bytes and status in cfg.expect_status:
        return Outcome(ok=False, status_code=status,
                       error=f"body: over max_body_bytes ({cfg.max_body_bytes} bytes): not checked (raise the limit "
                             "or probe a smaller page)")
    fail = _expectations(cfg, status, body[: cfg.max_body_bytes], elapsed_ms)
    # Certificate expiry is the tls probe's to report: aiohttp releases the connection (and its
    # certificate) as soon as a short body is read.
    return Outcome(ok=fail is None, error=fail, status_code=status)


def _expectations(cfg: HttpProbe, status: int, body: bytes, elapsed_ms: float) -> str | None:
    """The first expectation that does not hold, as a readable error, or None."""
    if status not in cfg.expect_status:
        return f"HTTP {status} (expected {', '.join(map(str, cfg.expect_status))})"
    text = body.decode("utf-8", errors="replace")
    if cfg.body_contains is not None and cfg.body_contains not in text:
        return f"body: does not contain {cfg.body_contains!r}"
    if cfg.body_regex is not None and not _regex(cfg.body_regex).search(text):
        return f"body: does not match /{cfg.body_regex}/"
    if cfg.json_path is not None:
        try:
            document = json.loads(text)
        except ValueError as exc:
            return f"json: body is not JSON ({exc.args[0][:80]})"
        except RecursionError:
            return "json: body nested too deep to read"
        try:
            value = json_path_value(document, cfg.json_path)
        except Failed as exc:
            return str(exc)
        if cfg.json_equals is not None and value != cfg.json_equals:
            return f"json: {cfg.json_path} is {value!r}, expected {cfg.json_equals!r}"
    if cfg.max_latency is not None and elapsed_ms > cfg.max_latency:
        return f"slow: {elapsed_ms:.0f} ms > max_latency {cfg.max_latency} ms"
    return None
