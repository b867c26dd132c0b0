"""Incident updates posted through the API (``POST /api/v1/updates``): checked against the snapshot's
outages (this month's and last month's), recorded with their routes' deliveries, shown at once."""
from __future__ import annotations

from typing import Callable
from zoneinfo import ZoneInfo

from ..clock import Clock
from ..config import Config
from ..errors import parse_instant
from ..storage.interface import Storage
from ..updates import checked, outage_of, outages, update_event, update_json
from ..values import api_author
from .dbthread import DbThread
from .figures import LiveFigures


class UpdateService:
    def __init__(self, db: DbThread, cfg: Config, figures: LiveFigures, clock: Clock, wake: Callable[[], None]):
        self.db, self.cfg, self.figures, self.clock, self.wake = db, cfg, figures, clock, wake

    async def post(self, body: dict, who: str) -> dict:
        """Record the update ``body`` asks for (``region``, ``status``, ``message``, optional
        ``outage_start`` and ``by``: the API's ``UpdateIn``, its types checked), written by ``who``;
        InputError naming what is wrong."""
        region, status = body["region"], body["status"]
        message = checked(self.cfg, region, status, body["message"])
        start_text = body.get("outage_start")
        start = None if start_text is None else parse_instant(start_text, "outage_start")
        known = outages((self.figures.previous, self.figures.current), region)
        outage = outage_of(known, region, start, ZoneInfo(self.cfg.timezone))
        routed = update_event(self.cfg, region, outage, status, message, api_author(body.get("by"), who),
                              self.clock.now_ms())
        await self.db.call(Storage.record_events, routed)
        self.wake()
        await self.figures.refresh()  # on the status page and in the feed at once
        return update_json(routed[0][0])
