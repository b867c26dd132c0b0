"""Render a report object in each output format. Pure: data in, text out."""
from __future__ import annotations

import csv
import io
from typing import Any, Callable

import orjson
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


UNKNOWN_WORDS = {"vantage_unhealthy": "the monitor's network was down", "monitor_fault": "the monitor's own fault",
                 "feed_unreadable": "a status feed could not be read", "no_data": "no samples"}


def unknown_line(region: dict) -> str:
    """Unknown time (neither up nor down: it counts nothing) with its causes, or ""."""
    if not region["unknown_minutes"]:
        return ""
    causes = "; ".join(f"{UNKNOWN_WORDS.get(cause, cause)} {_min(minutes)} min"
                       for cause, minutes in region.get("unknown_by_cause", {}).items() if minutes)
    return (f"Unknown (not monitored, counts nothing): {_min(region['unknown_minutes'])} min"
            + (f" ({causes})" if causes else "") + f"; coverage {_pct(region['coverage_percent'])} %.")


def _notable(period: dict) -> bool:
    """Worth a line for a reader: it counted, something was excluded, or it is still open."""
    return period["open"] or bool(period["exclusions"]) or any(x["counted"] for x in period["pieces"])


def _brief_note(report: dict) -> str:
    hidden = sum(not _notable(p) for r in report["regions"] for p in r["periods"])
    if not hidden:
        return ""
    return (f"(+ {hidden} brief unavailability periods under the {report['threshold_minutes']:g}-minute threshold, "
            "nothing excluded: not listed; see `sla-monitor outages` or --format json)")


def _period_rows(report: dict, notable_only: bool = True) -> list[list]:
    rows = []
    for r in report["regions"]:
        for p in r["periods"]:
            if notable_only and not _notable(p):
                continue
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
    if _brief_note(report):
        out.append(_brief_note(report))
    out += [f"{r['region']}: {unknown_line(r)}" for r in report["regions"] if unknown_line(r)]
    for c in report["components"]:
        out.append(f"\ncomponent {c['region']}/{c['component']}: {_pct(c['availability_percent'])}% "
                   f"(downtime {_min(c['downtime_minutes'])} min)")
    return "\n".join(out) + "\n"


def as_markdown(report: dict) -> str:
    """A report a customer can read: summary, then per region periods, incidents, maintenance, credit."""
    out = [f"# SLA report {report['month']}", "",
           f"Time zone {report['timezone']}; target {report['target_percent']} % monthly availability per region; "
           f"generated {report['generated_at']}" + (" (month to date)" if report["month_to_date"] else "") + ".", "",
           tabulate(_summary_rows(report), SUMMARY_HEADERS, tablefmt="github", disable_numparse=True)]
    for r in report["regions"]:
        out += ["", f"## {r['region']}", ""]
        rows = [row[1:] for row in _period_rows({"regions": [r]})]
        if rows:
            out.append(tabulate(rows, PERIOD_HEADERS[1:], tablefmt="github", disable_numparse=True))
        out.append(_brief_note({**report, "regions": [r]}) or ("" if rows else "No unavailability."))
        if unknown_line(r):
            out.append("\n" + unknown_line(r))
        if r["incidents"]:
            # Every period opens an incident; list the ones a reader acts on, count the rest.
            shown = [i for i in r["incidents"] if i["met"] is not True or i["source"] == "manual"]
            rows = [[i["id"], i["severity"], i["opened"], i["resolved"] or "open", _min(i["resolution_minutes"]),
                     "-" if i["target_minutes"] is None else _min(i["target_minutes"]),
                     {True: "met", False: "missed", None: "-"}[i["met"]]] for i in shown]
            out.append(f"\nIncidents: {len(r['incidents'])}, {sum(i['met'] is False for i in r['incidents'])} "
                       "missed their resolution target." + (" Missed or open ones and tickets:" if rows else ""))
            if rows:
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
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


RENDERERS: dict[str, Callable[[dict], str]] = {
    "json": as_json, "table": as_table, "markdown": as_markdown, "csv": as_csv,
}


def render(report: dict, fmt: str) -> str:
    """The report in one of RENDERERS' formats."""
    return RENDERERS[fmt](report)


def render_rows(rows: list[dict], columns: list[str], fmt: str) -> str:
    """Flat rows (a range overview) in one of RENDERERS' formats: the same figures in each."""
    if fmt == "json":
        return as_json(rows)
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.writer(buf, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([["" if row[c] is None else repr(row[c]) if isinstance(row[c], float) else row[c]
                           for c in columns] for row in rows])
        return buf.getvalue()
    table = [["–" if row[c] is None else row[c] for c in columns] for row in rows]
    return tabulate(table, columns, tablefmt="pipe" if fmt == "markdown" else "simple", disable_numparse=True) + "\n"
