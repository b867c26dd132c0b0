"""The email destination against a real SMTP server on 127.0.0.1 (aiosmtpd, TLS from a trustme CA):
STARTTLS and implicit TLS with a login, valid MIME (text and HTML), one thread per outage, no header
injection, and the server's refusals (a login, 4xx, 5xx, a dropped connection) with its own words."""
from __future__ import annotations

import asyncio

import pytest

from hook_helpers import NOW, OPENED, RESOLVED, catalogue, destination
from loopback import raw_server
from monitor.cli import main
from monitor.hooks import events
from smtp_server import PASSWORD, USER, SmtpServer

HOSTILE = "db <script>alert(1)</script> & \r\nBcc: victim@example.org " + "e" * 10_000


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path)
    yield server
    server.stop()


def mail_destination(server: SmtpServer, implicit: bool = False, **extra):
    settings = {"sender": "sla-monitor <sla@monitor.example>", "to": ["Ops <ops@example.org>", "noc@example.org"],
                "username": USER, "password": PASSWORD, "ca_file": server.ca_file, "timeout": "5s", **extra}
    return destination("email", url=server.url(implicit), **settings)


async def deliver(dest, event, now=NOW):
    return await dest.send(None, *dest.build_payload(event, now))


@pytest.mark.parametrize("implicit", [False, True], ids=["starttls", "implicit-tls"])
async def test_an_outage_arrives_as_one_thread_of_valid_mime_messages(smtp, implicit):
    smtp.start(implicit)
    dest = mail_destination(smtp, implicit)
    start = OPENED.data["start"]
    counted = events.outage_counted("eu-west", 1793700000000, NOW + 900_000, 15)  # OPENED's outage
    assert counted.dedup_key == OPENED.dedup_key == RESOLVED.dedup_key and start
    for event in (OPENED, counted, RESOLVED):
        result = await deliver(dest, event)
        assert result.ok, result.error
    opened, counted_msg, resolved = smtp.mailbox.messages
    assert smtp.mailbox.envelopes[0] == ("sla@monitor.example", ["ops@example.org", "noc@example.org"])
    for msg in (opened, counted_msg, resolved):
        assert msg["From"] == "sla-monitor <sla@monitor.example>" and msg["Auto-Submitted"] == "auto-generated"
        assert msg.get_content_type() == "multipart/alternative" and not msg.defects
        assert msg["Message-ID"].endswith("@monitor.example>")
        text = msg.get_body(("plain",)).get_content()
        assert "eu-west" in text and msg.get_body(("html",)).get_content().startswith("<!DOCTYPE html>")
    assert opened["Subject"] == f"[sla-monitor] outage.opened: {OPENED.summary}" and opened["In-Reply-To"] is None
    # The later messages answer the first: one conversation in a mail client.
    for later in (counted_msg, resolved):
        assert later["In-Reply-To"] == later["References"] == opened["Message-ID"]
    assert len({m["Message-ID"] for m in (opened, counted_msg, resolved)}) == 3
    # Delivered again (a retry), a message keeps its Message-ID: a client shows it once.
    assert (await deliver(dest, OPENED, NOW + 60_000)).ok
    assert smtp.mailbox.messages[-1]["Message-ID"] == opened["Message-ID"]


async def test_hostile_texts_inject_no_header_and_no_markup(smtp):
    smtp.start()
    dest = mail_destination(smtp)
    for event in catalogue(reason=HOSTILE):
        result = await deliver(dest, event)
        assert result.ok, (event.type, result.error)
    for msg in smtp.mailbox.messages:
        assert msg["Bcc"] is None and "\n" not in msg["Subject"] and len(msg["Subject"]) <= 200
        page = msg.get_body(("html",)).get_content()
        assert "<script>" not in page
    assert all(rcpts == ["ops@example.org", "noc@example.org"] for _, rcpts in smtp.mailbox.envelopes)
    hostile = [m for m in smtp.mailbox.messages if "&lt;script&gt;" in m.get_body(("html",)).get_content()]
    assert hostile  # the reason is there, escaped


async def test_a_refused_login_is_permanent_with_the_servers_words(smtp):
    smtp.start()
    result = await deliver(mail_destination(smtp, password="wrong"), OPENED)
    assert not result.ok and result.permanent
    assert result.error.startswith("smtp: 535") and "wrong" not in result.error


