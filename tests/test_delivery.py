"""Delivery semantics (issue 10): no redirects, a poison event fails alone, max_age for every pending
delivery, and a queue depth that says what is really pending. Real receivers on 127.0.0.1."""
from __future__ import annotations

import asyncio
import random

from aiohttp import web
from pydantic import TypeAdapter

from monitor import clock
from monitor.config import parse_config
from monitor.config.models import RouteConfig
from monitor.hooks import events
from monitor.hooks.events import routed
from monitor.hooks.delivery import Deliverer
from monitor.event import Event
from monitor.live.dbthread import DbThread
from monitor.storage import Store
from monitor.storage.interface import Storage
from conftest import FIXTURES
from hook_helpers import Receiver, destination
from loopback import start_app

ROUTES = TypeAdapter(list[RouteConfig])
FIXED = clock.FixedClock(clock.SYSTEM.now_ms())


async def deliverer_for(tmp_path, url: str, kind: str = "webhook", **extra):
    db = DbThread(lambda: Store.open(tmp_path / "hooks.db"))
    await db.start()
    dest = destination(kind, url=url, **extra)
    hooks = parse_config((FIXTURES / "spec.yaml").read_text()).hooks.model_copy(
        update={"destinations": [dest], "routes": ROUTES.validate_python([{"destination": dest.name}])})
    results: list[str] = []
    # Time stands still for the test (near the wall clock's, which receivers check signatures against).
    deliverer = Deliverer(db, hooks, FIXED, on_result=lambda d, r: results.append(r), rng=random.Random(1))
    return db, hooks, deliverer, results


async def test_a_redirect_is_not_followed_and_not_delivered(tmp_path):
    seen = {"post": 0, "get": 0}

    async def moved(request):
        seen["post"] += 1
        raise web.HTTPMovedPermanently(location=f"http://127.0.0.1:{request.url.port}/new-hook")

    async def new_hook(request):
        seen["get" if request.method == "GET" else "post"] += 1
        return web.Response(text="ok")

    app = web.Application()
    app.router.add_post("/hook", moved)
    app.router.add_route("*", "/new-hook", new_hook)
    runner, port = await start_app(app)
    db, hooks, deliverer, results = await deliverer_for(tmp_path, f"http://127.0.0.1:{port}/hook")
    now = FIXED.now_ms()
    await db.call(Storage.record_events, routed([events.outage_opened("eu-west", now - 60_000, now)], hooks.routes))
    await deliverer.deliver_due()
    listed = await db.call(Storage.event_log)
    await deliverer.close()
    await db.close()
    await runner.cleanup()
    assert seen == {"post": 1, "get": 0}  # the POST was not replayed as a GET (or at all)
    assert listed[0]["status"] == "failed" and "HTTP 301: redirect to 127.0.0.1 not followed" in listed[0]["last_error"]
    assert results == ["failed"] and deliverer.depth == 0


async def test_a_poison_event_fails_alone_and_the_queue_moves_on(tmp_path):
    receiver = Receiver()
    runner, port = await start_app(receiver.app())
    db, hooks, deliverer, results = await deliverer_for(tmp_path, f"http://127.0.0.1:{port}/hook", kind="slack")
    now = FIXED.now_ms()
    good = events.outage_opened("eu-west", now - 60_000, now - 3)  # all due now
    poison = Event("poison:1", "outage.opened", "sla-monitor/poison", "no-such-severity", now - 2, "eu-west", "x")
    after = events.outage_resolved("eu-west", now - 60_000, now - 1)
    await db.call(Storage.record_events, routed([good, poison, after], hooks.routes))
    await deliverer.deliver_due()
    listed = {row["id"]: row for row in await db.call(Storage.event_log)}
    await deliverer.close()
    await db.close()
    await runner.cleanup()
    assert [r["body"]["text"].split("*")[1] for r in receiver.received] == ["outage.opened", "outage.resolved"]
    assert listed["poison:1"]["status"] == "failed"
    assert listed["poison:1"]["last_error"].startswith("payload could not be built: KeyError")
    assert sorted(results) == ["delivered", "delivered", "failed"] and deliverer.depth == 0


