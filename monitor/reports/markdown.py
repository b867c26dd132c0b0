"""The monthly report in Markdown: the same document as the HTML one (``document.report_view``), for
a ticket, a wiki or an e-mail."""
from __future__ import annotations

from tabulate import tabulate

from ..sla.result import MonthResult
from .document import Json, Terms, report_view


def _table(rows: list[list], headers: list[str]) -> str:
    return tabulate(rows, headers, tablefmt="github", disable_numparse=True)


def report_markdown(result: MonthResult, terms: Terms) -> str:
    """Summary per region, then per region its periods with their exclusions in words, incidents,
    maintenance and credit."""
    v = report_view(result, terms)
    out = [f"# {v['service']}: SLA report {v['month']}", "",
           f"Monthly availability per region against the {v['target']} % target, from {v['first']} to {v['last']}. "
           f"Times are {v['timezone']} local time, each with its offset from UTC. Generated {v['generated']}"
           + (f" (the month is in progress, as of {v['generated']}: each availability is the whole month's if nothing "
              "more happens; a target is missed only once the downtime so far exceeds the budget)"
              if v["month_to_date"] else "") + ".", "",
           f"Unavailability that remains after exclusions counts as Downtime only where it lasts {v['threshold']} "
           "minutes or more in a row; unknown time counts as neither up nor down.", "", "## Summary", ""]
    regions = v["regions"]
    rows = [[row["label"], *(r["summary"][i]["text"] for r in regions)] for i, row in enumerate(regions[0]["summary"])]
    out.append(_table(rows, ["", *(f"{r['region']} ({r['environment']})" for r in regions)]))
    for r in regions:
        verdict = "not assessable (no data)" if r["met"] is None else "met" if r["met"] else "missed"
        out += ["", f"## {r['region']} ({r['environment']}): target {verdict}", "",
                "### Unavailability", ""]
        for p in r["periods"]:
            out.append(f"- **{p['span']}**: {p['minutes']}, {p['counted']} counted")
            out += [f"  - {'Excluded' if e['excludes'] else 'Not excluded'}: {e['text']}"
                    + (f" [{'; '.join(e['flags'])}]" if e["flags"] else "") for e in p["exclusions"]]
            out += [f"  - {x['span']} ({x['minutes']}): "
                    + ("counted Downtime" if x["counted"] else f"not counted, under {v['threshold']} minutes")
                    for x in p["pieces"]]
        if not r["periods"]:
            out.append("No unavailability that counted or was excluded.")
        if r["brief"]:
            out += ["", f"{r['brief']} brief unavailability period(s) under {v['threshold']} minutes, nothing "
                        "excluded: they count nothing."]
        if r["unknown"]:
            out += ["", f"Unknown time: {r['unknown']}."]
        out += ["", "### Incidents and resolution performance", ""]
        if r["incidents_total"]:
            out += [f"{r['incidents_total']} incident(s), {r['incidents_missed']} missed the resolution target for "
                    "its severity" + ("." if r["incidents_total"] == len(r["incidents"]) else
                                      f"; the {len(r['incidents'])} missed, open or recorded by hand:"), "",
                    _table([[i["id"], i["severity"], i["component"], i["opened"], i["resolved"], i["resolution"],
                             i["target"], i["result"] + (f" by {i['delay']}" if i["result"] == "missed" else "")]
                            for i in r["incidents"]],
                           ["incident", "severity", "component", "opened", "resolved", "resolution", "target",
                            "result"])]
        else:
            out.append("No incidents.")
        if r["tickets"]:
            out += ["", "Tickets imported from the help desk, against the response and update targets:", ""]
            out += [f"- {t['ticket']} (incident {t['id']}, {t['severity']}): {t['communication']}" for t in r["tickets"]]
        if r["maintenance"]:
            out += ["", "### Maintenance", ""]
            out += [f"- Window {m['id']} ({m['kind']}, {m['scope']}) {m['span']}, announced {m['announced']}"
                    + (f": {m['reason']}" if m["reason"] else "") + f" — **{m['verdict']}**"
                    + (f" [{'; '.join(m['flags'])}]" if m["flags"] else "") for m in r["maintenance"]]
        if r["vendor"]:
            out += ["", "### The provider's own word", "", *(f"- {line}" for line in r["vendor"])]
        out += ["", "### Service credit", "", r["credit_sentence"]]
    return "\n".join(out) + "\n"


