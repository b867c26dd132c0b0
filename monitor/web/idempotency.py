"""Idempotency keys for the API's writes: a POST sent again with the same ``Idempotency-Key`` (by the
same token) gets the first answer again, marked ``Idempotent-Replayed: true``, and creates nothing; the
key sent with another request is a 422. The answers are kept in the store, so a retry after a restart
or through the other instance of a pair is answered the same."""
from __future__ import annotations

import asyncio
import hashlib
from typing import Awaitable, Callable

from aiohttp import web

from ..live.records import RecordService
from .problems import problem

HEADER = "Idempotency-Key"
MAX_KEY = 255


async def once(request: web.Request, records: RecordService, token: str, locks: dict,
               write: Callable[[], Awaitable[web.Response]]) -> web.Response:
    """Answer a write once per key: ``write`` runs for the first request only, and only a success is kept
    (a refused request may be sent again, corrected, with the same key)."""
    key = request.headers.get(HEADER)
    if key is None:
        return await write()
    if not 0 < len(key) <= MAX_KEY or not key.isascii() or not key.isprintable():
        return problem(400, f"{HEADER}: 1 to {MAX_KEY} printable ASCII characters (a UUID, say)")
    fingerprint = hashlib.sha256(b"\n".join([request.method.encode(), request.path_qs.encode(),
                                             await request.read()])).hexdigest()
    lock = locks.setdefault((token, key), asyncio.Lock())  # two copies of one request in flight: one writes
    async with lock:
        kept = await records.answered(token, key)
        if kept is not None:
            if kept["fingerprint"] != fingerprint:
                return problem(422, f"{HEADER} {key!r} was sent before with another request; a new request "
                                    "needs a new key")
            return web.Response(status=kept["status"], body=kept["body"].encode(), content_type="application/json",
                                headers={"Idempotent-Replayed": "true"})
        response = await write()
        if 200 <= response.status < 300 and isinstance(response.body, bytes):
            await records.remember(token, key, fingerprint, response.status, response.body.decode())
        return response
