"""The monthly report as documents people send (issue 14): HTML whose every figure is the JSON report's,
self-contained; a PDF whose text holds each region's figures; Chromium renders it with no console
error. Read from the golden store (tests/test_golden.py), through the CLI as a user would."""
from __future__ import annotations

import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path

from conftest import need, run_chromium
from test_golden import CONFIG, NOW, golden_store  # noqa: F401 - the fixture is used by name

from monitor.cli import main

ARTIFACTS = Path(__file__).parent / "artifacts"


def cli(store: Path, *args: str) -> int:
    return main(["--config", str(CONFIG), "--db", str(store), "--now", NOW, *args])


def output(store: Path, capsys, *args: str) -> str:
    capsys.readouterr()
    assert cli(store, *args) == 0
    return capsys.readouterr().out


class Figures(HTMLParser):
    """Every element with data-key: its region, key, JSON value and shown text; and every reference
    (src, href, url(…)) the document makes."""

    def __init__(self):
        super().__init__()
        self.figures: list[dict] = []
        self.references: list[str] = []
        self._open: dict | None = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.references += [a[k] for k in ("src", "href", "xlink:href") if a.get(k)]
        if "data-key" in a:
            self._open = {"region": a["data-region"], "key": a["data-key"], "value": json.loads(a["data-value"]),
                          "text": ""}

    def handle_data(self, data):
        if self._open is not None:
            self._open["text"] += data

    def handle_endtag(self, tag):
        if self._open is not None and tag == "td":
            self.figures.append(self._open)
            self._open = None


def lookup(region: dict, key: str):
    for part in key.split("."):
        region = region[part]
    return region


def shown_as(key: str, region: dict) -> str:
    """How the document must write the JSON's value of ``key``: percents to 6 places, minutes to 2, money
    with its currency, "–" for none."""
    value, credit = lookup(region, key), region["credit"]
    if key == "met":
        return "yes" if value else "NO"
    if key == "credit.total_percent":
        return f"{value} %" if credit["eligible"] else "not eligible"
    if value is None:
        return "–"
    if key in ("credit.amount", "credit.monthly_fee"):
        return f"{value} {credit['currency']}"
    if key.endswith("_percent"):
        return f"{value:.6f} %"
    if key.endswith("_minutes"):
        return f"{value:.2f} min"
    return str(value)


def test_every_figure_in_the_html_is_the_json_reports(golden_store, capsys):  # noqa: F811
    report = json.loads(output(golden_store, capsys, "report", "--month", "2026-09", "--format", "json"))
    page = output(golden_store, capsys, "report", "--month", "2026-09", "--format", "html")
    parsed = Figures()
    parsed.feed(page)
    by_region = {r["region"]: r for r in report["regions"]}
    seen = {(f["region"], f["key"]) for f in parsed.figures}
    for region in by_region:  # each region shows each of these
        for key in ("availability_percent", "met", "downtime_minutes", "error_budget_remaining_minutes",
                    "unknown_minutes", "coverage_percent", "credit.total_percent", "credit.amount",
                    "credit.monthly_fee", "credit.claim_deadline"):
            assert (region, key) in seen, (region, key)
    for f in parsed.figures:
        expected = lookup(by_region[f["region"]], f["key"])
        assert f["value"] == expected, f
        text = shown_as(f["key"], by_region[f["region"]])
        if f["key"] == "unknown_minutes":  # followed by its causes in words
            assert f["text"].startswith(text + " ("), f
        else:
            assert f["text"] == text, f
    # money is stated with the fee it is a share of: 10 % of 4100.00 USD is 410.00 USD
    us = by_region["us-east"]["credit"]
    assert (us["total_percent"], us["monthly_fee"], us["amount"], us["currency"]) == (10, "4100.00", "410.00", "USD")
    assert "410.00 USD of the monthly fee of 4100.00 USD" in page


