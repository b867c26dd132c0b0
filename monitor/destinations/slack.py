"""Slack incoming webhook: one message per event, in Block Kit, escaped and within Slack's limits."""
from __future__ import annotations

import json
from typing import Any, Literal

from ..event import Event
from .base import DestinationSettings
from .text import cut, detail_lines
from .transport import Result, classify

ICONS = {"critical": ":red_circle:", "warning": ":large_orange_circle:", "info": ":large_green_circle:"}
SECTION_MAX = 3000  # characters of a section's text (Slack refuses the whole message past it)
CONTEXT_MAX = 2000  # characters of a context element's text

def escape(text: str) -> str:
    """Slack's mrkdwn control characters: ``&``, ``<``, ``>`` (so ``<!channel>`` in a reason notifies no one)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")

# Slack answers an incoming webhook's failures with a short code in the body (HTTP 400/403/404/410):
# these mean the webhook or its channel is gone or the payload is wrong, and retrying will not help.
PERMANENT = frozenset({"invalid_payload", "invalid_token", "no_service", "no_service_id", "no_team", "team_disabled",
                       "channel_not_found", "channel_is_archived", "action_prohibited",
                       "posting_to_general_channel_denied", "user_not_found", "invalid_blocks"})

class SlackDestination(DestinationSettings):
    """A Slack incoming webhook."""

    type: Literal["slack"]
    """A Slack incoming webhook (Block Kit)."""

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        headline = cut(f"{ICONS[event.severity]} *{event.type}*: {escape(event.summary)}", SECTION_MAX)
        blocks: list[dict[str, Any]] = [{"type": "section", "text": {"type": "mrkdwn", "text": headline}}]
        details = detail_lines(event, escape, lambda probe: f"`{probe}`")
        if details:
            blocks.append({"type": "section", "text": {"type": "mrkdwn", "text": cut("\n".join(details), SECTION_MAX)}})
        links = " · ".join(f"<{href}|{escape(text)}>" for text, href in event.data.get("links", {}).items())
        context = f"region `{escape(event.region or '-')}` · {event.as_json()['occurred_at']} · id `{escape(event.id)}`"
        blocks.append({"type": "context", "elements": [{"type": "mrkdwn",
                                                        "text": cut(context + (f" · {links}" if links else ""),
                                                                    CONTEXT_MAX)}]})
        body = {"text": headline, "blocks": blocks}
        return json.dumps(body, separators=(",", ":")).encode(), dict(self.headers)

    def judge(self, status: int, text: str, location: str | None = None) -> Result:
        """Slack's codes named; rate limits (429) and Slack's own errors (5xx) are retried."""
        result = classify(status, text, location)
        code = text.strip()
        if not result.ok and code in PERMANENT:
            return Result(False, permanent=True, error=f"slack: {code} (HTTP {status}; fix the webhook URL or payload)")
        return result
