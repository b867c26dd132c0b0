"""Slack incoming webhook: one message per event."""
from __future__ import annotations

import json

from .events import Event
from .transport import post

ICONS = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_green_circle:"}


def build_payload(event: Event, dest, now_ms: int) -> tuple[bytes, dict]:
    text = f"{ICONS[event.severity]} *{event.type}*: {event.summary}"
    body = {"text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}},
                       {"type": "context", "elements": [{"type": "mrkdwn",
                                                         "text": f"region `{event.region or '-'}` · "
                                                                 f"{event.as_json()['occurred_at']} · id `{event.id}`"}]}]}
    return json.dumps(body, separators=(",", ":")).encode(), dict(dest.headers)


async def send(session, dest, body: bytes, headers: dict):
    return await post(session, dest.url, body, headers, dest.timeout)
