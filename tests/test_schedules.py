"""`schedules:` (issue 26): the previous month's report and the drafted claim mailed by the daemon on
their day, to a real SMTP server on 127.0.0.1; once (a restart sends nothing again); the claim's
reminders until `claim mark-sent`; a report too large for the server sent as a link; `schedules list`.
The clock is injected (the store holds the spec's worked example 2: November 2026, 60 min of Downtime,
a 10 % credit), but for one test that runs on the system clock, so that `make test-dates` runs it at a
month's first minute."""
from __future__ import annotations

import asyncio
import datetime as dt
import json
import urllib.request
from zoneinfo import ZoneInfo

import pytest
import yaml
from prometheus_client import CollectorRegistry

from conftest import write_jsonl
from daemon_helpers import until
from monitor import clock
from monitor.cli import main
from monitor.config import load_config
from monitor.config.models import ScheduleConfig
from monitor.schedules import about, due_now, next_due
from monitor.sla.calendar import parse_iso_ms, previous_month
from monitor.storage import opened
from smtp_server import PASSWORD, USER, SmtpServer
from spec_examples import EXAMPLES
from test_spec_examples import _sample_rows

WARSAW = ZoneInfo("Europe/Warsaw")


def at(text: str, zone: ZoneInfo = WARSAW) -> int:
    return int(dt.datetime.fromisoformat(text).replace(tzinfo=zone).timestamp() * 1000)


def schedule(**settings) -> ScheduleConfig:
    return ScheduleConfig.model_validate({"name": "s", "to": "mail", **settings})


def test_a_report_is_due_from_its_local_time_and_the_latest_month_only():
    report = schedule(send="report", day=1, at="08:00")
    assert [o.id for o in due_now(report, at("2027-03-01T07:59"), WARSAW, 30)] == ["schedule:s:2027-01"]
    assert [o.id for o in due_now(report, at("2027-03-01T08:00"), WARSAW, 30)] == ["schedule:s:2027-02"]
    # Down from February to April: only March's report is sent when it starts, not February's as well.
    assert [o.label for o in due_now(report, at("2027-04-20T12:00"), WARSAW, 30)] == ["2027-03"]
    assert next_due(report, at("2027-03-01T07:59"), WARSAW, 30).due_ms == at("2027-03-01T08:00")
    # 02:30 on the day Warsaw springs forward does not exist: the schedule runs at 03:30 local (01:30Z).
    gap = schedule(send="report", day=28, at="02:30")
    (sending,) = about(gap, 2027, 2, WARSAW, 30)
    assert sending.due_ms == at("2027-03-28T01:30", ZoneInfo("UTC"))


def test_a_claims_reminders_come_before_its_deadline_and_only_the_latest_missed_one():
    claim = schedule(send="claim", day=2, at="09:00", remind_days_before_deadline=[7, 2])
    sendings = about(claim, 2026, 11, ZoneInfo("UTC"), 30)  # deadline 2026-12-30
    assert [(o.kind, o.days_before, o.due_ms) for o in sendings] == [
        ("claim", None, at("2026-12-02T09:00", ZoneInfo("UTC"))),
        ("reminder", 7, at("2026-12-23T09:00", ZoneInfo("UTC"))),
        ("reminder", 2, at("2026-12-28T09:00", ZoneInfo("UTC")))]
    utc = ZoneInfo("UTC")
    assert [o.id for o in due_now(claim, at("2026-12-29T00:00", utc), utc, 30)] == [
        "schedule:s:2026-11", "schedule:s:2026-11:remind-2"]  # the 7-day one is not sent late as well
    assert [o.id for o in due_now(claim, at("2026-12-31T00:00", utc), utc, 30)] == ["schedule:s:2026-11"]


SCHEDULES = [{"name": "monthly-report", "send": "report", "day": 1, "at": "08:00", "to": "ops-mail"},
             {"name": "credit-claim", "send": "claim", "day": 2, "at": "09:00", "to": "claims-desk",
              "remind_days_before_deadline": [7, 2]}]


