"""The probe kinds: a plain dict from ``kind`` to its check."""
from __future__ import annotations

from . import dns, http, tcp, tls, websocket
from .base import Check

CHECKS: dict[str, Check] = {
    "http": http.check,
    "tcp": tcp.check,
    "tls": tls.check,
    "dns": dns.check,
    "websocket": websocket.check,
}
