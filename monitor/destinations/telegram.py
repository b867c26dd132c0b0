"""Telegram Bot API: one message per event to a chat, through ``sendMessage`` with HTML parse mode
(only ``<``, ``>`` and ``&`` need escaping there), within its 4,096 characters."""
from __future__ import annotations

import html
import json
from typing import TYPE_CHECKING, Literal

from pydantic import Field, field_validator

from ..event import Event
from .base import SECRET, URL, DestinationSettings
from .text import detail_lines
from .transport import Result, classify, json_object, named, post

if TYPE_CHECKING:  # aiohttp is imported where a post is made: loading the config needs none of it
    import aiohttp

TEXT_MAX = 4000  # characters of a message (the API allows 4,096 after parsing; room for what counts double)
ICONS = {"critical": "🔴", "warning": "🟠", "info": "🟢"}


def escape(text: str) -> str:
    """Telegram's HTML mode: ``<``, ``>``, ``&`` (and quotes, for attributes)."""
    return html.escape(text, quote=True)


def fit_escaped(plain: str, limit: int) -> str:
    """``plain`` escaped, cut with an ellipsis so that the result is at most ``limit`` characters (a cut
    never splits an entity such as ``&amp;``, which Telegram would refuse)."""
    parts: list[str] = []
    used = 1  # room for the ellipsis
    for char in plain:
        escaped = escape(char)
        if used + len(escaped) > limit:
            return "".join(parts) + "…"
        parts.append(escaped)
        used += len(escaped)
    return "".join(parts)


class TelegramDestination(DestinationSettings):
    """A Telegram chat, through a bot."""

    type: Literal["telegram"]
    """A Telegram chat, through a bot of the Bot API."""
    url: str = Field("https://api.telegram.org", pattern=URL)
    """The Bot API's address (a local Bot API server's, if you run one)."""
    bot_token: str = Field(json_schema_extra=SECRET)
    """The bot's token from @BotFather (`123456:ABC…`); use ${VAR}."""
    chat_id: str = Field(pattern=r"^(-?\d+|@[A-Za-z][A-Za-z0-9_]{4,})$")
    """The chat: its number (negative for groups) or a public channel's `@name`."""

    @field_validator("bot_token")
    @classmethod
    def _token(cls, token: str) -> str:
        if not token.partition(":")[0].isdigit() or ":" not in token:
            raise ValueError("must be a bot token as @BotFather gives it (digits, a colon, then letters)")
        return token

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        lines = [f"{ICONS[event.severity]} <b>{escape(event.type)}</b>: {escape(event.summary)}"]
        lines += detail_lines(event, escape, lambda probe: f"<code>{probe}</code>")
        lines += [f'<a href="{escape(href)}">{escape(text)}</a>' for text, href in event.data.get("links", {}).items()]
        lines.append(f"<i>{escape(event.region or '-')} · {event.as_json()['occurred_at']}</i>")
        text = "\n".join(lines)
        if len(text) > TEXT_MAX:  # too long: the plain text, cut where its escaped form fits (never in a tag)
            text = fit_escaped("\n".join([f"{ICONS[event.severity]} {event.type}: {event.summary}",
                                          *detail_lines(event)]), TEXT_MAX)
        body = {"chat_id": self.chat_id, "text": text, "parse_mode": "HTML", "disable_web_page_preview": True}
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode(), dict(self.headers)

    async def send(self, session: aiohttp.ClientSession, body: bytes, headers: dict) -> Result:
        return await post(session, f"{self.url.rstrip('/')}/bot{self.bot_token}/sendMessage", body, headers,
                          self.timeout, self.judge)

    def judge(self, status: int, text: str, location: str | None = None) -> Result:
        """The Bot API's description named; a 429's ``retry_after`` taken."""
        result = classify(status, text, location)
        if result.ok:
            return result
        answer = json_object(text)
        parameters = answer.get("parameters")
        wait = parameters.get("retry_after") if isinstance(parameters, dict) else None
        return named(result, "telegram", status, answer.get("description"), wait)
