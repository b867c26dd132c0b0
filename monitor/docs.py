"""The generated pages of docs/: the config reference (from the config models), the CLI reference (from
the argument parser), the runbooks' index (from the page the daemon serves) and the API reference (from
its OpenAPI document). ``python -m monitor.docs``
rewrites them; a test fails when a committed page differs from what this makes."""
from __future__ import annotations

import argparse
import html
import os
import re
import sys
from pathlib import Path
from typing import Callable

from .api_docs import api_reference
from .cli import build_parser
from .commands.parsing import subcommands
from .config.reference import render as config_reference

DOCS = Path(__file__).resolve().parent.parent / "docs"
RUNBOOKS = Path(__file__).resolve().parent / "web" / "templates" / "runbooks.html"

CLI_INTRO = """\
# CLI reference

Generated from the command line's own parser by `python -m monitor.docs`; a test fails when this file
is stale. `sla-monitor COMMAND --help` prints the same, and `sla-monitor completion bash|zsh|tcsh`
prints a completion script (e.g. `sla-monitor completion bash > ~/.local/share/bash-completion/completions/sla-monitor`).

- `--config` defaults to `$SLA_MONITOR_CONFIG`, then `config/monitor.yaml`; `--db` overrides
  `storage.path`.
- `--now` evaluates as of that instant instead of the clock, so a report can be reproduced later.
- `--by` names who records a change (default `$USER`); it is stored with maintenance windows,
  exclusions, incidents and overrides.
- Every timestamp needs an offset or `Z` (`2026-11-03T10:00:00Z`, `2026-11-03T11:00:00+01:00`). A naive
  timestamp is an error.
- Commands that print rows take `--format table|json`; reports also take csv, markdown, html and pdf.
- Colour only on a terminal, and never when `NO_COLOR` is set.
- Exit codes: `0` ok, `1` runtime failure (disk, locked database, unreachable Prometheus; for `probe`, a
  probe that did not pass), `2` bad input or bad config. A rejected command prints what is wrong, where,
  and how to fix it, and leaves the store as it was.
"""


def cli_reference(parser: argparse.ArgumentParser | None = None) -> str:
    """docs/cli.md: each command's --help, in the order ``sla-monitor --help`` lists them."""
    parser = parser or build_parser()
    out = [CLI_INTRO, "## sla-monitor", "", "```", _help(parser), "```", ""]
    for words, command in subcommands(parser).items():
        out += [f"## sla-monitor {words}", "", "```", _help(command), "```", ""]
    return "\n".join(out).rstrip() + "\n"


def _help(parser: argparse.ArgumentParser) -> str:
    # A fixed width (argparse reads COLUMNS): the page must not depend on the terminal that made it.
    columns = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = "100"
    try:
        return parser.format_help().rstrip()
    finally:
        if columns is None:
            del os.environ["COLUMNS"]
        else:
            os.environ["COLUMNS"] = columns


def runbooks_index() -> str:
    """docs/runbooks.md: every alert with a runbook, its severity and where the daemon serves it."""
    page = RUNBOOKS.read_text()
    out = ["# Runbooks", "",
           "The daemon serves the runbooks at `/runbooks` (under `web.public_url`), one entry per alert. The",
           "Prometheus rules' `runbook_url` and every alert hook's message link to the entry of their alert,",
           "so an alert in Alertmanager, PagerDuty or Slack opens its own steps. Generated from that page by",
           "`python -m monitor.docs`.", "",
           "| alert | when | served at |", "| --- | --- | --- |"]
    for anchor, heading in re.findall(r'<h2 id="([^"]+)">(.*?)</h2>', page, flags=re.S):
        names = re.sub(r"<span class=\"sev\">.*?</span>", "", heading, flags=re.S)
        names = html.unescape(re.sub(r"<[^>]+>", "", names)).strip().rstrip(",")
        when = re.search(r'<span class="sev">(.*?)</span>', heading, flags=re.S)
        out.append(f"| {names} | {html.unescape(when.group(1)) if when else ''} | `/runbooks#{anchor}` |")
    return "\n".join(out) + "\n"


GENERATED: dict[str, Callable[[], str]] = {"config.md": config_reference, "cli.md": cli_reference,
                                           "runbooks.md": runbooks_index, "api.md": api_reference}


def main() -> int:
    """Rewrite every generated page."""
    for name, make in GENERATED.items():
        (DOCS / name).write_text(make())
        print(f"wrote docs/{name}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
