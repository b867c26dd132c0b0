"""Render a month's typed result in each output format. Pure: data in, text out."""
from __future__ import annotations

import csv
import io
from typing import Any, Callable

import orjson
from tabulate import tabulate

from ..sla.calendar import iso
from ..sla.result import MonthResult, RegionResult
from .document import UNKNOWN_WORDS, Terms, counted_minutes, notable, span_minutes, threshold_text
from .html import render_template, report_html, to_pdf
from .markdown import report_markdown
from .overview import range_view
from .serialize import credit_json, figures_json, float_or_none, minutes, report_json


def _pct(value: float | None) -> str:
    return "no data" if value is None else f"{value:.6f}"


def met_text(met: bool | None) -> str:
    """The verdict in a table: "yes", "NO", or "n/a" when nothing was observed."""
    return "n/a" if met is None else "yes" if met else "NO"


def _min(value: float) -> str:
    return f"{value:.2f}"


def _excluded(region: RegionResult) -> str:
    parts = [f"{k} {_min(minutes(ms))}" for k, ms in region.excluded_ms.items() if ms]
    return ", ".join(parts) or "-"


def _credit(region: RegionResult) -> str:
    c = region.credit
    if not c.eligible:
        return "n/a"
    money = f" = {c.amount} {c.currency}" if c.amount is not None else ""
    return f"{c.total_percent}%{money}"


SUMMARY_HEADERS = ["region", "env", "availability %", "met", "downtime min", "budget left min",
                   "unknown min", "excluded min", "credit"]


def _summary_rows(result: MonthResult) -> list[list]:
    return [
        [r.region, r.environment, _pct(float_or_none(f.availability_percent)), met_text(f.met),
         _min(minutes(f.downtime_ms)), _min(minutes(f.budget_remaining_ms)), _min(minutes(f.unknown_ms)),
         _excluded(r), _credit(r)]
        for r in result.regions for f in (r.figures,)
    ]


def unknown_line(region: RegionResult) -> str:
    """Unknown time (neither up nor down: it counts nothing) with its causes, or ""."""
    f = region.figures
    if not f.unknown_ms:
        return ""
    causes = "; ".join(f"{UNKNOWN_WORDS.get(cause, cause)} {_min(minutes(ms))} min"
                       for cause, ms in region.unknown_by_cause.items() if ms)
    return (f"Unknown (not monitored, counts nothing): {_min(minutes(f.unknown_ms))} min"
            + (f" ({causes})" if causes else "") + f"; coverage {_pct(float_or_none(f.coverage_percent))} %.")


def _brief_note(result: MonthResult) -> str:
    hidden = sum(not notable(p) for r in result.regions for p in r.periods)
    if not hidden:
        return ""
    return (f"(+ {hidden} brief unavailability periods under the {threshold_text(result)}-minute threshold, "
            "nothing excluded: not listed; see `sla-monitor outages` or --format json)")


def _period_rows(result: MonthResult) -> list[list]:
    return [[r.region, iso(p.start_ms), iso(p.end_ms) + (" (open)" if p.open else ""),
             _min(span_minutes(p.start_ms, p.end_ms)), _min(counted_minutes(p)),
             ", ".join(sorted({e.reason or "none" for e in p.exclusions})) or "-"]
            for r in result.regions for p in r.periods if notable(p)]


PERIOD_HEADERS = ["region", "start", "end", "minutes", "counted min", "exclusions"]


def as_table(result: MonthResult) -> str:
    """Summary per region, then the month's unavailability periods."""
    head = f"SLA report {result.label} ({result.timezone}), target {float(result.target_percent)}%"
    if result.month_to_date:
        head += (f", in progress as of {iso(result.generated_ms)}: each figure is the whole month's if nothing more "
                 "happens; missed only once the downtime so far exceeds the budget")
    out = [head, "", tabulate(_summary_rows(result), SUMMARY_HEADERS, disable_numparse=True)]
    periods = _period_rows(result)
    if periods:
        out += ["", "Unavailability periods:", tabulate(periods, PERIOD_HEADERS, disable_numparse=True)]
    if _brief_note(result):
        out.append(_brief_note(result))
    out += [f"{r.region}: {unknown_line(r)}" for r in result.regions if unknown_line(r)]
    for c in result.components:
        if not c.critical:  # the critical ones make the regions' figures above
            out.append(f"\ncomponent {c.region}/{c.component}: {_pct(float_or_none(c.figures.availability_percent))}% "
                       f"(downtime {_min(minutes(c.figures.downtime_ms))} min)")
    return "\n".join(out) + "\n"


CSV_COLUMNS = ["month", "region", "environment", "total_minutes", "elapsed_minutes", "downtime_minutes",
               "availability_percent", "met", "error_budget_minutes", "error_budget_remaining_minutes",
               "unknown_minutes", "excluded_minutes", "credit_total_percent", "credit_amount", "currency"]


def as_csv(result: MonthResult) -> str:
    """One row per region, machine-friendly: the report JSON's values."""
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for r in result.regions:
        f, c = figures_json(r.figures), credit_json(r.credit)
        availability = f["availability_percent"]
        writer.writerow([result.label, r.region, r.environment, f["total_minutes"], f["elapsed_minutes"],
                         f["downtime_minutes"], "" if availability is None else repr(availability), f["met"],
                         f["error_budget_minutes"], f["error_budget_remaining_minutes"], f["unknown_minutes"],
                         sum(minutes(ms) for ms in r.excluded_ms.values()), c["total_percent"], c["amount"] or "",
                         c["currency"] or ""])
    return buf.getvalue()


def as_json(data: Any) -> str:
    """Indented JSON, keys in the report's own order."""
    return orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE).decode()


def as_pdf(result: MonthResult, terms: Terms) -> bytes:
    """The HTML document, printed."""
    return to_pdf(report_html(result, terms))


# Every format of a month's report, one registry, each reading the typed result: those for machines
# and terminals read it alone; the documents for people also say what the contract's terms are (Terms).
# PDF is bytes.
FORMATS: dict[str, Callable[[MonthResult, Terms], str | bytes]] = {
    "json": lambda result, terms: as_json(report_json(result)), "table": lambda result, terms: as_table(result),
    "csv": lambda result, terms: as_csv(result), "markdown": report_markdown, "html": report_html, "pdf": as_pdf}


def render(result: MonthResult, fmt: str, terms: Terms) -> str | bytes:
    """The month's report in one of FORMATS."""
    return FORMATS[fmt](result, terms)


def render_range(rows: list[dict], columns: list[str], fmt: str, terms: Terms, timezone: str, target: float,
                 generated_ms: int) -> str | bytes:
    """The range overview in one of FORMATS: flat rows, or (html, pdf) small multiples and a table."""
    if fmt in ("html", "pdf"):
        html = render_template("range.html", v=range_view(rows, terms, timezone, target, generated_ms))
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