def claim_markdown(v: Json) -> str:
    """The claim letter (``claim.claim_view``) in Markdown."""
    contract, customer, provider = v["contract"], v["contract"]["customer"], v["contract"]["provider"]
    out = [f"**{mark}**\n" for mark in v["marks"]]
    out += [f"From: {customer['name']}" + "".join(f"  \n{line}" for line in (customer["address"] or "").splitlines()),
            "", f"To: {provider['name']}" + "".join(f"  \n{line}" for line in (provider["address"] or "").splitlines())
            + (f"  \nAttn. {provider['contact']}" if provider["contact"] else ""), "", v["dated"], "",
            f"# Service credit claim for {v['month']}", "",
            f"**Contract {contract['reference']}**, {contract['agreement']}, service {v['service']}.", "",
            f"Under the {contract['agreement']}, {customer['name']} claims the service credits below for {v['month']} "
            f"({v['first']} to {v['last']}, {v['timezone']} time). The committed availability is {v['target']} % per "
            "region and month. The evidence of each period of Downtime is in the appendix. We apply these clauses:", ""]
    out += [f"- **{c['clause']}.** {c['text']}" for c in v["clauses"]]
    out += ["", "## Credits claimed", ""]
    if v["rows"]:
        out.append(_table([[r["region"], r["availability"], r["downtime"], r["availability_credit"],
                            r["resolution_credit"], r["same_event"], r["total"], r["fee"], r["amount"]]
                           for r in v["rows"]],
                          ["region", "availability", "downtime", "availability credit (§9.1)",
                           "resolution credit (§9.2)", "same event (§9.3)", "credit (§9.4 cap applied)",
                           "monthly fee", "amount"]))
        if v["totals"]:
            out += ["", f"Total: {', '.join(v['totals'])}."]
        out += ["", "We ask you to apply the credits to the next invoice"
                + (f". This claim is made within the claim period, which ends {v['deadline']}." if v["deadline"] else ".")]
    else:
        out.append("No region earned a service credit this month.")
    out += ["", "## Contact", "", ", ".join(x for x in (customer["contact"] or customer["name"], customer["email"],
                                                        customer["phone"]) if x), "",
            "## Appendix: evidence", ""]
    if v.get("status_page"):
        out += [v["status_page"], ""]
    if v.get("record"):
        out += [v["record"], ""]
    if v.get("public_key"):
        out += ["```", v["public_key"].rstrip("\n"), "```", ""]
    for a in v["appendix"]:
        out += [f"### {a['region']}", "", f"Excluded and not claimed: {a['excluded']}. Unknown time (not claimed): "
                f"{a['unknown']}.", ""]
        for p in a["periods"]:
            s = p["samples"]
            out.append(f"- **{p['span']}**, {p['counted']} counted: " + (
                "raw samples no longer kept (past retention)" if s is None else
                f"{s['samples']} failed samples from {s['first']} to {s['last']}; probes {', '.join(s['probes'])}; "
                f"vantages {', '.join(s['vantages'])}; errors: "
                + "; ".join(f"{e['error']} ×{e['samples']}" for e in s["errors"][:5])))
            out += [f"  - {'Excluded' if e['excludes'] else 'Not excluded'}: {e['text']}" for e in p["exclusions"]]
        if a["missed"]:
            out += ["", "Incidents that missed their resolution target (§9.2):", "",
                    _table([[i["id"] + (f" ({i['ticket']})" if i["ticket"] else ""), i["severity"], i["opened"],
                             i["resolved"], i["resolution"], i["target"], i["delay"]] for i in a["missed"]],
                           ["incident", "severity", "opened", "resolved", "resolution", "target", "late by"])]
        if a["vendor"]:
            out += ["", "The provider's own word on the month, beside ours:", "", *(f"- {line}" for line in a["vendor"])]
        out.append("")
    return "\n".join(out)
