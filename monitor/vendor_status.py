"""The vendor's own status page read as posts: each incident it lists that names a component standing
for one of our regions. From an Atlassian Statuspage (``/api/v2/incidents.json``): when it was posted,
when it says it began and ended, and its stated impact. From an RSS 2.0 or Atom feed: each item that
names a component, as a post at its publication. The daemon reads the page every interval
(``live/vendor_status.py``); `vendor-status import` reads a saved copy. A document that is not one is
a ``VendorStatusError`` naming the place."""
from __future__ import annotations

import datetime as dt
import email.utils
import json
from typing import Any, Mapping

from .sla.calendar import to_ms
from .sla.model import VendorPost

INCIDENTS_PATH = "/api/v2/incidents.json"
ATOM = "{http://www.w3.org/2005/Atom}"


def read_page(body: bytes, kind: str, components: Mapping[str, str], source: str) -> list[VendorPost]:
    """The posts of a page of ``kind``: ``statuspage`` (its incidents.json) or ``feed`` (RSS 2.0 or Atom)."""
    return posts_of(body, components, source) if kind == "statuspage" else feed_posts_of(body, components, source)


def page_url(url: str, kind: str) -> str:
    """What is read of the page: a Statuspage's incidents document, or the feed itself."""
    return url.rstrip("/") + INCIDENTS_PATH if kind == "statuspage" else url


class VendorStatusError(ValueError):
    """The page's document is not a Statuspage incidents document: the text says where."""


def posts_of(body: bytes, components: Mapping[str, str], source: str) -> list[VendorPost]:
    """The incidents of a Statuspage ``incidents.json`` (or ``summary.json``) that touch a mapped component."""
    try:
        document = json.loads(body)
    except (ValueError, RecursionError) as exc:
        raise VendorStatusError(f"{source}: not JSON ({str(exc)[:80]})") from None
    incidents = document.get("incidents") if isinstance(document, dict) else None
    if not isinstance(incidents, list):
        raise VendorStatusError(f"{source}: no \"incidents\" list (a Statuspage's {INCIDENTS_PATH})")
    posts = []
    for number, incident in enumerate(incidents):
        where = f"{source}: incidents[{number}]"
        if not isinstance(incident, dict):
            raise VendorStatusError(f"{where}: not an object")
        post = _post(incident, components, where)
        if post is not None:
            posts.append(post)
    return posts


def _post(incident: dict[str, Any], components: Mapping[str, str], where: str) -> VendorPost | None:
    touched = incident.get("components") or []
    if not isinstance(touched, list):
        raise VendorStatusError(f"{where}.components: not a list")
    regions = sorted({components[str(key)] for c in touched if isinstance(c, dict)
                      for key in (c.get("id"), c.get("name")) if str(key) in components})
    if not regions:
        return None  # about none of our regions
    ident = incident.get("id")
    if not isinstance(ident, str) or not ident:
        raise VendorStatusError(f"{where}.id: missing")
    posted = _instant(incident, "created_at", where)
    if posted is None:
        raise VendorStatusError(f"{where}.created_at: missing")
    return VendorPost(ident, tuple(regions), str(incident.get("name") or ""), str(incident.get("impact") or ""),
                      _instant(incident, "started_at", where), posted, _instant(incident, "resolved_at", where),
                      str(incident.get("shortlink") or ""))


def _instant(incident: dict[str, Any], key: str, where: str) -> int | None:
    value = incident.get(key)
    if value is None:
        return None
    try:
        moment = dt.datetime.fromisoformat(str(value))
    except ValueError:
        raise VendorStatusError(f"{where}.{key}: {str(value)[:40]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None:
        raise VendorStatusError(f"{where}.{key}: {value!r} has no UTC offset")
    return to_ms(moment)


def feed_posts_of(body: bytes, components: Mapping[str, str], source: str) -> list[VendorPost]:
    """The items of an RSS 2.0 or Atom feed that name a mapped component (its name anywhere in the title
    or text, any case): each a post at its publication, the feed saying nothing of a span."""
    from xml.etree.ElementTree import ParseError

    from defusedxml import ElementTree
    from defusedxml.common import DefusedXmlException

    try:
        root = ElementTree.fromstring(body)
    except (ParseError, DefusedXmlException) as exc:
        raise VendorStatusError(f"{source}: not an RSS or Atom feed ({str(exc)[:80]})") from None
    if root.tag == "rss" and root.find("channel") is not None:
        items = [(i.findtext("guid") or i.findtext("link") or "", i.findtext("title") or "",
                  i.findtext("description") or "", i.findtext("link") or "", i.findtext("pubDate"), "rss")
                 for i in root.iter("item")]
    elif root.tag == f"{ATOM}feed":
        items = [(e.findtext(f"{ATOM}id") or "", e.findtext(f"{ATOM}title") or "",
                  e.findtext(f"{ATOM}summary") or e.findtext(f"{ATOM}content") or "",
                  (e.find(f"{ATOM}link").get("href", "") if e.find(f"{ATOM}link") is not None else ""),
                  e.findtext(f"{ATOM}published") or e.findtext(f"{ATOM}updated"), "atom")
                 for e in root.iter(f"{ATOM}entry")]
    else:
        raise VendorStatusError(f"{source}: neither RSS 2.0 nor Atom (root element {root.tag!r})")
    posts = []
    for number, (ident, title, text, link, published, form) in enumerate(items):
        words = f"{title}\n{text}".casefold()
        regions = sorted({region for name, region in components.items() if name.casefold() in words})
        if not regions:
            continue
        where = f"{source}: item {number + 1}"
        if not ident.strip():
            raise VendorStatusError(f"{where}: no guid, link or id to know it by")
        posted = _published(published, form, where)
        posts.append(VendorPost(ident.strip(), tuple(regions), title.strip(), "", None, posted, posted, link.strip()))
    return posts


def _published(text: str | None, form: str, where: str) -> int:
    if not text:
        raise VendorStatusError(f"{where}: no publication time")
    try:
        moment = (email.utils.parsedate_to_datetime(text.strip()) if form == "rss"
                  else dt.datetime.fromisoformat(text.strip()))
    except (ValueError, TypeError):
        raise VendorStatusError(f"{where}: {text.strip()[:40]!r} is not a publication time") from None
    if moment.tzinfo is None:
        raise VendorStatusError(f"{where}: {text.strip()!r} has no UTC offset")
    return to_ms(moment)
