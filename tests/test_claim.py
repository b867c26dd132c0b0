"""`sla-monitor claim` (issue 14): the credit claim letter on the spec's worked example 2 (60 minutes of
Downtime: 10 %) and example 8 (a third-party outage inside an outage), with amounts, deadline and
evidence exact; refused for a month not over, past its claim period or with nothing to claim."""
from __future__ import annotations

import json
import subprocess

import pytest
from conftest import FIXTURES, need, write_jsonl
from spec_examples import EXAMPLES
from test_documents import Figures
from test_spec_examples import _sample_rows

BY_ID = {e.id: e for e in EXAMPLES}
IN_TIME = "2026-12-05T09:00:00Z"  # November is over; its claim period ends 2026-12-30


@pytest.fixture
def month_of(run_cli, tmp_path):
    """A store holding one worked example's November."""
    def load(example_id: str):
        jsonl = write_jsonl(tmp_path / "samples.jsonl", _sample_rows(BY_ID[example_id]))
        assert run_cli("import", str(jsonl)).code == 0
        return run_cli
    return load


def test_claim_for_example_2_states_the_credit_the_fee_the_deadline_and_the_evidence(month_of):
    run = month_of("2-sixty-minutes")
    result = run("claim", "--month", "2026-11", "--format", "markdown", now=IN_TIME)
    assert result.code == 0, result.err
    letter = " ".join(result.out.split())
    assert "Contract TE-SPEC-1" in letter and "From: Example Customer" in letter and "To: TrueEngage Ltd" in letter
    assert ("| eu-west | 99.861111 % | 60.00 min | 10 % | 0 % | no | 10 % | 1000.00 EUR | 100.00 EUR |"
            in letter)
    assert "Total: 100.00 EUR." in letter
    assert "for this month, by 2026-12-30; this claim is dated 2026-12-05" in letter
    assert "below 99.9 %: 10 % of the monthly fee; below 99.0 %: 15 %" in letter
    # one evidence line per counted period: its failed samples, where and when they were taken
    assert ("**2026-11-03 10:00–10:20 +00:00**, 20.00 min counted: 20 failed samples from 2026-11-03 10:00 +00:00 "
            "to 2026-11-03 10:19 +00:00; probes w; vantages local; errors: failed ×20") in letter
    assert ("**2026-11-20 08:00–08:40 +00:00**, 40.00 min counted: 40 failed samples from 2026-11-20 08:00 +00:00 "
            "to 2026-11-20 08:39 +00:00") in letter
    assert result.err == ""


def test_claim_for_a_month_with_a_third_party_outage_claims_only_what_counted(month_of, tmp_path):
    run = month_of("8-third-party-overlap")
    page = tmp_path / "claim.html"
    result = run("claim", "--month", "2026-11", "--output", str(page), now=IN_TIME)
    assert result.code == 0, result.err
    report = run("report", "--month", "2026-11", "--format", "json", now=IN_TIME).json()
    credit = report["regions"][0]["credit"]
    assert (credit["total_percent"], credit["amount"], credit["claim_deadline"]) == (10, "100.00", "2026-12-30")
    parsed = Figures()
    parsed.feed(page.read_text())
    shown = {f["key"]: f for f in parsed.figures}
    for key in ("total_percent", "amount", "monthly_fee"):
        assert shown[f"credit.{key}"]["value"] == credit[key]
    assert shown["credit.amount"]["text"] == "100.00 EUR"
    assert parsed.references == []
    text = " ".join(page.read_text().split())
    assert "90.00 min" in text  # 2 h down, 30 min of it Genesys Cloud's own outage
    assert ("Excluded: Genesys Cloud (genesys-euw1) unavailable, 2026-11-03 10:30–11:00 +00:00, seen by g "
            "(30 failed samples, first 2026-11-03 10:30 +00:00, last 2026-11-03 10:59 +00:00)") in text
    assert "Excluded and not claimed: third-party outage 30.00 min." in text


def test_the_claim_pdf_holds_the_amount_and_deadline(month_of, tmp_path):
    run = month_of("2-sixty-minutes")
    pdf = tmp_path / "claim.pdf"
    assert run("claim", "--month", "2026-11", "--format", "pdf", "--output", str(pdf), now=IN_TIME).code == 0
    text = " ".join(subprocess.run([need("pdftotext"), str(pdf), "-"], capture_output=True, text=True,
                                   check=True).stdout.split())
    assert "100.00 EUR" in text and "2026-12-30" in text and "TE-SPEC-1" in text
    # The letter's layout: its contact block on the letter's page, and a row's figures unbroken.
    first_page = subprocess.run([need("pdftotext"), "-f", "1", "-l", "1", "-layout", str(pdf), "-"],
                                capture_output=True, text=True, check=True).stdout
    assert "Credits claimed" in first_page and "Contact" in first_page
    row = next(line for line in first_page.splitlines() if line.lstrip().startswith("eu-west"))
    assert all(figure in row for figure in ("99.861111 %", "60.00 min", "1000.00 EUR", "100.00 EUR")), row


def test_a_claim_is_refused_when_the_month_is_not_over_or_its_period_ended(month_of, tmp_path):
    run = month_of("2-sixty-minutes")
    early = run("claim", "--month", "2026-11", "--format", "markdown", now="2026-11-25T12:00:00Z")
    assert early.code == 2 and early.out == ""
    assert "2026-11 is not over until 2026-12-01 00:00 +00:00" in early.err and "--force" in early.err
    late = run("claim", "--month", "2026-11", "--format", "markdown", now="2026-12-31T00:00:01Z")
    assert late.code == 2 and late.out == ""
    assert "the claim period for 2026-11 ended 2026-12-30" in late.err
    forced = run("claim", "--month", "2026-11", "--format", "markdown", "--force", now="2026-12-31T00:00:01Z")
    assert forced.code == 0
    assert forced.out.startswith("**LATE: the claim period for 2026-11 ended 2026-12-30")
    assert "warning: LATE" in forced.err
    assert "100.00 EUR" in forced.out  # the figures are the same; only the mark says it is late
    # the last day of the period is still in time
    assert run("claim", "--month", "2026-11", "--format", "markdown", now="2026-12-30T23:59:59Z").code == 0


def test_a_claim_with_nothing_to_claim_or_no_contract_is_refused(month_of, tmp_path):
    run = month_of("1-twenty-minutes")  # 20 minutes: 99.95 %, no credit
    nothing = run("claim", "--month", "2026-11", now=IN_TIME)
    assert nothing.code == 2 and "no region earned a service credit in 2026-11" in nothing.err
    bare = tmp_path / "bare.yaml"
    bare.write_text((FIXTURES / "spec.yaml").read_text().split("contract:")[0])
    missing = run("claim", "--month", "2026-11", config=bare, now=IN_TIME)
    assert missing.code == 2 and "no contract section" in missing.err
    assert json.loads(run("report", "--month", "2026-11", "--format", "json", now=IN_TIME).out)["regions"]
