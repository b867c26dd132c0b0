"""What every hook destination is: its settings (a pydantic model, chosen by ``type``) and, on the same
class, what it does with an event. A destination module subclasses ``DestinationSettings`` once:

- its own settings, validated with the rest of the config (``field_validator`` for its rules);
- which of them are secrets (``json_schema_extra=SECRET``): kept out of every log line and error;
- ``build_payload`` (pure), and ``send``/``judge`` where its service answers in its own way;
- ``stateful`` (a test event opens something that must be closed) and ``resend_interval_ms``/``build_resend``
  (it re-posts the conditions that hold, as Alertmanager needs).

Registered in ``destinations/__init__.py`` (its import, and its name in ``Kinds``); config, delivery,
``hooks test`` and the docs take it from there."""
from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from ..event import Event
from ..values import SECRET, DurationMs, Name, is_secret
from .transport import Result, classify, post

if TYPE_CHECKING:  # aiohttp is imported where a post is made: loading the config needs none of it
    import aiohttp

URL = r"^https?://[^\s/?#]+\S*$"  # absolute http(s), with a host

class DestinationSettings(BaseModel):
    # Attribute docstrings are the fields' descriptions: docs/config.md is generated from them.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    stateful: ClassVar[bool] = False  # a test event opens an incident or alert: `hooks test` closes it
    posts_rule_alerts: ClassVar[bool] = False  # it receives the alerts the Prometheus rules also make

    type: str
    name: Name
    """The name routes and `hooks test` use."""
    url: str = Field(pattern=URL, json_schema_extra=SECRET)  # a Slack or webhook path is often the secret
    """Where events are POSTed."""
    headers: dict[str, str] = Field({}, json_schema_extra=SECRET)
    """Extra request headers; values may use ${VAR}."""
    timeout: DurationMs = 10_000
    """A delivery that takes longer failed, and is retried with backoff."""
    max_age: DurationMs = 86_400_000
    """An event not delivered by then is given up (and reported)."""

    def build_payload(self, event: Event, now_ms: int) -> tuple[bytes, dict]:
        """The body and headers for ``event`` as of ``now_ms`` (the send time). Pure."""
        raise NotImplementedError(f"{type(self).__name__} builds no payload")

    def judge(self, status: int, text: str, location: str | None = None) -> Result:
        """What the service's answer means: delivered, transient or permanent failure."""
        return classify(status, text, location)

    async def send(self, session: aiohttp.ClientSession, body: bytes, headers: dict) -> Result:
        """Post it; never raises on a bad answer."""
        return await post(session, self.url, body, headers, self.timeout, self.judge)

    def resend_interval_ms(self) -> int | None:
        """How often the conditions that hold are re-posted; None: never (the default)."""
        return None

    def build_resend(self, conditions: list[Event], now_ms: int) -> bytes:
        """Every condition that still holds, in one post (where ``resend_interval_ms`` is set)."""
        raise NotImplementedError(f"{type(self).__name__} does not resend")

    def secrets(self) -> list[str]:
        """The values of its settings marked ``SECRET`` (a mapping's values), to keep out of every log
        line and error."""
        found: list[str] = []
        for name, field in type(self).model_fields.items():
            if is_secret(field):
                value = getattr(self, name)
                found += [str(v) for v in value.values()] if isinstance(value, dict) else [value] if value else []
        return found