def config_with_schedules(spec_config, tmp_path, smtp: SmtpServer, schedules=SCHEDULES) -> str:
    config = yaml.safe_load(spec_config.read_text())
    mail = {"type": "email", "url": smtp.url(), "sender": "sla-monitor <sla@monitor.example>",
            "username": USER, "password": PASSWORD, "ca_file": smtp.ca_file, "timeout": "5s"}
    config["hooks"] = {"destinations": [{**mail, "name": "ops-mail", "to": ["ops@example.test"]},
                                        {**mail, "name": "claims-desk", "to": ["claims@example.test"]}]}
    config["web"] = {"listen": "127.0.0.1:0"}
    config["schedules"] = schedules
    path = tmp_path / "scheduled.yaml"
    path.write_text(yaml.safe_dump(config))
    return str(path)


@pytest.fixture
def november(run_cli, tmp_path):
    """A store holding the spec's example 2: November 2026, a 10 % credit for eu-west."""
    example = next(e for e in EXAMPLES if e.id == "2-sixty-minutes")
    assert run_cli("import", str(write_jsonl(tmp_path / "samples.jsonl", _sample_rows(example)))).code == 0
    return str(run_cli.db)


@pytest.fixture
def smtp(tmp_path):
    server = SmtpServer(tmp_path).start()
    yield server
    server.stop()


async def run_daemon(config: str, db: str, now_ms: int, seconds: float = 0.0, until_mails=None):
    """A daemon at ``now_ms`` (a fixed clock), serving nothing but its schedules, until ``until_mails``
    holds (or ``seconds``)."""
    from monitor.app import Daemon

    daemon = Daemon(load_config(config), db, registry=CollectorRegistry(), clock=clock.FixedClock(now_ms))
    await daemon.start("127.0.0.1:0", probing=False)
    try:
        if until_mails is not None:
            await until(until_mails, timeout=60)
            # and marked delivered: stopped between the server's 250 and the mark, it would be sent again
            await until(lambda: not any(row["status"] == "pending" for row in outbox(db)), timeout=30)
        await asyncio.sleep(seconds)
    finally:
        await daemon.stop()
    return daemon


def outbox(db: str) -> list[dict]:
    with opened(db, create=False) as store:
        return store.event_log(100)


def pdf_of(message):
    (attached,) = list(message.iter_attachments())
    assert attached.get_content_type() == "application/pdf"
    return attached.get_filename(), attached.get_content()


async def test_the_report_and_the_claim_are_mailed_once_and_a_restart_sends_nothing_again(
        november, spec_config, tmp_path, smtp, capsys):
    config = config_with_schedules(spec_config, tmp_path, smtp)
    now = parse_iso_ms("2026-12-05T10:00:00Z")  # both were due while no daemon ran (Dec 1 and 2)
    mailbox = smtp.mailbox
    await run_daemon(config, november, now, until_mails=lambda: len(mailbox.messages) == 2)
    by_subject = {m["Subject"]: m for m in mailbox.messages}
    report = by_subject["[sla-monitor] TrueEngage (spec examples): SLA report for 2026-11"]
    name, pdf = pdf_of(report)
    assert name == "sla-report-2026-11.pdf" and pdf.startswith(b"%PDF-")
    text = report.get_body(("plain",)).get_content()
    assert "eu-west: availability 99.861111 %, Downtime 60 min, credit 10 %" in text
    assert "/api/v1/report.pdf?month=2026-11" in text
    claim = by_subject["[sla-monitor] TrueEngage (spec examples): service credit claim for 2026-11 drafted (eu-west 10 %)"]
    assert pdf_of(claim)[0] == "sla-claim-2026-11.pdf"
    assert "sla-monitor claim mark-sent --month 2026-11" in claim.get_body(("plain",)).get_content()
    assert [rcpts for _, rcpts in mailbox.envelopes] in (
        [["ops@example.test"], ["claims@example.test"]], [["claims@example.test"], ["ops@example.test"]])

    await run_daemon(config, november, now + 3_600_000, seconds=1.5)  # restarted: each is recorded
    assert len(mailbox.messages) == 2

    assert main(["--config", config, "--db", november, "--now", "2026-12-05T11:00:00Z", "schedules", "list",
                 "--format", "json"]) == 0
    rows = {r["schedule"]: r for r in json.loads(capsys.readouterr().out)}
    assert rows["monthly-report"]["last_month"] == "report 2026-11" and rows["monthly-report"]["outcome"] == "delivered"
    assert rows["monthly-report"]["next"] == "2027-01-01 08:00 +00:00 (report 2026-12)"
    assert rows["credit-claim"]["next"] == "2026-12-23 09:00 +00:00 (reminder 2026-11)"


