"""Discord, Telegram, ntfy, Teams and Google Chat: every event type's payload within each service's documented limits
and escaping (Teams' cards against the Adaptive Card schema), hostile texts included (`@everyone`, markup, 10,000-character errors); delivery to real
receivers on 127.0.0.1 at each service's own path; and each service's error answers: a wait asked
for (429 with Retry-After, or in the body) is kept, a gone webhook fails for good, a token in the URL
never reaches an error."""
from __future__ import annotations

import datetime as dt
import json
import re
from html.parser import HTMLParser

import pytest
from aiohttp import web

from hook_helpers import catalogue, destination
from loopback import start_app
from monitor.destinations.transport import retry_after_ms
from monitor.hooks import events
from monitor.hooks.events import routed
from monitor.storage.interface import Storage
from test_delivery import FIXED, deliverer_for

HOSTILE = "@everyone <b>bold</b> & *stars* `tick` [link](http://evil.example) " + "e" * 10_000
TOKEN = "123456:AAH-s3cret_bot_token"


def test_every_discord_payload_keeps_discords_limits_and_pings_no_one():
    dest = destination("discord", url="https://discord.com/api/webhooks/1/XXXX")
    for event in catalogue(reason=HOSTILE):
        body = json.loads(dest.build_payload(event, 0)[0])
        assert body["allowed_mentions"] == {"parse": []}  # no mention in any text notifies anyone
        (embed,) = body["embeds"]
        assert len(embed["title"]) <= 256 and len(embed.get("description", "")) <= 4096
        assert len(embed["fields"]) <= 25 and len(embed["footer"]["text"]) <= 2048
        assert all(len(f["name"]) <= 256 and len(f["value"]) <= 1024 for f in embed["fields"])
        total = (len(embed["title"]) + len(embed.get("description", "")) + len(embed["footer"]["text"])
                 + sum(len(f["name"]) + len(f["value"]) for f in embed["fields"]))
        assert total <= 6000, (event.type, total)
        shown = embed["title"] + embed.get("description", "")
        assert not re.search(r"(?<!\\)@everyone", shown) and not re.search(r"(?<!\\)\*stars", shown)
        assert "](http" not in shown.replace("\\](", "")  # no masked link survives
        if HOSTILE[:9] in event.summary:
            assert "\\@everyone \\<b\\>bold\\</b\\> & \\*stars\\* \\`tick\\` \\[link\\]" in embed["title"]
            assert embed["title"].endswith("…")
        dt.datetime.fromisoformat(embed["timestamp"].replace("Z", "+00:00"))  # ISO 8601, as Discord wants


class TelegramHtml(HTMLParser):
    """The tags and the text of a message, as Telegram's HTML mode reads it."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags, self.text = [], []

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)

    def handle_data(self, data):
        self.text.append(data)


def test_every_telegram_message_is_html_telegram_accepts_within_its_length():
    dest = destination("telegram", bot_token=TOKEN, chat_id="-1001234567890")
    for event in catalogue(reason=HOSTILE):
        body = json.loads(dest.build_payload(event, 0)[0])
        assert body["parse_mode"] == "HTML" and body["chat_id"] == "-1001234567890"
        text = body["text"]
        assert len(text) <= 4096, (event.type, len(text))
        # Only the entities Telegram knows, and no "<" that is not one of the tags it supports.
        assert not re.search(r"&(?!(?:lt|gt|amp|quot|#x27);)", text), event.type
        parser = TelegramHtml()
        parser.feed(text)
        assert set(parser.tags) <= {"b", "i", "code", "a"}, (event.type, parser.tags)
        if HOSTILE[:9] in event.summary:
            assert "<b>bold</b>" in "".join(parser.text)  # the hostile markup is text, not markup
            assert parser.tags.count("b") <= 1


def test_every_ntfy_message_keeps_its_size_priority_and_tags():
    dest = destination("ntfy", url="https://ntfy.example.org", topic="sla-alerts", token="tk_s3cret")
    for event in catalogue(reason=HOSTILE):
        raw, headers = dest.build_payload(event, 0)
        body = json.loads(raw)
        assert body["topic"] == "sla-alerts" and headers["Authorization"] == "Bearer tk_s3cret"
        assert len(body["message"].encode()) <= 4096 and len(body["title"].encode()) <= 250
        assert body["priority"] == {"critical": 5, "warning": 4, "info": 3}[event.severity]
        assert body["tags"][0] in ("rotating_light", "warning", "white_check_mark")
        if event.data.get("links"):
            assert body["click"] == next(iter(event.data["links"].values()))


def test_every_teams_card_is_a_valid_adaptive_card_1_4_within_teams_message_size():
    """Checked against adaptivecards.io's own schema for 1.4 (the version Teams renders in full)."""
    import importlib.resources

    import jsonschema

    schema = json.loads((importlib.resources.files("adaptive_cards") / "schemas" / "schema-1.4.json").read_text())
    validator = jsonschema.Draft6Validator(schema)
    dest = destination("teams", url="https://prod-00.westeurope.logic.azure.com/workflows/x/triggers/manual/paths/invoke")
    for event in catalogue(reason=HOSTILE):
        raw = dest.build_payload(event, 0)[0]
        assert len(raw) <= 28_000, (event.type, len(raw))
        message = json.loads(raw)
        assert message["type"] == "message" and len(message["attachments"]) == 1
        attachment = message["attachments"][0]
        assert attachment["contentType"] == "application/vnd.microsoft.card.adaptive"
        card = attachment["content"]
        errors = sorted(e.message for e in validator.iter_errors(card))
        assert not errors, (event.type, errors[:3])
        assert card["version"] == "1.4" and card["body"][0]["type"] == "TextBlock"
        texts = " ".join(b.get("text", "") for b in card["body"])
        assert "[link](" not in texts and not re.search(r"(?<!\\)\*stars", texts)  # no link, no emphasis made
        if HOSTILE[:9] in event.summary:
            assert "\\[link\\](http://evil.example)" in card["body"][0]["text"]
            assert card["body"][0]["text"].endswith("…")


