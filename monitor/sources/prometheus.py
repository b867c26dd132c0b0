"""A small client of the Prometheus HTTP API (Prometheus, Thanos, Mimir, VictoriaMetrics) that reads
raw samples: an instant query of a range vector returns every stored sample with its own timestamp,
so nothing is interpolated and a missing scrape stays missing."""
from __future__ import annotations

import asyncio
import base64
import math
from typing import Awaitable, Callable, NamedTuple

import aiohttp
import orjson

from ..config.models import PrometheusSource
from ..errors import PrometheusError

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
BACKOFF_S = 0.5  # the first retry waits this long, each next one twice as long


class Series(NamedTuple):
    labels: dict[str, str]
    points: list[tuple[int, float]]  # (ms, value), oldest first


def auth_headers(source: PrometheusSource) -> dict[str, str]:
    """The configured headers plus the bearer token or basic auth (secrets: never logged)."""
    headers = dict(source.headers)
    if source.bearer_token is not None:
        headers["Authorization"] = f"Bearer {source.bearer_token}"
    elif source.basic_auth is not None:
        pair = f"{source.basic_auth.username}:{source.basic_auth.password}".encode()
        headers["Authorization"] = f"Basic {base64.b64encode(pair).decode()}"
    return headers


class PrometheusClient:
    """Raw samples over HTTP with retries (exponential backoff) on connection errors, timeouts, 429 and
    5xx; a refused query (4xx) fails at once with Prometheus's own error text."""

    def __init__(self, session: aiohttp.ClientSession, url: str, source: PrometheusSource,
                 sleep: Callable[[float], Awaitable[None]] = asyncio.sleep):
        self.session = session
        self.base = url.rstrip("/")
        self.source = source
        self.headers = auth_headers(source)
        self.sleep = sleep
        self.requests = 0
        self.warnings: list[str] = []

    async def raw(self, selector: str, start_ms: int, end_ms: int) -> list[Series]:
        """Every sample of ``selector``'s series in ``[start_ms, end_ms)``."""
        # A range vector at time T holds the samples in [T - range, T]: ask at end - 1 ms and keep >= start.
        params = {"query": f"{selector}[{end_ms - start_ms}ms]", "time": f"{(end_ms - 1) / 1000:.3f}"}
        data = await self._get("/api/v1/query", params)
        if data.get("resultType") != "matrix":
            raise PrometheusError(f"{self.base}: {selector}: expected a matrix, got {data.get('resultType')!r}")
        out = []
        for item in data.get("result", []):
            points = [(round(float(ts) * 1000), float(value)) for ts, value in item.get("values", [])]
            points = [(ts, v) for ts, v in points if start_ms <= ts < end_ms and not math.isnan(v)]
            if points:
                out.append(Series(item.get("metric", {}), points))
        return out

    async def _get(self, path: str, params: dict[str, str]) -> dict:
        timeout = aiohttp.ClientTimeout(total=self.source.timeout / 1000)
        last = ""
        for attempt in range(self.source.retries + 1):
            if attempt:
                await self.sleep(BACKOFF_S * 2 ** (attempt - 1))
            self.requests += 1
            try:
                async with self.session.get(self.base + path, params=params, headers=self.headers,
                                            timeout=timeout) as response:
                    body = await response.read()
                    if response.status in RETRY_STATUSES:
                        last = f"HTTP {response.status}: {_error_text(body)}"
                        continue
                    answer = _decode(body)
                    if response.status != 200 or answer.get("status") != "success":
                        raise PrometheusError(f"{self.base}{path}: query {params['query']!r} refused: HTTP "
                                              f"{response.status}: {_error_text(body)}")
                    self.warnings += [str(w) for w in answer.get("warnings", [])]
                    return answer.get("data") or {}
            except (aiohttp.ClientError, asyncio.TimeoutError) as exc:
                last = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        raise PrometheusError(f"{self.base}{path}: no answer after {self.source.retries + 1} attempts ({last}); "
                              "check the URL, the network and Prometheus's health")


def _decode(body: bytes) -> dict:
    try:
        answer = orjson.loads(body)
    except orjson.JSONDecodeError:
        return {"status": "error", "error": f"not JSON: {body[:120]!r}"}
    return answer if isinstance(answer, dict) else {"status": "error", "error": "not a JSON object"}


def _error_text(body: bytes) -> str:
    answer = _decode(body)
    return str(answer.get("error") or answer.get("errorType") or body[:200].decode(errors="replace")).strip()
