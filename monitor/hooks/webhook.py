"""Generic webhook: the event as JSON, signed per Standard Webhooks (``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

import aiohttp

from ..config.destinations import WebhookDestination, webhook_key
from ..event import Event
from .transport import Result, post


def message_id(event: Event) -> str:
    """A stable ``webhook-id`` in the spec's characters (``msg_`` and hex): the same on every retry,
    so receivers deduplicate; event ids themselves contain ``:`` and ``.``."""
    return "msg_" + hashlib.sha256(event.id.encode()).hexdigest()[:32]


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``msg_id.timestamp.body`` with the secret's base64-decoded key."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()).decode()


def build_payload(event: Event, dest: WebhookDestination, now_ms: int) -> tuple[bytes, dict]:
    """The body and signed headers; ``now_ms`` is the send time (verifiers reject old timestamps), so
    each attempt is signed anew."""
    body = json.dumps(event.as_json(), separators=(",", ":"), sort_keys=True).encode()
    timestamp = now_ms // 1000
    msg_id = message_id(event)
    headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), **dest.headers}
    if dest.secret:
        headers["webhook-signature"] = signature(dest.secret, msg_id, timestamp, body)
    return body, headers


async def send(session: aiohttp.ClientSession, dest: WebhookDestination, body: bytes, headers: dict) -> Result:
    return await post(session, dest.url, body, headers, dest.timeout)