def test_every_google_chat_card_escapes_its_html_and_mentions_no_one():
    dest = destination("google_chat", url="https://chat.googleapis.com/v1/spaces/AAA/messages?key=k&token=t")
    hostile = "<users/all> " + HOSTILE
    for event in catalogue(reason=hostile):
        raw = dest.build_payload(event, 0)[0]
        assert len(raw) <= 32_000, (event.type, len(raw))
        body = json.loads(raw)
        assert len(body["text"]) <= 4096 and "<" not in body["text"]  # no mention can hide in the text
        (card,) = body["cardsV2"]
        assert len(card["cardId"]) <= 64
        widgets = card["card"]["sections"][0]["widgets"]
        for widget in widgets:
            if "textParagraph" in widget:
                text = widget["textParagraph"]["text"]
                assert len(text) <= 4000
                parser = TelegramHtml()  # the same check: which tags, and what text
                parser.feed(text)
                assert set(parser.tags) <= {"b", "i", "font", "br"}, (event.type, parser.tags)
        if hostile[:12] in event.summary:
            shown = widgets[0]["textParagraph"]["text"]
            assert "&lt;users/all&gt; @everyone &lt;b&gt;bold&lt;/b&gt; &amp;" in shown and shown.endswith("…")


def test_a_retry_after_header_is_read_as_seconds_or_an_http_date():
    now = dt.datetime(2026, 11, 3, 10, 0, tzinfo=dt.timezone.utc).timestamp()
    assert retry_after_ms("7", now) == 7_000
    assert retry_after_ms("Tue, 03 Nov 2026 10:00:30 GMT", now) == 30_000
    assert retry_after_ms("Tue, 03 Nov 2026 09:59:00 GMT", now) == 0  # already past: no wait
    assert retry_after_ms("86400", now) == 3_600_000  # an hour at most; max_age still gives up
    assert retry_after_ms("soon", now) is None and retry_after_ms(None, now) is None


class Service:
    """A receiver answering as the service would: ``answers`` in turn (status, headers, body), then 200."""

    def __init__(self, *answers: tuple[int, dict, str]):
        self.answers = list(answers)
        self.received: list[tuple[str, dict, dict]] = []

    async def handle(self, request: web.Request) -> web.Response:
        self.received.append((request.path, dict(request.headers), json.loads(await request.read())))
        if self.answers:
            status, headers, body = self.answers.pop(0)
            return web.Response(status=status, headers=headers, text=body)
        return web.Response(text='{"ok": true}')

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/{tail:.*}", self.handle)
        return app