def test_the_html_is_self_contained_and_speaks_local_time(golden_store, capsys):  # noqa: F811
    page = output(golden_store, capsys, "report", "--month", "2026-09", "--format", "html")
    parsed = Figures()
    parsed.feed(page)
    assert parsed.references == []
    assert not re.search(r"url\(|@import|https?://", page), "the report must fetch nothing"
    # The exclusion in words, with its evidence, in Warsaw time with the offset (09:05 is 07:05Z)
    assert ("Genesys Cloud (genesys-euw1) unavailable, 2026-09-12 09:05–09:40 +02:00, seen by genesys-euw1-api "
            "(38 failed samples") in page
    assert "2026-09-12T07:05:00Z" not in page.split("<table class=\"incidents\">")[0]
    assert "third_party" not in re.sub(r"<[^>]+>", "", page), "reasons are words, not codes"
    assert "sla-monitor" not in page, "no command-line hint inside the document"
    assert "[announced late: excludes nothing]" in page


def test_the_burn_down_has_a_y_axis_in_minutes_of_budget(golden_store, capsys):  # noqa: F811
    """Each region's burn-down is labelled: the whole budget, half of it, zero, and the overspend."""
    page = output(golden_store, capsys, "report", "--month", "2026-09", "--format", "html")
    report = json.loads(output(golden_store, capsys, "report", "--month", "2026-09", "--format", "json"))
    axes = re.findall(r'<div class="yaxis" aria-hidden="true">(.*?)</div>', page)
    assert len(axes) == len(report["regions"])
    for region, axis in zip(report["regions"], axes, strict=True):
        labels = re.findall(r">(-?\d+\.\d) min<", axis)
        budget, left = region["error_budget_minutes"], region["error_budget_remaining_minutes"]
        expected = [f"{budget:.1f}", f"{budget / 2:.1f}", "0.0"] + ([f"{left:.1f}"] if left < 0 else [])
        assert labels == expected, (region["region"], labels)


def test_the_pdf_holds_each_regions_figures(golden_store, capsys):  # noqa: F811
    ARTIFACTS.mkdir(exist_ok=True)
    pdf = ARTIFACTS / "report-2026-09.pdf"
    pdf.unlink(missing_ok=True)
    assert output(golden_store, capsys, "report", "--month", "2026-09", "--format", "pdf", "--output", str(pdf)) == ""
    assert pdf.read_bytes().startswith(b"%PDF-")
    text = subprocess.run([need("pdftotext"), "-layout", str(pdf), "-"], capture_output=True, text=True,
                          check=True).stdout
    report = json.loads(output(golden_store, capsys, "report", "--month", "2026-09", "--format", "json"))
    flat = " ".join(text.split())
    for r in report["regions"]:
        assert f"{r['availability_percent']:.6f} %" in flat, r["region"]
        assert re.search(rf"\b{re.escape(r['region'])}\b", flat)
        if r["credit"]["amount"] is not None:
            assert f"{r['credit']['amount']} {r['credit']['currency']}" in flat
    assert "Service credit 10 % = 410.00 USD of the monthly fee of 4100.00 USD" in flat
    for old in ARTIFACTS.glob("report-2026-09-page-*.png"):
        old.unlink()
    subprocess.run([need("pdftoppm"), "-r", "50", "-png", str(pdf), str(ARTIFACTS / "report-2026-09-page")],
                   check=True, timeout=120)
    pages = sorted(ARTIFACTS.glob("report-2026-09-page-*.png"))
    assert len(pages) >= 4, "a summary page and one page per region at least"


def chromium_console(page: Path) -> tuple[str, list[str]]:
    """Chromium's DOM of ``page`` and the console messages it logged while loading it."""
    run = run_chromium("--enable-logging=stderr", "--v=0", "--dump-dom", page.as_uri())
    assert run.returncode == 0 and "<body" in run.stdout, run.stderr[-2000:]
    return run.stdout, [line for line in run.stderr.splitlines() if ":CONSOLE" in line]


def test_chromium_renders_the_report_with_no_console_error(golden_store, capsys, tmp_path):  # noqa: F811
    page = tmp_path / "report.html"
    assert cli(golden_store, "report", "--month", "2026-09", "--format", "html", "--output", str(page)) == 0
    dom, console = chromium_console(page)
    assert console == []
    parsed = Figures()
    parsed.feed(dom)
    shown = {(f["region"], f["key"]): f["text"] for f in parsed.figures}
    assert shown[("eu-west", "availability_percent")] == "99.965278 %"
    assert shown[("us-east", "credit.amount")] == "410.00 USD"
    assert shown[("staging", "credit.total_percent")] == "not eligible"


