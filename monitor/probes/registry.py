"""The probe kinds: a plain dict from ``kind`` to its check."""
from __future__ import annotations

from . import dns, http, rss, statuspage, tcp, tls, websocket
from .base import Check

CHECKS: dict[str, Check] = {
    "http": http.check,
    "tcp": tcp.check,
    "tls": tls.check,
    "dns": dns.check,
    "websocket": websocket.check,
    "statuspage": statuspage.check,
    "rss": rss.check,
}
# Status feeds report on someone else: a feed that cannot be read is unknown, not down.
FEED_KINDS = frozenset({"statuspage", "rss"})
