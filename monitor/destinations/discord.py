"""Discord webhook: one message per event, as an embed within Discord's limits. Markdown in the texts is
escaped, and no mention in them pings anyone (``allowed_mentions`` parses none)."""
from __future__ import annotations

import json
import re
from typing import Literal

from ..event import Event
from .base import DestinationSettings
from .text import cut, detail_lines
from .transport import Result, classify, json_object, named

# Discord's limits (its "Embed Limits"): characters per part, and 6,000 over the whole embed.
TITLE_MAX, DESCRIPTION_MAX, FIELD_NAME_MAX, FIELD_VALUE_MAX, FOOTER_MAX, FIELDS_MAX, EMBED_MAX = (
    256, 4096, 256, 1024, 2048, 25, 6000)
COLOURS = {"critical": 0xD83C3E, "warning": 0xF2A33A, "info": 0x2EB67D}
_MARKDOWN = re.compile(r"([\\*_~`|>#\[\]<@:])")  # markdown, masked links, mentions, emoji codes


def escape(text: str) -> str:
    """Discord's markdown and mention characters, backslash-escaped: shown as written, never formatting,
    never a mention or a masked link."""
    return _MARKDOWN.sub(r"\\\1", text)



def _size(embed: dict) -> int:
    """The characters Discord counts towards an embed's 6,000."""
    return (len(embed.get("title", "")) + len(embed.get("description", "")) + len(embed["footer"]["text"])
            + sum(len(f["name"]) + len(f["value"]) for f in embed.get("fields", [])))


class DiscordDestination(DestinationSettings):
    """A Discord channel webhook."""

    type: Literal["discord"]
    """A Discord channel webhook (`https://discord.com/api/webhooks/ID/TOKEN`; the URL is the secret)."""

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        fields = [{"name": "region", "value": escape(event.region or "-"), "inline": True},
                  {"name": "occurred", "value": event.as_json()["occurred_at"], "inline": True}]
        fields += [{"name": cut(escape(text), FIELD_NAME_MAX), "value": cut(href, FIELD_VALUE_MAX), "inline": False}
                   for text, href in event.data.get("links", {}).items()]
        embed = {"title": cut(f"{event.type}: {escape(event.summary)}", TITLE_MAX),
                 "color": COLOURS[event.severity], "timestamp": event.as_json()["occurred_at"],
                 "fields": fields[:FIELDS_MAX], "footer": {"text": cut(f"sla-monitor · id {event.id}", FOOTER_MAX)}}
        details = "\n".join(detail_lines(event, escape, lambda probe: probe))
        if details:
            room = min(DESCRIPTION_MAX, EMBED_MAX - _size(embed))
            embed["description"] = cut(details, room)
        body = {"embeds": [embed], "allowed_mentions": {"parse": []}}
        return json.dumps(body, separators=(",", ":")).encode(), dict(self.headers)

    def judge(self, status: int, text: str, location: str | None = None) -> Result:
        """Discord's own message named (an unknown webhook is permanent); its 429 body's wait taken."""
        result = classify(status, text, location)
        if result.ok:
            return result
        answer = json_object(text)
        return named(result, "discord", status, answer.get("message"), answer.get("retry_after"))
