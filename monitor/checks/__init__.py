"""The probe kinds: one module each (``base.py`` says what a module holds), registered here: its import,
and its name in ``Kinds``. The config takes its probes' settings from ``Probe``; the runner calls the settings' own check."""
from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Union

from pydantic import Field

from ..values import by_tag
from .base import ProbeSettings
from .dns import DnsProbe
from .http import HttpProbe
from .rss import RssProbe
from .statuspage import StatuspageProbe
from .tcp import TcpProbe
from .tls import TlsProbe
from .websocket import WebSocketProbe

# The registry: a new probe kind is one more member here.
Kinds = Union[HttpProbe, TcpProbe, TlsProbe, DnsProbe, WebSocketProbe, StatuspageProbe, RssProbe]

PROBE_MODELS: dict[str, type[ProbeSettings]] = by_tag(Kinds, "kind")
PROBE_KINDS = tuple(PROBE_MODELS)
if TYPE_CHECKING:
    Probe = ProbeSettings
else:  # validated as the member its ``kind`` names
    Probe = Annotated[Kinds, Field(discriminator="kind")]

__all__ = ["PROBE_KINDS", "PROBE_MODELS", "Probe", "ProbeSettings"]
