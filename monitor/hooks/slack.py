"""Slack incoming webhook: one message per event."""
from __future__ import annotations

import json

from .events import Event
from .transport import Result, classify, post

ICONS = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_green_circle:"}


def build_payload(event: Event, dest, now_ms: int) -> tuple[bytes, dict]:
    text = f"{ICONS[event.severity]} *{event.type}*: {event.summary}"
    body = {"text": text,
            "blocks": [{"type": "section", "text": {"type": "mrkdwn", "text": text}},
                       {"type": "context", "elements": [{"type": "mrkdwn",
                                                         "text": f"region `{event.region or '-'}` · "
                                                                 f"{event.as_json()['occurred_at']} · id `{event.id}`"}]}]}
    return json.dumps(body, separators=(",", ":")).encode(), dict(dest.headers)


# Slack answers an incoming webhook's failures with a short code in the body (HTTP 400/403/404/410):
# these mean the webhook or its channel is gone or the payload is wrong, and retrying will not help.
PERMANENT = frozenset({"invalid_payload", "invalid_token", "no_service", "no_service_id", "no_team", "team_disabled",
                       "channel_not_found", "channel_is_archived", "action_prohibited",
                       "posting_to_general_channel_denied", "user_not_found", "invalid_blocks"})


def judge(status: int, text: str, location: str | None = None) -> Result:
    """Slack's codes named; rate limits (429) and Slack's own errors (5xx) are retried."""
    result = classify(status, text, location)
    code = text.strip()
    if not result.ok and code in PERMANENT:
        return Result(False, permanent=True, error=f"slack: {code} (HTTP {status}; fix the webhook URL or payload)")
    return result


async def send(session, dest, body: bytes, headers: dict):
    return await post(session, dest.url, body, headers, dest.timeout, judge)
