"""Hook destinations, one model per type (chosen by ``type``), each checking its own settings."""
from __future__ import annotations

import base64
import binascii
import re
from typing import Annotated, Literal, Union

from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.json_schema import JsonDict

from .types import DurationMs, Name

URL = r"^https?://[^\s/?#]+\S*$"  # absolute http(s), with a host
# Marks a setting as a secret: never logged, printed or put in an error (``secrets_of`` reads the marks,
# so a destination's new secret field is redacted by declaring it so, nowhere else).
SECRET: JsonDict = {"secret": True}


class _Strict(BaseModel):
    # Attribute docstrings are the fields' descriptions: docs/config.md is generated from them.
    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)


class _Destination(_Strict):
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


BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")  # the standard alphabet; the padding may be left out


def webhook_key(secret: str) -> bytes:
    """The HMAC key of a Standard Webhooks secret: base64, padded or not, after an optional ``whsec_``
    prefix, decoded exactly as the official verifiers decode it (they add the padding themselves).
    ValueError for what they refuse (a length no base64 has, nothing at all), for characters outside the
    base64 alphabet (Python's verifiers would drop them silently and sign with another key than the one
    written; other languages' refuse them) and for keys under 16 bytes (too weak to sign with)."""
    body = secret.removeprefix("whsec_")
    if not BASE64.fullmatch(body):
        raise ValueError("must be base64 (A-Z a-z 0-9 + /, padding optional), with or without the whsec_ prefix; "
                         "e.g. whsec_ followed by `openssl rand -base64 32`")
    try:
        key = base64.b64decode(body + "==")  # the verifiers' own decoding: extra padding is ignored
    except binascii.Error:
        raise ValueError(f"is not whole base64: {len(body.rstrip('='))} characters leave one over (base64 comes in "
                         "groups of 4, the last of 2 or more); copy the whole secret") from None
    if len(key) < 16:
        raise ValueError("decodes to fewer than 16 bytes: use at least 24 random bytes (`openssl rand -base64 32`)")
    return key


class WebhookDestination(_Destination):
    """JSON signed per Standard Webhooks."""

    type: Literal["webhook"]
    """JSON signed per Standard Webhooks."""
    secret: str | None = Field(None, json_schema_extra=SECRET)
    """The signing secret: `whsec_` and base64 (padded or not), or base64 alone; unset: unsigned."""

    @field_validator("secret")
    @classmethod
    def _decodes(cls, secret: str | None) -> str | None:
        if secret is not None:
            webhook_key(secret)
        return secret


class SlackDestination(_Destination):
    """A Slack incoming webhook."""

    type: Literal["slack"]
    """A Slack incoming webhook (Block Kit)."""


class PagerDutyDestination(_Destination):
    """PagerDuty Events API v2."""

    type: Literal["pagerduty"]
    """PagerDuty Events API v2."""
    url: str = Field("https://events.pagerduty.com/v2/enqueue", pattern=URL, json_schema_extra=SECRET)
    """The Events API endpoint."""
    routing_key: str = Field(json_schema_extra=SECRET)
    """The integration key of an Events API v2 integration; use ${VAR}."""

    @field_validator("routing_key")
    @classmethod
    def _integration_key(cls, key: str) -> str:
        if not re.fullmatch(r"[A-Za-z0-9]{32}", key):
            raise ValueError("must be the 32-character integration key of an Events API v2 integration "
                             "(PagerDuty service → Integrations)")
        return key


class AlertmanagerDestination(_Destination):
    """Alertmanager's /api/v2/alerts."""

    type: Literal["alertmanager"]
    """Alertmanager's /api/v2/alerts."""
    resend_interval: DurationMs = 60_000
    """While a condition holds its alert is re-posted this often, with endsAt four intervals ahead."""


Destination = Annotated[Union[WebhookDestination, SlackDestination, PagerDutyDestination, AlertmanagerDestination],
                        Field(discriminator="type")]
DESTINATION_MODELS: dict[str, type[_Destination]] = {
    "webhook": WebhookDestination, "slack": SlackDestination, "pagerduty": PagerDutyDestination,
    "alertmanager": AlertmanagerDestination}
DESTINATION_TYPES = tuple(DESTINATION_MODELS)


def secrets_of(dest: BaseModel) -> list[str]:
    """The values of a destination's settings marked ``SECRET`` (a mapping's values), to keep out of
    every log line and error."""
    found: list[str] = []
    for name, field in type(dest).model_fields.items():
        if isinstance(field.json_schema_extra, dict) and field.json_schema_extra.get("secret"):
            value = getattr(dest, name)
            found += [str(v) for v in value.values()] if isinstance(value, dict) else [value] if value else []
    return found