@pytest.mark.parametrize("kind, settings, path, answer, wait_s, error", [
    ("discord", {}, "/api/webhooks/1/XXXX", (429, {"Retry-After": "7"}, '{"message": "You are being rate limited.", '
                                                                         '"retry_after": 6.5, "global": false}'),
     6.5, "discord: You are being rate limited. (HTTP 429)"),
    ("telegram", {"bot_token": TOKEN, "chat_id": "42"}, f"/bot{TOKEN}/sendMessage",
     (429, {}, '{"ok": false, "error_code": 429, "description": "Too Many Requests: retry after 9", '
               '"parameters": {"retry_after": 9}}'), 9, "telegram: Too Many Requests: retry after 9 (HTTP 429)"),
    ("ntfy", {"topic": "sla-alerts"}, "/", (429, {"Retry-After": "12"},
                                           '{"code": 42901, "http": 429, "error": "limit reached: too many requests"}'),
     12, "ntfy: limit reached: too many requests (HTTP 429)"),
])
async def test_a_wait_the_service_asks_for_is_kept_then_the_event_is_delivered(tmp_path, kind, settings, path, answer,
                                                                                wait_s, error):
    service = Service(answer)
    runner, port = await start_app(service.app())
    base = f"http://127.0.0.1:{port}" + ("/api/webhooks/1/XXXX" if kind == "discord" else "")
    db, hooks, deliverer, results = await deliverer_for(tmp_path, base, kind=kind, **settings)
    now = FIXED.now_ms()
    try:
        await db.call(Storage.record_events, routed([events.outage_opened("eu-west", now - 60_000, now)], hooks.routes))
        await deliverer.deliver_due()
        assert results == ["retry"]
        listed = await db.call(Storage.event_log)
        assert listed[0]["status"] == "pending" and listed[0]["last_error"] == error
        # Not due before the wait asked for (the backoff alone would be 2 s), due after it.
        assert not await db.call(Storage.due_deliveries, now + int(wait_s * 1000) - 100)
        assert await db.call(Storage.due_deliveries, now + int(wait_s * 1000) + 3_000)
        assert [p for p, _, _ in service.received] == [path]
    finally:
        await deliverer.close()
        await db.close()
        await runner.cleanup()


async def one_round(tmp_path, kind: str, settings: dict, answer: tuple[int, dict, str]) -> tuple[list[str], list[dict]]:
    """One event, one delivery round against a service giving ``answer``: the round's results and the log."""
    service = Service(answer)
    runner, port = await start_app(service.app())
    db, hooks, deliverer, results = await deliverer_for(tmp_path, f"http://127.0.0.1:{port}/hook", kind=kind,
                                                        **settings)
    now = FIXED.now_ms()
    try:
        await db.call(Storage.record_events, routed([events.outage_opened("eu-west", now - 60_000, now)], hooks.routes))
        await deliverer.deliver_due()
        return results, await db.call(Storage.event_log)
    finally:
        await deliverer.close()
        await db.close()
        await runner.cleanup()


@pytest.mark.parametrize("kind, settings, answer, error", [
    ("discord", {}, (404, {}, '{"message": "Unknown Webhook", "code": 10015}'), "discord: Unknown Webhook (HTTP 404)"),
    ("telegram", {"bot_token": TOKEN, "chat_id": "42"},
     (401, {}, f'{{"ok": false, "error_code": 401, "description": "Unauthorized: bot{TOKEN} not known"}}'),
     "telegram: Unauthorized: bot"),
    ("telegram", {"bot_token": TOKEN, "chat_id": "42"},
     (400, {}, '{"ok": false, "error_code": 400, "description": "Bad Request: chat not found"}'),
     "telegram: Bad Request: chat not found (HTTP 400)"),
    ("google_chat", {}, (400, {}, '{"error": {"code": 400, "message": "Invalid JSON payload received.", '
                                  '"status": "INVALID_ARGUMENT"}}'), "google chat: Invalid JSON payload received. (HTTP 400)"),
    ("ntfy", {"topic": "sla-alerts", "token": "tk_wrong"},
     (403, {}, '{"code": 40301, "http": 403, "error": "forbidden"}'), "ntfy: forbidden (HTTP 403)"),
])
async def test_a_refusal_fails_for_good_with_the_services_words_and_no_secret(tmp_path, kind, settings, answer, error):
    results, listed = await one_round(tmp_path, kind, settings, answer)
    assert results == ["failed"] and listed[0]["status"] == "failed"
    assert error in listed[0]["last_error"]
    assert TOKEN not in listed[0]["last_error"] and "tk_wrong" not in listed[0]["last_error"]


