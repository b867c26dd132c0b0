"""Render a report object in each output format. Pure: data in, text out."""
from __future__ import annotations

import csv
import io
from typing import Any, Callable

import orjson
from tabulate import tabulate

from .document import UNKNOWN_WORDS, Terms, notable
from .html import render_template, report_html, to_pdf
from .markdown import report_markdown
from .overview import range_view


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{value:.6f}"


def met_text(met: bool | None) -> str:
    """The verdict in a table: "yes", "NO", or "n/a" when nothing was observed."""
    return "n/a" if met is None else "yes" if met else "NO"


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
        [r["region"], r["environment"], _pct(r["availability_percent"]), met_text(r["met"]),
         _min(r["downtime_minutes"]), _min(r["error_budget_remaining_minutes"]), _min(r["unknown_minutes"]),
         _excluded(r), _credit(r)]
        for r in report["regions"]
    ]


def unknown_line(region: dict) -> str:
    """Unknown time (neither up nor down: it counts nothing) with its causes, or ""."""
    if not region["unknown_minutes"]:
        return ""
    causes = "; ".join(f"{UNKNOWN_WORDS.get(cause, cause)} {_min(minutes)} min"
                       for cause, minutes in region.get("unknown_by_cause", {}).items() if minutes)
    return (f"Unknown (not monitored, counts nothing): {_min(region['unknown_minutes'])} min"
            + (f" ({causes})" if causes else "") + f"; coverage {_pct(region['coverage_percent'])} %.")


def _brief_note(report: dict) -> str:
    hidden = sum(not notable(p) for r in report["regions"] for p in r["periods"])
    if not hidden:
        return ""
    return (f"(+ {hidden} brief unavailability periods under the {report['threshold_minutes']:g}-minute threshold, "
            "nothing excluded: not listed; see `sla-monitor outages` or --format json)")


def _period_rows(report: dict, notable_only: bool = True) -> list[list]:
    rows = []
    for r in report["regions"]:
        for p in r["periods"]:
            if notable_only and not notable(p):
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
    if report["in_progress"]:
        head += (f", in progress as of {report['as_of']}: each figure is the whole month's if nothing more "
                 "happens; missed only once the downtime so far exceeds the budget")
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


CSV_COLUMNS = ["month", "region", "environment", "total_minutes", "elapsed_minutes", "downtime_minutes",
               "availability_percent", "met", "error_budget_minutes", "error_budget_remaining_minutes",
               "unknown_minutes", "excluded_minutes", "credit_total_percent", "credit_amount", "currency"]


def as_csv(report: dict) -> str:
    """One row per region, machine-friendly."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in report["regions"]:
        c, availability = r["credit"], r["availability_percent"]
        writer.writerow([report["month"], r["region"], r["environment"], r["total_minutes"], r["elapsed_minutes"],
                         r["downtime_minutes"], "" if availability is None else repr(availability), r["met"],
                         r["error_budget_minutes"], r["error_budget_remaining_minutes"], r["unknown_minutes"],
                         sum(r["excluded_minutes"].values()), c["total_percent"], c["amount"] or "",
                         c["currency"] or ""])
    return buf.getvalue()


def as_json(data: Any) -> str:
    """Indented JSON, keys in the report's own order."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def as_pdf(report: dict, terms: Terms) -> bytes:
    """The HTML document, printed."""
    return to_pdf(report_html(report, terms))


# Every format of a report, one registry: those for machines and terminals read the report alone;
# the documents for people also say what the contract's terms are (Terms). PDF is bytes.
FORMATS: dict[str, Callable[[dict, Terms], str | bytes]] = {
    "json": lambda report, terms: as_json(report), "table": lambda report, terms: as_table(report),
    "csv": lambda report, terms: as_csv(report), "markdown": report_markdown, "html": report_html, "pdf": as_pdf}


def render(report: dict, fmt: str, terms: Terms) -> str | bytes:
    """The report in one of FORMATS."""
    return FORMATS[fmt](report, terms)


def render_range(rows: list[dict], columns: list[str], fmt: str, terms: Terms, timezone: str, target: float,
                 generated: str) -> str | bytes:
    """The range overview in one of FORMATS: flat rows, or (html, pdf) small multiples and a table."""
    if fmt in ("html", "pdf"):
        html = render_template("range.html", v=range_view(rows, terms, timezone, target, generated))
        return to_pdf(html) if fmt == "pdf" else html
    return render_rows(rows, columns, fmt)


def render_rows(rows: list[dict], columns: list[str], fmt: str) -> str:
    """Flat rows (a range overview) as JSON, CSV, Markdown or a table: the same figures in each."""
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