async def test_max_age_applies_to_deliveries_waiting_behind_a_retry(tmp_path):
    receiver = Receiver(fail_with=503, failures=10**6)
    runner, port = await start_app(receiver.app())
    db, hooks, deliverer, results = await deliverer_for(tmp_path, f"http://127.0.0.1:{port}/hook", max_age="1h")
    now = FIXED.now_ms()
    fresh = events.outage_opened("eu-west", now - 60_000, now)
    old = events.outage_opened("us-east", now - 3 * 3_600_000, now - 2 * 3_600_000)
    await db.call(Storage.record_events, routed([fresh], hooks.routes))
    await db.call(Storage.record_events, routed([old], hooks.routes))  # queued behind the fresh one
    await deliverer.deliver_due()  # the fresh one fails (503) and waits for its retry; the old one expires
    listed = {row["id"]: row for row in await db.call(Storage.event_log)}
    await deliverer.close()
    await db.close()
    await runner.cleanup()
    assert listed[fresh.id]["status"] == "pending" and listed[old.id]["status"] == "failed"
    assert listed[old.id]["last_error"] == "gave up: not delivered within max_age"
    assert results == ["failed", "retry"] and deliverer.depth == 1  # only the fresh one is still pending


async def test_a_library_error_carrying_the_url_never_stores_its_secret_path(tmp_path):
    url = "http://127.0.0.1:99999/services/T000/B000/t0ps3cretPath"  # port out of range: aiohttp names the URL
    db, hooks, deliverer, results = await deliverer_for(tmp_path, url, kind="slack")
    now = FIXED.now_ms()
    await db.call(Storage.record_events, routed([events.outage_opened("eu-west", now - 60_000, now - 1)], hooks.routes))
    await deliverer.deliver_due()
    listed = await db.call(Storage.event_log)
    await deliverer.close()
    await db.close()
    assert listed[0]["last_error"] == "InvalidUrlClientError: http://127.0.0.1/***"  # the host, never the path


async def test_a_stop_that_comes_with_a_wake_up_still_stops_the_delivery_loop():
    """Cancelled just as it is woken (an event committed while the daemon stops): the loop ends. With
    wait_for, Python 3.11 swallowed that cancellation and the daemon's stop waited for ever."""
    deliverer = Deliverer(db=None, hooks_cfg=parse_config((FIXTURES / "spec.yaml").read_text()).hooks, clock=clock.SYSTEM, poll_ms=60_000)
    task = asyncio.create_task(deliverer.run())
    await asyncio.sleep(0.05)  # in its wait for a wake-up
    deliverer.wake.set()
    await asyncio.sleep(0)  # the wake-up has happened; the loop has not seen it yet
    task.cancel()
    done, _ = await asyncio.wait({task}, timeout=5)
    assert done and task.cancelled()


def test_a_destinations_secret_settings_are_redacted_by_their_mark_alone():
    """Redaction reads the models' marks: every shipped secret setting is in it, and a new destination
    type's new secret field is redacted by declaring it so, with no other file touched."""
    from typing import Literal

    from pydantic import Field

    from monitor.destinations import SECRET, DestinationSettings
    from monitor.destinations.pagerduty import PagerDutyDestination
    from monitor.destinations.webhook import WebhookDestination
    from monitor.redact import safe_error

    hook = WebhookDestination(name="w", type="webhook", url="https://h.example/hooks/T0K3N",
                              secret="whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", headers={"X-Key": "h3ader"})
    assert set(hook.secrets()) == {"https://h.example/hooks/T0K3N", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw",
                                              "h3ader"}
    pager = PagerDutyDestination(name="p", type="pagerduty", routing_key="R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12")
    assert "R0UT1NGKEYR0UT1NGKEYR0UT1NGKEY12" in pager.secrets()

    class ChatDestination(DestinationSettings):  # a throwaway type with a token of its own
        type: Literal["chat"]
        token: str = Field(json_schema_extra=SECRET)
        room: str = "ops"

    chat = ChatDestination(name="c", type="chat", url="https://chat.example/api", token="tok-123")
    error = safe_error("401 from https://chat.example/api with token tok-123 in room ops", chat.secrets())
    assert "tok-123" not in error and "chat.example/api" not in error and "room ops" in error
