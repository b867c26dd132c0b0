"""Apprise: any of its 100+ services (mailto://, tgram://, mmost://, rocket://, signal://, …) by its URL,
for what has no destination of its own. One notification per event: a title, the summary and details
as plain text, and Apprise's type by severity. Apprise answers only "sent" or "not sent": a failure
is retried until ``max_age``, with Apprise's own warning as the error (the URL is a secret, and a
service's URL holds its token: it never reaches a log)."""
from __future__ import annotations

import asyncio
import json
import logging
from typing import TYPE_CHECKING, Literal

from pydantic import Field

from ..event import Event
from .base import SECRET, DestinationSettings
from .text import cut, detail_lines
from .transport import Result

if TYPE_CHECKING:  # aiohttp is imported where a post is made: loading the config needs none of it
    import aiohttp

NOTIFY_TYPES = {"critical": "failure", "warning": "warning", "info": "info"}
BODY_MAX = 4000  # characters: inside what most of Apprise's services take in one message


class AppriseDestination(DestinationSettings):
    """Any service Apprise knows, by its URL."""

    type: Literal["apprise"]
    """Any of Apprise's services, by its URL."""
    url: str = Field(pattern=r"^[a-z][a-z0-9+.-]*://\S+$", json_schema_extra=SECRET)
    """An Apprise URL (`mailto://user:${SMTP_PASSWORD}@example.org`, `mmost://host/${TOKEN}`, …); see Apprise's
    list of services. It holds the service's secrets: write them as ${VAR}."""

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        text = "\n".join([event.summary, *detail_lines(event), *[f"{t}: {h}" for t, h in event.data.get("links", {}).items()],
                          f"{event.region or '-'} · {event.as_json()['occurred_at']} · {event.id}"])
        body = {"title": f"{event.type}: {event.region or 'sla-monitor'}",
                "body": cut(text, BODY_MAX),
                "type": NOTIFY_TYPES[event.severity]}
        return json.dumps(body, ensure_ascii=False).encode(), {}

    async def send(self, session: aiohttp.ClientSession, body: bytes, headers: dict) -> Result:
        """Through Apprise, in a thread (its services are blocking), within ``timeout``."""
        import apprise  # here: the config, which names the destinations, loads without it

        message = json.loads(body)
        notifier = apprise.Apprise()
        if not notifier.add(self.url):
            return Result(False, permanent=True, error="apprise: the URL names no service Apprise knows (check its scheme)")

        def notify() -> tuple[bool, str]:
            with apprise.LogCapture(level=logging.WARNING) as said:
                sent = notifier.notify(body=message["body"], title=message["title"], notify_type=message["type"],
                                       body_format="text")
                return bool(sent), said.getvalue()
        try:
            async with asyncio.timeout(self.timeout / 1000):
                sent, said = await asyncio.to_thread(notify)
        except TimeoutError:
            return Result(False, error=f"timeout after {self.timeout / 1000:g} s")
        if sent:
            return Result(True)
        lines = [line.split(" - ", 2)[-1] for line in said.strip().splitlines()]
        return Result(False, error=f"apprise: {'; '.join(lines)[:300] or 'not sent'}")
