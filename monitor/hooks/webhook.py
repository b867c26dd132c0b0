"""Generic webhook: the event as JSON, signed per the Standard Webhooks convention
(``webhook-id``, ``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256>``)."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json

from .events import Event
from .transport import post


def signing_key(secret: str) -> bytes:
    """``whsec_<base64>`` keys are decoded (the convention); any other text is used as it is."""
    return base64.b64decode(secret[6:]) if secret.startswith("whsec_") else secret.encode()


def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(signing_key(secret), signed, hashlib.sha256).digest()).decode()


def build_payload(event: Event, dest, now_ms: int) -> tuple[bytes, dict]:
    body = json.dumps(event.as_json(), separators=(",", ":"), sort_keys=True).encode()
    timestamp = now_ms // 1000
    headers = {"webhook-id": event.id, "webhook-timestamp": str(timestamp), **dest.headers}
    if dest.secret:
        headers["webhook-signature"] = signature(dest.secret, event.id, timestamp, body)
    return body, headers


async def send(session, dest, body: bytes, headers: dict):
    return await post(session, dest.url, body, headers, dest.timeout)
