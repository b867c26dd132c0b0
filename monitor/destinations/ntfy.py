"""ntfy (ntfy.sh or your own server): one notification per event through its JSON publishing, with a
title, a priority by severity, tags (shown as emoji) and the status page as the click target."""
from __future__ import annotations

import json
from typing import Literal

from pydantic import Field

from ..event import Event
from .base import SECRET, URL, DestinationSettings
from .text import detail_lines
from .transport import Result, classify, json_object, named

PRIORITY = {"critical": 5, "warning": 4, "info": 3}  # urgent, high, default
TAGS = {"critical": "rotating_light", "warning": "warning", "info": "white_check_mark"}
MESSAGE_MAX_BYTES = 4096  # past it, ntfy turns the message into an attachment
TITLE_MAX = 250


def cut_bytes(text: str, limit: int) -> str:
    """``text`` within ``limit`` UTF-8 bytes, an ellipsis where it was cut (never inside a character)."""
    raw = text.encode()
    if len(raw) <= limit:
        return text
    return raw[: limit - 3].decode("utf-8", "ignore") + "…"


class NtfyDestination(DestinationSettings):
    """An ntfy topic."""

    type: Literal["ntfy"]
    """An ntfy topic (ntfy.sh or a server of your own)."""
    url: str = Field("https://ntfy.sh", pattern=URL)
    """The ntfy server."""
    topic: str = Field(pattern=r"^[-_A-Za-z0-9]{1,64}$", json_schema_extra=SECRET)
    """The topic; on a public server its name is all that guards it, so treat it as a secret."""
    token: str | None = Field(None, json_schema_extra=SECRET)
    """An access token (`tk_…`) for a protected topic; use ${VAR}."""

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        links = event.data.get("links", {})
        message = "\n".join([event.summary, *detail_lines(event),
                             f"{event.region or '-'} · {event.as_json()['occurred_at']} · {event.id}"])
        body = {"topic": self.topic, "title": cut_bytes(f"{event.type}: {event.region or 'sla-monitor'}", TITLE_MAX),
                "message": cut_bytes(message, MESSAGE_MAX_BYTES), "priority": PRIORITY[event.severity],
                "tags": [TAGS[event.severity], event.type.split(".")[0]]}
        if links:
            body["click"] = next(iter(links.values()))
            body["actions"] = [{"action": "view", "label": text[:40], "url": href}
                               for text, href in list(links.items())[:3]]
        headers = dict(self.headers)
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), headers

    def judge(self, status: int, text: str, location: str | None = None) -> Result:
        """ntfy's own error named (a refused token or topic is permanent, a rate limit is retried)."""
        result = classify(status, text, location)
        return result if result.ok else named(result, "ntfy", status, json_object(text).get("error"))
