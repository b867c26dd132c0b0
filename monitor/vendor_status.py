"""The vendor's own status page (an Atlassian Statuspage) read as posts: each incident it lists that
names a component standing for one of our regions, with when it was posted, when it says it began and
ended, and its stated impact. The daemon reads ``/api/v2/incidents.json`` every interval
(``live/vendor_status.py``); `vendor-status import` reads a saved copy. A document that is not one is
a ``VendorStatusError`` naming the place."""
from __future__ import annotations

import datetime as dt
import json
from typing import Any, Mapping

from .sla.calendar import to_ms
from .sla.model import VendorPost

INCIDENTS_PATH = "/api/v2/incidents.json"


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
