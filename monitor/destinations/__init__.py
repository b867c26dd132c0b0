"""The hook destinations: one module each (``base.py`` says what a module holds), registered here: its
import, and its name in ``Kinds``. The config takes its ``hooks.destinations`` from ``Destination``; delivery, resends, ``hooks
test`` and the docs look a type up in ``DESTINATIONS``."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from ..values import by_tag
from .alertmanager import AlertmanagerDestination
from .apprise_urls import AppriseDestination
from .base import SECRET, URL, DestinationSettings
from .discord import DiscordDestination
from .google_chat import GoogleChatDestination
from .mail import EmailDestination
from .ntfy import NtfyDestination
from .pagerduty import PagerDutyDestination
from .slack import SlackDestination
from .teams import TeamsDestination
from .telegram import TelegramDestination
from .webhook import WebhookDestination

# The registry: a new destination is one more member here.
Kinds = Union[WebhookDestination, SlackDestination, PagerDutyDestination, AlertmanagerDestination,
              DiscordDestination, TelegramDestination, NtfyDestination, TeamsDestination, GoogleChatDestination,
              AppriseDestination, EmailDestination]

DESTINATIONS: dict[str, type[DestinationSettings]] = by_tag(Kinds, "type")
DESTINATION_TYPES = tuple(DESTINATIONS)
if TYPE_CHECKING:
    Destination = DestinationSettings
else:  # validated as the member its ``type`` names
    Destination = Annotated[Kinds, Field(discriminator="type")]

__all__ = ["DESTINATIONS", "DESTINATION_TYPES", "Destination", "DestinationSettings", "SECRET", "URL"]
