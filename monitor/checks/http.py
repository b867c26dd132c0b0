"""HTTP(S) probe: status, body contains/regex, JSON path equals, max latency, TLS, redirects."""
from __future__ import annotations

import functools
import json
import socket
import ssl
import time
from typing import TYPE_CHECKING, Annotated, Literal
from urllib.parse import urlsplit

from pydantic import Field

from ..values import DurationMs, Regex, linear_regex

if TYPE_CHECKING:
    import aiohttp

from .base import Failed, Outcome, ProbeSettings, Resources, os_reason

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


def aiohttp_errors() -> tuple[type[BaseException], ...]:
    """What aiohttp raises for a failing target (the kinds that speak HTTP share it)."""
    import aiohttp

    return (aiohttp.ClientError,)


def describe_aiohttp(exc: BaseException) -> str | None:
    """aiohttp's errors in words (None for others): a refused or unresolved connection, a bad
    certificate, an answer that is not HTTP, a refused WebSocket handshake."""
    import aiohttp

    if isinstance(exc, aiohttp.ClientConnectorCertificateError):
        cert_error = getattr(exc, "certificate_error", exc)
        return f"tls: {getattr(cert_error, 'verify_message', None) or cert_error}"
    if isinstance(exc, ssl.SSLError):  # aiohttp's connector TLS errors are ssl errors too: named as TLS
        return None
    if isinstance(exc, aiohttp.ClientConnectorError) and isinstance(exc.os_error, socket.gaierror):
        return f"dns: cannot resolve {exc.host}: {exc.os_error.strerror}"
    if isinstance(exc, aiohttp.ClientConnectorError):
        return f"connect: {os_reason(exc.os_error)}"
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "http: server closed the connection before answering"
    if isinstance(exc, aiohttp.ClientPayloadError):
        return f"http: response body cut short ({exc})"
    if isinstance(exc, aiohttp.TooManyRedirects):
        return f"http: too many redirects ({len(exc.history)})"
    if isinstance(exc, aiohttp.WSServerHandshakeError):  # a ClientResponseError too: test it first
        return f"websocket: handshake refused (HTTP {exc.status}: {exc.message})"
    if isinstance(exc, aiohttp.ClientResponseError) and exc.status == 0:  # aiohttp could not parse it: not HTTP
        return f"http: not an HTTP answer ({(exc.message or '').splitlines()[0] if exc.message else 'unreadable'})"
    if isinstance(exc, aiohttp.ClientResponseError):
        return f"http: {exc.message or exc}"
    return None


async def attempt(cfg: HttpProbe, ctx: Resources) -> Outcome:
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


class SpeaksHttp(ProbeSettings):
    """A kind whose check speaks HTTP through aiohttp (http, websocket, the status feeds): the host is
    its ``url``'s, the target's errors are aiohttp's, named by ``describe_aiohttp``."""

    if TYPE_CHECKING:
        url: str  # each such kind declares its own, with its own pattern

    def target_host(self) -> str | None:
        return urlsplit(self.url).hostname

    def target_errors(self) -> tuple[type[BaseException], ...]:
        return aiohttp_errors()

    def describe(self, exc: BaseException) -> str | None:
        return describe_aiohttp(exc)


class HttpProbe(SpeaksHttp):
    kind: Literal["http"]
    """An HTTP(S) request and checks on its answer."""
    url: str = Field(pattern=r"^https?://\S+$")
    """What to request."""
    method: Literal["GET", "HEAD", "POST", "PUT", "OPTIONS"] = "GET"
    """The request method."""
    headers: dict[str, str] = {}
    """Request headers; values may use ${VAR} (tokens)."""
    body: str | None = None
    """Request body."""
    expect_status: tuple[Annotated[int, Field(ge=100, le=599)], ...] = (200,)  # a tuple: shared, not copied a probe
    """Status codes that pass."""
    body_contains: str | None = None
    """Text the body must contain."""
    body_regex: Regex | None = None
    """A regular expression the body must match (RE2 syntax: linear time, whatever the body)."""
    json_path: str | None = None
    """A dotted path into a JSON body (`status.ok`, `items.0.state`)."""
    json_equals: str | int | float | bool | None = None
    """The value the `json_path` must hold."""
    max_latency: DurationMs | None = None
    """A slower answer fails."""
    verify_tls: bool = True
    """Check the server's certificate."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA); the system store otherwise."""
    follow_redirects: bool = True
    """Follow redirects (to the same scheme or to https)."""
    keepalive: bool = False
    """Reuse connections; by default each probe opens a fresh one, as a user's first visit does."""
    max_body_bytes: int = Field(1_048_576, ge=1)
    """Read at most this much of the body; more fails."""

    async def check(self, ctx: Resources) -> Outcome:
        return await attempt(self, ctx)

