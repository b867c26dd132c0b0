"""docs/config.md, docs/cli.md and docs/runbooks.md are generated (from the config models, the argument
parser and the served runbooks page): a committed page that differs from what the code makes now is
stale, and fails here with the command that rewrites it."""
from __future__ import annotations

import re

import pytest

from monitor.docs import DOCS, GENERATED


@pytest.mark.parametrize("name", sorted(GENERATED))
def test_generated_page_is_current(name):
    assert (DOCS / name).read_text() == GENERATED[name](), f"docs/{name} is stale: run `.venv/bin/python -m monitor.docs`"


def test_every_config_key_is_explained():
    rows = [line for line in (DOCS / "config.md").read_text().splitlines() if line.startswith("| `")]
    assert len(rows) > 100
    unexplained = [row for row in rows if row.rstrip().endswith("|  |") or row.rstrip().endswith("| |")]
    assert not unexplained, unexplained


def test_every_command_is_in_the_cli_reference():
    text = (DOCS / "cli.md").read_text()
    for words in ("init", "probe", "check-config", "run", "import", "report", "claim", "maintenance import",
                  "exclusion add", "incident resolve", "hooks test", "completion"):
        assert re.search(rf"^## sla-monitor {words}$", text, flags=re.M), words