@pytest.mark.parametrize("answer, where, permanent", [
    ("451 4.3.0 mailbox busy, try later", "data", False),
    ("554 5.7.1 message refused by policy", "data", True),
    ("550 5.1.1 no such user here", "rcpt", True),
    ("452 4.2.2 mailbox full for now", "rcpt", False),
])
async def test_a_4xx_is_retried_and_a_5xx_fails_for_good(smtp, answer, where, permanent):
    smtp.start()
    setattr(smtp.mailbox, f"{where}_answer", answer)
    result = await deliver(mail_destination(smtp), OPENED)
    assert not result.ok and result.permanent is permanent
    assert answer.split(" ", 1)[1] in result.error and result.error.startswith(f"smtp: {answer[:3]}")


async def test_a_message_over_the_servers_size_limit_is_552(tmp_path):
    server = SmtpServer(tmp_path, size_limit=4_000).start()
    dest = mail_destination(server)
    large = max(catalogue(reason="x" * 5_000), key=lambda e: len(dest.build_payload(e, NOW)[0]))
    assert len(dest.build_payload(large, NOW)[0]) > 4_000
    try:
        result = await deliver(dest, large)
    finally:
        server.stop()
    assert not result.ok and result.permanent and result.error.startswith("smtp: 552")


async def dropped(reader, writer):
    writer.write(b"220 mx.test ESMTP\r\n")
    await writer.drain()
    await reader.readline()  # EHLO
    writer.close()


async def hangs(reader, writer):
    await asyncio.sleep(3600)


@pytest.mark.parametrize("handler", [dropped, hangs], ids=["drops-the-connection", "never-greets"])
async def test_a_server_that_drops_or_hangs_is_a_transient_failure(tmp_path, handler):
    async with raw_server(handler) as port:
        dest = destination("email", url=f"smtp://127.0.0.1:{port}", sender="sla@monitor.example",
                           to=["ops@example.org"], timeout="1s")
        result = await deliver(dest, OPENED)
    assert not result.ok and not result.permanent and result.error.startswith("smtp: ")


async def test_plain_tls_refused_when_the_certificate_is_not_trusted(smtp):
    smtp.start(implicit=True)
    dest = destination("email", url=smtp.url(True), sender="sla@monitor.example", to=["ops@example.org"],
                       username=USER, password=PASSWORD, timeout="5s")  # no ca_file: the system's CAs
    result = await deliver(dest, OPENED)
    assert not result.ok and not smtp.mailbox.messages
    assert "certificate" in result.error.lower() and PASSWORD not in result.error


@pytest.mark.parametrize("settings, words", [
    ({"url": "http://mail.example.org", "to": ["a@b.org"]}, "url"),
    ({"url": "smtp://mail.example.org", "to": []}, "to"),
    ({"url": "smtp://mail.example.org", "to": ["not an address"]}, "is not an email address"),
    ({"url": "smtp://mail.example.org", "to": ["a@b.org"], "sender": "x\r\nBcc: y@z.org"}, "sender"),
])
def test_bad_email_settings_are_refused_at_their_key(tmp_path, spec_config, capsys, settings, words):
    import yaml

    config = yaml.safe_load(spec_config.read_text())
    dest = {"name": "mail", "type": "email", "sender": "sla@monitor.example", **settings}
    config["hooks"] = {"destinations": [dest], "routes": [{"destination": "mail", "events": ["outage.*"]}]}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err
    assert "hooks.destinations[0]" in err and words in err


def test_hooks_test_mails_a_test_event_and_shows_no_secret(smtp, tmp_path, spec_config, capsys, monkeypatch):
    import yaml

    smtp.start()
    config = yaml.safe_load(spec_config.read_text())
    config["hooks"] = {"destinations": [{"name": "ops-mail", "type": "email", "url": smtp.url(),
                                         "sender": "sla@monitor.example", "to": ["ops@example.org"],
                                         "username": "${SMTP_USER}", "password": "${SMTP_PASSWORD}",
                                         "ca_file": smtp.ca_file}],
                       "routes": [{"destination": "ops-mail", "events": ["outage.*"]}]}
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump(config))
    monkeypatch.setenv("SMTP_USER", USER)
    monkeypatch.setenv("SMTP_PASSWORD", PASSWORD)
    assert main(["--config", str(path), "--db", str(tmp_path / "s.db"), "hooks", "test", "ops-mail"]) == 0
    assert "hooks test ops-mail: delivered (email at 127.0.0.1)" in capsys.readouterr().out
    (msg,) = smtp.mailbox.messages
    assert msg["Subject"].startswith("[sla-monitor] test:")
    monkeypatch.setenv("SMTP_PASSWORD", "wrong-" + PASSWORD)
    assert main(["--config", str(path), "--db", str(tmp_path / "s.db"), "hooks", "test", "ops-mail"]) == 1
    out = capsys.readouterr().out
    assert "FAILED (permanent): smtp: 535" in out and PASSWORD not in out
