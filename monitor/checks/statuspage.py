"""Atlassian Statuspage feed (Genesys Cloud's and Vonage's status pages are Statuspage pages).

Reads ``/api/v2/summary.json`` (or ``components.json`` + ``incidents/unresolved.json``); the third
party is down while one of the configured components has a status in ``down_statuses``. The
sample's detail carries the evidence: the components' statuses and the unresolved incidents
touching them (name, id, link).
"""
from __future__ import annotations

import json
from typing import ClassVar, Literal

from pydantic import Field

from . import http
from .base import Outcome, Resources, Unknown
from .feed import fetch


def _json(body: bytes, url: str) -> dict:
    try:
        document = json.loads(body)
    except ValueError as exc:
        raise Unknown(f"feed: {url}: not JSON ({str(exc)[:80]})") from None
    except RecursionError:
        raise Unknown(f"feed: {url}: JSON nested too deep to read") from None
    if not isinstance(document, dict):
        raise Unknown(f"feed: {url}: not a Statuspage document")
    return document


async def attempt(cfg: StatuspageProbe, ctx: Resources) -> Outcome:
    base = cfg.url.rstrip("/")
    if cfg.api == "summary":
        url = f"{base}/api/v2/summary.json"
        summary = _json(await fetch(ctx, cfg, url), url)
        components, incidents = summary.get("components"), summary.get("incidents", [])
    else:
        url = f"{base}/api/v2/components.json"
        components = _json(await fetch(ctx, cfg, url), url).get("components")
        incidents_url = f"{base}/api/v2/incidents/unresolved.json"
        incidents = _json(await fetch(ctx, cfg, incidents_url), incidents_url).get("incidents", [])
    return judge(cfg, components, incidents, base)


def judge(cfg: StatuspageProbe, components: object, incidents: object, base: str) -> Outcome:
    """Down while a configured component is in a down status; Unknown when the feed does not list one
    or is not shaped like a Statuspage document."""
    try:
        return _judge(cfg, components, incidents, base)
    except (TypeError, AttributeError, KeyError) as exc:  # values of the wrong type inside the lists
        raise Unknown(f"feed: {base}: not a Statuspage document ({type(exc).__name__}: {str(exc)[:80]})") from None


def _judge(cfg: StatuspageProbe, components: object, incidents: object, base: str) -> Outcome:
    if not isinstance(components, list) or not isinstance(incidents, list):
        raise Unknown(f"feed: {base}: no components/incidents lists in the document")
    wanted = []
    for key in cfg.components:
        found = next((c for c in components if isinstance(c, dict) and key in (c.get("id"), c.get("name"))), None)
        if found is None:
            raise Unknown(f"feed: {base}: no component {key!r} (check the probe's components)")
        wanted.append(found)
    down = [c for c in wanted if c.get("status") in cfg.down_statuses]
    ids = {c.get("id") for c in wanted}
    touching = [
        {"id": i.get("id"), "name": i.get("name"), "status": i.get("status"),
         "link": i.get("shortlink") or f"{base}/incidents/{i.get('id')}"}
        for i in incidents
        if isinstance(i, dict) and ids & {c.get("id") for c in i.get("components", []) if isinstance(c, dict)}
    ]
    detail = {"feed": base, "components": [{"id": c.get("id"), "name": c.get("name"), "status": c.get("status")}
                                           for c in wanted], "incidents": touching}
    if not down:
        return Outcome(ok=True, detail=detail)
    names = ", ".join(f"{c.get('name')}: {c.get('status')}" for c in down)
    incident = f"; incident {touching[0]['name']!r}" if touching else ""
    return Outcome(ok=False, error=f"statuspage: {names}{incident}", detail=detail)


StatuspageStatus = Literal["operational", "degraded_performance", "partial_outage", "major_outage",
                           "under_maintenance"]


class StatuspageProbe(http.SpeaksHttp):
    """An Atlassian Statuspage feed: the third party is down while one of ``components`` is down.

    A feed that cannot be read gives no sample: the third party is then unknown, never down."""

    is_feed: ClassVar[bool] = True

    kind: Literal["statuspage"]
    """An Atlassian Statuspage feed."""
    url: str = Field(pattern=r"^https?://\S+$")
    """The page's base URL, e.g. https://status.mypurecloud.com."""
    api: Literal["summary", "components"] = "summary"
    """Read `summary.json`, or `components.json` and `incidents/unresolved.json`."""
    components: list[str] = Field(min_length=1)
    """Names or ids of the components that stand for this third party."""
    down_statuses: list[StatuspageStatus] = ["partial_outage", "major_outage", "under_maintenance"]
    """Component statuses that make the third party down (`under_maintenance` is the provider's maintenance:
    down for attribution)."""
    verify_tls: bool = True
    """Check the server's certificate."""
    ca_file: str | None = None
    """Extra CA bundle (a private CA)."""
    max_body_bytes: int = Field(5_242_880, ge=1)
    """A larger feed fails."""

    async def check(self, ctx: Resources) -> Outcome:
        return await attempt(self, ctx)

