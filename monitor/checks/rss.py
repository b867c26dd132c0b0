"""RSS 2.0 status feed (the Azure status feed): down while an item matching ``match`` is listed and
does not say it is resolved. An item counts from when the monitor first sees it listed."""
from __future__ import annotations

import functools
from typing import ClassVar, Literal
from xml.etree.ElementTree import Element, ParseError

from pydantic import Field

from ..values import Regex, linear_regex
from . import http
from .base import Outcome, Resources, Unknown
from .feed import fetch

_regex = functools.lru_cache(maxsize=1024)(linear_regex)  # compiled once per pattern


async def attempt(cfg: RssProbe, ctx: Resources) -> Outcome:
    """The feed's items that are active now (``judge``); Unknown when it is not RSS 2.0."""
    from defusedxml import ElementTree  # here: loading the config (which names this kind) needs none of it
    from defusedxml.common import DefusedXmlException

    body = await fetch(ctx, cfg, cfg.url)
    try:
        root = ElementTree.fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise Unknown(f"feed: {cfg.url}: not RSS ({str(exc)[:80]})") from None
    channel = root.find("channel")
    if root.tag != "rss" or channel is None:
        raise Unknown(f"feed: {cfg.url}: not an RSS 2.0 document")
    return judge(cfg, [_item(i) for i in channel.findall("item")])


def _item(element: Element) -> dict:
    return {key: (element.findtext(key) or "").strip() for key in ("title", "description", "link", "guid", "pubDate")}


def judge(cfg: RssProbe, items: list[dict]) -> Outcome:
    """Active items: matching one of ``match`` and not matching ``resolved_match``."""
    patterns = [_regex(p, True) for p in cfg.match]
    resolved = _regex(cfg.resolved_match, True)
    active = []
    for item in items:
        text = f"{item['title']}\n{item['description']}"
        if any(p.search(text) for p in patterns) and not resolved.search(text):
            active.append({"id": item["guid"] or item["link"], "name": item["title"], "link": item["link"],
                           "published": item["pubDate"]})
    detail = {"feed": cfg.url, "incidents": active}
    if not active:
        return Outcome(ok=True, detail=detail)
    return Outcome(ok=False, error=f"rss: {active[0]['name']}" + (f" (+{len(active) - 1} more)" if len(active) > 1 else ""),
                   detail=detail)


class RssProbe(http.SpeaksHttp):
    """An RSS 2.0 status feed (Azure's): down while an item matching ``match`` is listed and not resolved."""

    is_feed: ClassVar[bool] = True

    kind: Literal["rss"]
    """An RSS 2.0 status feed."""
    url: str = Field(pattern=r"^https?://\S+$")
    """The feed's URL."""
    match: list[Regex] = Field(min_length=1)
    """RE2 regular expressions (case-insensitive) on title + description."""
    resolved_match: Regex = r"\b(resolved|mitigated|mitigation complete|final update)\b"
    """An item matching this (RE2, case-insensitive) is resolved."""
    verify_tls: bool = True
    """Check the server's certificate."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA)."""
    max_body_bytes: int = Field(5_242_880, ge=1)
    """A larger feed fails."""

    async def check(self, ctx: Resources) -> Outcome:
        return await attempt(self, ctx)

