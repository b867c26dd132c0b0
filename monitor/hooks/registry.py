"""Hook destinations by type: each a module (one file per destination) with a pure ``build_payload``
and a thin ``send``. ``Destination`` is the contract a new destination module fulfils; mypy checks
each module in the table against it."""
from __future__ import annotations

from typing import Any, Protocol

import aiohttp

from ..event import Event
from . import alertmanager, pagerduty, slack, webhook
from .transport import Result


class Destination(Protocol):
    def build_payload(self, event: Event, dest: Any, now_ms: int) -> tuple[bytes, dict]:
        """The body and headers for ``event`` to the configured ``dest`` as of ``now_ms``. Pure."""
        ...

    async def send(self, session: aiohttp.ClientSession, dest: Any, body: bytes, headers: dict) -> Result:
        """Post it; a ``Result`` says delivered, transient or permanent failure. Never raises on a bad answer."""
        ...


DESTINATIONS: dict[str, Destination] = {"webhook": webhook, "slack": slack, "pagerduty": pagerduty,
                                        "alertmanager": alertmanager}
