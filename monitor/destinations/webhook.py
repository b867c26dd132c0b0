"""Generic webhook: the event as JSON, signed per Standard Webhooks (``webhook-id``,
``webhook-timestamp``, ``webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>``)."""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
from typing import Literal

from pydantic import Field, field_validator

from ..event import Event
from .base import SECRET, DestinationSettings

BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")  # the standard alphabet; the padding may be left out

def webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: base64, padded or not, after an optional ``whsec_``
    prefix, decoded exactly as the official verifiers decode it (they add the padding themselves).
    ValueError for what they refuse (a length no base64 has, nothing at all), for characters outside the
    base64 alphabet (Python's verifiers would drop them silently and sign with another key than the one
    written; other languages' refuse them) and for keys under 16 bytes (too weak to sign with)."""
    body = secret.removeprefix("whsec_")
    if not BASE64.fullmatch(body):
        raise ValueError("must be base64 (A-Z a-z 0-9 + /, padding optional), with or without the whsec_ prefix; "
                         "e.g. whsec_ followed by `openssl rand -base64 32`")
    try:
        key = base64.b64decode(body + "==")  # the verifiers' own decoding: extra padding is ignored
    except binascii.Error:
        raise ValueError(f"is not whole base64: {len(body.rstrip('='))} characters leave one over (base64 comes in "
                         "groups of 4, the last of 2 or more); copy the whole secret") from None
    if len(key) < 16:
        raise ValueError("decodes to fewer than 16 bytes: use at least 24 random bytes (`openssl rand -base64 32`)")
    return key

def message_id(event: Event) -> str:
    """A stable ``webhook-id`` in the spec's characters (``msg_`` and hex): the same on every retry,
    so receivers deduplicate; event ids themselves contain ``:`` and ``.``."""
    return "msg_" + hashlib.sha256(event.id.encode()).hexdigest()[:32]

def signature(secret: str, msg_id: str, timestamp: int, body: bytes) -> str:
    """``v1,<base64 HMAC-SHA256>`` of ``msg_id.timestamp.body`` with the secret's base64-decoded key."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(webhook_key(secret), signed, hashlib.sha256).digest()).decode()

class WebhookDestination(DestinationSettings):
    """JSON signed per Standard Webhooks."""

    type: Literal["webhook"]
    """JSON signed per Standard Webhooks."""
    secret: str | None = Field(None, json_schema_extra=SECRET)
    """The signing secret: `whsec_` and base64 (padded or not), or base64 alone; unset: unsigned."""

    @field_validator("secret")
    @classmethod
    def _decodes(cls, secret: str | None) -> str | None:
        if secret is not None:
            webhook_key(secret)
        return secret

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        """The body and signed headers; ``now_ms`` is the send time (verifiers reject old timestamps), so
        each attempt is signed anew."""
        body = json.dumps(event.as_json(), separators=(",", ":"), sort_keys=True).encode()
        timestamp = now_ms // 1000
        msg_id = message_id(event)
        headers = {"webhook-id": msg_id, "webhook-timestamp": str(timestamp), **self.headers}
        if self.secret:
            headers["webhook-signature"] = signature(self.secret, msg_id, timestamp, body)
        return body, headers