async def test_reminders_come_until_the_claim_is_marked_sent(november, spec_config, tmp_path, smtp, capsys):
    config = config_with_schedules(spec_config, tmp_path, smtp, SCHEDULES[1:])
    mailbox = smtp.mailbox
    await run_daemon(config, november, parse_iso_ms("2026-12-23T09:00:00Z"),
                     until_mails=lambda: len(mailbox.messages) == 2)  # the claim (late) and the 7-day reminder
    subjects = sorted(m["Subject"] for m in mailbox.messages)
    assert subjects[1] == "[sla-monitor] TrueEngage (spec examples): the claim for 2026-11 is due in 7 days (2026-12-30)"
    assert pdf_of(mailbox.messages[-1])[0] == "sla-claim-2026-11.pdf"
    assert main(["--config", config, "--db", november, "--now", "2026-12-24T10:00:00Z", "claim", "mark-sent",
                 "--month", "2026-11"]) == 0
    assert "claim 2026-11: marked sent" in capsys.readouterr().out
    assert main(["--config", config, "--db", november, "claim", "mark-sent", "--month", "2026-11"]) == 2
    assert "already marked sent" in capsys.readouterr().err
    await run_daemon(config, november, parse_iso_ms("2026-12-28T09:00:00Z"), seconds=1.5)
    assert len(mailbox.messages) == 2  # the 2-day reminder: not sent
    assert main(["--config", config, "--db", november, "--now", "2026-12-28T10:00:00Z", "schedules", "list",
                 "--format", "json"]) == 0
    (row,) = json.loads(capsys.readouterr().out)
    assert (row["last_month"], row["outcome"]) == ("reminder 2026-11", "skipped")


async def test_a_report_too_large_for_the_server_goes_as_a_link_that_serves_the_pdf(november, spec_config,
                                                                                  tmp_path):
    small = SmtpServer(tmp_path, size_limit=20_000).start()  # the PDF is larger
    try:
        config = config_with_schedules(spec_config, tmp_path, small, SCHEDULES[:1])
        from monitor.app import Daemon

        daemon = Daemon(load_config(config), november, registry=CollectorRegistry(),
                        clock=clock.FixedClock(parse_iso_ms("2026-12-01T08:00:00Z")))
        await daemon.start("127.0.0.1:0", probing=False)
        try:
            await until(lambda: len(small.mailbox.messages) == 1, timeout=60)
            (message,) = small.mailbox.messages
            assert not list(message.iter_attachments())
            text = message.get_body(("plain",)).get_content()
            assert "sla-report-2026-11.pdf (" in text and "was too large for the mail server (smtp: 552" in text
            link = text.split("Download it at ", 1)[1].split()[0].rstrip(".")
            assert link == f"http://127.0.0.1:{daemon.port}/api/v1/report.pdf?month=2026-11"
            with await asyncio.to_thread(urllib.request.urlopen, link, timeout=60) as answer:
                assert answer.headers["Content-Type"] == "application/pdf" and answer.read().startswith(b"%PDF-")
        finally:
            await daemon.stop()
    finally:
        small.stop()