async def test_hooks_test_reaches_each_service_at_its_own_address(tmp_path, capsys):
    """`hooks test` through the CLI: Discord at its webhook path, Telegram at /bot<token>/sendMessage,
    ntfy at its root with the topic in the body and the token as a bearer."""
    from monitor.cli import main

    service = Service()
    runner, port = await start_app(service.app())
    config = tmp_path / "chat.yaml"
    from conftest import FIXTURES
    config.write_text((FIXTURES / "spec.yaml").read_text() + f"""
hooks:
  destinations:
    - {{name: discord, type: discord, url: "http://127.0.0.1:{port}/api/webhooks/1/XXXX"}}
    - {{name: telegram, type: telegram, url: "http://127.0.0.1:{port}", bot_token: "${{BOT_TOKEN}}", chat_id: "-100123"}}
    - {{name: ntfy, type: ntfy, url: "http://127.0.0.1:{port}", topic: sla-alerts, token: "${{NTFY_TOKEN}}"}}
    - {{name: teams, type: teams, url: "http://127.0.0.1:{port}/workflows/x/triggers/manual/paths/invoke"}}
    - {{name: gchat, type: google_chat, url: "http://127.0.0.1:{port}/v1/spaces/AAA/messages?key=k&token=t"}}
""")
    import asyncio
    import os

    env = {"BOT_TOKEN": TOKEN, "NTFY_TOKEN": "tk_s3cret"}
    os.environ.update(env)
    try:
        for name in ("discord", "telegram", "ntfy", "teams", "gchat"):
            code = await asyncio.to_thread(main, ["--config", str(config), "--db", str(tmp_path / "h.db"),
                                                  "hooks", "test", name])
            assert code == 0, capsys.readouterr()
    finally:
        for key in env:
            os.environ.pop(key)
        await runner.cleanup()
    paths = [p for p, _, _ in service.received]
    assert paths == ["/api/webhooks/1/XXXX", f"/bot{TOKEN}/sendMessage", "/", "/workflows/x/triggers/manual/paths/invoke",
                     "/v1/spaces/AAA/messages"]
    (_, _, discord), (_, _, telegram), (_, ntfy_headers, ntfy), (_, _, teams), (_, _, gchat) = service.received
    assert gchat["cardsV2"][0]["card"]["header"]["title"].startswith("test: ")
    assert teams["attachments"][0]["content"]["body"][0]["text"].startswith("test: ")
    assert discord["embeds"][0]["title"].startswith("test: ")
    assert telegram["chat_id"] == "-100123" and "<b>test</b>" in telegram["text"]
    assert ntfy["topic"] == "sla-alerts" and ntfy_headers["Authorization"] == "Bearer tk_s3cret"
    out = capsys.readouterr()
    assert TOKEN not in out.out + out.err and "tk_s3cret" not in out.out + out.err


@pytest.mark.parametrize("kind, settings", [("discord", {}), ("telegram", {"bot_token": TOKEN, "chat_id": "42"}),
                                            ("ntfy", {"topic": "sla-alerts"}), ("teams", {}), ("google_chat", {})])
async def test_a_garbage_answer_is_retried_with_its_first_words(tmp_path, kind, settings):
    """A proxy's HTML error page, not the service's JSON: transient (a 502), said as it came."""
    results, listed = await one_round(tmp_path, kind, settings,
                                      (502, {"Content-Type": "text/html"}, "<html><h1>502 Bad Gateway</h1>\x00\xff</html>"))
    assert results == ["retry"] and listed[0]["status"] == "pending"
    assert listed[0]["last_error"].startswith("HTTP 502: <html><h1>502 Bad Gateway</h1>")


def test_an_apprise_payload_is_plain_text_typed_by_severity():
    dest = destination("apprise", url="mmost://chat.example.org/s3cr3t-token")
    for event in catalogue(reason=HOSTILE):
        body = json.loads(dest.build_payload(event, 0)[0])
        assert body["type"] == {"critical": "failure", "warning": "warning", "info": "info"}[event.severity]
        assert len(body["body"]) <= 4000 and body["title"].startswith(event.type)


async def test_apprise_delivers_through_its_json_service_and_fails_in_its_own_words(tmp_path):
    """Apprise's `json://` service, posting to a receiver on loopback: delivered; a 500 is retried with
    Apprise's warning and never the URL's password; a URL Apprise cannot read fails for good."""
    service = Service((500, {}, "broken"))
    runner, port = await start_app(service.app())
    now = FIXED.now_ms()
    try:
        db, hooks, deliverer, results = await deliverer_for(tmp_path, f"json://user:pa55word@127.0.0.1:{port}/hook",
                                                            kind="apprise")
        await db.call(Storage.record_events, routed([events.outage_opened("eu-west", now - 60_000, now)], hooks.routes))
        await deliverer.deliver_due()
        listed = await db.call(Storage.event_log)
        assert results == ["retry"] and listed[0]["last_error"].startswith("apprise: ")
        assert "500" in listed[0]["last_error"] and "pa55word" not in listed[0]["last_error"]
        later = type(deliverer)(db, hooks, type(FIXED)(now + 3_600_000), instance="later")
        await later.deliver_due()
        listed = await db.call(Storage.event_log)
        assert listed[0]["status"] == "delivered"
        (_, headers, sent), = service.received[1:]
        assert sent["title"] == "outage.opened: eu-west" and sent["type"] == "warning"
        assert sent["message"].startswith("eu-west is down")
        await later.close()
        await deliverer.close()
        await db.close()

        db, hooks, deliverer, results = await deliverer_for(tmp_path / "x", "nonsense://somewhere", kind="apprise")
        await db.call(Storage.record_events, routed([events.outage_opened("eu-west", now - 60_000, now)], hooks.routes))
        await deliverer.deliver_due()
        listed = await db.call(Storage.event_log)
        assert results == ["failed"] and "names no service Apprise knows" in listed[0]["last_error"]
        await deliverer.close()
        await db.close()
    finally:
        await runner.cleanup()
