"""Google Chat incoming webhook: one message per event, as a card (``cardsV2``). The card's texts are
HTML-escaped (its paragraphs take a few HTML tags); the message's own text, where Chat would read
``<users/all>`` as a mention of everyone, holds only the event type and region. Within Chat's
32,000 bytes a message."""
from __future__ import annotations

import html
import json
from typing import Any, Literal

from ..event import Event
from .base import DestinationSettings
from .text import cut, detail_lines
from .transport import Result, classify, json_object, named

PARAGRAPH_MAX = 4000  # characters of one text paragraph (a long reason is cut with "…")
TITLE_MAX = 200
BUTTONS_MAX = 5
COLOURS = {"critical": "#d83c3e", "warning": "#f2a33a", "info": "#2eb67d"}


def escape(text: str) -> str:
    """The card's HTML: ``<``, ``>``, ``&`` and quotes."""
    return html.escape(text, quote=True)


class GoogleChatDestination(DestinationSettings):
    """A Google Chat space, through an incoming webhook."""

    type: Literal["google_chat"]
    """A Google Chat space's incoming webhook (`https://chat.googleapis.com/v1/spaces/…/messages?key=…&token=…`;
    the URL is the secret)."""

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        headline = f'<font color="{COLOURS[event.severity]}"><b>{escape(event.type)}</b></font>: {escape(event.summary)}'
        widgets: list[dict[str, Any]] = [{"textParagraph": {"text": cut(headline, PARAGRAPH_MAX)}}]
        details = detail_lines(event, escape, lambda probe: f"<i>{probe}</i>")
        if details:
            widgets.append({"textParagraph": {"text": cut("<br>".join(details), PARAGRAPH_MAX)}})
        widgets.append({"decoratedText": {"topLabel": "Occurred", "text": event.as_json()["occurred_at"]}})
        links = list(event.data.get("links", {}).items())[:BUTTONS_MAX]
        if links:
            widgets.append({"buttonList": {"buttons": [{"text": cut(text, 40), "onClick": {"openLink": {"url": href}}}
                                                       for text, href in links]}})
        card = {"header": {"title": cut(f"{event.type}: {event.region or 'sla-monitor'}", TITLE_MAX),
                           "subtitle": cut(f"sla-monitor · {event.id}", TITLE_MAX)},
                "sections": [{"widgets": widgets}]}
        body = {"text": f"{event.type} ({event.region or 'sla-monitor'})",
                "cardsV2": [{"cardId": cut(f"sla-monitor-{event.id}", 64), "card": card}]}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), dict(self.headers)

    def judge(self, status: int, text: str, location: str | None = None) -> Result:
        """Google's error message named (``{"error": {"message": …}}``): a bad key or space is permanent."""
        result = classify(status, text, location)
        if result.ok:
            return result
        error = json_object(text).get("error")
        return named(result, "google chat", status, error.get("message") if isinstance(error, dict) else None)