def test_a_bad_output_or_format_is_refused_and_writes_nothing(golden_store, capsys, tmp_path):  # noqa: F811
    assert cli(golden_store, "report", "--month", "2026-09", "--format", "html",
               "--output", str(tmp_path / "missing" / "r.html")) == 2
    assert "directory" in capsys.readouterr().err
    assert cli(golden_store, "report", "--month", "2026-09", "--format", "pdf",
               "--output", str(tmp_path)) == 2
    assert "is a directory; give a file name" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_the_range_overview_document_shows_each_months_own_figures(golden_store, capsys, tmp_path):  # noqa: F811
    rows = json.loads(output(golden_store, capsys, "report", "--from", "2026-08", "--to", "2026-10", "--format", "json"))
    page = output(golden_store, capsys, "report", "--from", "2026-08", "--to", "2026-10", "--format", "html")
    cells = re.findall(r'data-region="([^"]+)" data-month="([^"]+)" data-key="availability_percent" '
                       r"data-value='([^']+)'>([^<]+)<", page)
    assert len(cells) == len(rows) == 9
    by_key = {(r["region"], r["month"]): r for r in rows}
    for region, month, value, text in cells:
        assert json.loads(value) == by_key[region, month]["availability_percent"]
        assert text == f"{json.loads(value):.4f} %"
    # one small chart per region, a bar per month, red where the month missed the target
    charts = re.findall(r"<figure>.*?</figure>", page, re.S)
    assert len(charts) == 3
    us = next(c for c in charts if "<strong>us-east</strong>" in c)
    # October is in progress (6 days in): its 20 open minutes are far inside the budget, so not missed
    assert "1 of 3 months missed; credits 410.00 USD" in us
    assert us.count('fill="#c62828"') == 1 and us.count('fill="#2e9e5b"') == 2
    assert not re.search(r"url\(|@import|https?://|src=|href=", page)
    pdf = tmp_path / "range.pdf"
    assert cli(golden_store, "report", "--from", "2026-08", "--to", "2026-10", "--format", "pdf", "--output", str(pdf)) == 0
    text = " ".join(subprocess.run([need("pdftotext"), str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "99.8380 %" in text and "410.00 USD" in text and "820.00 USD" not in text


def test_a_third_party_exclusion_reads_as_the_providers_own_words():
    """The feed's component and incident, the span in local time with its offset, and who saw it."""
    from monitor.reports.document import LocalTimes, exclusion_sentence
    from monitor.sla.calendar import parse_iso_ms
    from monitor.sla.result import Evidence, ExclusionSlice

    e = ExclusionSlice(parse_iso_ms("2026-03-04T09:30:00Z"), parse_iso_ms("2026-03-04T10:00:00Z"), "third_party", (),
                       "third_party:genesys-euw1", "Genesys Cloud")
    evidence = Evidence(("genesys-euw1-status",), 30, parse_iso_ms("2026-03-04T09:30:00Z"),
                        parse_iso_ms("2026-03-04T09:59:00Z"), "component major_outage",
                        ({"id": "c1", "name": "EMEA (Dublin)", "status": "major_outage"},),
                        ({"id": "i1", "name": "Calls failing in EMEA"},))
    assert exclusion_sentence(e, evidence, LocalTimes("Europe/Warsaw")) == (
        "Genesys Cloud (genesys-euw1) unavailable: EMEA (Dublin) major outage, incident Calls failing in EMEA, "
        "2026-03-04 10:30–11:00 +01:00, seen by genesys-euw1-status (30 failed samples, first 2026-03-04 10:30 "
        "+01:00, last 2026-03-04 10:59 +01:00: component major_outage)")
    # the samples are past retention
    assert exclusion_sentence(e, None, LocalTimes("UTC")).endswith("09:30–10:00 +00:00, its samples are past retention")