async def test_on_the_system_clock_the_report_of_the_month_just_closed_arrives_once(spec_config, tmp_path, smtp,
                                                                                    run_cli):
    """Due at 00:00 on the 1st, local: whatever the date, the report of the month before this one is due.
    Under `make test-dates` this runs in the first minute of a month (March 2027 in Warsaw: February's)."""
    assert run_cli("store", "migrate").code == 0
    config = yaml.safe_load(open(config_with_schedules(spec_config, tmp_path, smtp, SCHEDULES[:1])))
    config["timezone"] = "Europe/Warsaw"
    config["schedules"][0]["at"] = "00:00"
    path = tmp_path / "warsaw.yaml"
    path.write_text(yaml.safe_dump(config))
    from monitor.app import Daemon

    for _ in range(2):  # started, then restarted: one mail
        daemon = Daemon(load_config(str(path)), str(run_cli.db), registry=CollectorRegistry())
        await daemon.start("127.0.0.1:0", probing=False)
        try:
            await until(lambda: len(smtp.mailbox.messages) >= 1, timeout=60)
            await until(lambda: not any(row["status"] == "pending" for row in outbox(str(run_cli.db))), timeout=30)
            await asyncio.sleep(1)
        finally:
            await daemon.stop()
    now = dt.datetime.now(WARSAW)
    year, month = previous_month(now.year, now.month)
    (message,) = smtp.mailbox.messages
    assert message["Subject"] == f"[sla-monitor] TrueEngage (spec examples): SLA report for {year:04d}-{month:02d}"


@pytest.mark.parametrize("schedules, contract, loc, words", [
    ([{"name": "r", "send": "report", "to": "nowhere"}], True, "schedules[0].to",
     "'nowhere' is not a destination (email destinations: ops-mail, vendor-mail)"),
    ([{"name": "r", "send": "report", "to": "chat"}], True, "schedules[0].to",
     "'chat' is a slack destination: documents go by email"),
    ([{"name": "c", "send": "claim", "to": "ops-mail"}], False, "schedules[0].send",
     "claim needs the contract section"),
    ([{"name": "c", "send": "claim", "to": "vendor-mail"}], True, "schedules[0].to",
     "'vendor-mail' mails the vendor (billing@example.test): a drafted claim goes to your own contact"),
    ([{"name": "c", "send": "claim", "to": "ops-mail", "remind_days_before_deadline": [45]}], True,
     "schedules[0].remind_days_before_deadline[0]", "45 must be 1..30"),
    ([{"name": "r", "send": "report", "to": "ops-mail", "day": 31}], True, "schedules[0].day",
     "less than or equal to 28"),
    ([{"name": "r", "send": "report", "to": "ops-mail", "at": "8am"}], True, "schedules[0].at", "8am"),
    ([{"name": "r", "send": "report", "to": "ops-mail"}, {"name": "r", "send": "claim", "to": "ops-mail"}],
     True, "schedules[1].name", "'r'"),
])
def test_a_bad_schedule_is_refused_at_its_key(spec_config, tmp_path, capsys, schedules, contract, loc, words):
    config = yaml.safe_load(spec_config.read_text())
    mail = {"type": "email", "url": "smtp://mail.example.test", "sender": "sla@monitor.example"}
    config["hooks"] = {"destinations": [{**mail, "name": "ops-mail", "to": ["ops@example.test"]},
                                        {**mail, "name": "vendor-mail", "to": ["Billing <BILLING@example.test>"]},
                                        {"name": "chat", "type": "slack", "url": "https://hooks.slack.com/x"}]}
    if not contract:
        del config["contract"]
    config["schedules"] = schedules
    path = tmp_path / "bad.yaml"
    path.write_text(yaml.safe_dump(config))
    assert main(["--config", str(path), "check-config"]) == 2
    err = capsys.readouterr().err
    assert f"{loc}: " in err and words in err, err
