"""Microsoft Teams through a Workflows webhook ("Post to a channel when a webhook request is received";
Office 365 connectors are retired): one message per event carrying an Adaptive Card (1.4). Texts are
plain TextBlocks and FactSets; the characters Teams' card markdown would act on are escaped, and a
card stays well inside Teams' 28 KB a message."""
from __future__ import annotations

import json
import re
from typing import Any, Literal

from ..event import Event
from .base import DestinationSettings
from .text import cut, detail_lines

CARD_VERSION = "1.4"
TEXT_MAX = 2000  # characters of one TextBlock (a long reason is cut with "…"; the message stays small)
FACTS_MAX = 10
COLOURS = {"critical": "Attention", "warning": "Warning", "info": "Good"}
_MARKDOWN = re.compile(r"([\\*_\[\]])")  # CommonMark escapes of emphasis and link brackets


def escape(text: str) -> str:
    """A backslash before the characters of emphasis and links, the markdown a reason could make by
    chance (``third_party_down``) or on purpose (``[text](url)``); other text is left as written."""
    return _MARKDOWN.sub(r"\\\1", text)



class TeamsDestination(DestinationSettings):
    """A Microsoft Teams channel or chat, through a Workflows webhook."""

    type: Literal["teams"]
    """A Teams channel or chat through a Workflows webhook (the URL Power Automate gives; it is the secret)."""

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": cut(f"{event.type}: {escape(event.summary)}", TEXT_MAX), "wrap": True,
             "weight": "Bolder", "size": "Medium", "color": COLOURS[event.severity]}]
        details = detail_lines(event, escape)
        if details:
            body.append({"type": "TextBlock", "text": cut("\n\n".join(details), TEXT_MAX), "wrap": True})
        facts = [{"title": "Region", "value": escape(event.region or "-")},
                 {"title": "Occurred", "value": event.as_json()["occurred_at"]},
                 {"title": "Event id", "value": cut(escape(event.id), 200)}]
        body.append({"type": "FactSet", "facts": facts[:FACTS_MAX]})
        card: dict[str, Any] = {"$schema": "http://adaptivecards.io/schemas/adaptive-card.json", "type": "AdaptiveCard",
                                "version": CARD_VERSION, "body": body}
        links = event.data.get("links", {})
        if links:
            card["actions"] = [{"type": "Action.OpenUrl", "title": cut(text, 40), "url": href}
                               for text, href in list(links.items())[:5]]
        message = {"type": "message", "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "contentUrl": None, "content": card}]}
        return json.dumps(message, separators=(",", ":"), ensure_ascii=False).encode(), dict(self.headers)
