"""Render a report object in each output format. Pure: data in, text out."""
from __future__ import annotations

import csv
import io
import json
from typing import Any, Callable

from tabulate import tabulate


def _pct(value: float) -> str:
    return f"{value:.6f}"


def _min(value: float) -> str:
    return f"{value:.2f}"


def _excluded(region: dict) -> str:
    parts = [f"{k} {_min(v)}" for k, v in region["excluded_minutes"].items() if v]
    return ", ".join(parts) or "-"


def _credit(region: dict) -> str:
    c = region["credit"]
    if not c["eligible"]:
        return "n/a"
    money = f" = {c['amount']} {c['currency']}" if c["amount"] is not None else ""
    return f"{c['total_percent']}%{money}"


SUMMARY_HEADERS = ["region", "env", "availability %", "met", "downtime min", "budget left min",
                   "unknown min", "excluded min", "credit"]


def _summary_rows(report: dict) -> list[list]:
    return [
        [r["region"], r["environment"], _pct(r["availability_percent"]), "yes" if r["met"] else "NO",
         _min(r["downtime_minutes"]), _min(r["error_budget_remaining_minutes"]), _min(r["unknown_minutes"]),
         _excluded(r), _credit(r)]
        for r in report["regions"]
    ]


def _period_rows(report: dict) -> list[list]:
    rows = []
    for r in report["regions"]:
        for p in r["periods"]:
            counted = sum(x["minutes"] for x in p["pieces"] if x["counted"])
            reasons = sorted({e["reason"] for e in p["exclusions"]})
            rows.append([r["region"], p["start"], p["end"] + (" (open)" if p["open"] else ""),
                         _min(p["minutes"]), _min(counted), ", ".join(reasons) or "-"])
    return rows


PERIOD_HEADERS = ["region", "start", "end", "minutes", "counted min", "exclusions"]


def as_table(report: dict) -> str:
    """Summary per region, then the month's unavailability periods."""
    head = f"SLA report {report['month']} ({report['timezone']}), target {report['target_percent']}%"
    if report["month_to_date"]:
        head += f", month to date as of {report['generated_at']}"
    out = [head, "", tabulate(_summary_rows(report), SUMMARY_HEADERS, disable_numparse=True)]
    periods = _period_rows(report)
    if periods:
        out += ["", "Unavailability periods:", tabulate(periods, PERIOD_HEADERS, disable_numparse=True)]
    for c in report["components"]:
        out.append(f"\ncomponent {c['region']}/{c['component']}: {_pct(c['availability_percent'])}% "
                   f"(downtime {_min(c['downtime_minutes'])} min)")
    return "\n".join(out)


def as_markdown(report: dict) -> str:
    """A report a customer can read: summary, then per region periods, incidents, maintenance, credit."""
    out = [f"# SLA report {report['month']}", "",
           f"Time zone {report['timezone']}; target {report['target_percent']} % monthly availability per region; "
           f"generated {report['generated_at']}" + (" (month to date)" if report["month_to_date"] else "") + ".", "",
           tabulate(_summary_rows(report), SUMMARY_HEADERS, tablefmt="github", disable_numparse=True)]
    for r in report["regions"]:
        out += ["", f"## {r['region']}", ""]
        if r["periods"]:
            out.append(tabulate([row[1:] for row in _period_rows({"regions": [r]})], PERIOD_HEADERS[1:],
                                tablefmt="github", disable_numparse=True))
        else:
            out.append("No unavailability.")
        if r["incidents"]:
            rows = [[i["id"], i["severity"], i["opened"], i["resolved"] or "open", _min(i["resolution_minutes"]),
                     "-" if i["target_minutes"] is None else _min(i["target_minutes"]),
                     {True: "met", False: "missed", None: "-"}[i["met"]]] for i in r["incidents"]]
            out += ["", tabulate(rows, ["incident", "severity", "opened", "resolved", "resolution min",
                                        "target min", "result"], tablefmt="github", disable_numparse=True)]
        for m in r["maintenance"]:
            state = "excluded" if m["excluded"] else "not excluded"
            flags = f" [{', '.join(m['flags'])}]" if m["flags"] else ""
            out.append(f"\n- maintenance {m['id']} ({m['kind']}) {m['start']} – {m['end']}: {state}{flags}")
        c = r["credit"]
        out.append("")
        if c["eligible"]:
            out.append(f"Service credit: {c['total_percent']} % (availability {c['availability_percent']} %, "
                       f"resolution {c['resolution_percent']} %"
                       + (", same event: the larger applies" if c["same_event"] else "") + ")"
                       + (f" = {c['amount']} {c['currency']}" if c["amount"] else "")
                       + f"; claim by {c['claim_deadline']}.")
        else:
            out.append(f"No service credit: {c['reason']}.")
    return "\n".join(out) + "\n"


CSV_COLUMNS = ["month", "region", "environment", "total_minutes", "elapsed_minutes", "downtime_minutes",
               "availability_percent", "met", "error_budget_minutes", "error_budget_remaining_minutes",
               "unknown_minutes", "excluded_minutes", "credit_total_percent", "credit_amount", "currency"]


def as_csv(report: dict) -> str:
    """One row per region, machine-friendly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report["regions"]:
        c = r["credit"]
        writer.writerow([report["month"], r["region"], r["environment"], r["total_minutes"], r["elapsed_minutes"],
                         r["downtime_minutes"], repr(r["availability_percent"]), r["met"],
                         r["error_budget_minutes"], r["error_budget_remaining_minutes"], r["unknown_minutes"],
                         sum(r["excluded_minutes"].values()), c["total_percent"], c["amount"] or "",
                         c["currency"] or ""])
    return buf.getvalue()


def as_json(data: Any) -> str:
    """Indented JSON, keys in the report's own order."""
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


RENDERERS: dict[str, Callable[[dict], str]] = {
    "json": as_json, "table": as_table, "markdown": as_markdown, "csv": as_csv,
}


def render(report: dict, fmt: str) -> str:
    """The report in one of RENDERERS' formats."""
    return RENDERERS[fmt](report)
