"""Incident updates (issue 26): a narrative update on an outage, through the CLI and the API, on the status
page (also as its script redraws it, in headless Chromium), in the feed (feedparser), and delivered as
`incident.updated` to a signed webhook; bad updates refused with what is wrong."""
from __future__ import annotations

import asyncio

import feedparser
import pytest

from conftest import run_chromium, write_jsonl
from daemon_helpers import config_text, running_daemon, until
from hook_helpers import Receiver
from loopback import start_app
from monitor.cli import main
from monitor.storage import opened
from spec_examples import EXAMPLES
from test_spec_examples import _sample_rows

TOKEN = "s3cret-token"  # daemon_helpers' api_token


async def test_an_update_reaches_the_page_the_feed_and_the_receiver(fleet, tmp_path):
    receiver = Receiver()
    runner, port = await start_app(receiver.app())
    db = str(tmp_path / "d.db")
    # Samples stay fresh for 5 s: a stalled loop (libfaketime, a loaded machine) leaves no gap that would
    # end the outage and open another one under the test's feet.
    options = {"hook_url": f"http://127.0.0.1:{port}/hook", "hook_events": '["incident.*", "outage.opened"]',
               "interval": "500ms", "timeout": "400ms", "stale_after": "5s"}
    try:
        async with running_daemon(fleet, db, **options) as daemon:
            fleet.set_mode("eu-west", "down")
            await until(lambda: daemon.live.region_state.get("eu-west") == "down", timeout=20)

            async def post(body: dict, token: str | None = TOKEN) -> tuple[int, dict]:
                headers = {"Authorization": f"Bearer {token}"} if token else {}
                async with daemon.http.post("/api/v1/updates", json=body, headers=headers) as answer:
                    return answer.status, await answer.json()

            async def open_outage():
                async with daemon.http.get("/api/v1/status") as answer:
                    region = next(r for r in (await answer.json())["regions"] if r["region"] == "eu-west")
                    return region["outage"]
            outage = await until(open_outage, timeout=20)
            hostile = "DB failover <script>alert(1)</script> & retry"
            assert (await post({"region": "eu-west", "status": "identified", "message": hostile}, token=None))[0] == 401
            status, created = await post({"region": "eu-west", "status": "identified", "message": hostile, "by": "ops"})
            assert status == 201, created
            assert (created["region"], created["status"], created["outage_start"]) == ("eu-west", "identified",
                                                                                       outage["start"])
            # As the status page's JSON, its HTML and its script's redraw show it.
            async def updated_outage():  # (the snapshot can lag the writes of a loaded machine for a moment)
                current = await open_outage()
                return current if current and current["updates"] else None
            shown = await until(updated_outage, timeout=20)
            assert [(u["status"], u["message"]) for u in shown["updates"]] == [("identified", hostile)]
            async with daemon.http.get("/") as answer:
                page = await answer.text()
            assert "<b>identified</b> — DB failover &lt;script&gt;alert(1)&lt;/script&gt; &amp; retry" in page
            dom = (await asyncio.to_thread(run_chromium, "--virtual-time-budget=3000", "--dump-dom",
                                           f"http://127.0.0.1:{daemon.port}/")).stdout
            assert 'data-update-status="identified"' in dom and "&lt;script&gt;alert(1)" in dom

            # The CLI, on the same store: the open outage by default.
            config = tmp_path / "c.yaml"
            config.write_text(config_text(fleet, db, **options))
            assert main(["--config", str(config), "--db", db, "incident", "update", "--region", "eu-west",
                         "--status", "monitoring", "--message", "failover done, watching"]) == 0

            async def feed_entries():
                await daemon.figures.refresh()
                async with daemon.http.get("/feed/eu-west.atom") as answer:
                    parsed = feedparser.parse(await answer.text())
                found = [e for e in parsed.entries if e.id.startswith("urn:sla-monitor:incident.updated:eu-west:")]
                return (parsed, found) if len(found) == 2 else None
            parsed, updates = await until(feed_entries, timeout=20)
            assert parsed.bozo == 0, parsed.bozo_exception
            assert [e.title for e in updates] == ["eu-west: monitoring", "eu-west: identified"]  # newest first
            assert updates[0].content[0].value.startswith("failover done, watching (eu-west's outage since ")

            await until(lambda: [r["body"]["type"] for r in receiver.received].count("incident.updated") == 2,
                        timeout=20)
            sent = [r["body"] for r in receiver.received if r["body"]["type"] == "incident.updated"]
            assert {s["data"]["status"] for s in sent} == {"identified", "monitoring"}
            opened_keys = {r["body"]["data"]["start"]: r["body"]["dedup_key"] for r in receiver.received
                           if r["body"]["type"] == "outage.opened"}
            assert all(s["dedup_key"] == opened_keys[s["data"]["start"]] for s in sent)  # the outage's own key
            fleet.set_mode("eu-west", "up")
    finally:
        await runner.cleanup()


@pytest.fixture
def november(run_cli, tmp_path):
    """The spec's example 2: eu-west down 2026-11-03 10:00–10:20 and 2026-11-20 08:00–08:40."""
    example = next(e for e in EXAMPLES if e.id == "2-sixty-minutes")
    assert run_cli("import", str(write_jsonl(tmp_path / "samples.jsonl", _sample_rows(example)))).code == 0
    return run_cli


def test_the_cli_names_an_outage_by_its_start_and_refuses_what_is_wrong(november):
    run = november
    ok = run("incident", "update", "--region", "eu-west", "--outage", "2026-11-03T10:00:00Z", "--status", "resolved",
             "--message", "the vendor fixed a load balancer", now="2026-12-05T09:00:00Z")
    assert ok.code == 0, ok.err
    assert "incident update recorded: eu-west outage since 2026-11-03T10:00:00Z, resolved" in ok.out
    with opened(str(run.db), create=False) as store:
        (event,) = store.events_of_type("incident.updated", 0)
    assert (event.data["message"], event.data["by"]) == ("the vendor fixed a load balancer", event.data["by"])
    refused = {
        "no open outage": (["--status", "identified", "--message", "x"],
                           "eu-west has no open outage: name one by its start (its outages: 2026-11-03T10:00:00Z"),
        "no such start": (["--outage", "2026-11-03T10:05:00Z", "--status", "identified", "--message", "x"],
                          "eu-west has no outage that started at 2026-11-03T10:05:00Z"),
        "empty message": (["--outage", "2026-11-03T10:00:00Z", "--status", "identified", "--message", "  "],
                          "the message is empty"),
        "naive start": (["--outage", "2026-11-03T10:00:00", "--status", "identified", "--message", "x"], "--outage"),
    }
    for what, (args, words) in refused.items():
        result = run("incident", "update", "--region", "eu-west", *args, now="2026-12-05T09:00:00Z")
        assert result.code == 2 and words in result.err, (what, result.err)
    assert run("incident", "update", "--region", "nowhere", "--status", "identified", "--message", "x").code == 2
    with pytest.raises(SystemExit) as exited:  # argparse's own refusal of a status it does not know
        run("incident", "update", "--region", "eu-west", "--status", "fixed", "--message", "x")
    assert exited.value.code == 2
    with opened(str(run.db), create=False) as store:
        assert len(store.events_of_type("incident.updated", 0)) == 1  # nothing recorded by a refusal
